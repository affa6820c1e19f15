"""The key-order walk of the check on hand-built trees, each judged by bbolt v1.5.0.

Every tree (tests/handmade.py: bucket ``b`` rooted at page 4) holds one kind of
damage the key-order walk treats on purpose: keys equal to or past an
ancestor's bound, a subtree that is empty (the running minimum becomes
nothing), a branch key that hides a sub-bucket from bbolt's lookup, keys and
element arrays that run past the end of the file, a value whose end passes
Go's largest slice.  The expected lines were recorded with the bbolt CLI
(``bbolt check``), and ``test_recorded_against_bbolt`` replays every file
through it again.  Where bbolt dies reading past the end of the file (exit
status 2, nothing printed) the library's last error is its fatal fault, whose
offset is worked out here by hand.

The files end on a page boundary, and none that is read past its end is
32 KiB: bbolt maps at least 32 KiB, so a file of exactly that size is mapped up
to its end and a read past it finds whatever memory follows instead of faulting.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest

import pybbolt
from pybbolt.check import _Checker
from pybbolt.errors import FATAL

from .handmade import PS, branch_page, build_db, leaf_page
from .test_check import _bbolt_check, assert_well_formed, run_check

MAX_ALLOC = 0x7FFFFFFF  # Go's largest slice of the mapping (bbolt's maxAllocSize)


def _bucket(root: int) -> bytes:
    return struct.pack("<QQ", root, 0)


def _leaf(pgid: int, *keys: bytes) -> bytes:
    return leaf_page(pgid, [(k, b"v", 0) for k in keys])


def _branch(pgid: int, *children: tuple[bytes, int]) -> bytes:
    return branch_page(pgid, list(children))


def _far_branch(pgid: int, children: list[tuple[bytes, int]], far_child: int,
                inside: bytes, full: int) -> bytes:
    """A branch whose last element (child ``far_child``) has a ``full``-byte key of which
    only ``inside`` fits: it starts that many bytes before the end of the page."""
    page = bytearray(branch_page(pgid, [*children, (b"", far_child)]))
    e = 16 + 16 * len(children)
    at = PS - len(inside)
    struct.pack_into("<IIQ", page, e, at - e, full, far_child)
    page[at:] = inside
    return bytes(page)


def _far_leaf(pgid: int, keys: list[bytes], inside: bytes, full: int) -> bytes:
    """A leaf of ``keys`` and then one key of ``full`` bytes of which only ``inside``
    fits before the end of the page."""
    page = bytearray(leaf_page(pgid, [(k, b"v", 0) for k in keys] + [(b"", b"", 0)]))
    e = 16 + 16 * len(keys)
    at = PS - len(inside)
    struct.pack_into("<IIII", page, e, 0, at - e, full, 0)
    page[at:] = inside
    return bytes(page)


def _leaf_of_own_elements(pgid: int, count: int, order: list[int]) -> bytes:
    """A leaf that fills its page with 255 elements, each key being the element's own
    16 bytes: flags ``order[i] << 24`` set its first bytes.  Its count says ``count``."""
    elements = b"".join(struct.pack("<IIII", n << 24, 0, 16, 0) for n in order)
    assert len(elements) == PS - 16
    return struct.pack("<QHHI", pgid, 0x02, count, 0) + elements


def _with_vsize(page: bytes, i: int, vsize: int) -> bytes:
    """``page`` (a leaf) with the value size of element ``i`` changed."""
    out = bytearray(page)
    struct.pack_into("<I", out, 16 + 16 * i + 12, vsize)
    return bytes(out)


def _fault(pages: int) -> str:
    """The library's fatal fault of a read at the end of a file of ``pages`` pages."""
    size = pages * PS
    return f"fatal error: fault: read of offset {size} is beyond the end of the file ({size} bytes)"


