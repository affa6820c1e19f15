"""Buckets: named collections of key/value pairs and nested buckets."""

from __future__ import annotations

from bisect import bisect_left
from itertools import chain, islice, repeat
from operator import is_not, itemgetter, lt

from .cursor import Cursor, Item, descend
from .errors import (
    BucketExists,
    BucketNameRequired,
    BucketNotFound,
    CorruptionError,
    DifferentDB,
    IncompatibleValue,
    KeyRequired,
    KeyTooLarge,
    SameBuckets,
    TxNotWritable,
    ValueTooLarge,
    bytes_view,
    require_bytes,
)
from .layout import (
    BUCKET_HEADER,
    BUCKET_HEADER_SIZE,
    BUCKET_LEAF_FLAG,
    DEFAULT_FILL_PERCENT,
    EMPTY_INLINE_BUCKET,
    MAX_DEPTH,
    MAX_KEY_SIZE,
    MAX_VALUE_SIZE,
    PAGE_HEADER_SIZE,
)
from .node import LeafView, Node, decode, run_items
from .page import read_header

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterator, Sequence

    from .node import LeafRun
    from .stats import BucketStats
    from .tx import Tx

_KEYS_OF_RUN = itemgetter(1)
_NOTHING: dict[int, Node] = {}
# Greater than every key a bucket may hold (at most MAX_KEY_SIZE bytes).
_ABOVE_ALL_KEYS = b"\xff" * (MAX_KEY_SIZE + 1)


