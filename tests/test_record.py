"""The walks' result records work with dataclasses' functions as dataclasses do."""

from __future__ import annotations

import dataclasses

import pytest

from pybbolt.inspect import BucketStructure
from pybbolt.stats import BucketStats

STAT_NAMES = [
    "branch_page_n", "branch_overflow_n", "leaf_page_n", "leaf_overflow_n", "key_n", "depth",
    "branch_alloc", "branch_inuse", "leaf_alloc", "leaf_inuse", "bucket_n", "inline_bucket_n",
    "inline_bucket_inuse",
]


def test_bucket_stats_is_a_record_dataclasses_accepts() -> None:
    s = BucketStats(key_n=3, depth=2, leaf_inuse=7)
    assert dataclasses.is_dataclass(s) and dataclasses.is_dataclass(BucketStats)
    assert [f.name for f in dataclasses.fields(s)] == STAT_NAMES  # bbolt's order
    assert dataclasses.asdict(s) == {n: {"key_n": 3, "depth": 2, "leaf_inuse": 7}.get(n, 0)
                                     for n in STAT_NAMES}
    assert dataclasses.astuple(s) == (0, 0, 0, 0, 3, 2, 0, 0, 0, 7, 0, 0, 0)
    changed = dataclasses.replace(s, key_n=5)
    assert (changed.key_n, changed.depth, s.key_n) == (5, 2, 3)
    assert BucketStats(*dataclasses.astuple(s)) == s
    assert s != BucketStats(key_n=3, depth=2) and s != (0, 0, 0)
    assert repr(BucketStats(depth=1)) == (
        "BucketStats(branch_page_n=0, branch_overflow_n=0, leaf_page_n=0, leaf_overflow_n=0, "
        "key_n=0, depth=1, branch_alloc=0, branch_inuse=0, leaf_alloc=0, leaf_inuse=0, "
        "bucket_n=0, inline_bucket_n=0, inline_bucket_inuse=0)")
    with pytest.raises(TypeError):
        hash(s)  # mutable, as a dataclass with eq and without frozen
    with pytest.raises(AttributeError):
        s.no_such_counter = 1  # type: ignore[attr-defined]


def test_bucket_stats_add_sums_all_but_the_depth() -> None:
    a = BucketStats(*range(1, 14))
    a.add(BucketStats(*range(100, 113)))
    assert dataclasses.astuple(a) == (101, 103, 105, 107, 109, 105, 113, 115, 117, 119, 121,
                                      123, 125)


def test_bucket_structure_is_a_record_dataclasses_accepts() -> None:
    tree = BucketStructure(b"root", 1, [BucketStructure(b"a", 2)])
    assert [f.name for f in dataclasses.fields(tree)] == ["name", "key_n", "children"]
    assert dataclasses.asdict(tree) == {
        "name": b"root", "key_n": 1, "children": [{"name": b"a", "key_n": 2, "children": []}]}
    assert dataclasses.replace(tree, key_n=9) == BucketStructure(b"root", 9, tree.children)
    assert repr(tree) == ("BucketStructure(name=b'root', key_n=1, children=["
                          "BucketStructure(name=b'a', key_n=2, children=[])])")
    # each record gets a list of its own, as with field(default_factory=list)
    assert BucketStructure(b"x").children is not BucketStructure(b"x").children
    with pytest.raises(TypeError):
        dataclasses.replace(tree, no_such_field=1)
    match tree:
        case BucketStructure(name, key_n, [child]):
            assert (name, key_n, child.name) == (b"root", 1, b"a")
        case _:
            pytest.fail("no match")


def test_bucket_stats_matches_by_position_in_bbolts_order() -> None:
    match BucketStats(*range(13)):
        case BucketStats(a, b, c, d, key_n, depth):
            assert (a, b, c, d, key_n, depth) == (0, 1, 2, 3, 4, 5)
        case _:
            pytest.fail("no match")
