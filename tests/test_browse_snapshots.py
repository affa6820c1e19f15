"""SVG snapshots of the browser's main screens (pytest-textual-snapshot).

The snapshots are committed under ``tests/__snapshots__/``; after a deliberate
change of the interface, review and rewrite them with
``pytest tests/test_browse_snapshots.py --snapshot-update``.  They are
deterministic: a fixed terminal size, no clock, the file opened by a relative
name (the header shows it), no file watching.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pybbolt.cli.browse_app import BrowseApp
from pybbolt.cli.browse_model import Session
from pybbolt.cli.browse_widgets import SearchScreen
from textual.pilot import Pilot

import pybbolt

from .browse_util import SAMPLE, SIZE, wait_for

SnapCompare = Callable[..., bool]
HISTORY = b"execution-history"
FIRST_EXECUTION = b"e-00af984c-75fd-4764-8e64-1c1f74ea06a0"


@pytest.fixture
def sessions(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Session]]:
    """Opens the sample by its bare file name (from its directory)."""
    monkeypatch.chdir(SAMPLE.parent)
    opened: list[Session] = []

    def open_session(readonly: bool = True) -> Session:
        session = Session(pybbolt.open(SAMPLE.name, readonly=readonly, timeout=2))
        opened.append(session)
        return session

    yield open_session
    for session in opened:
        session.close()


def app(session: Session, **options: Any) -> BrowseApp:
    return BrowseApp(session, watch=False, **options)


def test_snapshot_start(snap_compare: SnapCompare, sessions: Callable[..., Session]) -> None:
    assert snap_compare(app(sessions()), terminal_size=SIZE)


def test_snapshot_nested_value_json(snap_compare: SnapCompare,
                                    sessions: Callable[..., Session]) -> None:
    assert snap_compare(app(sessions()), terminal_size=SIZE,
                        press=["down", "down", "enter", "down", "tab", "down", "down"])


def test_snapshot_hex_view(snap_compare: SnapCompare, sessions: Callable[..., Session]) -> None:
    assert snap_compare(app(sessions(), start=(HISTORY, FIRST_EXECUTION)), terminal_size=SIZE,
                        press=["v", "v", "v"])


def test_snapshot_help(snap_compare: SnapCompare, sessions: Callable[..., Session]) -> None:
    assert snap_compare(app(sessions()), terminal_size=SIZE, press=["question_mark"])


def test_snapshot_stats(snap_compare: SnapCompare, sessions: Callable[..., Session]) -> None:
    assert snap_compare(app(sessions(), start=(b"execution",)), terminal_size=SIZE,
                        press=["s"])


def test_snapshot_search(snap_compare: SnapCompare, sessions: Callable[..., Session]) -> None:
    browser = app(sessions())

    async def run_before(pilot: Pilot[None]) -> None:
        await pilot.press("f", *"Cancelled", "enter")
        screen = browser.screen
        assert isinstance(screen, SearchScreen)
        await wait_for(pilot, lambda: not screen.running)

    assert snap_compare(browser, terminal_size=SIZE, run_before=run_before)


def test_snapshot_confirm_delete(snap_compare: SnapCompare, tmp_path: Path,
                                 sessions: Callable[..., Session],
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copyfile(SAMPLE, tmp_path / SAMPLE.name)
    monkeypatch.chdir(tmp_path)
    assert snap_compare(app(sessions(readonly=False), start=(b"execution",)),
                        terminal_size=SIZE, press=["d"])


def test_readme_screenshot_is_the_snapshot() -> None:
    """docs/browse.svg (the README's screenshot) is the nested-value snapshot:
    after ``--snapshot-update``, copy that file over it."""
    snapshot = (Path(__file__).parent / "__snapshots__" / "test_browse_snapshots"
                / "test_snapshot_nested_value_json.svg")
    assert (SAMPLE.parents[2] / "docs" / "browse.svg").read_bytes() == snapshot.read_bytes()
