"""The etcd and raft value decoders, on files the real programs wrote.

tests/fixtures/real/ comes from `make real-fixtures` (tests/go/realprog): an
etcd 3.4.23 member after a fixed sequence of etcdctl requests, and the same
raft logs written through raft-boltdb v1 and v2.  The expected values below
are written by hand from those requests, not computed by the decoders.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pybbolt
from pybbolt import decode, decode_containerd, decode_etcd, decode_raft
from pybbolt.decode import Decoder, get_decoder

from .conftest import FIXTURES
from .content import db_content
from .workload import go_dump

REAL = FIXTURES / "real"


def decoded(path: Path, decoder: Decoder) -> dict[tuple[bytes, ...], list[tuple[object, object]]]:
    """Every pair of every bucket, decoded: {bucket path: [(key, value), ...]}."""
    out: dict[tuple[bytes, ...], list[tuple[object, object]]] = {}

    def walk(bucket: pybbolt.Bucket, path: Sequence[bytes]) -> None:
        pairs = out.setdefault(tuple(path), [])
        cursor = bucket.cursor()
        item = cursor.first()
        while item is not None:
            key, value = item
            if value is None:
                child = bucket.bucket(key)
                assert child is not None
                walk(child, [*path, key])
            else:
                pairs.append((decoder.key(key, path), decoder.value(value, key, path)))
            item = cursor.next()

    with pybbolt.open(str(path), readonly=True) as db, db.view() as tx:
        for name, bucket in tx.buckets():
            walk(bucket, [name])
    return out


def test_registry_knows_them() -> None:
    assert {"json", "etcd", "raft", "containerd"} <= set(decode.names())
    assert get_decoder("etcd") is decode_etcd.ETCD
    assert get_decoder("raft") is decode_raft.RAFT
    assert get_decoder("containerd") is decode_containerd.CONTAINERD
    assert get_decoder("etcd").name == "etcd"


@pytest.mark.parametrize("name", ["etcd34.db", "containerd16.db", "raft_v1.db", "raft_v2.db",
                                  "raft_v2_newtime.db", "bacalhau140_compute.db",
                                  "bacalhau151_compute.db", "bacalhau151_jobstore.db"])
def test_real_files_read_as_go_reads_them(boltgo: Path, name: str, tmp_path: Path) -> None:
    """The bytes the decoders see are Go's: same content, clean check."""
    path = tmp_path / name
    shutil.copyfile(REAL / name, path)
    go = go_dump(boltgo, path)
    assert go["check"] == []
    assert db_content(str(path)) == go["content"]


# -- etcd ------------------------------------------------------------------------


def rev(main: int, sub: int = 0, tombstone: bool = False) -> bytes:
    """etcd's revision key, written out from mvcc/revision.go's layout."""
    return main.to_bytes(8, "big") + b"_" + sub.to_bytes(8, "big") + (b"t" if tombstone else b"")


def kv(key: Any, create: int, mod: int, version: int, value: Any, lease: int = 0) -> dict[str, Any]:
    return {"key": key, "create_revision": create, "mod_revision": mod, "version": version,
            "value": value, "lease": lease}


def test_etcd_key_bucket() -> None:
    """etcd.sh: put foo bar (2), put foo baz (3), put greeting hello (4), lease
    0x1234, put session/1 alive --lease (5), del greeting (6), put "bin\\0" =
    00 ff 80 (7), compact 4 (drops foo@2), put foo qux (8)."""
    got = decoded(REAL / "etcd34.db", decode_etcd.ETCD)
    assert got[(b"key",)] == [
        ("3_0", kv("foo", 2, 3, 2, "baz")),
        ("4_0", kv("greeting", 4, 4, 1, "hello")),
        ("5_0", kv("session/1", 5, 5, 1, "alive", lease=0x1234)),
        # A deletion stores only the key, under the revision marked 't'.
        ("6_0t", {**kv("greeting", 0, 0, 0, ""), "tombstone": True}),
        ("7_0", kv({"hex": "62696e00"}, 7, 7, 1, {"hex": "00ff80"})),
        ("8_0", kv("foo", 2, 8, 3, "qux")),
    ]
    with pybbolt.open(str(REAL / "etcd34.db"), readonly=True) as db, db.view() as tx:
        bucket = tx.bucket(b"key")
        assert bucket is not None
        keys = []
        cursor = bucket.cursor()
        item = cursor.first()
        while item is not None:
            keys.append(item[0])
            item = cursor.next()
    assert keys == [rev(3), rev(4), rev(5), rev(6, tombstone=True), rev(7), rev(8)]


