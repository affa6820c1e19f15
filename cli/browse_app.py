"""``pybbolt browse``: the Textual application (the optional extra ``pybbolt[browse]``).

Three panes: the bucket tree (nested buckets load when opened), the keys of
the selected bucket (a screenful read through a cursor: see
:class:`cli.browse_model.Window`) and the selected value, with a status line
of facts.  What is shown comes from :mod:`cli.browse_model`; this module only
lays it out and maps keys to actions.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Static, Tree
from textual.widgets.tree import TreeNode

from pybbolt.errors import Error
from pybbolt.tx import Tx

from .browse_model import (
    BrowseError,
    BucketPath,
    Hit,
    Row,
    Session,
    bucket_facts,
    detect_decoder,
    info_text,
    is_text,
    nested_buckets,
    parse_bytes,
    render_auto,
    render_value,
    show_bytes,
    show_path,
    stats_text,
    value_facts,
    view_cycle,
    writable_bucket,
)
from .browse_widgets import (
    ConfirmScreen,
    FormScreen,
    KeyList,
    SearchScreen,
    TextScreen,
    ValuePane,
)

# The tree lists at most this many nested buckets of a bucket, found among
# its first TREE_SCAN keys (the key list reaches the others).
TREE_LIMIT = 500
TREE_SCAN = 20_000


HELP = """\
Moving around
  tab / shift+tab      next / previous pane (buckets, keys, value)
  up down              move in the tree or the key list (j k too, in the keys)
  pageup pagedown      a screenful of keys (read through a cursor)
  home end             first / last key of the bucket
  enter, right         open a bucket (tree, keys); on a key: go to its value
  backspace, left      keys: the parent bucket
  mouse                click to select, wheel to scroll, double-click to open

