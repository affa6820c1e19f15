"""``pybbolt export`` / ``pybbolt import``: the format, exact round trips checked by Go.

Go's side is ``boltgo export`` (bbolt's ForEach and encoding/json writing the
same records) and ``boltgo dump`` (Tx.Check and content).
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pybbolt

from .cli_run import ok, run
from .conftest import FIXTURES, GOLDEN, ROOT, need
from .test_cli_ls import small_store
from .test_locks_go import go_holding

HEADER = '{"format":"pybbolt-export","version":1,"page_size":4096}\n'


def go_export(boltgo: Path, db: Path, *hex_path: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([str(boltgo), "export", str(db), *hex_path], capture_output=True,
                          timeout=300)


def go_dump(boltgo: Path, db: Path) -> dict[str, object]:
    r = subprocess.run([str(boltgo), "dump", str(db)], capture_output=True, check=True,
                       timeout=300)
    result: dict[str, object] = json.loads(r.stdout)
    return result


MISSING_GOLDEN = GOLDEN / "(missing)"


def _databases() -> list[Path]:
    # tests/fixtures/real: files etcd, containerd, raft-boltdb and Bacalhau wrote.
    found = sorted(FIXTURES.glob("*.db")) + sorted((FIXTURES / "real").glob("*.db"))
    if not GOLDEN.is_dir():
        return [*found, MISSING_GOLDEN]  # a case that says so (a failure in CI)
    return found + sorted((GOLDEN / "db").glob("*.db")) + sorted((GOLDEN / "bad").glob("*.db"))


@pytest.mark.parametrize("source", _databases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_round_trip_checked_by_go(boltgo: Path, tmp_path: Path, source: Path) -> None:
    """export = Go's export; import it; the new file exports the same lines, in
    Go's eyes too, and Go's Tx.Check finds nothing."""
    need(source != MISSING_GOLDEN, "../shared/golden is not present next to the repository")
    db = tmp_path / source.name
    shutil.copyfile(source, db)
    go = go_export(boltgo, db)
    status, out, err = run("export", db)
    if go.returncode != 0:  # a damaged file Go cannot read: pybbolt refuses it too
        assert status == 1 and err.startswith("Error: "), (status, err)
        return
    assert (status, err) == (0, "")
    assert out.encode() == go.stdout
    lines = tmp_path / "export.jsonl"
    lines.write_bytes(go.stdout)
    copy = tmp_path / "copy.db"
    pairs = sum(1 for line in out.splitlines() if '"key":' in line)
    buckets = sum(1 for line in out.splitlines()[1:] if '"key":' not in line)
    assert run("import", copy, "-i", lines) == (
        0, "", f"imported {pairs} pairs, {buckets} buckets into {copy}\n")
    again = ok("export", copy)
    assert go_export(boltgo, copy).stdout == again.encode()
    if go_dump(boltgo, db)["check"]:
        # Damage Go's check sees (keys out of order, duplicated across leaves)
        # cannot survive a load: the copy holds the same records, in order, once.
        assert sorted(set(out.splitlines()[1:])) == sorted(again.splitlines()[1:])
    else:
        assert again == out
    dump = go_dump(boltgo, copy)
    assert dump["check"] == []
    assert dump["page_size"] == json.loads(out.splitlines()[0])["page_size"]


def test_the_format(tmp_path: Path) -> None:
    db = small_store(tmp_path)
    assert ok("export", db) == HEADER + (
        '{"bucket":[{"hex":"006e756c"}],"sequence":0}\n'
        '{"bucket":[{"hex":"006e756c"}],"key":{"hex":"6b00"},"value":"tab\\there"}\n'
        '{"bucket":["-flag"],"sequence":0}\n'
        '{"bucket":["-flag"],"key":"--json","value":"x"}\n'
        '{"bucket":["app"],"sequence":3}\n'
        '{"bucket":["app"],"key":"a","value":"1"}\n'
        '{"bucket":["app"],"key":"b","value":{"hex":"00ff"}}\n'
        '{"bucket":["app"],"key":"empty","value":""}\n'
        '{"bucket":["app"],"key":"json","value":"{\\"x\\": [1, 2]}"}\n'
        '{"bucket":["app","sub"],"sequence":0}\n'
        '{"bucket":["app","sub","deeper"],"sequence":0}\n'
        '{"bucket":["app","sub","deeper"],"key":"z","value":"last"}\n'
        '{"bucket":["app","sub"],"key":"k","value":"v"}\n'
    )
    assert ok("export", db, "app", "sub") == HEADER + (
        '{"bucket":["app","sub"],"sequence":0}\n'
        '{"bucket":["app","sub","deeper"],"sequence":0}\n'
        '{"bucket":["app","sub","deeper"],"key":"z","value":"last"}\n'
        '{"bucket":["app","sub"],"key":"k","value":"v"}\n'
    )
    assert ok("export", "--hex", db, "006e756c") == HEADER + (
        '{"bucket":[{"hex":"006e756c"}],"sequence":0}\n'
        '{"bucket":[{"hex":"006e756c"}],"key":{"hex":"6b00"},"value":"tab\\there"}\n'
    )
    out = tmp_path / "out.jsonl"
    assert ok("export", db, "-o", out) == ""
    assert out.read_text() == ok("export", db)
    assert ok("export", "--decode", "json", db, "app").splitlines()[2:4] == [
        '{"bucket":["app"],"key":"a","value":"1","decoded_value":1}',
        '{"bucket":["app"],"key":"b","value":{"hex":"00ff"},"decoded_value":{"hex":"00ff"}}',
    ]
    assert run("export", db, "nope") == (1, "", "Error: bucket not found: nope\n")


def test_subtree_goes_into_an_existing_file(boltgo: Path, tmp_path: Path) -> None:
    db = small_store(tmp_path)
    other = tmp_path / "other.db"
    with pybbolt.open(other) as target, target.update() as tx:
        tx.create_bucket(b"kept").put(b"x", b"y")
    lines = ok("export", db, "app", "sub").encode()
    assert run("import", other, stdin=lines) == (
        0, "", f"imported 2 pairs, 2 buckets into {other}\n")
    # The missing parent "app" was made (sequence 0); what was there stays.
    assert ok("ls", "-r", other) == (
        "app/\napp/sub/\napp/sub/deeper/\napp/sub/deeper/z\tlast\napp/sub/k\tv\n"
        "kept/\nkept/x\ty\n")
    assert go_dump(boltgo, other)["check"] == []
    assert go_export(boltgo, other, "617070", "737562").stdout == lines


def test_existing_buckets_are_refused_unless_merge(tmp_path: Path) -> None:
    db = small_store(tmp_path)
    before = db.read_bytes()
    lines = HEADER + (
        '{"bucket":["new"],"sequence":0}\n'
        '{"bucket":["new"],"key":"k","value":"v"}\n'
        '{"bucket":["app"],"sequence":9}\n'
        '{"bucket":["app"],"key":"a","value":"replaced"}\n'
    )
    assert run("import", db, stdin=lines.encode()) == (
        1, "", "Error: line 4: bucket app already exists (--merge writes into existing "
        "buckets)\n")
    assert db.read_bytes() == before  # nothing of it: not even bucket "new"
    assert run("import", db, "--merge", stdin=lines.encode()) == (
        0, "", f"imported 2 pairs, 2 buckets into {db}\n")
    assert ok("ls", db, "app", "--limit", "1") == "a\treplaced\n"
    assert ok("ls", db, "new") == "k\tv\n"
    assert ok("buckets", "--json", db).splitlines()[2] == '{"bucket":["app"],"sequence":9}'


@pytest.mark.parametrize(("lines", "message"), [
    ('{"bucket":["a"],"sequence":0}\nnot json\n', "line 3: not JSON: Expecting value: "
     "line 1 column 1 (char 0)"),
    ('["a"]\n', 'line 2: a record is a JSON object, got ["a"]'),
    ('{"bucket":[],"key":"k","value":"v"}\n',
     'line 2: "bucket" must be a non-empty list of names'),
    ('{"bucket":["a"],"key":"k"}\n', "line 2: expected bytes as a string or "
     '{"hex": ...} / {"base64": ...}, got None'),
    ('{"bucket":["a"],"key":{"hex":"zz"},"value":""}\n',
     "line 2: bad hex bytes 'zz': non-hexadecimal number found in fromhex() arg at "
     "position 0"),
    ('{"bucket":["a"],"sequence":-1}\n', "line 2: bad sequence -1"),
    ('{"bucket":["a"]}\n', 'line 2: a record has "key" and "value", or "sequence"'),
    ('{"bucket":["a"],"key":"","value":"v"}\n', "line 2: key required"),
    ('{"bucket":["a"],"key":"k","value":"v"}\n{"bucket":["a","k"],"sequence":0}\n',
     "line 3: incompatible value"),
])
def test_bad_input_is_refused_whole(tmp_path: Path, lines: str, message: str) -> None:
    new = tmp_path / "new.db"
    assert run("import", new, stdin=(HEADER + lines).encode()) == (1, "", f"Error: {message}\n")
    assert list(tmp_path.iterdir()) == []  # neither the file nor its temporary
    existing = small_store(tmp_path)
    before = existing.read_bytes()
    assert run("import", existing, stdin=(HEADER + lines).encode())[0] == 1
    assert existing.read_bytes() == before


def test_headers(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    bad = '{"format":"pybbolt-export","version":2}\n'
    assert run("import", db, stdin=bad.encode()) == (
        1, "", 'Error: line 1: not a pybbolt-export version 1 header: '
        '{"format":"pybbolt-export","version":2}\n')
    # Without a header (hand-written lines): the default page size.
    assert run("import", db, stdin=b'{"bucket":["b"],"key":"k","value":"v"}\n')[0] == 0
    assert ok("info", db) == f"Page Size: {os.sysconf('SC_PAGE_SIZE')}\n"
    big = FIXTURES / "pagesize_16384.db"
    copy = tmp_path / "copy.db"
    assert run("import", copy, stdin=ok("export", big).encode())[0] == 0
    assert ok("info", copy) == "Page Size: 16384\n"


def test_import_refuses_a_file_go_holds(boltgo: Path, tmp_path: Path) -> None:
    db = small_store(tmp_path)
    with go_holding(boltgo, db, "read"):
        assert run("import", db, "--timeout", "200ms", stdin=HEADER.encode()) == (
            1, "", f"Error: {db} is in use by another process (no exclusive lock within "
            "200ms); close it or give a longer --timeout\n")


def on_terminal(argv: list[str]) -> tuple[int, bytes, bytes]:
    """``pybbolt ARGV`` with stderr on a terminal: (status, stdout, what the terminal shows)."""
    primary, secondary = pty.openpty()
    try:
        r = subprocess.run([sys.executable, "-m", "pybbolt", *argv], stderr=secondary,
                           stdout=subprocess.PIPE, cwd=ROOT, timeout=120)
        os.close(secondary)
        shown = b""
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(primary)
    return r.returncode, r.stdout, shown


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    """Piped: no bar (stderr of the runs above is exact).  On a terminal: click's bar."""
    lines = tmp_path / "x.jsonl"
    status, out, shown = on_terminal(["export", str(FIXTURES / "many_keys.db"), "-o", str(lines)])
    assert (status, out) == (0, b"")
    assert b"exporting  [####################################]  100%" in shown
    status, out, shown = on_terminal(["import", str(tmp_path / "x.db"), "-i", str(lines)])
    assert (status, out) == (0, b"")
    assert b"importing  [####################################]  100%" in shown
    assert shown.endswith(f"imported 55002 pairs, 2 buckets into {tmp_path / 'x.db'}\r\n".encode())
    status, out, shown = on_terminal(["find", str(FIXTURES / "many_keys.db"), "--key-regex", "^$"])
    assert (status, out) == (0, b"")
    assert b"searching  [####################################]  100%" in shown