def test_etcd_other_buckets() -> None:
    got = decoded(REAL / "etcd34.db", decode_etcd.ETCD)
    assert got[(b"lease",)] == [(0x1234, {"ID": 0x1234, "TTL": 3600, "RemainingTTL": 0})]
    meta = dict(got[(b"meta",)])
    assert meta["finishedCompactRev"] == "4_0"
    assert meta["scheduledCompactRev"] == "4_0"
    assert isinstance(meta["consistent_index"], int) and meta["consistent_index"] > 8
    assert got[(b"cluster",)] == [("clusterVersion", "3.4.0")]
    [(member_id, member)] = got[(b"members",)]
    assert isinstance(member, dict)
    assert member["name"] == "fixture"
    assert member["peerURLs"] == ["http://127.0.0.1:42380"]
    assert member["clientURLs"] == ["http://127.0.0.1:42379"]
    assert member_id == f"{member['id']:x}"  # the key is the member ID in hex
    assert got[(b"authRoles",)] == [("reader", {"name": "reader", "keyPermission": [
        {"permType": "READ", "key": "config/", "range_end": "config0"}]})]
    [(user_name, user)] = got[(b"authUsers",)]
    assert user_name == "alice"
    assert isinstance(user, dict)
    password = user.pop("password")
    assert isinstance(password, str) and password.startswith("$2a$10$") and len(password) == 60
    assert user == {"name": "alice", "roles": ["reader"], "options": {"no_password": False}}
    assert got[(b"auth",)] == [("authRevision", 5)]  # role add, grant, user add, grant-role
    assert got[(b"alarm",)] == [] and got[(b"members_removed",)] == []


def test_etcd_bad_input_is_reported_not_raised() -> None:
    etcd = decode_etcd.ETCD
    # A KeyValue cut in the middle of its value field.
    whole = bytes.fromhex("0a03666f6f") + bytes.fromhex("2a03626172")
    assert etcd.value(whole, rev(2), [b"key"]) == kv("foo", 0, 0, 0, "bar")
    assert etcd.value(whole[:-1], rev(2), [b"key"]) == {
        "error": "field 5: length 3 past the end", "raw": {"hex": "0a03666f6f2a036261"}}
    assert etcd.value(b"\xff", rev(2), [b"key"]) == {
        "error": "truncated varint", "raw": {"hex": "ff"}}
    assert etcd.value(b"\x0b", rev(2), [b"key"]) == {
        "error": "field 1: unsupported wire type 3", "raw": {"hex": "0b"}}
    # A varint where bytes belong.
    assert etcd.value(b"\x08\x01", rev(2), [b"key"]) == {
        "error": "key: expected a length-delimited field", "raw": {"hex": "0801"}}
    assert etcd.value(b"12345", b"consistent_index", [b"meta"]) == {
        "error": "expected an 8-byte big-endian number, got 5 bytes", "raw": "12345"}
    # Negative int64 (10-byte varint) as Go reads it.
    negative = etcd.value(bytes.fromhex("10ffffffffffffffffff01"), rev(2), [b"key"])
    assert negative == kv("", -1, 0, 0, "")
    # Keys that are not revisions, and buckets etcd does not have, stay bytes.
    assert etcd.key(b"short", [b"key"]) == "short"
    assert etcd.key(rev(3)[:8] + b"-" + rev(3)[9:], [b"key"]) == {
        "hex": "00000000000000032d0000000000000000"}
    assert etcd.key(rev(3) + b"x", [b"key"]) == {"hex": rev(3).hex() + "78"}
    assert etcd.value(b"\x00\x01", b"k", [b"other"]) == {"hex": "0001"}
    # JSON too deeply nested for Python's json module: reported, not raised.
    deep = b"[" * 100_000
    assert etcd.value(deep, b"confState", [b"meta"])["error"].startswith(  # type: ignore[index]
        "maximum recursion depth exceeded")
    assert etcd.value(deep, b"m", [b"members"]) == "[" * 100_000
    assert decode.JSON.value(deep, b"k", []) == "[" * 100_000
    assert etcd.key(b"k", []) == "k"


