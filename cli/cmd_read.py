"""Commands that read through a transaction: info, buckets, keys, get, inspect."""

from __future__ import annotations

import itertools
import os
import struct
from collections.abc import Iterator
from itertools import repeat
from typing import TYPE_CHECKING

from pybbolt.layout import BRANCH_PAGE, LEAF_PAGE

from .common import check_source_path, open_readonly, preload_freelist
from .runtime import CommandError, Invocation
from .textfmt import FormatError, format_bytes, format_lines, go_quote, parse_bytes

if TYPE_CHECKING:
    import pybbolt
    from pybbolt.page import Data


def run_info(inv: Invocation) -> None:
    path = inv.args[0]
    check_source_path(path)
    with open_readonly(path) as db:
        inv.out.text(f"Page Size: {db.info().page_size}\n")


def run_buckets(inv: Invocation) -> None:
    path = inv.args[0]
    check_source_path(path)
    with open_readonly(path) as db:
        preload_freelist(db)
        with db.view() as tx:
            for name, _value in tx.cursor():
                # bbolt's tx.ForEach opens every bucket before printing its
                # name: a damaged bucket value panics there.
                tx.bucket(name)
                inv.out.write(name + b"\n")


def _last_bucket(tx: pybbolt.Tx, names: list[str]) -> pybbolt.Bucket:
    """bbolt's ``findLastBucket``: descend the bucket path from the root."""
    bucket = tx.bucket(os.fsencode(names[0]))
    for name in names[1:]:
        if bucket is None:
            break
        bucket = bucket.bucket(os.fsencode(name))
    if bucket is None:
        raise CommandError("bucket not found")
    return bucket


def run_keys(inv: Invocation) -> None:
    path = inv.args[0]
    mode = inv.opts.get_str("format")
    check_source_path(path)
    with open_readonly(path) as db, db.view() as tx:
        bucket = _last_bucket(tx, inv.args[1:])
        write = inv.out.write
        for keys, size in _key_batches(bucket):
            try:
                write(format_lines(keys, mode, size))
            except FormatError as e:
                raise CommandError(str(e)) from None


def _key_batches(bucket: pybbolt.Bucket) -> Iterator[tuple[list[bytes], int]]:
    """The keys of ``bucket`` in order (those of ``bucket.keys()``), many leaves at a
    time, with their common size (-1 if not known to be the same).

    The tree is read a level of pages at a time while it is plainly intact;
    from the first leaf where it is not, the bucket's own walk takes over
    (and raises where the tree is damaged).
    """
    fast = _IntactKeys(bucket)
    yield from fast
    if fast.complete:
        return
    leaves = bucket._leaves()
    for _ in itertools.islice(leaves, fast.leaves):
        pass  # already written
    for leaf in leaves:
        yield leaf.keys, -1


