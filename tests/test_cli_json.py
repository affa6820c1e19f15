"""``--json`` (and ``--hex``, ``--decode``) on bbolt's commands: exact outputs, and
bbolt's behaviour untouched when the flags are absent (docs/JSON.md)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from pybbolt.cli.spec import ROOT
from pybbolt.cli.usage import usage_text

from .cli_run import ok, run
from .conftest import FIXTURES

INLINE = FIXTURES / "inline_bucket.db"
NESTED = FIXTURES / "nested.db"
BINARY = FIXTURES / "binary_keys.db"


def test_buckets_keys_get_info() -> None:
    assert ok("buckets", "--json", INLINE) == '{"bucket":["settings"],"sequence":0}\n'
    assert ok("buckets", "--json", NESTED) == (
        '{"bucket":["config"],"sequence":0}\n'
        '{"bucket":["org"],"sequence":5}\n'
        '{"bucket":["users"],"sequence":0}\n'
    )
    assert ok("keys", "--json", INLINE, "settings") == (
        '{"bucket":["settings"],"key":"color"}\n'
        '{"bucket":["settings"],"key":"empty"}\n'
        '{"bucket":["settings"],"key":"size"}\n'
        '{"bucket":["settings"],"key":"weight"}\n'
    )
    # A nested bucket among the keys is a bucket record.
    assert ok("keys", "--json", NESTED, "config").splitlines()[:2] == [
        '{"bucket":["config","nested-empty"],"sequence":0}',
        '{"bucket":["config"],"key":"opt-000"}',
    ]
    assert ok("get", "--json", INLINE, "settings", "empty") == (
        '{"bucket":["settings"],"key":"empty","value":""}\n')
    assert ok("get", INLINE, "settings", "size", "--json") == (
        '{"bucket":["settings"],"key":"size","value":"large"}\n')
    assert ok("info", "--json", INLINE) == '{"page_size":4096}\n'
    assert ok("info", "--json", FIXTURES / "pagesize_16384.db") == '{"page_size":16384}\n'


def test_binary_names_and_hex_arguments() -> None:
    # Bucket "\x00" holds key "bucket" = "\x00": only --hex can name the bucket.
    assert ok("get", "--json", "--hex", BINARY, "00", "6275636b6574") == (
        '{"bucket":[{"hex":"00"}],"key":"bucket","value":{"hex":"00"}}\n')
    assert ok("keys", "--hex", BINARY, "000102") == "bucket\n"
    assert ok("get", "--hex", BINARY, "000102", "6275636b6574", "--format", "hex") == "000102\n"
    assert ok("keys", "--json", BINARY, "all-bytes").splitlines()[:2] == [
        '{"bucket":["all-bytes"],"key":{"hex":"00"}}',
        '{"bucket":["all-bytes"],"key":{"hex":"0000"}}',
    ]
    status, out, err = run("keys", "--hex", BINARY, "zz")
    assert (status, out) == (1, "")
    assert err.startswith("Error: --hex: 'zz' is not hexadecimal\nUsage:\n  bbolt keys ")


def test_get_decode() -> None:
    # The json decoder: JSON values parsed, anything else shown as bytes.
    assert ok("get", "--decode", "json", INLINE, "settings", "size") == '"large"\n'
    db = FIXTURES / "bacalhau_compute.db"
    key = "e-00af984c-75fd-4764-8e64-1c1f74ea06a0"
    decoded = json.loads(ok("get", "--decode", "json", db, "execution", key))
    assert decoded["ID"] == key and decoded["JobID"] == "j-7ba72750-9788-4930-8f12-2b27e1ae2374"
    record = json.loads(ok("get", "--json", "--decode", "json", db, "execution", key))
    assert list(record) == ["bucket", "key", "value", "decoded_value"]
    assert json.loads(record["value"]) == record["decoded_value"] == decoded
    status, out, err = run("get", "--decode", "nope", INLINE, "settings", "size")
    assert (status, out) == (1, "")
    assert err.startswith("Error: unknown decoder 'nope' (known: containerd, etcd, json, raft; or ")


def test_stats_json_has_the_text_figures() -> None:
    record = json.loads(ok("stats", "--json", NESTED))
    assert record == {
        "buckets": 3, "branch_page_n": 3, "branch_overflow_n": 0, "leaf_page_n": 19,
        "leaf_overflow_n": 3, "key_n": 841, "depth": 7, "branch_alloc": 12288,
        "branch_inuse": 289, "leaf_alloc": 90112, "leaf_inuse": 46109, "bucket_n": 74,
        "inline_bucket_n": 62, "inline_bucket_inuse": 8280,
    }
    text = ok("stats", NESTED)
    assert "Aggregate statistics for 3 buckets" in text
    assert "\tNumber of keys/value pairs: 841\n" in text
    assert "\tBytes used for inlined buckets: 8280 (17%)\n" in text
    assert json.loads(ok("stats", "--json", NESTED, "us"))["buckets"] == 1


def test_check_and_pages_stream_lines() -> None:
    assert ok("check", "--json", INLINE) == '{"ok":true,"errors":0}\n'
    assert ok("pages", "--json", INLINE) == (
        '{"id":0,"type":"meta","items":0,"overflow":0}\n'
        '{"id":1,"type":"meta","items":0,"overflow":0}\n'
        '{"id":2,"type":"free"}\n'
        '{"id":3,"type":"free"}\n'
        '{"id":4,"type":"leaf","items":1,"overflow":0}\n'
        '{"id":5,"type":"freelist","items":2,"overflow":0}\n'
    )


def test_check_json_reports_damage(golden: Path) -> None:
    status, out, err = run("check", "--json", golden / "bad" / "freelist_lists_reachable.db")
    assert (status, out, err) == (
        1, '{"error":"page 6: reachable freed"}\n{"ok":false,"errors":1}\n', "")


def test_flags_absent_change_nothing() -> None:
    # The new flags are hidden: bbolt's usage text (printed after every error) is bbolt's.
    for name in ("buckets", "keys", "get", "stats", "info", "check", "pages"):
        command = ROOT.find(name)
        assert command is not None
        assert "json" not in usage_text(command, ["bbolt", name])
    status, out, err = run("keys", "--bogus", INLINE, "settings")
    assert (status, out) == (1, "")
    assert err == (
        "Error: unknown flag: --bogus\nUsage:\n  bbolt keys <bbolt-file> <buckets> [flags]\n\n"
        "Flags:\n  -f, --format string   Output format one of: auto|ascii-encoded|hex|bytes|"
        'redacted (default "auto")\n  -h, --help            help for keys\n\n')
    assert ok("keys", INLINE, "settings") == "color\nempty\nsize\nweight\n"
    # bbolt's own --format errors are untouched by the extension.
    status, _, err = run("get", INLINE, "settings", "size", "--format", "json")
    assert status == 1 and err.startswith("Error: formatBytes: unsupported format: json\n")


@pytest.mark.parametrize("name", ["binary_keys.db", "nested.db", "many_buckets.db"])
def test_listings_match_go(boltgo: Path, name: str) -> None:
    """buckets/keys --json give the records of Go's export (bbolt's ForEach)."""
    db = FIXTURES / name
    go = subprocess.run([str(boltgo), "export", str(db)], capture_output=True, check=True,
                        text=True).stdout.splitlines()[1:]
    records = [json.loads(line) for line in go]
    top = [line for line, r in zip(go, records) if "key" not in r and len(r["bucket"]) == 1]
    assert ok("buckets", "--json", db).splitlines() == top
    first = json.loads(top[0])["bucket"]
    expected = []
    for line, record in zip(go, records):
        path = record["bucket"]
        if "key" in record and path == first:
            expected.append(json.dumps({"bucket": path, "key": record["key"]},
                                       ensure_ascii=False, separators=(",", ":")))
        elif "key" not in record and path[:-1] == first:
            expected.append(line)
    names = [bytes_hex(name) for name in first]
    assert ok("keys", "--json", "--hex", db, *names).splitlines() == expected


def bytes_hex(name: object) -> str:
    from pybbolt.jsonfmt import bytes_from_json

    return bytes_from_json(name).hex()


def test_golden_has_no_case_with_the_new_flags(golden: Path) -> None:
    """The golden replay never passes --json/--hex/--decode expecting bbolt's refusal."""
    for line in (golden / "cases.jsonl").read_text().splitlines():
        argv = json.loads(line)["argv"]
        assert not {"--json", "--hex", "--decode"} & {a.split("=")[0] for a in argv}


BYTES_CASES = [
    b"", b"a", b'"', b"\\", b"\t\n\r", b"\x00", b"\x7f", b"a\x1fb", "é".encode(),
    "\u2028".encode(), b"\xc2\x85", b"\xff", b"\xed\xa0\x80", 'x"é'.encode(), b"\x08", b"\x0c",
    bytes(range(256)), "\U0001f600".encode(), b"plain text",
]


def test_serialized_bytes_are_the_schema() -> None:
    """json_text (the fast writer) = json.dumps of bytes_to_json, and reads back."""
    from pybbolt.jsonfmt import bytes_from_json, bytes_to_json, json_text, json_texts

    for data in BYTES_CASES:
        text = json_text(data)
        assert text == json.dumps(bytes_to_json(data), ensure_ascii=False, separators=(",", ":"))
        assert bytes_from_json(json.loads(text)) == data
    assert json_texts(BYTES_CASES) == [json_text(d) for d in BYTES_CASES]
    assert json_texts([b"a", b"b"]) == ['"a"', '"b"']
    assert [json_text(d) for d in (b"\x00\xff", b"tab\there", "é".encode(), b"\x7f")] == [
        '{"hex":"00ff"}', '"tab\\there"', '"é"', '{"hex":"7f"}']