Looking
  v                    next value view: auto, text, JSON, hex (and the decoder's)
  s                    stats of the bucket shown (bbolt's Bucket.Stats)
  i                    the file: size, page size, transaction id, lock
  r                    reload: re-read the file (a new read transaction)

Finding
  /                    jump to a key (the first key >= what you type)
  f                    search keys and values of this bucket and its nested
                       buckets (substring or regex); escape stops a search

Changing (only with --write; each change is confirmed, then one transaction)
  p                    put a key (a new key, or a new value)
  e                    edit the selected value
  n                    rename the selected key
  d                    delete the selected key or nested bucket
  b                    create a bucket here

  ?                    this help
  ctrl+p               commands: dark and light themes, keys, screenshot
  q                    quit
"""


class BrowseApp(App[None]):
    """The browser of one open database."""

    TITLE = "pybbolt browse"

    CSS = """
    #panes { height: 1fr; }
    #tree { width: 25%; border: round $primary; }
    #keys { width: 32%; border: round $primary; }
    #value-pane { width: 1fr; border: round $primary; }
    #tree:focus, #keys:focus, #value-pane:focus { border: round $accent; }
    #status { height: 1; background: $panel; padding: 0 1; }
    #dialog {
        width: 80%; height: auto; max-height: 80%;
        border: round $accent; background: $surface; padding: 1 2;
    }
    #search {
        width: 90%; height: 90%; border: round $accent; background: $surface; padding: 0 1;
    }
    #search-options { height: auto; }
    #search-status { height: 1; }
    #hits { height: 1fr; }
    TextScreen, ConfirmScreen, FormScreen, SearchScreen { align: center middle; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help"),
        Binding("v", "view", "View"),
        Binding("slash", "jump", "Jump"),
        Binding("f", "search", "Find"),
        Binding("s", "stats", "Stats"),
        Binding("i", "info", "Info"),
        Binding("r", "reread", "Reload"),
        Binding("p", "put", "Put"),
        Binding("e", "edit", "Edit"),
        Binding("n", "rename", "Rename"),
        Binding("d", "delete", "Delete"),
        Binding("b", "create_bucket", "Bucket"),
    ]

    # Seconds between two looks at the file's size and modification time.
    WATCH_SECONDS = 2.0

    # Actions that change the file: in the footer only with --write.
    WRITE_ACTIONS = frozenset({"put", "edit", "rename", "delete", "create_bucket"})

    def __init__(self, session: Session, start: BucketPath = (),
                 decoder: str | None = None, watch: bool = True) -> None:
        super().__init__()
        self.session = session
        self.start = start
        # The decoder the user chose, or the one the file's buckets call for.
        self.decoder = decoder if decoder is not None else detect_decoder(session.tx)
        self.watch_file = watch
        self.value_view = "auto"
        self.value_text = ""
        self.status_text = ""
        self._warned_change = False

    # -- layout ------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="")
        with Horizontal(id="panes"):
            tree: Tree[BucketPath] = Tree(self._file_name(), data=(), id="tree")
            tree.border_title = "buckets"
            yield tree
            yield KeyList(id="keys")
            with ValuePane(id="value-pane") as pane:
                pane.border_title = "value"
                yield Static(id="value")
        yield Static(id="status")
        yield Footer(compact=True, show_command_palette=False)

    def _file_name(self) -> str:
        import os

        return os.path.basename(self.session.db.path)

    def on_mount(self) -> None:
        mode = "read-write" if self.session.writable else "read-only"
        decoder = f", decoder {self.decoder}" if self.decoder is not None else ""
        self.sub_title = f"{self.session.db.path} ({mode}{decoder})"
        tree = self.query_one("#tree", Tree)
        self._load_children(tree.root)
        tree.root.expand()
        keys = self.query_one("#keys", KeyList)
        keys.show(self.session, self.start)
        (keys if self.start else tree).focus()
        if self.watch_file:
            self.set_interval(self.WATCH_SECONDS, self._check_file)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Without --write the changing keys are left out of the footer and do nothing.
        return self.session.writable or action not in self.WRITE_ACTIONS

    # -- the tree ----------------------------------------------------------

    def _load_children(self, node: TreeNode[BucketPath]) -> None:
        path = node.data if node.data is not None else ()
        node.remove_children()
        try:
            bucket = self.session.bucket(path)
            if bucket is None:
                node.allow_expand = False
                return
            names, more = nested_buckets(bucket, TREE_LIMIT, TREE_SCAN)
        except Error as e:
            node.add_leaf(Text(f"cannot read: {e}", style="italic"), data=None)
            self.notify(f"cannot read {show_path(path)}: {e}", severity="error")
            return
        for name in names:
            node.add(show_bytes(name), data=(*path, name), allow_expand=True)
        if more:
            node.add_leaf(Text("… more: open this bucket in the key list", style="italic"),
                          data=None)
        if not names and not more and node is not node.tree.root:
            node.allow_expand = False

    def on_tree_node_expanded(self, event: Tree.NodeExpanded[BucketPath]) -> None:
        if event.node.data is not None and not getattr(event.node, "_pybbolt_loaded", False):
            self._load_children(event.node)
            event.node._pybbolt_loaded = True  # type: ignore[attr-defined]

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted[BucketPath]) -> None:
        # Only the user's moves: the tree also highlights its root when it is built.
        if event.node.data is not None and event.node.tree.has_focus:
            self.query_one("#keys", KeyList).show(self.session, event.node.data)

    # -- the key list and the value ----------------------------------------

    @on(KeyList.Moved)
    @on(ValuePane.Resized)
    def _show_selected(self) -> None:
        keys = self.query_one("#keys", KeyList)
        row = keys.window.current
        pane = self.query_one("#value-pane", ValuePane)
        value_widget = self.query_one("#value", Static)
        if row is None:
            self.value_text = ""
            pane.border_title = "value"
            self._set_status(f"{show_path(keys.path)}: no keys")
        else:
            key, value = row
            bucket = keys.window.bucket
            if value is None:
                try:
                    child = bucket.bucket(key) if bucket is not None else None
                    facts = bucket_facts(child) if child is not None else "bucket"
                except Error as e:
                    facts = f"bucket (cannot read its header: {e})"
                self.value_text = "(a nested bucket: enter opens it)"
                pane.border_title = "bucket"
            else:
                width = pane.scrollable_content_region.width
                if self.value_view == "auto":
                    view, self.value_text = render_auto(value, key, keys.path, self.decoder,
                                                        width)
                    shown = f"{view} (auto)"
                else:
                    view = shown = self.value_view
                    self.value_text = render_value(value, key, keys.path, view, width)
                pane.border_title = f"value · {shown}"
                page_size = self.session.tx.page_size
                facts = value_facts(key, value, bucket, page_size) if bucket is not None else ""
            self._set_status(f"key {len(key):,} B · {facts}")
        value_widget.update(Text(self.value_text))
        pane.scroll_home(animate=False)

    def _set_status(self, text: str) -> None:
        self.status_text = text
        self.query_one("#status", Static).update(Text(text, no_wrap=True, overflow="ellipsis"))

    @on(KeyList.Opened)
    def _open_row(self, event: KeyList.Opened) -> None:
        keys = self.query_one("#keys", KeyList)
        key, value = event.row
        if value is None:
            keys.show(self.session, (*keys.path, key))
        else:
            self.query_one("#value-pane").focus()

    @on(KeyList.Parent)
    def _go_to_parent(self) -> None:
        keys = self.query_one("#keys", KeyList)
        if keys.path:
            keys.show(self.session, keys.path[:-1], keys.path[-1])

    # -- looking -----------------------------------------------------------

    def action_view(self) -> None:
        views = ["auto", *view_cycle(self.decoder)]
        current = views.index(self.value_view) if self.value_view in views else -1
        self.value_view = views[(current + 1) % len(views)]
        self._show_selected()

    def action_help(self) -> None:
        self.push_screen(TextScreen("Keys", HELP))

    def action_stats(self) -> None:
        path = self.query_one("#keys", KeyList).path
        try:
            body = stats_text(self.session, path)
        except Error as e:
            self.notify(str(e), severity="error")
            return
        self.push_screen(TextScreen("Bucket stats", body))

    def action_info(self) -> None:
        self.push_screen(TextScreen("File", info_text(self.session)))

    def action_reread(self) -> None:
        """A new read transaction: the tree and the key list as the file is now."""
        keys = self.query_one("#keys", KeyList)
        row = keys.window.current
        self.session.reread()
        self._warned_change = False
        tree = self.query_one("#tree", Tree)
        for node in list(tree.root.children):
            node.remove()
        self._load_children(tree.root)
        path = keys.path
        while path and self.session.bucket(path) is None:
            path = path[:-1]
        keys.show(self.session, path, row[0] if row is not None else None)
        self.notify(f"re-read: transaction {self.session.tx.id}")

    def _check_file(self) -> None:
        if not self._warned_change and self.session.changed():
            self._warned_change = True
            self.notify("the file changed: r re-reads it", severity="warning")

    # -- finding -----------------------------------------------------------

    def action_jump(self) -> None:
        def jump(result: list[str] | None) -> None:
            if result is None:
                return
            keys = self.query_one("#keys", KeyList)
            try:
                prefix = parse_bytes(result[0], result[-1] == "hex")
            except BrowseError as e:
                self.notify(str(e), severity="error")
                return
            keys.show(self.session, keys.path, prefix)
            row = keys.window.current
            if row is None or not row[0].startswith(prefix):
                self.notify(f"no key starts with {show_bytes(prefix)}: showing the next key")
            keys.focus()

        self.push_screen(FormScreen("Jump to key", [("key or prefix", "")]), jump)

    def action_search(self) -> None:
        def found(hit: Hit | None) -> None:
            if hit is None:
                return
            keys = self.query_one("#keys", KeyList)
            keys.show(self.session, hit.path, hit.key)
            keys.focus()

        path = self.query_one("#keys", KeyList).path
        self.push_screen(SearchScreen(self.session, path), found)

    # -- changing ----------------------------------------------------------

    def _writable(self) -> bool:
        if not self.session.writable:
            self.notify("read-only: start pybbolt browse with --write to change the file",
                        severity="warning")
            return False
        return True

    def _commit(self, question: str, change: object, then: bytes | None = None) -> None:
        """Ask, then run ``change(tx)`` in one write transaction and re-read."""

        def answered(yes: bool | None) -> None:
            if not yes:
                self.notify("cancelled: nothing written")
                return
            keys = self.query_one("#keys", KeyList)
            try:
                self.session.update(change)  # type: ignore[arg-type]
            except Error as e:
                self.notify(f"not written: {e}", severity="error")
                self.session.reread()
            else:
                self.notify("committed")
            tree = self.query_one("#tree", Tree)
            for node in list(tree.root.children):
                node.remove()
            self._load_children(tree.root)
            keys.show(self.session, keys.path, then)

        self.push_screen(ConfirmScreen(question), answered)

    def _selected(self) -> tuple[BucketPath, Row] | None:
        keys = self.query_one("#keys", KeyList)
        row = keys.window.current
        if row is None:
            self.notify("no key selected", severity="warning")
            return None
        return keys.path, row

    def action_put(self, key: str = "", value: str = "") -> None:
        if not self._writable():
            return
        path = self.query_one("#keys", KeyList).path
        if not path:
            self.notify("the top level holds buckets only: b creates one", severity="warning")
            return

        def filled(result: list[str] | None) -> None:
            if result is None:
                return
            try:
                k = parse_bytes(result[0], result[2] == "hex")
                v = parse_bytes(result[1], result[2] == "hex")
            except BrowseError as e:
                self.notify(str(e), severity="error")
                return

            def change(tx: Tx) -> None:
                writable_bucket(tx, path).put(k, v)

            self._commit(f"Put {show_bytes(k)} = {len(v):,} bytes into {show_path(path)}?",
                         change, k)

        self.push_screen(FormScreen(f"Put into {show_path(path)}",
                                    [("key", key), ("value", value)]), filled)

    def action_edit(self) -> None:
        if not self._writable():
            return
        selected = self._selected()
        if selected is None:
            return
        _, (key, value) = selected
        if value is None:
            self.notify("a nested bucket has no value to edit", severity="warning")
            return
        if is_text(key) and is_text(value):
            self.action_put(key.decode(), value.decode())
        else:
            self.action_put(key.hex(), value.hex())  # not text: edited as hex

    def action_rename(self) -> None:
        if not self._writable():
            return
        selected = self._selected()
        if selected is None:
            return
        path, (key, value) = selected
        if value is None:
            self.notify("rename works on keys, not nested buckets", severity="warning")
            return

        def filled(result: list[str] | None) -> None:
            if result is None:
                return
            try:
                new = parse_bytes(result[0], result[-1] == "hex")
            except BrowseError as e:
                self.notify(str(e), severity="error")
                return

            def change(tx: Tx) -> None:
                bucket = writable_bucket(tx, path)
                current = bucket.get(key)
                if current is None:
                    raise BrowseError(f"key {show_bytes(key)} no longer exists")
                if bucket.get(new) is not None or bucket.bucket(new) is not None:
                    raise BrowseError(f"key {show_bytes(new)} exists already")
                bucket.put(new, current)
                bucket.delete(key)

            self._commit(f"Rename {show_bytes(key)} to {show_bytes(new)} in {show_path(path)}?",
                         change, new)

        self.push_screen(FormScreen(f"Rename {show_bytes(key)}", [("new key", show_bytes(key))]),
                         filled)

    def action_delete(self) -> None:
        if not self._writable():
            return
        selected = self._selected()
        if selected is None:
            return
        path, (key, value) = selected

        def change(tx: Tx) -> None:
            if value is None:
                if path:
                    writable_bucket(tx, path).delete_bucket(key)
                else:
                    tx.delete_bucket(key)
            else:
                writable_bucket(tx, path).delete(key)

        what = (f"bucket {show_path((*path, key))} and everything in it" if value is None
                else f"key {show_bytes(key)} of {show_path(path)}")
        self._commit(f"Delete {what}?", change, key)

    def action_create_bucket(self) -> None:
        if not self._writable():
            return
        path = self.query_one("#keys", KeyList).path

        def filled(result: list[str] | None) -> None:
            if result is None:
                return
            try:
                name = parse_bytes(result[0], result[-1] == "hex")
            except BrowseError as e:
                self.notify(str(e), severity="error")
                return

            def change(tx: Tx) -> None:
                if path:
                    writable_bucket(tx, path).create_bucket(name)
                else:
                    tx.create_bucket(name)

            self._commit(f"Create bucket {show_path((*path, name))}?", change, name)

        self.push_screen(FormScreen(f"New bucket in {show_path(path)}", [("name", "")]), filled)