class _IntactKeys:
    """The keys of a bucket's leaves while its page tree is plainly intact.

    Iterating yields the keys of a batch of leaves at a time (and their
    common size, or -1), in the order ``Bucket._leaves`` reads them, and
    stops early (``complete`` false) before any leaf where ``_leaves`` could
    fail: a page that is not a branch or leaf naming itself, a key or value
    past the end of the file, an empty branch, more leaves than the file has
    pages, a tree too deep.  ``leaves`` counts the non-empty leaves whose
    keys were yielded.
    """

    def __init__(self, bucket: pybbolt.Bucket) -> None:
        self.bucket = bucket
        self.leaves = 0
        self.complete = False

    def __iter__(self) -> Iterator[tuple[list[bytes], int]]:
        from pybbolt.check import _Bail

        bucket = self.bucket
        tx = bucket.tx
        # A write transaction may hold changed nodes; an inline bucket has no page.
        if tx.writable or tx.closed or bucket.inline or bucket.root == 0:
            return
        try:
            yield from self._walk(tx._data, tx.page_size, bucket.root)
        except (_Bail, struct.error):
            return
        self.complete = True

    def _walk(self, data: Data, ps: int, root: int) -> Iterator[tuple[list[bytes], int]]:
        from pybbolt.bucket import MAX_DEPTH
        from pybbolt.check import (
            _Bail,
            _batch_pages,
            _branch_keys,
            _leaf_keys,
            _page_headers,
            _uniform_leaves,
        )

        size = len(data)
        npages = size // ps if ps > 0 else 0
        limit = npages + 1  # leaf visits before the bucket's walk gives up
        if root >= npages:
            raise _Bail
        offs, flags, counts, _ = _page_headers(data, ps, (root,))
        if flags[0] == LEAF_PAGE:
            if counts[0]:
                keys, _, _, ksize = _leaf_keys(data, size, ps, offs, counts, None)
                self.leaves = 1
                yield keys, ksize
            return
        if flags[0] != BRANCH_PAGE:
            raise _Bail
        batch = _batch_pages(ps)
        visits = 0
        branches = 1
        # Branch pages to visit, in key order from the end: (offset, count, depth).
        stack = [(offs[0], counts[0], 0)]
        while stack:
            depth = stack[-1][2]
            if depth >= MAX_DEPTH - 2:
                raise _Bail
            children: list[int] = []
            while (
                stack
                and stack[-1][2] == depth
                and (not children or len(children) + stack[-1][1] <= batch)
            ):
                off, count, _ = stack.pop()
                if not count:
                    raise _Bail
                children += _branch_keys(data, size, ps, off, count)[1]
            if max(children) >= npages:
                raise _Bail
            below: list[tuple[int, int, int]] = []
            # At most a batch of pages at a time (one branch may have more).
            for at in range(0, len(children), batch):
                part = children[at : at + batch] if len(children) > batch else children
                n = len(part)
                uniform = _uniform_leaves(data, ps, part, True)
                if uniform is None:
                    offs, flags, counts, _ = _page_headers(data, ps, part)
                    if flags.count(BRANCH_PAGE) == n:
                        branches += n
                        if branches > limit:
                            raise _Bail
                        below += zip(offs, counts, repeat(depth + 1))
                        continue
                    if flags.count(LEAF_PAGE) != n:
                        raise _Bail
                if below:
                    raise _Bail  # leaves and branches side by side
                visits += n
                if visits > limit:
                    raise _Bail
                if uniform is not None:
                    self.leaves += n
                    yield uniform[0], uniform[2]
                    continue
                if 0 in counts:  # empty leaves are skipped
                    full = [i for i in range(n) if counts[i]]
                    if not full:
                        continue
                    offs = list(map(offs.__getitem__, full))
                    counts = tuple(map(counts.__getitem__, full))
                keys, _, _, ksize = _leaf_keys(data, size, ps, offs, counts, None)
                self.leaves += len(offs)
                yield keys, ksize
            if below:
                if len(below) != len(children):
                    raise _Bail  # leaves and branches side by side
                stack += reversed(below)


def run_get(inv: Invocation) -> None:
    args = inv.args
    path = args[0]
    if path == "":
        raise CommandError("path required")
    try:
        key = parse_bytes(os.fsencode(args[-1]), inv.opts.get_str("parse-format"))
    except ValueError as e:
        raise CommandError(str(e)) from None
    if not key:
        raise CommandError("key is required: key required")
    check_source_path(path)
    with open_readonly(path) as db, db.view() as tx:
        bucket = _last_bucket(tx, args[1:-1])
        value = bucket.get(key)
        if value is None:
            raise CommandError(
                f'Error key not found for key: {go_quote(key)} hex: "{key.hex()}"'
            )
        try:
            inv.out.write(format_bytes(value, inv.opts.get_str("format")) + b"\n")
        except FormatError as e:
            raise CommandError(str(e)) from None


def run_inspect(inv: Invocation) -> None:
    from .render import render_structure

    path = inv.args[0]
    check_source_path(path)
    with open_readonly(path) as db, db.view() as tx:
        inv.out.text(render_structure(tx.inspect()) + "\n")
