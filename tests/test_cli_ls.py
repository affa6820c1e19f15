"""``pybbolt ls``: keys with values or nested-bucket markers, exact outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

import pybbolt

from .cli_run import ok, run
from .conftest import FIXTURES


def small_store(directory: Path) -> Path:
    """A store with binary names, a NUL in a name, a flag-like name, nesting."""
    path = directory / "small.db"
    with pybbolt.open(path) as db, db.update() as tx:
        app = tx.create_bucket(b"app")
        app.put(b"a", b"1")
        app.put(b"b", b"\x00\xff")
        app.put(b"empty", b"")
        app.put(b"json", b'{"x": [1, 2]}')
        app.set_sequence(3)
        sub = app.create_bucket(b"sub")
        sub.put(b"k", b"v")
        sub.create_bucket(b"deeper").put(b"z", b"last")
        tx.create_bucket(b"\x00nul").put(b"k\x00", b"tab\there")
        tx.create_bucket(b"-flag").put(b"--json", b"x")
    return path


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return small_store(tmp_path)


def test_top_level_and_a_bucket(db: Path) -> None:
    assert ok("ls", db) == "006e756c/\n-flag/\napp/\n"  # key order: NUL first
    assert ok("ls", db, "app") == "a\t1\nb\t00ff\nempty\t\njson\t{\"x\": [1, 2]}\nsub/\n"
    assert ok("ls", FIXTURES / "inline_bucket.db", "settings") == (
        "color\tblue\nempty\t\nsize\tlarge\nweight\t1.5kg\n")


def test_recursive(db: Path) -> None:
    assert ok("ls", "-r", db) == (
        "006e756c/\n006e756c/6b00\t7461620968657265\n"
        "-flag/\n-flag/--json\tx\n"
        "app/\napp/a\t1\napp/b\t00ff\napp/empty\t\napp/json\t{\"x\": [1, 2]}\n"
        "app/sub/\napp/sub/deeper/\napp/sub/deeper/z\tlast\napp/sub/k\tv\n"
    )
    assert ok("ls", "-r", db, "app", "sub") == "deeper/\ndeeper/z\tlast\nk\tv\n"


def test_json(db: Path) -> None:
    assert ok("ls", "--json", db, "app") == (
        '{"bucket":["app"],"key":"a","value":"1"}\n'
        '{"bucket":["app"],"key":"b","value":{"hex":"00ff"}}\n'
        '{"bucket":["app"],"key":"empty","value":""}\n'
        '{"bucket":["app"],"key":"json","value":"{\\"x\\": [1, 2]}"}\n'
        '{"bucket":["app","sub"],"sequence":0}\n'
    )
    assert ok("ls", "--json", "-r", db, "--hex", "006e756c") == (
        '{"bucket":[{"hex":"006e756c"}],"key":{"hex":"6b00"},"value":"tab\\there"}\n')
    assert ok("ls", "--json", db) == (
        '{"bucket":[{"hex":"006e756c"}],"sequence":0}\n'
        '{"bucket":["-flag"],"sequence":0}\n'
        '{"bucket":["app"],"sequence":3}\n'
    )


def test_limit_prefix_start(db: Path) -> None:
    assert ok("ls", db, "app", "--limit", "2") == "a\t1\nb\t00ff\n"
    assert ok("ls", db, "app", "--limit", "0") == ""
    assert ok("ls", "-r", db, "--limit", "3") == (
        "006e756c/\n006e756c/6b00\t7461620968657265\n-flag/\n")
    assert ok("ls", db, "app", "--prefix", "e") == "empty\t\n"
    assert ok("ls", db, "app", "--start", "c") == "empty\t\njson\t{\"x\": [1, 2]}\nsub/\n"
    assert ok("ls", db, "app", "--start", "empty", "--limit", "1") == "empty\t\n"
    assert ok("ls", db, "app", "--start", "f", "--prefix", "e") == ""
    assert ok("ls", db, "app", "--prefix", "x") == ""
    assert ok("ls", "--hex", db, "617070", "--prefix", "62") == "b\t00ff\n"
    many = FIXTURES / "many_keys.db"
    assert ok("ls", many).count("\n") == len(ok("buckets", many).splitlines())


def test_formats_and_decoders(db: Path) -> None:
    assert ok("ls", db, "app", "--format", "hex", "--limit", "2") == "a\t31\nb\t00ff\n"
    assert ok("ls", db, "app", "-f", "ascii-encoded", "--prefix", "b") == 'b\t"\\x00\\xff"\n'
    assert ok("ls", db, "app", "--decode", "json") == (
        'a\t1\nb\t{"hex":"00ff"}\nempty\t""\njson\t{"x":[1,2]}\nsub/\n')
    assert ok("ls", "--json", db, "app", "--decode", "json", "--prefix", "j") == (
        '{"bucket":["app"],"key":"json","value":"{\\"x\\": [1, 2]}",'
        '"decoded_value":{"x":[1,2]}}\n')


def test_flag_like_names_after_double_dash(db: Path) -> None:
    assert ok("ls", db, "--", "-flag") == "--json\tx\n"
    assert ok("ls", "--hex", db, "2d666c6167") == "--json\tx\n"


def test_errors(db: Path, tmp_path: Path) -> None:
    assert run("ls", db, "nope") == (1, "", "Error: bucket not found: nope\n")
    assert run("ls", db, "app", "nope") == (1, "", "Error: bucket not found: app/nope\n")
    assert run("ls", db, "app", "a") == (1, "", "Error: bucket not found: app/a\n")
    missing = tmp_path / "missing.db"
    assert run("ls", missing) == (1, "", f"Error: {missing}: no such file\n")
    status, out, err = run("ls", "--hex", db, "6")
    assert (status, out) == (2, "")
    assert err.endswith("Error: Invalid value for --hex: '6' is not hexadecimal\n")
    status, out, err = run("ls", db, "--format", "json")
    assert (status, out) == (2, "")
    assert "Invalid value for '-f' / '--format': 'json' is not one of" in err
    status, out, err = run("ls", FIXTURES / "nested.db", "--decode", "no-such")
    assert (status, out) == (1, "")
    assert err.startswith("Error: unknown decoder 'no-such'")