# name -> (the pages of bucket b from page 4 on, its root page, bbolt's output lines)
CASES: dict[str, tuple[Callable[[], list[bytes]], int, list[str]]] = {
    # listing the sub-buckets, bbolt's cursor enters the empty root branch at its element
    # 0 (zeros: child 0), then meta page 0 as a branch, whose element 0 reads the meta's
    # page size as the child id: page 4096 lies past the end of the file, bbolt dies
    "root-branch-without-elements": (
        lambda: [_branch(4)], 4,
        ["fatal error: fault: read of page 4096 at offset 16777216 is beyond the end of "
         "the file (20480 bytes)"]),
    # the last key of branch 5 equals its ancestor's next key "m"
    "branch-key-equal-to-the-ancestors-next": (
        lambda: [_branch(4, (b"a", 5), (b"m", 6)), _branch(5, (b"a", 7), (b"m", 8)),
                 _leaf(6, b"m"), _leaf(7, b"a"), _leaf(8, b"m")], 4,
        ["key[1]=(hex)m on branch page(8) needs to be < than key of the next element in "
         "ancestor (hex)a. Pages stack: [4 5]",
         "key[0]=(hex)m on leaf page(8) needs to be < than key of the next element in "
         "ancestor (hex)m. Pages stack: [4 5 8]",
         "key[1]=(hex)m on branch page(6) needs to be > (found =) than previous element "
         "(hex)m. Stack: [4]"]),
    # branch 6's only key "c" is below its ancestor's "m": the leaves below are in order,
    # but bbolt's lookup of sub-bucket "d" goes down the first child: its page 8 leaks
    "branch-key-below-the-ancestor-hides-a-sub-bucket": (
        lambda: [_branch(4, (b"a", 5), (b"m", 6)), _leaf(5, b"a"), _branch(6, (b"c", 7)),
                 leaf_page(7, [(b"d", _bucket(8), 1)]), _leaf(8, b"x")], 4,
        ["the first key[0]=(hex)c on branch page(7) needs to be >= the key in the "
         "ancestor (m). Stack: [4 6]",
         "page 8: unreachable unfreed"]),
    # after an empty child the previous key is nothing, shown as ""
    "empty-child-then-an-empty-key": (
        lambda: [_branch(4, (b"a", 5), (b"", 6)), _leaf(5), _leaf(6, b"z")], 4,
        ["key[1]=(hex) on branch page(6) needs to be > (found =) than previous element "
         "(hex). Stack: [4]"]),
    "empty-child-then-a-key-past-the-ancestors-next": (
        lambda: [_branch(4, (b"a", 5), (b"m", 8)), _branch(5, (b"a", 6), (b"n", 7)),
                 _leaf(6), _leaf(7, b"n"), _leaf(8, b"m")], 4,
        ["key[1]=(hex)n on branch page(7) needs to be < than key of the next element in "
         "ancestor (hex). Pages stack: [4 5]",
         "key[0]=(hex)n on leaf page(7) needs to be < than key of the next element in "
         "ancestor (hex)n. Pages stack: [4 5 7]",
         "key[1]=(hex)m on branch page(8) needs to be > (found <) than previous element "
         "(hex)n. Stack: [4]"]),
    # the next-to-last child is bounded by the last key, the last by the ancestor's
    "next-to-last-child-reaches-the-last-key": (
        lambda: [_branch(4, (b"a", 5), (b"c", 6), (b"e", 7)), _leaf(5, b"a"),
                 _leaf(6, b"c", b"e"), _leaf(7, b"e", b"f")], 4,
        ["key[1]=(hex)e on leaf page(6) needs to be < than key of the next element in "
         "ancestor (hex)c. Pages stack: [4 6]",
         "key[2]=(hex)e on branch page(7) needs to be > (found =) than previous element "
         "(hex)e. Stack: [4]"]),
    "last-child-of-a-nested-branch-past-the-ancestor": (
        lambda: [_branch(4, (b"a", 5), (b"m", 8)), _branch(5, (b"a", 6), (b"c", 7)),
                 _leaf(6, b"a"), _leaf(7, b"c", b"n"), _leaf(8, b"m")], 4,
        ["key[1]=(hex)n on leaf page(7) needs to be < than key of the next element in "
         "ancestor (hex)c. Pages stack: [4 5 7]",
         "key[1]=(hex)m on branch page(8) needs to be > (found <) than previous element "
         "(hex)n. Stack: [4]"]),
    "two-keys-descending": (
        lambda: [_leaf(4, b"b", b"a")], 4,
        ["key[1]=(hex)a on leaf page(4) needs to be > (found <) than previous element "
         "(hex)b. Stack: [4]"]),
    "two-keys-equal": (
        lambda: [_leaf(4, b"a", b"a")], 4,
        ["key[1]=(hex)a on leaf page(4) needs to be > (found =) than previous element "
         "(hex)a. Stack: [4]"]),
    # root branch 7 is the last page; its last key "c?" runs one byte past the end of the
    # file.  Its elements are read one by one: leaf 4 is still bounded by the next key "b"
    "branch-key-past-the-end-of-the-file": (
        lambda: [_leaf(4, b"a", b"bb"), _leaf(5, b"b"), _leaf(6, b"d", b"d"),
                 _far_branch(7, [(b"a", 4), (b"b", 5)], 6, b"c", 2)], 7,
        ["key[1]=(hex)bb on leaf page(4) needs to be < than key of the next element in "
         "ancestor (hex)a. Pages stack: [7 4]",
         "key[1]=(hex)b on branch page(5) needs to be > (found <) than previous element "
         "(hex)bb. Stack: [7]",
         "key[1]=(hex)d on leaf page(6) needs to be > (found =) than previous element "
         "(hex)d. Stack: [7 6]"]),
    # the far key "c?" is above leaf 5's first key "c": printing it reads past the end
    "branch-key-past-the-end-above-the-childs-first": (
        lambda: [_leaf(4, b"a"), _leaf(5, b"c"),
                 _far_branch(6, [(b"a", 4)], 5, b"c", 2)], 6,
        [_fault(7)]),
    # branch 8 (the last page) ends with "c?" under the ancestor's next key "cd": comparing
    # them reads past the end (its leaf 7 is empty: nothing else reads the key)
    "branch-key-past-the-end-against-the-ancestors-next": (
        lambda: [_branch(4, (b"a", 8), (b"cd", 5)), _leaf(5, b"cd"), _leaf(6, b"a"), _leaf(7),
                 _far_branch(8, [(b"a", 6)], 7, b"c", 2)], 4,
        [_fault(9)]),
    # leaf 6 (the last page) ends with "b?", bounded by "bc": comparing reads past the end
    "leaf-key-past-the-end-against-the-next-key": (
        lambda: [_branch(4, (b"a", 6), (b"bc", 5)), _leaf(5, b"bc"),
                 _far_leaf(6, [b"a"], b"b", 2)], 4,
        [_fault(7)]),
    # 255 ascending keys, then element 255 lies past the end of the file
    "leaf-elements-past-the-end-of-the-file": (
        lambda: [_leaf_of_own_elements(4, 256, list(range(255)))], 4,
        [_fault(5)]),
    # a count of 250 on the same page: the five elements after them are not the leaf's
    "leaf-count-short-of-its-page": (
        lambda: [_leaf_of_own_elements(4, 250, [0, *range(249), 0, 0, 0, 0, 0])], 4,
        ["key[1]=(hex)00000000000000001000000000000000 on leaf page(4) needs to be > "
         "(found =) than previous element (hex)00000000000000001000000000000000. "
         "Stack: [4]"]),
    # the key ends at 16 + 8 and the value one byte past Go's largest slice: bbolt's
    # cursor (listing the sub-buckets) panics
    "value-one-past-max-alloc": (
        lambda: [_with_vsize(leaf_page(4, [(b"kkkkkkkk", b"v", 0)]), 0,
                             MAX_ALLOC - 16 - 8 + 1)], 4,
        ["runtime error: slice bounds out of range [::2147483648] with length 2147483647"]),
    # an empty first key, then sub-bucket "b": keys read anywhere in the elements still
    # ascend, so only the right offsets find sub-bucket b's root, page 5
    "empty-key-then-a-sub-bucket": (
        lambda: [leaf_page(4, [(b"", b"v", 0), (b"b", _bucket(5), 1)]), _leaf(5, b"x")], 4,
        []),
    # a plain value runs past the end of the file (never read), next to sub-bucket "a"
    "plain-value-past-the-end-next-to-a-sub-bucket": (
        lambda: [_with_vsize(leaf_page(4, [(b"a", _bucket(5), 1), (b"b", b"v", 0)]), 1,
                             100_000), _leaf(5, b"x")], 4,
        []),
}


