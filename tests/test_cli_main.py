"""Dispatch, help, errors and exit statuses of the CLI (no database needed)."""

from __future__ import annotations

import io
from pathlib import Path

from pybbolt.cli.main import execute, suggestions
from pybbolt.cli.spec import ROOT
from pybbolt.cli.usage import usage_text


def run(*argv: str) -> tuple[int, bytes, bytes]:
    out, err = io.BytesIO(), io.BytesIO()
    status = execute(list(argv), out, err)
    return status, out.getvalue(), err.getvalue()


ROOT_HELP_HEAD = (
    b"Usage: pybbolt COMMAND [ARGS]... [flags]\n\n"
    b"  A simple command line tool for inspecting bbolt databases\n"
)


def test_root_help_and_version() -> None:
    for argv in ([], ["help"], ["-h"], ["--help"], [""], ["--"]):
        status, out, err = run(*argv)
        assert (status, err) == (0, b""), argv
        assert out.startswith(ROOT_HELP_HEAD)
        # click's help lists every command with its summary
        for name in (b"check", b"buckets", b"keys", b"get", b"stats", b"compact", b"surgery"):
            assert b"\n  " + name + b" " in out, name
    assert run("--version") == (0, b"bbolt version dev\n", b"")
    assert run("-v") == (0, b"bbolt version dev\n", b"")


def test_root_flag_errors() -> None:
    status, out, err = run("-x")
    assert (status, out) == (1, b"")
    assert err.startswith(b"Error: unknown shorthand flag: 'x' in -x\nUsage:\n")
    status, out, err = run("--bogus")
    assert err.startswith(b"Error: unknown flag: --bogus\n")


def test_unknown_commands() -> None:
    status, out, err = run("chek")
    assert (status, out) == (1, b"")
    assert err == (
        b'Error: unknown command "chek" for "bbolt"\n\nDid you mean this?\n\tcheck\n\n'
        b"Run 'bbolt --help' for usage.\n"
    )
    assert run("xyzzy")[2] == (
        b'Error: unknown command "xyzzy" for "bbolt"\nRun \'bbolt --help\' for usage.\n'
    )
    assert b'"ver"' in run("ver", "sion")[2]


def test_suggestions() -> None:
    assert suggestions("pagez") == ["pages", "page"]
    assert suggestions("p") == ["pages", "page-item", "page"]
    assert suggestions("c") == ["check", "compact", "completion"]
    assert suggestions("ver") == ["version", "get"]
    assert suggestions("vers") == ["version", "keys"]
    assert suggestions("Keys") == ["keys"]


def test_command_help_on_stdout() -> None:
    status, out, err = run("info", "-h", "a", "b", "c")
    assert (status, err) == (0, b"")
    assert out == (
        b"Usage: pybbolt info <bbolt-file> [flags]\n\n"
        b"  prints basic information about the bbolt database.\n\n"
        b"Options:\n  --json      pybbolt: print JSON (docs/JSON.md)\n"
        b"  -h, --help  help for info\n"
    )
    assert run("help", "info")[1] == out


def test_compact_usage_text() -> None:
    # cobra's usage, printed on stderr after an error
    compact = ROOT.find("compact")
    assert compact is not None
    assert usage_text(compact, ["bbolt", "compact"]) == (
        "Usage:\n"
        "  bbolt compact [options] -o <dst-bbolt-file> <src-bbolt-file> [flags]\n\nFlags:\n"
        "  -h, --help              help for compact\n"
        "      --no-sync           \n"
        "  -o, --output string     \n"
        "      --tx-max-size int    (default 65536)\n"
    )


def test_groups_print_help() -> None:
    for argv in (["surgery"], ["surgery", "bogus"], ["surgery", "meta"], ["completion"]):
        status, out, err = run(*argv)
        assert (status, err) == (0, b""), argv
        assert b"Commands:" in out
    status, out, err = run("surgery", "--bogus")
    assert status == 1 and err.startswith(b"Error: unknown flag: --bogus\n")


def test_argument_count_errors() -> None:
    cases = {
        ("info",): b"Error: accepts 1 arg(s), received 0\n",
        ("keys", "db"): b"Error: requires at least 2 arg(s), only received 1\n",
        ("stats", "a", "b", "c"): b"Error: accepts between 1 and 2 arg(s), received 3\n",
        ("compact", "src"): b'Error: required flag(s) "output" not set\n',
        ("surgery", "copy-page", "db"): (
            b'Error: required flag(s) "from-page", "output", "to-page" not set\n'
        ),
    }
    for argv, first in cases.items():
        status, out, err = run(*argv)
        assert (status, out) == (1, b""), argv
        assert err.startswith(first), (argv, err)
        assert err.endswith(b"\n\n")


def test_missing_file(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.db")
    for command in ("info", "buckets", "pages", "inspect", "check", "stats"):
        status, out, err = run(command, missing)
        assert (status, out) == (1, b"")
        assert err.startswith(f'Error: source database file "{missing}" doesn\'t exist\n'.encode())


def test_empty_file_and_directory(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    status, _, err = run("info", str(empty))
    assert status == 1 and err.startswith(f"Error: write {empty}: bad file descriptor".encode())
    status, _, err = run("info", str(tmp_path))
    assert status == 1 and err.startswith(b"Error: invalid database\n")


def test_compact_argument_errors(tmp_path: Path) -> None:
    from pybbolt.cli.cmd_compact import gain_line

    assert gain_line(16384, 32768) == "16384 -> 32768 bytes (gain=0.50x)\n"
    assert gain_line(3215360, 1048576) == "3215360 -> 1048576 bytes (gain=3.07x)\n"
    out = str(tmp_path / "out.db")
    for argv, first in (
        (["compact"], b"Error: requires at least 1 arg(s), only received 0\n"),
        (["compact", "-o", out], b"Error: requires at least 1 arg(s), only received 0\n"),
        (["compact", "src.db"], b'Error: required flag(s) "output" not set\n'),
        (["compact", "-o", "", "src.db"], b"Error: output file required\n"),
        (["compact", "--tx-max-size", "abc", "-o", out, "src.db"],
         b'Error: invalid argument "abc" for "--tx-max-size" flag: strconv.ParseInt: parsing '
         b'"abc": invalid syntax\n'),
        (["compact", "-o", out, str(tmp_path / "missing.db")],
         b'Error: source database file "' + str(tmp_path / "missing.db").encode()
         + b"\" doesn't exist\n"),
    ):
        status, stdout, err = run(*argv)
        assert (status, stdout) == (1, b""), argv
        assert err.startswith(first), (argv, err)
    assert not (tmp_path / "out.db").exists()
