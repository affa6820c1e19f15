"""put, delete, create-bucket, delete-bucket, set-sequence: exact effects, one
transaction each, --dry-run, and refusal of a file another process holds."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .cli_run import ok, run
from .test_cli_ls import small_store
from .test_locks_go import go_holding


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return small_store(tmp_path)


def go_check(boltgo: Path, db: Path) -> list[str]:
    r = subprocess.run([str(boltgo), "dump", str(db)], capture_output=True, check=True,
                       timeout=120)
    check: list[str] = json.loads(r.stdout)["check"]
    return check


def go_lines(boltgo: Path, db: Path, *hex_path: str) -> list[str]:
    r = subprocess.run([str(boltgo), "export", str(db), *hex_path], capture_output=True,
                       check=True, text=True, timeout=120)
    return r.stdout.splitlines()[1:]


def test_put(boltgo: Path, db: Path, tmp_path: Path) -> None:
    assert ok("put", db, "app", "a", "one") == ""
    assert ok("put", db, "app", "sub", "new", "") == ""
    value = tmp_path / "value.bin"
    value.write_bytes(b"\x00binary\xff")
    assert ok("put", db, "app", "file", "--value-file", value) == ""
    assert ok("put", db, "app", "stdin", "--value-file", "-", stdin=b"from stdin\n") == ""
    assert ok("put", "--hex", db, "006e756c", "00", "ff00") == ""
    assert ok("put", db, "--", "-flag", "--json", "y") == ""
    assert go_check(boltgo, db) == []
    assert go_lines(boltgo, db, "617070") == [
        '{"bucket":["app"],"sequence":3}',
        '{"bucket":["app"],"key":"a","value":"one"}',
        '{"bucket":["app"],"key":"b","value":{"hex":"00ff"}}',
        '{"bucket":["app"],"key":"empty","value":""}',
        '{"bucket":["app"],"key":"file","value":{"hex":"0062696e617279ff"}}',
        '{"bucket":["app"],"key":"json","value":"{\\"x\\": [1, 2]}"}',
        '{"bucket":["app"],"key":"stdin","value":"from stdin\\n"}',
        '{"bucket":["app","sub"],"sequence":0}',
        '{"bucket":["app","sub","deeper"],"sequence":0}',
        '{"bucket":["app","sub","deeper"],"key":"z","value":"last"}',
        '{"bucket":["app","sub"],"key":"k","value":"v"}',
        '{"bucket":["app","sub"],"key":"new","value":""}',
    ]
    assert go_lines(boltgo, db, "006e756c")[1] == (
        '{"bucket":[{"hex":"006e756c"}],"key":{"hex":"00"},"value":{"hex":"ff00"}}')
    assert ok("get", db, "--", "-flag", "--json") == "y\n"


def test_dry_run_writes_nothing(db: Path) -> None:
    before = db.read_bytes()
    assert ok("put", "--dry-run", db, "app", "a", "one") == (
        "would put app a: 1 -> 3 bytes\ndry run: nothing written\n")
    assert ok("put", "--dry-run", db, "app", "a", "1") == (
        "would put app a: unchanged, 1 bytes\ndry run: nothing written\n")
    assert ok("put", "--dry-run", "-p", db, "x", "y\x00", "k", "v") == (
        "would create bucket x\nwould create bucket x/y\\x00\nwould put x/y\\x00 k: new, "
        "1 bytes\ndry run: nothing written\n")
    assert ok("delete", "--dry-run", db, "app", "b") == (
        "would delete app b (2 bytes)\ndry run: nothing written\n")
    assert ok("create-bucket", "--dry-run", db, "app", "more") == (
        "would create bucket app/more\ndry run: nothing written\n")
    assert ok("delete-bucket", "--dry-run", db, "app") == (
        "would delete bucket app (8 keys, 2 nested buckets)\ndry run: nothing written\n")
    assert ok("set-sequence", "--dry-run", db, "app", "sub", "41") == (
        "would set sequence of app/sub: 0 -> 41\ndry run: nothing written\n")
    assert db.read_bytes() == before


def test_delete(boltgo: Path, db: Path) -> None:
    assert ok("delete", db, "app", "empty") == ""
    assert run("delete", db, "app", "empty") == (1, "", "Error: key not found: app empty\n")
    assert ok("delete", "--missing-ok", db, "app", "empty") == ""
    assert run("delete", db, "app", "sub") == (
        1, "", "Error: app sub is a bucket: use delete-bucket\n")
    assert ok("delete", "--hex", db, "006e756c", "6b00") == ""
    assert ok("ls", db, "app") == "a\t1\nb\t00ff\njson\t{\"x\": [1, 2]}\nsub/\n"
    assert ok("ls", "--hex", db, "006e756c") == ""
    assert go_check(boltgo, db) == []


def test_buckets_and_sequences(boltgo: Path, db: Path, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.db"
    assert ok("create-bucket", fresh, "top") == ""  # creates the file
    assert ok("create-bucket", "-p", fresh, "top", "a", "b") == ""
    assert ok("create-bucket", "-p", fresh, "top", "a") == ""  # exists: fine with -p
    assert run("create-bucket", fresh, "top") == (1, "", "Error: bucket already exists: top\n")
    assert run("create-bucket", fresh, "x", "y") == (1, "", "Error: bucket not found: x\n")
    assert ok("set-sequence", fresh, "top", "a", "18446744073709551615") == ""
    assert go_lines(boltgo, fresh) == [
        '{"bucket":["top"],"sequence":0}',
        '{"bucket":["top","a"],"sequence":18446744073709551615}',
        '{"bucket":["top","a","b"],"sequence":0}',
    ]
    assert ok("delete-bucket", db, "app") == ""
    assert run("delete-bucket", db, "app") == (1, "", "Error: bucket not found: app\n")
    assert ok("delete-bucket", "--hex", db, "006e756c") == ""
    assert ok("ls", "-r", db) == "-flag/\n-flag/--json\tx\n"
    assert go_check(boltgo, db) == [] and go_check(boltgo, fresh) == []


def test_one_transaction_each(db: Path) -> None:
    """A failure after a change leaves the file as it was: bucket "fresh" is not kept."""
    before = db.read_bytes()
    assert run("put", "-p", db, "fresh", "", "v") == (1, "", "Error: key required\n")
    assert run("put", "-p", db, "fresh", "app", "json", "k", "v")[0] == 0
    before = db.read_bytes()
    assert run("put", "-p", db, "more", "x", "--value-file", "/nonexistent/v") == (
        1, "", "Error: /nonexistent/v: No such file or directory\n")
    assert run("create-bucket", "-p", db, "app", "a", "deeper") == (
        1, "", "Error: incompatible value\n")
    assert db.read_bytes() == before


def test_argument_errors(db: Path, tmp_path: Path) -> None:
    status, out, err = run("put", db, "app")
    assert (status, out) == (2, "")
    assert err.endswith("Error: expected BUCKET... KEY VALUE\n")
    status, _, err = run("set-sequence", db, "app", "-1x")
    assert status == 2 and err.endswith("Error: No such option '-1'.\n")
    status, _, err = run("set-sequence", db, "app", "ten")
    assert status == 2 and err.endswith("Error: Invalid value for N: 'ten' is not a number\n")
    status, _, err = run("put", "--timeout", "5", db, "app", "k", "v")
    assert status == 2 and err.endswith(
        'Error: Invalid value for --timeout: time: missing unit in duration "5"\n')
    missing = tmp_path / "missing.db"
    assert run("put", missing, "b", "k", "v") == (1, "", f"Error: {missing}: no such file\n")
    assert not missing.exists()


@pytest.mark.parametrize("mode", ["write", "read"])
def test_a_file_another_process_holds_is_refused(boltgo: Path, db: Path, mode: str) -> None:
    before = db.read_bytes()
    with go_holding(boltgo, db, mode):
        for argv in (["put", db, "app", "a", "2"], ["delete", db, "app", "a"],
                     ["create-bucket", db, "n"], ["delete-bucket", db, "app"],
                     ["set-sequence", db, "app", "1"], ["put", "--dry-run", db, "app", "a", "2"]):
            assert run(*argv[:1], "--timeout", "0", *argv[1:]) == (
                1, "", f"Error: {db} is in use by another process (no exclusive lock within "
                "0); close it or give a longer --timeout\n")
    assert db.read_bytes() == before
    assert ok("put", "--timeout", "2s", db, "app", "a", "2") == ""  # released


def test_go_durations() -> None:
    from pybbolt.cli.godur import parse_duration

    assert [parse_duration(t) for t in ("0", "1s", "1.5s", "300ms", "1h2m3s", "-2m", "10us",
                                        "1µs", "2ns", ".5s")] == [
        0, 10**9, 15 * 10**8, 3 * 10**8, 3723 * 10**9, -120 * 10**9, 10_000, 1000, 2, 5 * 10**8]
    for text, message in (("", 'time: invalid duration ""'),
                          ("x", 'time: invalid duration "x"'),
                          ("5", 'time: missing unit in duration "5"'),
                          ("2d", 'time: unknown unit "d" in duration "2d"'),
                          ("1..s", 'time: invalid duration "1..s"')):
        with pytest.raises(ValueError) as e:
            parse_duration(text)
        assert str(e.value) == message
