"""``pybbolt browse`` in a real terminal: tmux runs the installed command, the
test sends keys and reads the screen (``capture-pane``).  tmux gets a socket
of its own in the test's directory, so no other tmux server is touched."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .browse_util import SAMPLE
from .conftest import need

Tmux = Callable[..., str]


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    """Runs tmux commands on a private server; stops that server at the end."""
    need(shutil.which("tmux") is not None, "tmux is not installed (scripts/dev installs it)")
    socket = str(tmp_path / "tmux.sock")
    # COLUMNS and LINES (pytest's terminal, say) would override the pane's size.
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}

    def run(*args: str) -> str:
        r = subprocess.run(["tmux", "-S", socket, *args], capture_output=True, text=True,
                           timeout=30, check=True, env=env)
        return r.stdout

    yield run
    subprocess.run(["tmux", "-S", socket, "kill-server"], capture_output=True, timeout=30)


def screen(tmux: Tmux) -> str:
    return tmux("capture-pane", "-p", "-t", "browse")


def wait_for_text(tmux: Tmux, text: str, seconds: float = 30) -> str:
    deadline = time.monotonic() + seconds
    while True:
        shown = screen(tmux)
        if text in shown:
            return shown
        assert time.monotonic() < deadline, f"{text!r} never appeared on the screen:\n{shown}"
        time.sleep(0.1)


def test_browse_in_tmux(tmux: Tmux) -> None:
    pybbolt = Path(sys.executable).parent / "pybbolt"
    assert pybbolt.exists()
    # The exit status is printed after the browser ends; the shell then waits,
    # so the pane (and its last screen) stays for capture-pane.
    command = (f"cd {shlex.quote(str(SAMPLE.parent))} && {shlex.quote(str(pybbolt))} "
               f"browse {SAMPLE.name}; echo EXIT=$?; sleep 60")
    tmux("new-session", "-d", "-s", "browse", "-x", "120", "-y", "36", command)
    shown = wait_for_text(tmux, "execution-history")
    assert "pybbolt browse — bacalhau_compute.db (read-only)" in shown
    assert "│▼ bacalhau_compute.db" in shown

    # Into execution-history's first nested bucket, then its key list.
    for key in ("Down", "Down", "Enter", "Down", "Tab", "Down", "Down"):
        tmux("send-keys", "-t", "browse", key)
        time.sleep(0.15)
    shown = wait_for_text(tmux, "/execution-history/e-00af984c")
    assert "0x0000000000000003" in shown and "value · json (auto)" in shown
    shown = wait_for_text(tmux, '"NewState": "Cancelled"')
    assert "key 8 B · value 198 B; in an inline bucket" in shown

    tmux("send-keys", "-t", "browse", "v", "v", "v")  # text, JSON, hex
    shown = wait_for_text(tmux, "value · hex")
    assert '00000000  7b 22 45 78  65 63 75 74  |{"Execut|' in shown

    tmux("send-keys", "-t", "browse", "?")
    wait_for_text(tmux, "Moving around")
    tmux("send-keys", "-t", "browse", "Escape")
    deadline = time.monotonic() + 30
    while "Moving around" in screen(tmux):  # a key sent at once would read as alt+key
        assert time.monotonic() < deadline, "escape did not close the help"
        time.sleep(0.1)
    tmux("send-keys", "-t", "browse", "q")
    wait_for_text(tmux, "EXIT=0")
