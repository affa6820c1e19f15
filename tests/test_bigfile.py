"""Big files (soak only: ``make soak`` or ``pytest -m soak``).

A database written by pybbolt is relocated into a sparse file of more than
4 GiB: every tree page moves up by ``SHIFT`` pages, past byte offset 2^32
(page ids above 2^32 / page size), and the hole below is the overflow of a
huge freelist page at page 2, so every page id below the high-water mark is
still accounted for.  The file takes a few MB of disk.

Then, each step in a child process whose peak RSS is measured:

* read: open read-only, read the whole content, ``tx.check()``, stats: same
  content as the source, no check error, bounded memory; Go bbolt agrees;
* write 1: a commit on top; it frees the giant freelist page (pending, not
  usable yet), so all its pages, the new freelist (1.3 million ids) among
  them, come from the relocated free pages and the high-water mark: written
  at offsets beyond 4 GiB;
* write 2: a second commit takes its pages from the freed ids at the bottom;
* after each, pybbolt and Go check the file and find the expected content.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pybbolt
from pybbolt import layout
from pybbolt.meta import Meta

from .conftest import BIN, ROOT, need
from .content import db_content
from .workload import go_dump

pytestmark = pytest.mark.soak

PS = 4096
SHIFT = 5 << 18  # 1310720 pages: the tree starts 5 GiB into the file
RSS_LIMIT = 512 << 20


def _make_source(path: Path) -> None:
    with pybbolt.open(path, page_size=PS) as db:
        with db.update() as tx:
            b = tx.create_bucket(b"data")
            for i in range(20000):
                b.put(b"key-%06d" % i, b"value-%d-" % i * (1 + i % 7))
            big = tx.create_bucket(b"big")
            for i in range(20):
                big.put(b"blob-%02d" % i, bytes([i]) * (PS * (1 + i % 5) + 17))
            n = tx.create_bucket(b"nested").create_bucket(b"inner")
            n.create_bucket(b"inline").put(b"small", b"1")
            for i in range(500):
                n.put(b"n%04d" % i, b"x" * 100)
        with db.update() as tx:  # some free pages too
            data = tx.bucket(b"data")
            assert data is not None
            for i in range(0, 20000, 3):
                data.delete(b"key-%06d" % i)


def _relocate(src: Path, dst: Path) -> dict[str, int]:
    """Write ``src`` to ``dst`` with every page id p >= 2 moved to p + SHIFT."""
    data = src.read_bytes()
    meta = Meta.decode(data, 16)
    other = Meta.decode(data, PS + 16)
    if other.txid > meta.txid:
        meta = other
    moved: dict[int, bytearray] = {}

    def walk(pgid: int) -> None:
        if pgid in moved:
            return
        off = pgid * PS
        _, flags, count, overflow = layout.PAGE_HEADER.unpack_from(data, off)
        page = bytearray(data[off : off + (overflow + 1) * PS])
        moved[pgid] = page
        struct.pack_into("<Q", page, 0, pgid + SHIFT)
        for i in range(count):
            e = 16 + 16 * i
            if flags == layout.BRANCH_PAGE:
                child = struct.unpack_from("<Q", page, e + 8)[0]
                struct.pack_into("<Q", page, e + 8, child + SHIFT)
                walk(child)
            elif flags == layout.LEAF_PAGE:
                eflags, pos, ksize, _ = layout.LEAF_ELEMENT.unpack_from(page, e)
                if eflags & 1:
                    v = e + pos + ksize
                    root = struct.unpack_from("<Q", page, v)[0]
                    if root:  # inline buckets (root 0) hold no page ids
                        struct.pack_into("<Q", page, v, root + SHIFT)
                        walk(root)

    walk(meta.root)
    free = pybbolt.open(src, readonly=True)
    with free, free.view() as tx:
        free_ids = tx.free_ids()
        fl = tx.page_header(meta.freelist)
    ids = sorted([p + SHIFT for p in free_ids]
                 + [meta.freelist + SHIFT + i for i in range(fl.overflow + 1)])
    used = {p + i for p, page in moved.items() for i in range(len(page) // PS)}
    assert used.isdisjoint(free_ids) and len(used) + len(ids) == meta.pgid - 2
    with open(dst, "wb") as f:
        hwm = meta.pgid + SHIFT
        f.truncate(hwm * PS)
        for txid, at in ((meta.txid, meta.txid % 2), (meta.txid - 1, (meta.txid - 1) % 2)):
            m = meta.with_changes(root=meta.root + SHIFT, freelist=2, pgid=hwm, txid=txid)
            f.seek(at * PS)
            f.write(m.encode_page(PS, at))
        # the freelist page: page 2, its overflow covering the hole up to SHIFT + 1
        head = bytearray(16)
        layout.PAGE_HEADER.pack_into(head, 0, 2, layout.FREELIST_PAGE, len(ids), SHIFT - 1)
        assert len(ids) < 0xFFFF
        f.seek(2 * PS)
        f.write(bytes(head) + struct.pack(f"<{len(ids)}Q", *ids))
        for pgid, page in moved.items():
            f.seek((pgid + SHIFT) * PS)
            f.write(page)
    return {"hwm": hwm, "tree pages": len(used), "free ids": len(ids)}


CHILD = r"""
import json, resource, sys
sys.path.insert(0, sys.argv[1])
import pybbolt, pybbolt.fileio
from tests.content import tx_content
path, step = sys.argv[2], sys.argv[3]
out = {}
class Recording(pybbolt.fileio.FileIO):
    offsets = []
    def pwrite(self, fd, data, offset):
        self.offsets.append(offset)
        super().pwrite(fd, data, offset)