# -- raft ------------------------------------------------------------------------

CONFIGURATION = {"servers": [
    {"suffrage": "Voter", "id": "node-1", "address": "10.0.0.1:8300"},
    {"suffrage": "Nonvoter", "id": "node-2", "address": "10.0.0.2:8300"},
]}


def raft_logs(zero_time: object) -> list[tuple[object, object]]:
    """raftstore/main.go: logs 1..8, 1..2 deleted; base time 2024-05-17 12:00 UTC."""
    def log(index: int, term: int, type_: str, data: object, at: object,
            extensions: object = None) -> dict[str, Any]:
        return {"index": index, "term": term, "type": type_, "data": data, "extensions": extensions,
                "appended_at": at}

    config = log(3, 1, "LogConfiguration", None, "2024-05-17T12:00:02Z")
    config_data = config["data"] = {"hex": (
        "81a7536572766572739283a741646472657373ad31302e302e302e313a38333030a24944a66e6f64652d31"
        "a853756666726167650083a741646472657373ad31302e302e302e323a38333030a24944a66e6f64652d32"
        "a8537566667261676501")}
    assert config_data
    config["configuration"] = CONFIGURATION
    return [
        (3, config),
        (4, log(4, 2, "LogNoop", None, "2024-05-17T12:00:03Z")),
        (5, log(5, 2, "LogCommand", "set x=1", "2024-05-17T12:00:04Z")),
        (6, log(6, 2, "LogCommand", {"hex": "00ff80"}, "2024-05-17T12:00:05.25Z",
                extensions="ext")),
        (7, log(7, 3, "LogBarrier", None, zero_time)),
        (8, log(8, 3, "LogCommand", "", "2024-05-17T13:00:00Z")),
    ]


@pytest.mark.parametrize(("name", "zero_time"), [
    ("raft_v1.db", "0001-01-01T00:00:00Z"),
    ("raft_v2.db", "0001-01-01T00:00:00Z"),
    ("raft_v2_newtime.db", None),  # the new time format writes nil for the zero time
])
def test_raft_store(name: str, zero_time: object) -> None:
    got = decoded(REAL / name, decode_raft.RAFT)
    assert got == {
        (b"conf",): [("CurrentTerm", 3), ("LastVoteCand", "10.0.0.1:8300"), ("LastVoteTerm", 3)],
        (b"logs",): raft_logs(zero_time),
    }


def test_raft_time_encodings() -> None:
    t = decode_raft._time
    # time.MarshalBinary version 1 with a +02:00 zone (120 minutes).
    # 63851544000 s after 0001-01-01 is 2024-05-17 12:00 UTC.
    seconds = (63851544000).to_bytes(8, "big")
    binary = bytes([1]) + seconds + (5).to_bytes(4, "big") + (120).to_bytes(2, "big")
    assert t(binary) == "2024-05-17T14:00:00.000000005+02:00"
    binary = bytes([1]) + seconds + bytes(4) + (-90).to_bytes(2, "big", signed=True)
    assert t(binary) == "2024-05-17T10:30:00-01:30"
    # msgpack timestamp 96 as an extension (go-msgpack with WriteExt).
    assert t(decode_raft.Ext(-1, (7).to_bytes(4, "big") + (1715947200).to_bytes(8, "big"))) \
        == "2024-05-17T12:00:00.000000007Z"
    with pytest.raises(ValueError, match="5 bytes is no known time encoding"):
        t(b"12345")


