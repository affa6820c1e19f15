"""``pybbolt browse``: the Textual application (the optional extra ``pybbolt[browse]``).

Three panes: the bucket tree (nested buckets load when opened), the keys of
the selected bucket (a screenful read through a cursor: see
:class:`cli.browse_model.Window`) and the selected value, with a status line
of facts.  What is shown comes from :mod:`cli.browse_model`; this module only
lays it out and maps keys to actions.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Checkbox, Footer, Header, Input, Label, OptionList, Static, Tree
from textual.widgets.option_list import Option
from textual.widgets.tree import TreeNode
from textual.worker import get_current_worker

from pybbolt.errors import Error
from pybbolt.tx import Tx

from .browse_model import (
    BrowseError,
    BucketPath,
    Hit,
    Row,
    Session,
    Window,
    bucket_facts,
    detect_decoder,
    info_text,
    is_text,
    matcher,
    nested_buckets,
    parse_bytes,
    render_auto,
    render_value,
    search,
    show_bytes,
    show_path,
    stats_text,
    value_facts,
    view_cycle,
    writable_bucket,
)

# The tree lists at most this many nested buckets of a bucket, found among
# its first TREE_SCAN keys (the key list reaches the others).
TREE_LIMIT = 500
TREE_SCAN = 20_000


class KeyList(Widget, can_focus=True):
    """The keys of one bucket, a screenful at a time (nested buckets end in ``/``)."""

    DEFAULT_CSS = """
    KeyList { height: 1fr; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "up", "Up", show=False),
        Binding("down,j", "down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "home", "First", show=False),
        Binding("end", "end", "Last", show=False),
        Binding("enter,right", "open", "Open"),
        Binding("backspace,left", "parent", "Back"),
    ]

    class Moved(Message):
        """The selected row changed."""

    class Opened(Message):
        """Enter on a row: open the nested bucket, or look at the value."""

        def __init__(self, row: Row) -> None:
            super().__init__()
            self.row = row

    class Parent(Message):
        """Go to the parent bucket."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.window = Window(None, 20)
        self.path: BucketPath = ()

    def show(self, session: Session, path: BucketPath, key: bytes | None = None) -> None:
        """Show the bucket at ``path`` from ``key`` (or its first key)."""
        self.path = path
        self.border_title = show_path(path)
        self.window = Window(None, self.window.height)
        try:
            self.window = Window(session.bucket(path), self.window.height)
        except Error as e:
            self.app.notify(f"cannot read {show_path(path)}: {e}", severity="error")
        self._move(self.window.start_at, key)

    def _move(self, move: Callable[..., None], *args: Any) -> None:
        """A move of the window; a damaged page stops it with a message, not a crash."""
        try:
            move(*args)
        except Error as e:
            self.app.notify(f"cannot read {show_path(self.path)}: {e}", severity="error")
        self._changed()

    def _changed(self) -> None:
        self.refresh()
        self.post_message(self.Moved())

    def on_resize(self, event: events.Resize) -> None:
        # The event's size includes the border.
        self._move(self.window.resize, self.content_size.height)

    def render(self) -> Text:
        width = max(self.content_size.width, 8)
        text = Text(no_wrap=True, overflow="ellipsis")
        for i, (key, value) in enumerate(self.window.rows):
            name = show_bytes(key)
            if value is None:
                name += "/"
                size = "bucket"
            else:
                size = f"{len(value):,} B"
            room = width - len(size) - 2
            name = name if len(name) <= room else name[: room - 1] + "…"
            line = f"{name:<{width - len(size) - 1}} {size}"
            style = "bold" if value is None else ""
            if i == self.window.selected:
                style += " reverse" if self.has_focus else " underline"
            if i:
                text.append("\n")
            text.append(line, style=style.strip())
        if not self.window.rows:
            text.append("(empty bucket)", style="italic")
        return text

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is not None and 0 <= offset.y < len(self.window.rows):
            if offset.y == self.window.selected and event.chain > 1:
                self.action_open()
            self.window.selected = offset.y
            self._changed()

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._move(self.window.down, 3)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._move(self.window.up, 3)

    def action_up(self) -> None:
        self._move(self.window.up)

    def action_down(self) -> None:
        self._move(self.window.down)

    def action_page_up(self) -> None:
        self._move(self.window.page_up)

    def action_page_down(self) -> None:
        self._move(self.window.page_down)

    def action_home(self) -> None:
        self._move(self.window.home)

    def action_end(self) -> None:
        self._move(self.window.end)

    def action_open(self) -> None:
        row = self.window.current
        if row is not None:
            self.post_message(self.Opened(row))

    def action_parent(self) -> None:
        self.post_message(self.Parent())


class ValuePane(VerticalScroll, can_focus=True):
    """The selected value; shown anew when its width changes (the hex dump fits it)."""

    class Resized(Message):
        """The pane's size changed."""

    def on_resize(self, event: events.Resize) -> None:
        self.post_message(self.Resized())


# -- dialogs ------------------------------------------------------------------------


