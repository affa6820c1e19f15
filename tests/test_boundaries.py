"""Boundary cases built on purpose, each judged by Go rather than by pybbolt.

Every test here closes a hole a mutation study found (a realistic one-line
bug that survived the rest of the suite): the freelist's 0xFFFF count
convention at exactly 0xFFFF and 0x10000 ids, a failed commit while a reader
holds old pages, deleting a bucket whose nested buckets have pages, leaks at
the last page and every leak kind bbolt's check reports, a bucket of exactly
the inline limit, equal meta txids, page ids of 2^32 and more, values of
exactly k pages, and ``next_sequence`` as the only change of a transaction.
The oracle is always Go: `boltgo replay` (the same workload written by bbolt,
compared byte for byte), `boltgo dump` (bbolt's Tx.Check and its view of the
content), `boltgo decode-page` (bbolt's page structs read from given bytes) or
the bbolt CLI's output.  The workloads compared byte for byte (BYTE_COMPARED)
change one bucket per transaction, as bbolt spills sibling buckets in Go map
order; `make layout-proof` replays them with Go to show one layout.
"""

from __future__ import annotations

import errno
import json
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

import pybbolt
from pybbolt.meta import Meta, new_meta
from pybbolt.node import Node, decode_page

from . import workload as wl
from .conftest import BIN
from .content import make_bucket
from .faults import FaultIO

PS = 4096


def _fnv1a64(data: bytes) -> int:
    """FNV-1a, 64 bits: the meta checksum, computed here, not by pybbolt."""
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def _both(work: dict[str, Any], tmp: Path, boltgo: Path) -> tuple[Path, Path, dict[str, Any]]:
    """The workload replayed by pybbolt and by Go; both files and Go's replay result."""
    ours, theirs = tmp / "py.db", tmp / "go.db"
    errors = wl.replay(work, ours)
    go = wl.go_replay(boltgo, work, theirs)
    assert errors == go["errors"] == []
    return ours, theirs, go


def _same_as_go(work: dict[str, Any], tmp: Path, boltgo: Path) -> dict[str, Any]:
    """Replay with both; Go's check of our file is clean and the bytes are Go's.

    Only for workloads bbolt lays out deterministically (no map-ordered
    rebalance: single-bucket inserts, whole-bucket deletes)."""
    ours, theirs, _ = _both(work, tmp, boltgo)
    dump = wl.go_dump(boltgo, ours)
    assert dump["check"] == []
    assert dump["content"] == wl.go_dump(boltgo, theirs)["content"]
    assert ours.read_bytes() == theirs.read_bytes()
    return dump