def _file(tmp_path: Path, name: str) -> Path:
    tree, root, _ = CASES[name]
    return build_db(tmp_path / f"{name}.db", tree(), _bucket(root))


@pytest.mark.parametrize("walk", ["fast", "exact"])
@pytest.mark.parametrize("name", list(CASES))
def test_recorded(name: str, walk: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The library's check prints bbolt's lines, from the whole-page walk of intact trees
    and from the exact walk alone."""
    if walk == "exact":
        monkeypatch.setattr(_Checker, "_intact_buckets", lambda self, root: False)
        monkeypatch.setattr(_Checker, "_intact_tree", lambda self, root, info: False)
    errors = run_check(_file(tmp_path, name))
    assert_well_formed(errors)
    lines = CASES[name][2]
    assert [str(e) for e in errors] == lines
    dies = bool(lines) and lines[-1].startswith("fatal error: ")
    assert [e.fatal for e in errors] == [False] * (len(lines) - dies) + [True] * dies
    assert not dies or errors[-1].kind == FATAL


@pytest.mark.parametrize("name", list(CASES))
def test_recorded_against_bbolt(name: str, bbolt_cli: Path, tmp_path: Path) -> None:
    """The recorded lines are bbolt's: its output, or its death (status 2) where the
    library's last error is fatal."""
    lines = CASES[name][2]
    got = _bbolt_check(bbolt_cli, _file(tmp_path, name), 0)
    if lines and lines[-1].startswith("fatal error: "):
        assert got == (2, "")
    else:
        out = "".join(f"{line}\n" for line in lines)
        assert got == ((1, f"{out}{len(lines)} errors found\n") if lines else (0, "OK\n"))


def test_key_order_walk_counts_each_page_it_enters(tmp_path: Path) -> None:
    """The walk counts a visit per page entered (the count the reader's budget against
    looping trees reads), past its batches of 4096: branch 4's 21 elements all lead to
    branch 5, whose 200 lead to leaf 6, so it enters 1 + 21 * (1 + 200) = 4222 pages."""
    tree = [_branch(4, *[(bytes([i]), 5) for i in range(21)]),
            _branch(5, *[(bytes([i]), 6) for i in range(200)]), _leaf(6, b"k")]
    path = build_db(tmp_path / "shared.db", tree)
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        checker = _Checker(tx, bytes.hex)
        assert checker.r.visits == 0
        for _ in checker._key_order(4, None):
            pass
        assert checker.r.visits == 4222