def test_raft_bad_input_is_reported_not_raised() -> None:
    raft = decode_raft.RAFT
    assert raft.value(b"\x86\xa5Index", b"k", [b"logs"]) == {
        "error": "truncated: 1 bytes needed at offset 7", "raw": {"hex": "86a5496e646578"}}
    assert raft.value(b"\xc1", b"k", [b"logs"]) == {
        "error": "unknown msgpack type byte 0xc1 at offset 0", "raw": {"hex": "c1"}}
    assert raft.value(b"\x91\x01", b"k", [b"logs"]) == {
        "error": "a log that is not a msgpack map", "raw": {"hex": "9101"}}
    assert raft.value(b"\xdd\xff\xff\xff\xff", b"k", [b"logs"]) == {
        "error": "4294967295 elements announced at offset 5, fewer bytes left",
        "raw": {"hex": "ddffffffff"}}
    assert raft.value(b"\x91" * 100, b"k", [b"logs"]) == {
        "error": "nested too deeply", "raw": {"hex": "91" * 100}}
    assert raft.value(b"\x81\xa5Index\x01", b"k", [b"logs"]) == {
        "error": "log without a numeric Term", "raw": {"hex": "81a5496e64657801"}}
    assert raft.value(b"\x01\x02", b"CurrentTerm", [b"conf"]) == {
        "error": "CurrentTerm: expected 8 bytes, got 2", "raw": {"hex": "0102"}}
    assert raft.key(b"\x00" * 7 + b"\x05", [b"logs"]) == 5
    assert raft.key(b"CurrentTerm", [b"conf"]) == "CurrentTerm"
    assert raft.key(b"\x05", [b"logs"]) == {"hex": "05"}


# -- containerd ------------------------------------------------------------------