def _decode_page(boltgo: Path, tmp: Path, data: bytes) -> dict[str, Any]:
    path = tmp / "page.bin"
    path.write_bytes(data)
    out = subprocess.run([str(boltgo), "decode-page", str(path)], capture_output=True, text=True,
                         check=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def _op(kind: str, path: list[bytes], **fields: Any) -> wl.Op:
    return {"op": kind, "path": [p.hex() for p in path], **fields}


# -- the freelist's count convention ------------------------------------------------


def _freed(value_pages: int, ps: int = 1024) -> dict[str, Any]:
    """A value of ``value_pages`` pages, deleted, then one more commit: its
    pages (plus two from bookkeeping, minus what the last commit reuses) are
    free.  4-byte key: the leaf holds 16 + 16 + 4 bytes before the value."""
    big = {**wl.put([b"b"], b"huge", b"x"), "repeat": value_pages * ps - 36}
    return wl.workload(ps, [[wl.create([], b"b"), big], [wl.delete([b"b"], b"huge")],
                            [wl.put([b"b"], b"k", b"v")]])


@pytest.mark.parametrize(("value_pages", "ids"), [(65536, 0xFFFF), (65537, 0x10000)],
                         ids=["0xFFFF-ids", "0x10000-ids"])
def test_freelist_count_boundary(value_pages: int, ids: int, tmp_path: Path,
                                 boltgo: Path) -> None:
    """Exactly 0xFFFF free ids must use the overflow convention (count 0xFFFF
    in the header, the real count first): Go reads our freelist, we read Go's."""
    ps = 1024
    ours, theirs, go = _both(_freed(value_pages, ps), tmp_path, boltgo)
    fl = go["meta"]["freelist"]
    data = theirs.read_bytes()
    overflow = struct.unpack_from("<I", data, fl * ps + 12)[0]
    page = _decode_page(boltgo, tmp_path, data[fl * ps : (fl + overflow + 1) * ps])
    assert page["count"] == 0xFFFF and len(page["ids"]) == ids  # Go wrote the convention
    with pybbolt.open(theirs, readonly=True) as db, db.view() as tx:
        assert tx.free_ids() == page["ids"]
    theirs.unlink()
    mine = ours.read_bytes()
    ours.unlink()
    assert mine[fl * ps : (fl + overflow + 1) * ps] == data[fl * ps : (fl + overflow + 1) * ps]
    assert _decode_page(boltgo, tmp_path, mine[fl * ps : (fl + overflow + 1) * ps]) == page
    assert mine == data


# -- a failed commit while a reader holds old pages ---------------------------------


def test_failed_commit_keeps_a_readers_pages(tmp_path: Path, boltgo: Path) -> None:
    """Pages freed while a reader is open stay pending across a commit that
    fails with an I/O error (the freelist reload must not hand them out), so
    later commits leave the reader's snapshot intact; Go checks the file."""
    path = tmp_path / "db"
    model: dict[bytes, bytes] = {b"k%04d" % i: b"old" * 30 for i in range(300)}
    io = FaultIO(b"")
    db = pybbolt.DB(path, page_size=PS, file_io=io)
    try:
        with db.update() as tx:
            b = tx.create_bucket(b"b")
            for k, v in model.items():
                b.put(k, v)
        reader = db.begin(False)
        snapshot = dict(model)
        for round_ in range(3):
            with db.update() as tx:  # frees the reader's leaves: pending
                b = tx.bucket(b"b")
                assert b is not None
                for k in list(model)[round_::3]:
                    model[k] = b"new%d" % round_ * 40
                    b.put(k, model[k])
        io.fail_at = len(io.ops)  # the first write of the next commit fails
        tx = db.begin(True)
        tx.bucket(b"b").put(b"lost", b"x" * 5000)  # type: ignore[union-attr]
        with pytest.raises(OSError) as failed:
            tx.commit()
        assert failed.value.errno == errno.EIO
        for round_ in range(3):  # more commits, allocating many pages
            with db.update() as tx:
                b = tx.create_bucket_if_not_exists(b"more")
                for i in range(200):
                    k = b"m%d-%04d" % (round_, i)
                    b.put(k, b"fresh" * 20)
        rb = reader.bucket(b"b")
        assert rb is not None
        assert dict(rb.items()) == snapshot
        assert [name for name, _ in reader.buckets()] == [b"b"]
        reader.rollback()
    finally:
        db.close()
    go = wl.go_dump(boltgo, path)
    assert go["check"] == []
    got = {bytes.fromhex(e["k"]): bytes.fromhex(e["v"]) for e in go["content"]["buckets"][0]
           ["entries"]}
    assert got == model


# -- deleting a bucket with nested buckets that have pages --------------------------


def nested_delete() -> dict[str, Any]:
    """Nested buckets with pages, their parent deleted in a later transaction."""
    top = [b"top"]
    # One dirty sibling per transaction: bbolt spills sibling buckets in Go
    # map order, so only then is its layout reproducible.
    setup = [[wl.create([], b"top"), wl.put(top, b"t", b"1")],
             [wl.create([], b"keep"), wl.put([b"keep"], b"k", b"v")]]
    for name in (b"n1", b"n2", b"n3"):
        setup.append([wl.create(top, name)]
                     + [wl.put([*top, name], b"%05d" % i, b"v" * 50) for i in range(200)])
    setup.append([wl.create([*top, b"n2"], b"deep")]
                 + [wl.put([*top, b"n2", b"deep"], b"%05d" % i, b"d" * 60) for i in range(150)])
    return wl.workload(PS, [*setup, [_op("delete_bucket", [], name=b"top".hex())],
                            [wl.put([b"keep"], b"after", b"x" * 100)]])


def test_delete_bucket_with_nested_paged_buckets(tmp_path: Path, boltgo: Path) -> None:
    """All pages of the nested buckets are freed (bbolt: no "unreachable
    unfreed").  The deleted bucket is not changed in the deleting transaction
    (bbolt v1.5.0 leaks pages itself then, see tests/go/README.md)."""
    dump = _same_as_go(nested_delete(), tmp_path, boltgo)
    assert [b["name"] for b in dump["content"]["buckets"]] == ["keep"]


# -- the check: leaks and the other page accounting errors ---------------------------


def _cli(tool: Path, path: Path) -> tuple[int, str]:
    r = subprocess.run([str(tool), "check", str(path)], capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def _base(tmp: Path, boltgo: Path) -> tuple[bytearray, dict[str, Any]]:
    """A Go-written file with a branch page and a freelist of several ids."""
    b = [b"a"]
    setup = [wl.create([], b"a")] + [wl.put(b, b"%05d" % i, b"v" * 100) for i in range(400)]
    work = wl.workload(PS, [setup, [wl.delete(b, b"%05d" % i) for i in range(0, 400, 2)],
                            [wl.put(b, b"x", b"y")]])
    path = tmp / "base.db"
    go = wl.go_replay(boltgo, work, path)
    assert wl.go_dump(boltgo, path)["check"] == []
    return bytearray(path.read_bytes()), go["meta"]


def _active_meta_at(data: bytearray) -> int:
    t0, t1 = (struct.unpack_from("<Q", data, p * PS + 64)[0] for p in (0, 1))
    return PS if t1 > t0 else 0


def _set_meta(data: bytearray, at: int, **fields: int) -> None:
    offsets = {"root": 32, "freelist": 48, "pgid": 56, "txid": 64}
    for name, value in fields.items():
        struct.pack_into("<Q", data, at + offsets[name], value)
    struct.pack_into("<Q", data, at + 72, _fnv1a64(bytes(data[at + 16 : at + 72])))


def _set_free_ids(data: bytearray, fl: int, ids: list[int]) -> None:
    assert len(ids) < 0xFFFF
    struct.pack_into("<H", data, fl * PS + 10, len(ids))
    struct.pack_into(f"<{len(ids)}Q", data, fl * PS + 16, *ids)


def _free_ids(data: bytearray, fl: int) -> list[int]:
    count = struct.unpack_from("<H", data, fl * PS + 10)[0]
    return list(struct.unpack_from(f"<{count}Q", data, fl * PS + 16))


def _branch_children(data: bytearray, root: int) -> tuple[int, list[int]]:
    """The bucket ``a``'s root page (a branch) and its children, read raw."""
    count = struct.unpack_from("<H", data, root * PS + 10)[0]
    assert struct.unpack_from("<H", data, root * PS + 8)[0] == 2  # the root bucket's leaf
    pos, ksize, vsize = struct.unpack_from("<III", data, root * PS + 16 + 4)
    assert count == 1 and vsize == 16
    bucket_root = struct.unpack_from("<Q", data, root * PS + 16 + pos + ksize)[0]
    n = struct.unpack_from("<H", data, bucket_root * PS + 10)[0]
    assert struct.unpack_from("<H", data, bucket_root * PS + 8)[0] == 1
    return bucket_root, [struct.unpack_from("<Q", data, bucket_root * PS + 16 + 16 * i + 8)[0]
                         for i in range(n)]


def _damage(kind: str, data: bytearray, meta: dict[str, Any]) -> None:
    fl, hwm, root = meta["freelist"], meta["pgid"], meta["root"]
    ids = _free_ids(data, fl)
    branch, children = _branch_children(data, root)
    at = _active_meta_at(data)
    if kind == "leak-last-page":  # one more page, neither reachable nor free
        data.extend(bytes(PS))
        _set_meta(data, at, pgid=hwm + 1)
    elif kind == "leak-last-free-id":  # the highest free id drops out of the freelist
        _set_free_ids(data, fl, ids[:-1])
    elif kind == "leak-middle":
        _set_free_ids(data, fl, ids[:1] + ids[2:])
    elif kind == "already-freed":
        _set_free_ids(data, fl, [ids[0], ids[0], *ids[2:]])
    elif kind == "reachable-freed":
        _set_free_ids(data, fl, sorted([children[1], *ids[1:]]))
    elif kind == "multiple-references":
        struct.pack_into("<Q", data, branch * PS + 16 + 16 * 2 + 8, children[1])
    elif kind == "out-of-bounds":
        _set_meta(data, at, pgid=max(children) - 1)
    else:
        raise ValueError(kind)


LEAKS = ["leak-last-page", "leak-last-free-id", "leak-middle", "already-freed",
         "reachable-freed", "multiple-references", "out-of-bounds"]


@pytest.fixture(scope="module")
def leak_base(tmp_path_factory: pytest.TempPathFactory, boltgo: Path
              ) -> tuple[bytearray, dict[str, Any]]:
    return _base(tmp_path_factory.mktemp("leaks"), boltgo)


@pytest.mark.parametrize("kind", LEAKS)
def test_check_reports_what_bbolt_reports(kind: str, leak_base: tuple[bytearray, dict[str, Any]],
                                          tmp_path: Path, bbolt_cli: Path) -> None:
    """pybbolt's `check` prints exactly what bbolt's prints on the same damaged file."""
    data = bytearray(leak_base[0])
    _damage(kind, data, leak_base[1])
    path = tmp_path / f"{kind}.db"
    path.write_bytes(data)
    theirs = _cli(bbolt_cli, path)
    assert theirs[0] != 0 and "OK" not in theirs[1]  # bbolt does find the damage
    assert _cli(BIN.parent / ".venv" / "bin" / "pybbolt", path) == theirs


# -- the inline bucket limit ---------------------------------------------------------


def inline_limit(over: int) -> dict[str, Any]:
    """One bucket of one key, ``over`` bytes past the inline limit."""
    value = b"v" * (PS // 4 - 33 + over)
    return wl.workload(PS, [[wl.create([], b"in"), wl.put([b"in"], b"k", value)],
                            [wl.put([b"in"], b"k", value[::-1])]])


@pytest.mark.parametrize("over", [0, 1], ids=["at-limit", "one-over"])
def test_inline_limit(over: int, tmp_path: Path, boltgo: Path) -> None:
    """A bucket of exactly pagesize/4 bytes (header 16 + element 16 + key 1 +
    value) stays inline, one byte more does not: the same pages as Go."""
    dump = _same_as_go(inline_limit(over), tmp_path, boltgo)
    assert dump["content"]["buckets"][0]["inline"] is (over == 0)


# -- equal meta txids ----------------------------------------------------------------


@pytest.mark.parametrize("commits", [2, 3], ids=["older-meta-0", "newer-meta-0"])
def test_equal_txids_choose_meta_0(commits: int, tmp_path: Path, boltgo: Path) -> None:
    """Both metas valid with one txid: bbolt uses meta 0, whatever it holds."""
    b = [b"b"]
    names = [b"first", b"second", b"third"][:commits]
    work = wl.workload(PS, [[wl.create([], b"b"), wl.put(b, names[0], b"1")]]
                       + [[wl.put(b, n, b"2")] for n in names[1:]])
    path = tmp_path / "tie.db"
    wl.go_replay(boltgo, work, path)
    data = bytearray(path.read_bytes())
    txids = [struct.unpack_from("<Q", data, p * PS + 64)[0] for p in (0, 1)]
    assert txids == ([2, 3] if commits == 2 else [4, 3])  # commit txid n goes to meta n % 2
    tie = max(txids)
    _set_meta(data, PS * txids.index(min(txids)), txid=tie)
    path.write_bytes(data)
    go = wl.go_dump(boltgo, path)
    keys = [e["k"] for e in go["content"]["buckets"][0]["entries"]]
    # meta 0 holds the first commit (of 2) or the third (of 3)
    assert keys == sorted(n.hex() for n in (names[:1] if commits == 2 else names))
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        assert tx.meta.txid == tie
        bucket = tx.bucket(b"b")
        assert bucket is not None
        assert [k.hex() for k, _ in bucket.items()] == keys
    assert _cli(BIN.parent / ".venv" / "bin" / "pybbolt", path) == (0, "OK\n")


# -- page ids of 2^32 and more -------------------------------------------------------


BIG_IDS = [2**32, 2**32 + 1, 2**40 + 7, 2**63 + 5, 2**64 - 2]


def test_branch_page_ids_beyond_32_bits(tmp_path: Path, boltgo: Path) -> None:
    """pybbolt's branch encoding read by Go's layout, and bytes laid out here
    by hand read by pybbolt: all 64 bits of every child id."""
    keys = [b"a", b"bb", b"ccc", b"dddd", b"e"]
    node = Node(False, list(keys), [], [], list(BIG_IDS), 2**33 + 9)
    page = bytes(node.encode(2**33 + 9, PS))
    go = _decode_page(boltgo, tmp_path, page)
    assert go["id"] == 2**33 + 9 and go["flags"] == 1 and go["count"] == len(keys)
    assert [e["pgid"] for e in go["elements"]] == BIG_IDS
    assert [bytes.fromhex(e["key"]) for e in go["elements"]] == keys
    # The same page built from bbolt's layout: pos (relative), ksize, pgid.
    raw = bytearray(PS)
    struct.pack_into("<QHHI", raw, 0, 2**33 + 9, 1, len(keys), 0)
    data_at = 16 + 16 * len(keys)
    for i, (k, pgid) in enumerate(zip(keys, BIG_IDS)):
        elem = 16 + 16 * i
        struct.pack_into("<IIQ", raw, elem, data_at - elem, len(k), pgid)
        raw[data_at : data_at + len(k)] = k
        data_at += len(k)
    assert bytes(raw) == page
    decoded = decode_page(bytes(raw), 0, 2**33 + 9)
    assert decoded.keys == keys and decoded.pgids[: len(keys)] == BIG_IDS


def test_meta_page_ids_beyond_32_bits(tmp_path: Path, boltgo: Path) -> None:
    root, freelist, pgid, txid = 2**32 + 3, 2**33, 2**34 + 1, 2**40 + 11
    page = new_meta(PS, root, freelist, pgid, txid).encode_page(PS, 1)
    go = _decode_page(boltgo, tmp_path, page)
    assert go["id"] == 1 and go["flags"] == 4
    m = go["meta"]
    assert (m["root"], m["freelist"], m["pgid"], m["txid"]) == (root, freelist, pgid, txid)
    assert m["valid"] and m["page_size"] == PS
    # bbolt's layout by hand: header, magic, version, page size, flags, root
    # bucket (root, sequence), freelist, pgid, txid, checksum.
    raw = bytearray(PS)
    struct.pack_into("<QHHI", raw, 0, 1, 4, 0, 0)
    struct.pack_into("<IIIIQQQQQ", raw, 16, 0xED0CDAED, 2, PS, 0, root, 0, freelist, pgid, txid)
    struct.pack_into("<Q", raw, 72, _fnv1a64(bytes(raw[16:72])))
    assert bytes(raw[:80]) == page[:80]
    meta = Meta.decode(bytes(raw))
    assert (meta.root, meta.freelist, meta.pgid, meta.txid) == (root, freelist, pgid, txid)
    assert meta.is_valid()


# -- values of exactly k pages --------------------------------------------------------


def k_pages() -> dict[str, Any]:
    """Values of k pages exactly, one byte less and one more, a bucket each."""
    txs: list[list[wl.Op]] = []  # a bucket per transaction (see above)
    for k in (1, 2, 3):
        for delta in (-1, 0, 1):
            name = b"p%d%+d" % (k, delta)
            txs.append([wl.create([], name),
                        wl.put([name], b"v", b"x" * (k * PS - 16 - 16 - 1 + delta))])
    txs.append([wl.put([b"p1+0"], b"v", b"y" * (2 * PS - 33))])
    return wl.workload(PS, txs)


def test_values_of_exactly_k_pages(tmp_path: Path, boltgo: Path, bbolt_cli: Path) -> None:
    """A leaf of one key whose value fills exactly k pages, one byte less,
    one byte more: the overflow counts (and every byte) are Go's."""
    ours, theirs, _ = _both(k_pages(), tmp_path, boltgo)
    pages = subprocess.run([str(bbolt_cli), "pages", str(theirs)], capture_output=True,
                           text=True, check=True).stdout
    assert "leaf" in pages and subprocess.run(
        [str(bbolt_cli), "pages", str(ours)], capture_output=True, text=True,
        check=True).stdout == pages
    assert wl.go_dump(boltgo, ours)["check"] == []
    assert ours.read_bytes() == theirs.read_bytes()


# -- next_sequence as the only change -------------------------------------------------


def next_sequence_alone() -> dict[str, Any]:
    """Transactions whose only change is a sequence."""
    # One dirty bucket per transaction (see above).
    setup = [[wl.create([], b"inline"), wl.put([b"inline"], b"k", b"v")],
             [wl.create([], b"paged")] + [wl.put([b"paged"], b"%04d" % i, b"v" * 60)
                                          for i in range(300)],
             [wl.create([b"paged"], b"child"), wl.put([b"paged", b"child"], b"c", b"d")]]
    seq = [[_op("next_sequence", [b"inline"])],
           [_op("next_sequence", [b"paged"]), _op("next_sequence", [b"paged"])],
           [_op("next_sequence", [b"paged", b"child"])], [_op("next_sequence", [b"inline"])]]
    return wl.workload(PS, setup + seq)


def test_next_sequence_alone_is_persisted(tmp_path: Path, boltgo: Path) -> None:
    """A transaction whose only change is ``next_sequence`` on a clean bucket
    (inline or not, top-level or nested) still writes the new sequence."""
    dump = _same_as_go(next_sequence_alone(), tmp_path, boltgo)
    by_name = {b["name"]: b for b in dump["content"]["buckets"]}
    assert by_name["inline"]["sequence"] == 2 and by_name["paged"]["sequence"] == 2
    assert by_name["paged"]["buckets"][0]["sequence"] == 1
    assert make_bucket(b"child", 1, True, [(b"c", b"d")], []) == by_name["paged"]["buckets"][0]


# The workloads compared byte for byte with Go, for `make layout-proof`.
BYTE_COMPARED = [("freed-0xFFFF", lambda: _freed(65536)), ("freed-0x10000", lambda: _freed(65537)),
                 ("nested-delete", nested_delete), ("inline-at-limit", lambda: inline_limit(0)),
                 ("inline-one-over", lambda: inline_limit(1)), ("k-pages", k_pages),
                 ("next-sequence-alone", next_sequence_alone)]