if step != "read":
    io = Recording()
    with pybbolt.DB(path, file_io=io) as db, db.update() as tx:
        b = tx.create_bucket_if_not_exists(b"after-" + step.encode())
        for i in range(3000):
            b.put(b"%06d" % i, b"w" * 200)
        tx.bucket(b"data").delete(b"key-000001")
    out["pages"] = sorted(o // db.page_size for o in io.offsets[:-1])  # all but the meta
with pybbolt.open(path, readonly=True) as db, db.view() as tx:
    out["content"] = tx_content(tx)
    out["check"] = [str(e) for e in tx.check()]
    out["free"] = len(tx.free_ids())
    out["hwm"] = tx.meta.pgid
    out["root"] = tx.meta.root
    tx.stats()
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
out["vmhwm_kib"] = int(status["VmHWM"].split()[0])
out["rss_anon_kib"] = int(status.get("RssAnon", "0 kB").split()[0])
out["maxrss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(out))
"""


def _child(path: Path, step: str) -> dict[str, Any]:
    r = subprocess.run([sys.executable, "-c", CHILD, str(ROOT), str(path), step],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    out: dict[str, Any] = json.loads(r.stdout)
    return out


def _go_agrees(path: Path, content: dict[str, Any]) -> None:
    boltgo = BIN / "boltgo"
    need(boltgo.exists(), "Go tools not built (.bin/boltgo): run `make gotools` (needs Go)")
    go = go_dump(boltgo, path)
    assert go["check"] == []
    assert go["content"] == content


def test_database_beyond_4_gib(tmp_path: Path) -> None:
    src = tmp_path / "src.db"
    _make_source(src)
    expected = db_content(str(src))
    big = tmp_path / "big.db"
    facts = _relocate(src, big)
    size = big.stat().st_size
    assert size > 5 << 30 and facts["hwm"] > (1 << 32) // PS
    print(f"big file: {size} bytes, {big.stat().st_blocks * 512} on disk, {facts}")

    read = _child(big, "read")
    assert read["check"] == []
    assert read["content"] == expected
    assert read["root"] > (1 << 32) // PS
    assert read["vmhwm_kib"] * 1024 < RSS_LIMIT, read["vmhwm_kib"]
    _go_agrees(big, expected)
    peaks = {"read": read["vmhwm_kib"]}

    for step in ("1", "2"):
        wrote = _child(big, step)
        assert wrote["check"] == [], wrote["check"][:5]
        names = [b["name"] for b in wrote["content"]["buckets"]]
        assert f"after-{step}" in names and "data" in names
        pages = wrote["pages"]
        if step == "1":
            # every page of the first commit past 4 GiB: the source's free pages
            # (relocated) and the high-water mark
            assert min(pages) >= SHIFT and min(pages) * PS > 1 << 32
            assert max(pages) >= facts["hwm"]
            assert wrote["free"] > SHIFT  # the hole, freed
        else:
            assert max(pages) < SHIFT  # reused from the freed hole
        assert wrote["vmhwm_kib"] * 1024 < RSS_LIMIT, (step, wrote["vmhwm_kib"])
        _go_agrees(big, wrote["content"])
        peaks[f"write {step}"] = wrote["vmhwm_kib"]
    print(f"big file peak RSS (KiB): {peaks}; final size {big.stat().st_size}")
    os.unlink(big)