def _oci_blobs() -> dict[str, bytes]:
    """The blobs containerd.sh imported (tests/go/realprog/oci_image.py)."""
    import importlib.util

    path = FIXTURES.parent / "go" / "realprog" / "oci_image.py"
    spec = importlib.util.spec_from_file_location("oci_image", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    blobs: dict[str, bytes] = module.blobs()
    return blobs


def test_containerd_meta() -> None:
    import datetime
    import hashlib
    import re

    got = decoded(REAL / "containerd16.db", decode_containerd.CONTAINERD)

    def at(*parts: bytes) -> dict[object, object]:
        """The decoded pairs of v1/fixture/<parts>."""
        path = (b"v1", b"fixture", *parts)
        return dict(got[path])

    times = {}
    for path, pairs in got.items():
        for key, value in pairs:
            if key in ("createdat", "updatedat"):
                assert isinstance(value, str)
                assert re.fullmatch(r"20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z", value), value
                where = (*path, str(key).encode())
                times[where] = value
    assert got[(b"v1",)] == [("version", 3)]  # containerd 1.6's schema version
    assert at(b"labels") == {"team": "pybbolt"}
    assert at(b"leases", b"lease-1", b"labels") == {"purpose": "fixture"}
    blobs = _oci_blobs()
    digest = {role: "sha256:" + hashlib.sha256(data).hexdigest() for role, data in blobs.items()}
    for role, data in blobs.items():
        assert at(b"content", b"blob", digest[role].encode())["size"] == len(data), role
    image = (b"images", b"docker.io/pybbolt/fixture:1.0")
    assert at(*image, b"target") == {
        "digest": digest["manifest"], "mediatype": "application/vnd.oci.image.manifest.v1+json",
        "size": len(blobs["manifest"])}
    assert at(*image, b"labels") == {"purpose": "fixture"}
    assert at(b"content", b"blob", digest["manifest"].encode(), b"labels") == {
        "containerd.io/gc.ref.content.config": digest["config"],
        "containerd.io/gc.ref.content.l.0": digest["layer"]}
    # ctr labels a new snapshot with the time as RFC 3339 text: the decoded
    # creation time agrees with it.
    snap = (b"snapshots", b"native", b"snap-1")
    label = at(*snap, b"labels")["containerd.io/gc.root"]
    where = (b"v1", b"fixture", *snap, b"createdat")
    created = times[where]
    assert isinstance(label, str)

    def parse(text: str) -> datetime.datetime:
        return datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")

    assert 0 <= (parse(created) - parse(label)).total_seconds() < 60
    assert at(*snap)["name"] == "fixture/1/snap-1"


def test_containerd_bad_input() -> None:
    c = decode_containerd.CONTAINERD
    assert c.value(b"\x80\xa0\x01", b"size", [b"v1"]) == 10240
    assert c.value(b"\x01", b"size", [b"x"]) == -1
    assert c.value(b"\x80", b"size", [b"x"]) == {"error": "truncated varint", "raw": {"hex": "80"}}
    assert c.value(b"\x02\x00", b"size", [b"x"]) == {
        "error": "1 bytes after the varint", "raw": {"hex": "0200"}}
    assert c.value(b"\x01\x02", b"createdat", [b"x"]) == {
        "error": "not a Go binary time (2 bytes)", "raw": {"hex": "0102"}}
    assert c.value(b"", b"updatedat", [b"x"]) == {
        "error": "not a Go binary time (0 bytes)", "raw": ""}
    assert c.value(b"\x06", b"version", [b"v1", b"ns"]) == {"hex": "06"}  # only v1/version
    assert c.key(b"k\x00", [b"v1"]) == {"hex": "6b00"}


@settings(max_examples=300, deadline=None, derandomize=True)
@given(value=st.binary(max_size=64),
       key=st.one_of(st.binary(max_size=20), st.sampled_from([
           b"createdat", b"updatedat", b"size", b"version", b"consistent_index", b"confState",
           b"finishedCompactRev", b"authEnabled", b"authRevision", b"CurrentTerm"])),
       bucket=st.sampled_from([b"key", b"meta", b"lease", b"alarm", b"authUsers", b"authRoles",
                               b"members", b"logs", b"conf", b"v1"]))
def test_decoders_never_raise(value: bytes, key: bytes, bucket: bytes) -> None:
    import json

    for decoder in (decode_etcd.ETCD, decode_raft.RAFT, decode_containerd.CONTAINERD):
        json.dumps(decoder.value(value, key, [bucket]))
        json.dumps(decoder.key(key, [bucket]))


# -- through the command line (--decode NAME) ----------------------------------------


def test_cli_decode_on_real_files() -> None:
    from .cli_run import ok

    etcd, raft = REAL / "etcd34.db", REAL / "raft_v1.db"
    assert ok("get", "--hex", "--decode", "etcd", etcd, b"lease".hex(), "0000000000001234") == (
        '{"ID":4660,"TTL":3600,"RemainingTTL":0}\n')
    assert ok("find", "--json", "--decode", "etcd", etcd, "key", "--value-regex", "alive") == (
        '{"bucket":["key"],"key":{"hex":"00000000000000055f0000000000000000"},"decoded_key":"5_0",'
        '"decoded_value":{"key":"session/1","create_revision":5,"mod_revision":5,"version":1,'
        '"value":"alive","lease":4660}}\n')
    lines = ok("ls", "--json", "--decode", "raft", raft, "logs").splitlines()
    assert len(lines) == 6 and lines[0].startswith(
        '{"bucket":["logs"],"key":{"hex":"0000000000000003"},"value":{"hex":"86aa4170')
    assert ('"decoded_key":3,"decoded_value":{"index":3,"term":1,"type":"LogConfiguration"'
            in lines[0])
    assert [line[line.index('"decoded_key"'):] for line in lines[1:3]] == [
        '"decoded_key":4,"decoded_value":{"index":4,"term":2,"type":"LogNoop","data":null,'
        '"extensions":null,"appended_at":"2024-05-17T12:00:03Z"}}',
        '"decoded_key":5,"decoded_value":{"index":5,"term":2,"type":"LogCommand",'
        '"data":"set x=1","extensions":null,"appended_at":"2024-05-17T12:00:04Z"}}',
    ]
    containerd = REAL / "containerd16.db"
    assert ok("get", "--json", "--decode", "containerd", containerd, "v1", "version") == (
        '{"bucket":["v1"],"key":"version","value":{"hex":"06"},"decoded_value":3}\n')