class TextScreen(ModalScreen[None]):
    """A page of text (help, stats, info); any of escape, q or enter closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,enter", "close", "Close"),
    ]

    def __init__(self, title: str, body: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog") as box:
            box.border_title = self.title_text
            yield Static(Text(self.body), id="dialog-body")

    def action_close(self) -> None:
        self.dismiss(None)


class ConfirmScreen(ModalScreen[bool]):
    """Yes or no to a change of the file."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes, commit"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as box:
            box.border_title = "Confirm"
            yield Static(Text(self.question))
            yield Label("y: commit this change in one transaction   n / escape: cancel")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class FormScreen(ModalScreen["list[str] | None"]):
    """Some text fields (and a "hex" checkbox when the fields are bytes)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, fields: list[tuple[str, str]], hex_box: bool = True) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.hex_box = hex_box

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog") as box:
            box.border_title = self.title_text
            for i, (label, value) in enumerate(self.fields):
                yield Label(label)
                yield Input(value=value, id=f"field-{i}")
            if self.hex_box:
                yield Checkbox("the fields are hex", id="hex")
            yield Label("enter: next field, then OK   escape: cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        inputs = list(self.query(Input))
        index = inputs.index(event.input)
        if index + 1 < len(inputs):
            inputs[index + 1].focus()
            return
        values = [i.value for i in inputs]
        hex_input = self.hex_box and self.query_one("#hex", Checkbox).value
        self.dismiss([*values, "hex" if hex_input else "text"])

    def action_cancel(self) -> None:
        self.dismiss(None)


class SearchScreen(ModalScreen["Hit | None"]):
    """Search keys (and values) of a bucket and its nested buckets; hits stream in."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop_or_close", "Stop / close"),
        Binding("ctrl+r", "toggle_regex", "Regex"),
        Binding("ctrl+v", "toggle_values", "Values"),
    ]

    def __init__(self, session: Session, path: BucketPath) -> None:
        super().__init__()
        self.session = session
        self.path = path
        self.hits: list[Hit] = []
        self.stop = threading.Event()
        self.running = False

    def compose(self) -> ComposeResult:
        with Vertical(id="search") as box:
            box.border_title = f"Search {show_path(self.path)} and its nested buckets"
            yield Input(placeholder="substring (or regex) to find in keys and values",
                        id="pattern")
            with Horizontal(id="search-options"):
                yield Checkbox("regex", id="regex")
                yield Checkbox("values too", value=True, id="values")
            yield Static("type a pattern, then enter", id="search-status")
            yield OptionList(id="hits")

    def action_toggle_regex(self) -> None:
        box = self.query_one("#regex", Checkbox)
        box.value = not box.value

    def action_toggle_values(self) -> None:
        box = self.query_one("#values", Checkbox)
        box.value = not box.value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value:
            return
        try:
            match = matcher(event.value, self.query_one("#regex", Checkbox).value)
        except BrowseError as e:
            self._status(str(e))
            return
        self.stop.set()  # a search still running ends at its next batch
        self.stop = threading.Event()
        self.hits = []
        self.query_one("#hits", OptionList).clear_options()
        self._status("searching…")
        self.running = True
        self.run_search(match, self.query_one("#values", Checkbox).value, self.stop)

    @work(thread=True, exclusive=True, group="search")
    def run_search(self, match: object, values: bool, stop: threading.Event) -> None:
        worker = get_current_worker()

        def emit(hits: list[Hit], scanned: int) -> None:
            if not worker.is_cancelled:  # the hits of the last batch of a stopped search too
                self.app.call_from_thread(self._add_hits, hits, scanned, stop)

        try:
            scanned, stopped = search(self.session.db, self.path, match,  # type: ignore[arg-type]
                                      values, emit, stop)
        except Error as e:
            self.app.call_from_thread(self._finish, f"search failed: {e}", stop)
            return
        word = "stopped after" if stopped else "done:"
        self.app.call_from_thread(
            self._finish, f"{word} {scanned:,} keys scanned, {{hits}} hits", stop)

    def _add_hits(self, hits: list[Hit], scanned: int, stop: threading.Event) -> None:
        if stop is not self.stop:
            return  # a newer search replaced this one
        self.hits += hits
        options = self.query_one("#hits", OptionList)
        options.add_options([
            Option(Text(f"{show_path(h.path)}  {show_bytes(h.key)}  ({h.where})"))
            for h in hits
        ])
        if self.running:
            self._status(f"searching… {scanned:,} keys scanned, {len(self.hits):,} hits "
                         "(escape stops)")

    def _finish(self, message: str, stop: threading.Event) -> None:
        if stop is not self.stop:
            return
        self.running = False
        self._status(message.format(hits=f"{len(self.hits):,}"))
        if self.hits:
            options = self.query_one("#hits", OptionList)
            options.highlighted = 0
            options.focus()

    def _status(self, message: str) -> None:
        self.query_one("#search-status", Static).update(Text(message))

    def _end_search(self) -> None:
        """Stop a running search; its late results then find no screen to update."""
        self.stop.set()
        self.stop = threading.Event()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._end_search()
        self.dismiss(self.hits[event.option_index])

    def action_stop_or_close(self) -> None:
        if self.running:
            self.stop.set()
            self.running = False
            self._status(f"stopping: {len(self.hits):,} hits so far")
            return
        self._end_search()
        self.dismiss(None)


# -- the application -----------------------------------------------------------------

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
