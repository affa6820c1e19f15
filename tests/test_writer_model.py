"""Random operation sequences on pybbolt and on a plain dict model.

After every commit the file's content equals the model, pybbolt's own check
is clean, and Go bbolt opens the file, finds ``tx.Check()`` clean and dumps
the same content.  The Hypothesis profiles are in conftest.py: derandomized by
default (the same examples every run), `make soak` runs many more
(HYPOTHESIS_PROFILE=soak).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import hypothesis.strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

import pybbolt

from .conftest import BIN, IN_CI
from .content import Model, model_content, new_model, tx_content, without_inline
from .workload import go_dump

BOLTGO = BIN / "boltgo"
if IN_CI and not BOLTGO.exists():
    raise RuntimeError("CI needs the Go tools (.bin/boltgo): run `make gotools`")

STATS = {"runs": 0, "commits": 0, "go_checks": 0}

KEYS = st.sampled_from([b"a", b"b", b"c", b"key", b"zz", b"\x00", b"\xff\xfe"]) | st.binary(
    min_size=1, max_size=12)
VALUES = st.binary(max_size=64) | st.sampled_from([b"", b"v" * 1500, b"w" * 9000])
NAMES = st.sampled_from([b"b1", b"b2", b"nested", b"\xde\xad", b"x" * 40])


def _copy(m: Model) -> Model:
    return {"kv": dict(m["kv"]), "seq": m["seq"],
            "buckets": {k: _copy(v) for k, v in m["buckets"].items()}}


class WriterMachine(RuleBasedStateMachine):
    paths = Bundle("paths")

    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.path = Path(self.dir.name) / "model.db"
        self.db = pybbolt.open(self.path, page_size=4096, no_sync=True)
        self.committed: Model = new_model()
        self.model: Model = new_model()
        self.tx: pybbolt.Tx | None = None
        self.commits = 0

    def teardown(self) -> None:
        STATS["runs"] += 1
        STATS["commits"] += self.commits
        if self.tx is not None and not self.tx.closed:
            self.tx.rollback()
        self.db.close()
        self.dir.cleanup()

    # -- helpers -------------------------------------------------------------

    def _tx(self) -> pybbolt.Tx:
        if self.tx is None or self.tx.closed:
            self.tx = self.db.begin(writable=True)
            self.model = _copy(self.committed)
        return self.tx

    def _resolve(self, path: tuple[bytes, ...]) -> tuple[pybbolt.Bucket, Model] | None:
        tx = self._tx()
        m = self.model
        b = tx.root
        for name in path:
            if name not in m["buckets"]:
                return None
            m = m["buckets"][name]
            child = b.bucket(name)
            assert child is not None
            b = child
        return b, m

    # -- rules ---------------------------------------------------------------

    @initialize(target=paths)
    def root(self) -> tuple[bytes, ...]:
        return ()

    @rule(target=paths, parent=paths, name=NAMES)
    def create_bucket(self, parent: tuple[bytes, ...], name: bytes) -> tuple[bytes, ...]:
        found = self._resolve(parent)
        if found is None:
            return parent
        b, m = found
        if name in m["buckets"]:
            try:
                b.create_bucket(name)
                raise AssertionError("expected BucketExists")
            except pybbolt.BucketExists:
                pass
        elif name in m["kv"]:
            try:
                b.create_bucket(name)
                raise AssertionError("expected IncompatibleValue")
            except pybbolt.IncompatibleValue:
                pass
            return parent
        else:
            b.create_bucket(name)
            m["buckets"][name] = new_model()
        return (*parent, name)

    @rule(path=paths, key=KEYS, value=VALUES)
    def put(self, path: tuple[bytes, ...], key: bytes, value: bytes) -> None:
        found = self._resolve(path)
        if found is None:
            return
        b, m = found
        if key in m["buckets"]:
            try:
                b.put(key, value)
                raise AssertionError("expected IncompatibleValue")
            except pybbolt.IncompatibleValue:
                return
        b.put(key, value)
        m["kv"][key] = value

    @rule(path=paths, prefix=st.binary(min_size=1, max_size=3), n=st.integers(50, 400),
          size=st.integers(0, 120))
    def put_many(self, path: tuple[bytes, ...], prefix: bytes, n: int, size: int) -> None:
        found = self._resolve(path)
        if found is None:
            return
        b, m = found
        for i in range(n):
            key = prefix + b"%05d" % i
            if key in m["buckets"]:
                continue
            b.put(key, bytes([i % 251]) * size)
            m["kv"][key] = bytes([i % 251]) * size

    @rule(path=paths, key=KEYS)
    def delete(self, path: tuple[bytes, ...], key: bytes) -> None:
        found = self._resolve(path)
        if found is None:
            return
        b, m = found
        if key in m["buckets"]:
            try:
                b.delete(key)
                raise AssertionError("expected IncompatibleValue")
            except pybbolt.IncompatibleValue:
                return
        b.delete(key)
        m["kv"].pop(key, None)

    @rule(path=paths, data=st.data())
    def delete_range(self, path: tuple[bytes, ...], data: st.DataObject) -> None:
        found = self._resolve(path)
        if found is None or not found[1]["kv"]:
            return
        b, m = found
        keys = sorted(m["kv"])
        lo = data.draw(st.integers(0, len(keys) - 1))
        hi = data.draw(st.integers(lo, len(keys)))
        for key in keys[lo:hi]:
            b.delete(key)
            del m["kv"][key]

    @rule(path=paths, name=NAMES)
    def delete_bucket(self, path: tuple[bytes, ...], name: bytes) -> None:
        found = self._resolve(path)
        if found is None:
            return
        b, m = found
        if name in m["buckets"]:
            b.delete_bucket(name)
            del m["buckets"][name]
        elif name in m["kv"]:
            try:
                b.delete_bucket(name)
                raise AssertionError("expected IncompatibleValue")
            except pybbolt.IncompatibleValue:
                pass
        else:
            try:
                b.delete_bucket(name)
                raise AssertionError("expected BucketNotFound")
            except pybbolt.BucketNotFound:
                pass

    @rule(path=paths, n=st.integers(0, 2**64 - 1), bump=st.booleans())
    def sequence(self, path: tuple[bytes, ...], n: int, bump: bool) -> None:
        found = self._resolve(path)
        if found is None or not path:
            return
        b, m = found
        if bump:
            m["seq"] = (m["seq"] + 1) % 2**64
            assert b.next_sequence() == m["seq"]
        else:
            b.set_sequence(n)
            m["seq"] = n

    @precondition(lambda self: self.tx is not None and not self.tx.closed)
    @rule()
    def rollback(self) -> None:
        assert self.tx is not None
        self.tx.rollback()
        self.model = _copy(self.committed)

    @precondition(lambda self: self.tx is not None and not self.tx.closed)
    @rule()
    def commit(self) -> None:
        assert self.tx is not None
        self.tx.commit()
        self.committed = self.model
        self.model = _copy(self.committed)
        self.commits += 1
        self._verify()

    @rule()
    def reopen(self) -> None:
        if self.tx is not None and not self.tx.closed:
            self.tx.rollback()
        self.db.close()
        self.db = pybbolt.open(self.path, no_sync=True)
        self.model = _copy(self.committed)

    def _verify(self) -> None:
        expected = model_content(self.committed, 4096)
        with self.db.view() as tx:
            assert [str(e) for e in tx.check()] == []
            assert without_inline(tx_content(tx)) == expected
        if BOLTGO.exists():
            # Go reads the file while we hold the write lock: it opens read-only
            # through a copy, as it would wait forever for our lock otherwise.
            copy = self.path.with_suffix(".go.db")
            copy.write_bytes(self.path.read_bytes())
            go = go_dump(BOLTGO, copy)
            assert go["check"] == []
            STATS["go_checks"] += 1
            assert without_inline(go["content"]) == expected

    @invariant()
    def readers_see_committed(self) -> None:
        with self.db.view() as tx:
            names = sorted(name for name, _ in tx.buckets())
        assert names == sorted(self.committed["buckets"])


TestWriterModel = WriterMachine.TestCase


def test_model_runs_committed_and_go_verified() -> None:
    """Runs after TestWriterModel: the sequences really committed and Go checked them."""
    if STATS["runs"] == 0:
        TestWriterModel().runTest()
    assert STATS["commits"] >= STATS["runs"]
    if BOLTGO.exists():
        assert STATS["go_checks"] == STATS["commits"]
    print(f"writer model: {STATS}")