class Bucket:
    """A bucket of a transaction: its keys, values and nested buckets.

    Obtained from :meth:`Tx.bucket` or :meth:`Bucket.bucket`; valid for the
    life of the transaction.  Keys, values and names are bytes-like
    (``bytes``, ``bytearray``, ``memoryview``); values come back as ``bytes``.
    ``fill_percent`` is bbolt's ``FillPercent`` (how full the writer packs
    split pages, 0.1 to 1.0; default 0.5), for this transaction.
    """

    __slots__ = (
        "_buckets",
        "_inline",
        "_nodes",
        "_root",
        "_root_materialised",
        "_route_high",
        "_route_leaf",
        "_route_low",
        "_sequence",
        "_tx",
        "fill_percent",
        "name",
    )

    def __init__(self, tx: Tx, root: int, sequence: int, inline: Node | None, name: bytes) -> None:
        self._tx = tx
        self._root = root
        self._sequence = sequence
        self._inline = inline
        self.name = name
        self._buckets: dict[bytes, Bucket] = {}
        self._nodes: dict[int, Node] = {}
        self._root_materialised: Node | None = None
        # The dirty leaf of the last put and the key range routed to it:
        # branches do not change before the commit, so the next put of a key
        # in the range goes there without a search (sequential loads).
        self._route_leaf: Node | None = None
        self._route_low = self._route_high = b""
        self.fill_percent = DEFAULT_FILL_PERCENT

    @classmethod
    def from_value(cls, tx: Tx, name: bytes, value: bytes) -> Bucket:
        """Open the nested bucket whose leaf value is ``value``."""
        if len(value) < BUCKET_HEADER_SIZE:
            raise CorruptionError(
                f"bucket {name.hex()}: value of {len(value)} bytes is shorter than a bucket header"
            )
        root, sequence = BUCKET_HEADER.unpack_from(value)
        inline = None
        if root == 0:
            header = read_header(value, BUCKET_HEADER_SIZE)
            inline = decode(value, BUCKET_HEADER_SIZE, header, 0)
            if not inline.is_leaf:
                raise CorruptionError(f"bucket {name.hex()}: inline page is not a leaf")
        return cls(tx, root, sequence, inline, name)

    # -- properties --------------------------------------------------------

    @property
    def tx(self) -> Tx:
        """The transaction this bucket belongs to."""
        return self._tx

    @property
    def root(self) -> int:
        """Page id of the bucket's root page (0 for an inline bucket)."""
        return self._root

    @property
    def sequence(self) -> int:
        """The bucket's sequence counter (read-only: use :meth:`set_sequence`
        or :meth:`next_sequence` in a write transaction)."""
        return self._sequence

    @property
    def inline(self) -> bool:
        """Whether the bucket is stored inline in its parent's leaf."""
        return self._root == 0

    @property
    def writable(self) -> bool:
        """Whether the bucket belongs to a writable transaction."""
        return self._tx.writable

    # -- reading -----------------------------------------------------------

    def get(self, key: bytes) -> bytes | None:
        """The value of ``key``, or None if absent or ``key`` names a bucket."""
        if type(key) is not bytes:
            key = require_bytes(key)
        tx = self._tx
        branches = tx._branches  # cleared when the transaction closes
        root = branches.get(self._root)
        if root is not None and not self._nodes and self._root_materialised is None:
            # The hot path: a clean bucket whose root branch is cached goes
            # straight to the descent (_find's, without its frame).
            node, index = descend(root, key, branches.get, tx._leaves.get, tx._lookup_page)
        else:
            node, index = self._find(key)
        keys = node.keys
        if index < len(keys) and keys[index] == key and not node.flags[index] & BUCKET_LEAF_FLAG:
            return node.values[index]
        return None

    def bucket(self, *names: bytes) -> Bucket | None:
        """The nested bucket at the path ``names`` (outermost first), or None
        if any of them is missing (or is a plain key)."""
        if len(names) != 1:
            if not names:
                raise TypeError("bucket() needs at least one bucket name")
            found = self
            for name in names:
                child = found._bucket(name)
                if child is None:
                    return None
                found = child
            return found
        return self._bucket(names[0])

    def _bucket(self, name: bytes) -> Bucket | None:
        if type(name) is not bytes:
            name = require_bytes(name, "bucket name")
        if self._tx.closed:
            raise self._tx._closed_error()
        child = self._buckets.get(name)
        if child is not None:
            return child
        node, index = self._find(name, True)
        if (
            index >= len(node.keys)
            or node.keys[index] != name
            or not node.flags[index] & BUCKET_LEAF_FLAG
        ):
            return None
        child = Bucket.from_value(self._tx, name, node.values[index])
        self._buckets[name] = child
        return child

    def cursor(self) -> Cursor:
        """A new cursor over this bucket."""
        self._check_open()
        return Cursor(self)

    def items(
        self,
        start: bytes | None = None,
        stop: bytes | None = None,
        *,
        prefix: bytes | None = None,
        reverse: bool = False,
    ) -> Iterator[Item]:
        """The ``(key, value)`` pairs in key order; value None for a bucket.

        ``start`` (inclusive) and ``stop`` (exclusive) bound the keys,
        ``prefix`` keeps only the keys starting with it, ``reverse`` walks
        from the last key back.  Items stream from the pages (a full scan
        chains whole leaves, without a Python step per item).
        """
        if start is None and stop is None and prefix is None and not reverse:
            return chain.from_iterable(map(run_items, self._leaf_runs()))
        return self._range(start, stop, prefix, reverse)

    def keys(
        self,
        start: bytes | None = None,
        stop: bytes | None = None,
        *,
        prefix: bytes | None = None,
        reverse: bool = False,
    ) -> Iterator[bytes]:
        """The keys (nested bucket names included) in key order; the
        arguments are those of :meth:`items`."""
        if start is None and stop is None and prefix is None and not reverse:
            return chain.from_iterable(map(_KEYS_OF_RUN, self._leaf_runs(keys_only=True)))
        return (key for key, _ in self._range(start, stop, prefix, reverse))

    def _range(
        self, start: bytes | None, stop: bytes | None, prefix: bytes | None, reverse: bool
    ) -> Iterator[Item]:
        """The items of a bounded or backward walk, from a cursor."""
        low = b"" if start is None else require_bytes(start, "start")
        high = None if stop is None else require_bytes(stop, "stop")
        if prefix is not None:
            prefix = require_bytes(prefix, "prefix")
            low = max(low, prefix)
            end = _prefix_end(prefix)
            if end is not None and (high is None or end < high):
                high = end
        if high is not None and high <= low:
            return iter(())
        return self._walk(low, high, reverse)

    def _walk(self, low: bytes, high: bytes | None, reverse: bool) -> Iterator[Item]:
        c = self.cursor()
        if not reverse:
            item = c.seek(low) if low else c.first()
            while item is not None and (high is None or item[0] < high):
                yield item
                item = c.next()
            return
        if high is None:
            item = c.last()
        else:
            item = c.seek(high)
            item = c.last() if item is None else c.prev()
        while item is not None and item[0] >= low:
            yield item
            item = c.prev()

    def __len__(self) -> int:
        """The number of items (keys and nested buckets): what :meth:`items` yields.

        Counts leaf by leaf (no item is decoded): time grows with the bucket.
        """
        return sum(len(run[1]) for run in self._leaf_runs(keys_only=True))

    def __bool__(self) -> bool:
        """Always true, even when empty: ``if tx.bucket(name):`` tests that the
        bucket exists (and costs nothing); test emptiness with ``len()``."""
        return True

    def _leaf_runs(self, keys_only: bool = False) -> Iterator[LeafRun]:
        """The items of the non-empty leaves of the bucket, left to right
        (``keys_only``: a run's values may be left out, see
        :func:`~pybbolt.fastpath.leaf_run`)."""
        self._check_open()
        root = self._root_node()
        if root.is_leaf:
            if root.keys:
                yield root.flags, root.keys, root.values
            return
        limit = self._tx._max_leaf_visits()
        visits = 0
        dirty = self._nodes
        # An inline bucket has no pages: _node refuses a child of its root.
        walk_page: Callable[[int], Node | LeafRun]
        if self._root == 0:
            walk_page = self._node
        elif keys_only:
            tx_walk_page = self._tx._walk_page

            def walk_page(pgid: int) -> Node | LeafRun:
                return tx_walk_page(pgid, True)

        else:
            walk_page = self._tx._walk_page
        # The children of a branch that are all leaves read at once: their
        # keys alone, or their runs a chunk at a time (the runs of a chunk
        # are held together: Tx._leaf_runs_of).
        tx = self._tx
        clean = self._root != 0 and not dirty
        batch = tx._leaf_keys if keys_only and clean else None
        runs_of = tx._leaf_runs_of if clean and not keys_only else None
        step = tx._runs_at_once

        def at_once(children: list[int]) -> Generator[LeafRun, None, list[int]]:
            """Yield what the leading children read at once give; return the
            children left to walk one by one."""
            nonlocal visits
            if batch is not None:
                keys = None if visits + len(children) > limit else batch(children)
                if keys is None:
                    return children
                visits += len(children)
                if keys:
                    yield (), keys, ()
                return []
            while children and runs_of is not None:
                chunk = children[:step]
                runs = None if visits + len(chunk) > limit else runs_of(chunk)
                if runs is None:
                    return children
                visits += len(chunk)
                yield from filter(_KEYS_OF_RUN, runs)
                children = children[step:]
            return children

        # One iterator over the children of each branch on the path.  bbolt
        # follows element 0 of a damaged, empty branch all the same.
        children = yield from at_once(root.pgids[: max(len(root.keys), 1)])
        if not children:
            return
        stack = [iter(children)]
        while stack:
            for pgid in stack[-1]:
                page: Node | LeafRun | None = dirty.get(pgid) if dirty else None
                if page is None:
                    page = walk_page(pgid)
                if isinstance(page, tuple) or page.is_leaf:
                    visits += 1
                    if visits > limit:
                        raise CorruptionError(
                            "the bucket has more leaves than the file has pages: "
                            "pages are shared or cyclic"
                        )
                    run = page if isinstance(page, tuple) else (page.flags, page.keys, page.values)
                    if run[1]:
                        yield run
                    continue
                # The stack holds the branches above this one: at most MAX_DEPTH - 1,
                # the cursor's limit.
                if len(stack) >= MAX_DEPTH - 1:
                    raise CorruptionError(f"page {page.pgid}: the page tree is cyclic")
                children = yield from at_once(page.pgids[: max(len(page.keys), 1)])
                if not children:
                    continue
                stack.append(iter(children))
                break
            else:
                stack.pop()

    def buckets(self) -> Iterator[tuple[bytes, Bucket]]:
        """The nested buckets in key order, as ``(name, bucket)``."""
        for key, value in self.items():
            if value is None:
                child = self.bucket(key)
                if child is not None:
                    yield key, child

    def for_each(self) -> Iterator[tuple[bytes, bytes | None]]:
        """Alias of :meth:`items` (bbolt's ForEach)."""
        return self.items()

    def stats(self) -> BucketStats:
        """Page and key statistics of this bucket and its nested buckets (bbolt's Stats)."""
        from .stats import bucket_stats

        return bucket_stats(self)

    def __iter__(self) -> Iterator[bytes]:
        """The keys in order (as :meth:`keys`)."""
        return self.keys()

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` is a key or a nested bucket's name."""
        if type(key) is not bytes:
            key = require_bytes(key)
        node, index = self._find(key)
        return index < len(node.keys) and node.keys[index] == key

    def __getitem__(self, key: bytes) -> bytes:
        """The value of ``key``; raises KeyError if absent or a bucket."""
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __repr__(self) -> str:
        """``<pybbolt.Bucket NAME root=PGID seq=N>``."""
        return f"<pybbolt.Bucket {self.name!r} root={self._root} seq={self._sequence}>"

    # -- internals shared with Cursor and the writer -----------------------

    def _check_open(self) -> None:
        if self._tx.closed:
            raise self._tx._closed_error()

    def _check_writable(self) -> None:
        self._check_open()
        if not self._tx.writable:
            raise TxNotWritable()

    def _root_node(self) -> Node:
        if self._root_materialised is not None:
            return self._root_materialised
        if self._root == 0:
            if self._inline is None:  # a meta whose root bucket is at page 0
                raise CorruptionError(
                    "runtime error: invalid memory address or nil pointer dereference")
            return self._inline
        if self._nodes:
            return self._node(self._root)
        return self._tx._page_node(self._root)

    def _node(self, pgid: int, cache: bool = True) -> Node:
        """bbolt's ``pageNode``: a dirty node of this bucket, else the page."""
        if self._root == 0:
            raise CorruptionError(f"inline bucket {self.name.hex()} refers to page {pgid}")
        node = self._nodes.get(pgid) if self._nodes else None
        if node is not None:
            return node
        return self._tx._page_node(pgid, cache)

    def _find(self, key: bytes, counted: bool = False) -> tuple[Node | LeafView, int]:
        """The leaf where ``key`` is or would be, and its index there.

        ``counted``: the pages read count towards the mapping's release (a
        nested bucket's opening, part of a walk; see ``Tx._lookup_page``).
        """
        tx = self._tx
        if tx.closed:
            raise tx._closed_error()
        # The hot path of get: without dirty nodes, cached pages come from the
        # tx's dicts without a call.
        fetch: Callable[[int], Node | LeafView]
        if self._nodes:
            first = second = _NOTHING.get
            fetch = self._node
            node = self._root_materialised or self._root_node()
        else:
            first, second = tx._branches.get, tx._leaves.get
            fetch = tx._counted_lookup_page if counted else tx._lookup_page
            root = self._root
            # A root leaf may come as a LeafView: descend only ends on it.
            node = (self._root_materialised or first(root) or second(root)  # type: ignore[assignment]
                    or (fetch(root) if root else self._root_node()))
        return descend(node, key, first, second, fetch)

    # -- writing -------------------------------------------------------------

    def put(self, key: bytes, value: bytes) -> None:
        """Set ``key`` to ``value``, replacing any previous value."""
        tx = self._tx
        if tx.closed:
            raise tx._closed_error()
        if not tx.writable:
            raise TxNotWritable()
        if type(key) is not bytes:
            key = require_bytes(key)
        if type(value) is not bytes:
            view = bytes_view(value)  # the size is checked before any copy
            if view.nbytes > MAX_VALUE_SIZE:
                raise ValueTooLarge()
            value = view.tobytes()
        if not key:
            raise KeyRequired()
        if len(key) > MAX_KEY_SIZE:
            raise KeyTooLarge()
        if len(value) > MAX_VALUE_SIZE:
            raise ValueTooLarge()
        leaf = self._route_leaf
        if leaf is not None and self._route_low <= key < self._route_high:
            index = bisect_left(leaf.keys, key)
        else:
            leaf, index = self._leaf_for_put(key)
        keys = leaf.keys
        if index < len(keys) and keys[index] == key:
            if leaf.flags[index] & BUCKET_LEAF_FLAG:
                raise IncompatibleValue()
            leaf.values[index] = value
            leaf.flags[index] = 0
        else:
            keys.insert(index, key)
            leaf.values.insert(index, value)
            leaf.flags.insert(index, 0)

    def _put_sorted(self, keys: Sequence[bytes], values: Sequence[bytes]) -> bool:
        """Put ``keys[i] = values[i]`` for every i, as that many :meth:`put`
        calls would, if they all go to the end of the leaf of the last put:
        keys of ``bytes``, strictly increasing, above that leaf's keys, within
        its key range, and sizes :meth:`put` accepts.  Anything else puts
        nothing and returns False (then :meth:`put` item by item).
        """
        leaf = self._route_leaf
        tx = self._tx
        if leaf is None or tx.closed or not tx.writable or not keys:
            return False
        first, last = keys[0], keys[-1]
        held = leaf.keys
        if (
            not self._route_low <= first
            or not last < self._route_high
            or (held and not held[-1] < first)
            or any(map(is_not, map(type, keys), repeat(bytes)))
            or any(map(is_not, map(type, values), repeat(bytes)))
            or not all(map(lt, keys, islice(keys, 1, None)))
            or not first  # sorted: the shortest key is the first
            or max(map(len, keys)) > MAX_KEY_SIZE
            or max(map(len, values)) > MAX_VALUE_SIZE
        ):
            return False
        held += keys
        leaf.values += values
        leaf.flags += repeat(0, len(keys))
        return True

    def _leaf_for_put(self, key: bytes) -> tuple[Node, int]:
        """Search ``key``; materialise its leaf and remember the keys routed there."""
        c = Cursor(self)
        c._search(key)
        found, index = c._nodes[-1], c._indexes[-1]
        keys = found.keys
        if index < len(keys) and keys[index] == key and found.flags[index] & BUCKET_LEAF_FLAG:
            raise IncompatibleValue()  # before anything is materialised
        leaf = found if found.materialised else self._leaf_for_write(c)
        if leaf is not found:  # a copy: search it again
            index = bisect_left(leaf.keys, key)
        self._route_leaf = leaf
        self._route_low, self._route_high = _key_range(c._nodes, c._indexes)
        return leaf, index


    def delete(self, key: bytes) -> None:
        """Remove ``key``; nothing happens if it is absent."""
        self._check_writable()
        if type(key) is not bytes:
            key = require_bytes(key)
        c = Cursor(self)
        found = c._seek_raw(key)
        if found is None or found[0] != key:
            return
        if found[2] & BUCKET_LEAF_FLAG:
            raise IncompatibleValue()
        self._leaf_for_write(c).delete(key)

    def __setitem__(self, key: bytes, value: bytes) -> None:
        """``put(key, value)``."""
        self.put(key, value)

    def __delitem__(self, key: bytes) -> None:
        """``delete(key)``; raises KeyError if ``key`` is absent."""
        if key not in self:
            raise KeyError(key)
        self.delete(key)

    def create_bucket(self, name: bytes) -> Bucket:
        """Create the nested bucket ``name``; raises BucketExists if it exists."""
        return self._create_bucket(name, exist_ok=False)

    def create_bucket_if_not_exists(self, name: bytes) -> Bucket:
        """The nested bucket ``name``, created if missing."""
        return self._create_bucket(name, exist_ok=True)

    def _create_bucket(self, name: bytes, exist_ok: bool) -> Bucket:
        self._check_writable()
        name = require_bytes(name, "bucket name")
        if not name:
            raise BucketNameRequired()
        if exist_ok and name in self._buckets:
            return self._buckets[name]
        c = Cursor(self)
        found = c._seek_raw(name)
        if found is not None and found[0] == name:
            if not found[2] & BUCKET_LEAF_FLAG:
                raise IncompatibleValue()
            if not exist_ok:
                raise BucketExists()
            child = Bucket.from_value(self._tx, name, found[1])
            self._buckets[name] = child
            return child
        self._leaf_for_write(c).put(name, name, EMPTY_INLINE_BUCKET, 0, BUCKET_LEAF_FLAG)
        # A bucket holding buckets is never inline: forget the inline page.
        self._inline = None
        # What opening the value just put gives, without decoding it again.
        created = Bucket(self._tx, 0, 0, Node(True, [], [], [], []), name)
        self._buckets[name] = created
        return created

    def delete_bucket(self, name: bytes) -> None:
        """Delete the nested bucket ``name`` and everything in it."""
        self._check_writable()
        if type(name) is not bytes:
            name = require_bytes(name, "bucket name")
        c = Cursor(self)
        found = c._seek_raw(name)
        if found is None or found[0] != name:
            raise BucketNotFound()
        if not found[2] & BUCKET_LEAF_FLAG:
            raise IncompatibleValue()
        child = self.bucket(name)
        assert child is not None
        for sub, _ in list(child.buckets()):
            child.delete_bucket(sub)
        self._buckets.pop(name, None)
        child._nodes = {}
        child._root_materialised = None
        child._free()
        self._leaf_for_write(c).delete(name)

    def move_bucket(self, name: bytes, destination: Bucket) -> None:
        """Move the nested bucket ``name`` into ``destination`` (same transaction)."""
        self._check_writable()
        destination._check_writable()
        if destination._tx is not self._tx:
            raise DifferentDB()
        name = require_bytes(name, "bucket name")
        c = Cursor(self)
        found = c._seek_raw(name)
        if found is None or found[0] != name:
            raise BucketNotFound()
        if not found[2] & BUCKET_LEAF_FLAG:
            raise IncompatibleValue()
        if destination is self or (self._root == destination._root and self._root != 0):
            raise SameBuckets()
        dc = Cursor(destination)
        existing = dc._seek_raw(name)
        if existing is not None and existing[0] == name:
            if existing[2] & BUCKET_LEAF_FLAG:
                raise BucketExists()
            raise IncompatibleValue()
        self._buckets.pop(name, None)
        self._leaf_for_write(c).delete(name)
        destination._leaf_for_write(dc).put(name, name, found[1], 0, BUCKET_LEAF_FLAG)

    def set_sequence(self, value: int) -> None:
        """Set the bucket's sequence counter."""
        self._check_writable()
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"sequence must be an int, not {type(value).__name__}")
        if not 0 <= value < 1 << 64:
            raise ValueError("sequence must fit in an unsigned 64-bit integer")
        self._materialise_root()
        self._sequence = value

    def next_sequence(self) -> int:
        """Increment the sequence counter and return the new value."""
        self._check_writable()
        self._materialise_root()
        self._sequence = (self._sequence + 1) & 0xFFFFFFFFFFFFFFFF
        return self._sequence

    # -- the node tree of a write transaction ------------------------------

    def _materialise_root(self) -> None:
        if self._root_materialised is None:
            self._materialise(self._root, None)

    def _materialise(self, pgid: int, parent: Node | None) -> Node:
        """bbolt's ``Bucket.node``: the mutable node of page ``pgid``."""
        node = self._nodes.get(pgid)
        if node is not None:
            return node
        if self._root == 0 and self._inline is not None:
            node = self._inline.copy()
        else:
            node = self._tx._adopt_node(pgid)
        node.pgid = pgid
        node.materialised = True
        node.parent = parent
        if parent is None:
            self._root_materialised = node
        else:
            parent.children.append(node)
        self._nodes[pgid] = node
        return node

    def _child_at(self, node: Node, index: int) -> Node:
        return self._materialise(node.pgids[index], node)

    def _leaf_for_write(self, cursor: Cursor) -> Node:
        """bbolt's ``Cursor.node``: materialise the path to the cursor's leaf."""
        stack, indexes = cursor._nodes, cursor._indexes
        top = stack[-1]
        if top.materialised and top.is_leaf:
            return top
        node = stack[0] if stack[0].materialised else self._materialise(stack[0].pgid, None)
        for index in indexes[:-1]:
            if node.is_leaf:
                raise CorruptionError(f"page {node.pgid}: expected a branch node")
            node = self._child_at(node, index)
        if not node.is_leaf:
            raise CorruptionError(f"page {node.pgid}: expected a leaf node")
        return node

    def _free(self) -> None:
        """Free every page of the bucket (nothing for an inline bucket)."""
        if self._root == 0:
            return
        tx = self._tx
        todo = [self._root]
        while todo:
            pgid = todo.pop()
            node = self._nodes.get(pgid)
            if node is not None:
                self._free_node(node)
                children = node.pgids if not node.is_leaf else []
            else:
                tx._free_page(pgid)
                page = tx._page_node(pgid)
                children = page.pgids if not page.is_leaf else []
            todo.extend(reversed(children))
        self._root = 0

    def _free_node(self, node: Node) -> None:
        if node.pgid != 0:
            self._tx._free_page(node.pgid)
            node.pgid = 0

    def _inlineable(self) -> bool:
        n = self._root_materialised
        if n is None or not n.is_leaf:
            return False
        limit = self._tx._page_size // 4
        size = PAGE_HEADER_SIZE
        for key, value, flags in zip(n.keys, n.values, n.flags):
            size += 16 + len(key) + len(value)
            if flags & BUCKET_LEAF_FLAG or size > limit:
                return False
        return True

    def _inline_value(self) -> bytes:
        n = self._root_materialised
        assert n is not None
        return BUCKET_HEADER.pack(self._root, self._sequence) + n.encode(0, n.size())

    def _rebalance(self) -> None:
        # bbolt visits nodes in Go map order (random); ascending page id is
        # the deterministic order docs/FORMAT.md §10.4 prescribes.
        for pgid in sorted(self._nodes):
            node = self._nodes.get(pgid)
            if node is not None:
                self._rebalance_node(node)
        for name in sorted(self._buckets):
            self._buckets[name]._rebalance()

    def _rebalance_node(self, n: Node) -> None:
        if not n.unbalanced:
            return
        n.unbalanced = False
        threshold = int(self._tx._page_size * self.fill_percent) // 2
        if n.size() > threshold and len(n.keys) > (1 if n.is_leaf else 2):
            return
        parent = n.parent
        if parent is None:
            # A root branch with a single child is replaced by that child.
            if not n.is_leaf and len(n.keys) == 1:
                child = self._materialise(n.pgids[0], n)
                n.take_items(child)
                n.children = child.children
                for pgid in n.pgids:
                    moved = self._nodes.get(pgid)
                    if moved is not None:
                        moved.parent = n
                child.parent = None
                self._nodes.pop(child.pgid, None)
                self._free_node(child)
            return
        if not n.keys:
            parent.delete(n.key or b"")
            parent.remove_child(n)
            self._nodes.pop(n.pgid, None)
            self._free_node(n)
            self._rebalance_node(parent)
            return
        if len(parent.keys) <= 1:
            raise CorruptionError("parent must have at least 2 children")
        index = parent.child_index(n)
        if index == 0:
            left, right = n, self._child_at(parent, index + 1)
        else:
            left, right = self._child_at(parent, index - 1), n
        for pgid in right.pgids:
            moved = self._nodes.get(pgid)
            if moved is not None and moved.parent is not None:
                moved.parent.remove_child(moved)
                moved.parent = left
                left.children.append(moved)
        left.append_items(right)
        parent.delete(right.key or b"")
        parent.remove_child(right)
        self._nodes.pop(right.pgid, None)
        self._free_node(right)
        self._rebalance_node(parent)

    def _spill(self) -> None:
        """Write every dirty node of this bucket and its children to new pages."""
        for name in sorted(self._buckets):
            child = self._buckets[name]
            if child._inlineable():
                child._free()
                value = child._inline_value()
            else:
                child._spill()
                value = BUCKET_HEADER.pack(child._root, child._sequence)
            if child._root_materialised is None:
                continue
            c = Cursor(self)
            found = c._seek_raw(name)
            if found is None or found[0] != name or not found[2] & BUCKET_LEAF_FLAG:
                raise CorruptionError(f"misplaced bucket header: {name.hex()}")
            self._leaf_for_write(c).put(name, name, value, 0, BUCKET_LEAF_FLAG)
        root = self._root_materialised
        if root is None:
            return
        self._spill_node(root)
        root = root.root()
        self._root_materialised = root
        self._root = root.pgid

    def _spill_node(self, n: Node) -> None:
        if n.spilled:
            return
        tx = self._tx
        if n.children:  # a leaf has none
            n.children.sort(key=_first_key)
            i = 0
            while i < len(n.children):  # spilling can add siblings
                self._spill_node(n.children[i])
                i += 1
            n.children = []
        page_size = tx._page_size
        allocate = tx._db._allocate
        size = n.size()
        # bbolt splits only a node of a page or more (splitTwo's sizeLessThan).
        nodes = [n] if size < page_size else n.split(page_size, self.fill_percent)
        for node in nodes:
            if node.pgid > 0:
                tx._free_page(node.pgid)
                node.pgid = 0
            if node is not n or len(nodes) > 1:
                size = node.size()
            count = (size + page_size - 1) // page_size
            node.pgid = pgid = allocate(tx, count)
            tx._dirty[pgid] = node.encode(pgid, count * page_size, count - 1)
            if not node.is_leaf:  # the branches the next commit rewrites (Tx._carried)
                tx._written[pgid] = node
            node.spilled = True
            if node.parent is not None:
                key = node.key if node.key is not None else node.keys[0]
                node.parent.put(key, node.keys[0], b"", node.pgid, 0)
                node.key = node.keys[0]
        if n.parent is not None and n.parent.pgid == 0:
            n.children = []
            self._spill_node(n.parent)


def _first_key(node: Node) -> bytes:
    return node.keys[0]


def _prefix_end(prefix: bytes) -> bytes | None:
    """The least key above every key that starts with ``prefix`` (None: no bound)."""
    stripped = prefix.rstrip(b"\xff")
    if not stripped:
        return None
    return stripped[:-1] + bytes((stripped[-1] + 1,))


def _key_range(nodes: list[Node], indexes: list[int]) -> tuple[bytes, bytes]:
    """The keys a search routes along this path: ``low <= key < high``.

    At each branch the search takes the last separator <= key (the first
    child for a key below them all), so the child at ``i`` gets the keys
    from separator ``i`` (unbounded for ``i == 0``) up to separator ``i + 1``.
    Unbounded ends are b"" and a key above every valid key.
    """
    low, high = b"", _ABOVE_ALL_KEYS
    for node, i in zip(nodes[:-1], indexes):
        keys = node.keys
        if i > 0 and keys[i] > low:
            low = keys[i]
        if i + 1 < len(keys) and keys[i + 1] < high:
            high = keys[i + 1]
    return low, high
