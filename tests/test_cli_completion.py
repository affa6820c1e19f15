"""Shell completion and help of ``pybbolt``: click's side of the CLI (cli/clickhelp.py).

The console script itself answers the completion protocol (a real process,
as the shell runs it), and the bash script of ``pybbolt completion bash`` is
sourced in a real bash.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.shell_completion import get_completion_class
from pybbolt.cli import clickhelp, extra
from pybbolt.cli.main import execute
from pybbolt.cli.runtime import CommandError

from .conftest import FIXTURES

BIN = Path(sys.executable).parent
PYBBOLT = shutil.which("pybbolt", path=str(BIN))


@pytest.fixture(autouse=True)
def _help_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """click wraps help to the terminal's width: the same 80 columns everywhere."""
    monkeypatch.setenv("COLUMNS", "80")


def run(*argv: str) -> tuple[int, bytes, bytes]:
    out, err = io.BytesIO(), io.BytesIO()
    status = execute(list(argv), out, err)
    return status, out.getvalue(), err.getvalue()


def complete(words: str, cword: int | str, shell: str = "bash") -> str:
    """What the console script answers to the completion request of a shell
    (``cword``: the index of the word completed; for fish, the word itself)."""
    assert PYBBOLT is not None, f"no pybbolt console script in {BIN}"
    env = {**os.environ, "_PYBBOLT_COMPLETE": f"{shell}_complete",
           "COMP_WORDS": words, "COMP_CWORD": str(cword)}
    done = subprocess.run([PYBBOLT], env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    return done.stdout


@pytest.fixture
def demo_extra(monkeypatch: pytest.MonkeyPatch) -> click.Command:
    """An extra command (as cli/extra.py registers them), loaded through extra.load."""

    @click.command(help="Say hello to a database.\n\nA longer text.")
    @click.option("--loud", is_flag=True, help="shout")
    @click.argument("db", type=click.Path())
    def hello(loud: bool, db: str) -> None:
        click.echo(f"hello {db}{'!' if loud else ''}")

    monkeypatch.setitem(extra.EXTRA_COMMANDS, "hello", "unused:hello")
    real_load = extra.load
    monkeypatch.setattr(extra, "load", lambda name: hello if name == "hello" else real_load(name))
    return hello


def test_console_script_answers_the_protocol() -> None:
    assert complete("pybbolt ch", 1) == "plain,check\n"
    assert complete("pybbolt check ", 2) == "file,\n"
    assert complete("pybbolt ch", 1, "zsh") == (
        "plain\ncheck\nverify integrity of bbolt database data\n"
    )
    assert complete("pybbolt ch", "ch", "fish") == (
        "plain,check\tverify integrity of bbolt database data\n"
    )


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("pybbolt pa", 1, "plain,page\nplain,page-item\nplain,pages\n"),
        ("pybbolt surgery meta u", 3, "plain,update\n"),
        ("pybbolt completion z", 2, "plain,zsh\n"),
        ("pybbolt help su", 2, "plain,surgery\n"),
        ("pybbolt keys --f", 2, "plain,--format\n"),
        ("pybbolt page --", 2, "plain,--all\nplain,--format-value\nplain,--help\n"),
        ("pybbolt surgery copy-page --t", 3, "plain,--to-page\n"),
        # The database file and file-valued flags: the shell's file completion.
        ("pybbolt get db", 2, "file,db\n"),
        ("pybbolt compact -o ", 3, "file,\n"),
        ("pybbolt compact --tx-max-size 5 -o x ", 6, "file,\n"),
        ("pybbolt bench --cpuprofile ", 3, "file,\n"),
        ("pybbolt surgery freelist rebuild --output ", 5, "file,\n"),
        # Later positional arguments (bucket names, keys, page ids) are not files.
        ("pybbolt keys a.db ", 3, "\n"),
        ("pybbolt version ", 2, "\n"),
    ],
)
def test_completes_names_flags_and_paths(
    words: str, cword: int, expected: str,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", str(cword))
    assert clickhelp.complete("bash_complete") == 0
    assert capsys.readouterr().out == expected


def test_source_instruction_is_the_completion_script() -> None:
    assert PYBBOLT is not None
    env = {**os.environ, "_PYBBOLT_COMPLETE": "bash_source"}
    done = subprocess.run([PYBBOLT], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert done.stdout == run("completion", "bash")[1].decode()


def test_completion_script_sourced_in_bash() -> None:
    assert PYBBOLT is not None
    script = (
        "source <(pybbolt completion bash)\n"
        "complete -p pybbolt\n"
        # What bash does on TAB: the words, the index, then the function with
        # (command, word being completed, previous word).
        "COMP_WORDS=(pybbolt ch); COMP_CWORD=1; _pybbolt_completion pybbolt ch pybbolt\n"
        'echo "${COMPREPLY[@]}"\n'
        "COMPREPLY=(); COMP_WORDS=(pybbolt surgery free); COMP_CWORD=2\n"
        "_pybbolt_completion pybbolt free surgery\n"
        'echo "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(["bash", "--norc", "-c", script], env=env, capture_output=True,
                          text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == (
        "complete -o nosort -F _pybbolt_completion pybbolt\ncheck\nfreelist\n"
    )


@pytest.mark.parametrize(
    ("shell", "head", "protocol"),
    [
        ("bash", "_pybbolt_completion() {\n", "_PYBBOLT_COMPLETE=bash_complete $1"),
        ("zsh", "#compdef pybbolt\n", "_PYBBOLT_COMPLETE=zsh_complete pybbolt"),
        ("fish", "function _pybbolt_completion;\n", "_PYBBOLT_COMPLETE=fish_complete"),
    ],
)
def test_completion_scripts_are_for_pybbolt(shell: str, head: str, protocol: str) -> None:
    status, out, err = run("completion", shell)
    assert (status, err) == (0, b"")
    text = out.decode()
    assert text.startswith(head)
    assert protocol in text
    assert "bbolt" not in text.replace("pybbolt", "")


def test_powershell_script_or_error() -> None:
    status, out, err = run("completion", "powershell")
    if get_completion_class("powershell") is not None:  # click 8.5 and newer
        assert (status, err) == (0, b"")
        assert out.startswith(b"Register-ArgumentCompleter -Native -CommandName pybbolt ")
    else:
        assert (status, out) == (1, b"")
        assert err.startswith(b"Error: the installed click has no powershell completion\n")
    with pytest.raises(CommandError, match=r"^the installed click has no tcsh completion$"):
        clickhelp.completion_script("tcsh")


def test_extra_commands_complete_and_show_in_help(
    demo_extra: click.Command, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for words, cword, expected in (
        ("pybbolt he", 1, "plain,help\nplain,hello\n"),
        ("pybbolt hello --l", 2, "plain,--loud\n"),
        ("pybbolt hello ", 2, "file,\n"),
    ):
        monkeypatch.setenv("COMP_WORDS", words)
        monkeypatch.setenv("COMP_CWORD", str(cword))
        assert clickhelp.complete("bash_complete") == 0
        assert capsys.readouterr().out == expected
    status, out, err = run("--help")
    assert (status, err) == (0, b"")
    commands, extras = out.decode().split("\nCommands of pybbolt (not in bbolt):\n")
    assert "\n  version     print the current version of bbolt\n" in commands
    assert "hello" not in commands
    listed = [line.split()[0] for line in extras.splitlines()]
    assert listed == sorted(extra.EXTRA_COMMANDS)  # every extra command, hello among them
    assert re.search(r"^  hello +Say hello to a database\.$", extras, re.M)
    status, out, err = run("help", "hello")
    assert (status, err) == (0, b"")
    assert out.startswith(b"Usage: pybbolt hello [OPTIONS] DB\n\n  Say hello to a database.")


def test_help_summaries_and_defaults() -> None:
    _, root, _ = run("--help")
    text = root.decode()
    assert "\n  stats       print stats of bbolt database\n" in text
    assert "\n  pages       print a list of pages in bbolt database\n" in text
    assert "\n  help        Help about any command\n" in text
    assert "usage: bolt" not in text
    _, stats, _ = run("stats", "--help")
    assert b"usage: bolt" not in stats
    # bbolt's indented list keeps its layout
    assert b"\n      already freed\n          The page is referenced more than once" in stats
    _, get, _ = run("get", "--help")
    assert get.count(b"auto") == 2  # the list of modes and "(default: auto)", once
    assert b"  --format STRING        Output format one of:" in get
    assert b"auto|ascii-encoded|hex|bytes|redacted (default: auto)\n" in get
    _, page, _ = run("page", "-h")
    assert b"auto|ascii-encoded|hex|bytes|redacted. Applies to" in page
    _, compact, _ = run("compact", "-h")
    assert b"  -o, --output STRING  the database file to write  [required]\n" in compact
    _, completion, _ = run("completion", "--help")
    assert b"for bbolt" not in completion
    assert b"\n  Print the shell completion script of pybbolt for bash, fish," in completion


def test_every_command_has_help() -> None:
    """Every bbolt command of the tree renders its help, with a description for every option."""
    root = clickhelp.tree()

    def walk(group: click.Group, path: list[str]) -> list[list[str]]:
        found = []
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            if not path and name in extra.EXTRA_COMMANDS:
                continue
            sub = group.get_command(ctx, name)
            assert sub is not None
            found.append([*path, name])
            if isinstance(sub, click.Group):
                found += walk(sub, [*path, name])
        return found

    paths = walk(root, [])
    assert len(paths) == 31  # 17 top-level, 4 shells, 10 under surgery
    for path in paths:
        status, out, err = run(*path, "--help")
        assert (status, err) == (0, b""), path
        assert out.startswith(f"Usage: pybbolt {' '.join(path)} ".encode()), path
        options = out.split(b"\nOptions:\n")[1].split(b"\n\n")[0]
        for line in options.splitlines():
            if line.startswith(b"  -"):
                assert b"  " in line.strip(), (path, line)  # a description follows


def test_help_does_not_run_the_command() -> None:
    sample = str(FIXTURES / "bacalhau_compute.db")
    status, out, _ = run("check", sample, "--help")
    assert status == 0 and out.startswith(b"Usage: pybbolt check <bbolt-file> [flags]\n")
