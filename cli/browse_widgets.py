"""The widgets and dialogs of ``pybbolt browse``: the key list, the value pane,
and the modal screens (text, confirmation, forms, search)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from pybbolt.errors import Error

from .browse_model import (
    BrowseError,
    BucketPath,
    Hit,
    Row,
    Session,
    Window,
    matcher,
    search,
    show_bytes,
    show_path,
)


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

