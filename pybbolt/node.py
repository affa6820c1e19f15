"""Nodes: a branch or leaf page decoded into parallel lists.

Read transactions decode pages into nodes and cache them for the life of the
transaction; write transactions also materialise nodes (mutable copies linked
to their parent) and serialise them back into pages when committing.  Keeping
both in one shape lets the cursor walk pages and dirty nodes alike.
"""

from __future__ import annotations

from .layout import BUCKET_LEAF_FLAG, PAGE_HEADER_SIZE


class Node:
    """The items of one branch or leaf page.

    ``keys`` is sorted.  A leaf has ``values`` and ``flags`` parallel to it;
    a branch has ``pgids`` (child page ids).
    """

    __slots__ = (
        "children",
        "flags",
        "is_leaf",
        "key",
        "keys",
        "parent",
        "pgid",
        "pgids",
        "spilled",
        "unbalanced",
        "values",
    )

    def __init__(
        self,
        is_leaf: bool,
        keys: list[bytes],
        values: list[bytes],
        flags: list[int],
        pgids: list[int],
        pgid: int = 0,
    ) -> None:
        self.is_leaf = is_leaf
        self.keys = keys
        self.values = values
        self.flags = flags
        self.pgids = pgids
        self.pgid = pgid
        # Write-path state (FORMAT.md 10.1): the first key when loaded, the
        # parent and the materialised children.
        self.key: bytes = keys[0] if keys else b""
        self.parent: Node | None = None
        self.children: list[Node] = []
        self.unbalanced = False
        self.spilled = False

    def __len__(self) -> int:
        return len(self.keys)

    def is_bucket(self, index: int) -> bool:
        """Whether leaf item ``index`` is a nested bucket."""
        return bool(self.flags[index] & BUCKET_LEAF_FLAG)

    def size(self) -> int:
        """Serialised size in bytes (FORMAT.md 5.3)."""
        n = len(self.keys)
        total = PAGE_HEADER_SIZE + 16 * n + sum(map(len, self.keys))
        if self.is_leaf:
            total += sum(map(len, self.values))
        return total

    def copy(self) -> Node:
        """A mutable copy, detached from any tree."""
        n = Node(
            self.is_leaf, list(self.keys), list(self.values), list(self.flags),
            list(self.pgids), self.pgid,
        )
        n.key = self.key
        return n
