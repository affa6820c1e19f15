"""``pybbolt browse``: the key list's paging, the values, search, the lock and
--write, driven headless through Textual's test pilot.  Expected contents come
from Go's record of the Bacalhau sample (tests/fixtures/manifest.json) and
changes are checked by Go's verifier (``boltgo dump``: Tx.Check and content)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from pybbolt.cli import browse_widgets
from pybbolt.cli.browse_app import BrowseApp
from pybbolt.cli.browse_model import (
    Hit,
    Session,
    Window,
    matcher,
    render_auto,
    render_value,
    search,
)
from pybbolt.cli.browse_widgets import ConfirmScreen, FormScreen, KeyList, SearchScreen
from pybbolt.cli.cmd_browse import INSTALL_HINT
from textual.pilot import Pilot
from textual.widgets import Checkbox, Input

import pybbolt
from pybbolt import decode
from pybbolt.bucket import Bucket
from pybbolt.cursor import Cursor

from .browse_util import SAMPLE, Rows, drive, go_rows, wait_for
from .test_locks_go import go_holding, go_try

HISTORY = b"execution-history"
GoRows = dict[tuple[bytes, ...], Rows]


@pytest.fixture(scope="module")
def GO(boltgo: Path) -> GoRows:
    """Every bucket of the sample as Go's cursor reads it."""
    return go_rows(boltgo)


def open_sample(readonly: bool = True, path: Path = SAMPLE) -> Session:
    return Session(pybbolt.open(path, readonly=readonly, timeout=2))


def keys_of(app: BrowseApp) -> KeyList:
    return app.query_one("#keys", KeyList)


# -- the key list's window ------------------------------------------------------------


class CountingBucket:
    """A bucket whose cursors count their moves: the window must read a
    screenful per move, never the whole bucket."""

    def __init__(self, bucket: Bucket) -> None:
        self.bucket = bucket
        self.moves = 0

    def cursor(self) -> CountingBucket:
        self._cursor: Cursor = self.bucket.cursor()
        return self

    def __getattr__(self, name: str) -> object:
        move = getattr(self._cursor, name)

        def counted(*args: object) -> object:
            self.moves += 1
            return move(*args)

        return counted


@pytest.fixture(scope="module")
def thousand(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1000 keys k00000, k00002, ... k01998 (even numbers) with values v<n>."""
    path = tmp_path_factory.mktemp("browse") / "thousand.db"
    with pybbolt.open(path) as db, db.update() as tx:
        b = tx.create_bucket(b"b")
        for n in range(0, 2000, 2):
            b.put(b"k%05d" % n, b"v%d" % n)
    return path


def names(window: Window) -> list[bytes]:
    return [k for k, _ in window.rows]


def ks(*numbers: int) -> list[bytes]:
    return [b"k%05d" % n for n in numbers]


def test_window_moves_read_a_screenful(thousand: Path) -> None:
    with pybbolt.open(thousand, readonly=True) as db, db.view() as tx:
        counting = CountingBucket(tx.bucket(b"b"))  # type: ignore[arg-type]
        w = Window(counting, 10)  # type: ignore[arg-type]
        w.start_at(None)
        assert names(w) == ks(*range(0, 20, 2)) and w.selected == 0
        w.down(12)  # three past the screen: the window scrolls by three
        assert names(w) == ks(*range(6, 26, 2)) and w.current == (b"k00024", b"v24")
        counting.moves = 0
        w.page_down()  # a screenful on, the same row of the screen selected
        assert names(w) == ks(*range(26, 46, 2)) and w.current == (b"k00044", b"v44")
        assert counting.moves <= 12  # one seek, a screenful of nexts
        w.up(10)
        assert names(w) == ks(*range(24, 44, 2)) and w.selected == 0
        w.page_up()
        assert names(w) == ks(*range(4, 24, 2))
        w.page_up()
        assert names(w) == ks(*range(0, 20, 2))
        w.page_up()  # at the start: the first row
        assert w.selected == 0 and names(w) == ks(*range(0, 20, 2))
        counting.moves = 0
        w.end()
        assert names(w) == ks(*range(1980, 2000, 2)) and w.current == (b"k01998", b"v1998")
        assert counting.moves <= 11
        w.down()  # at the end: stays
        assert w.current == (b"k01998", b"v1998")
        w.start_at(b"k00101")  # the first key after it
        assert w.current == (b"k00102", b"v102") and names(w)[0] == b"k00102"
        w.start_at(b"k01995")  # near the end: the screen stays full
        assert names(w) == ks(*range(1980, 2000, 2)) and w.current == (b"k01996", b"v1996")
        w.start_at(b"z")  # past every key: the last screen
        assert w.current == (b"k01998", b"v1998") and len(w.rows) == 10
        w.resize(4)  # the selected key stays in view
        assert names(w) == ks(1992, 1994, 1996, 1998) and w.current == (b"k01998", b"v1998")


def test_window_of_an_empty_bucket(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    with pybbolt.open(path) as db, db.update() as tx:
        tx.create_bucket(b"empty")
    with pybbolt.open(path, readonly=True) as db, db.view() as tx:
        w = Window(tx.bucket(b"empty"), 5)
        for move in (w.home, w.end, w.down, w.up, w.page_down, w.page_up):
            move()
            assert w.rows == [] and w.current is None


# -- navigating, values, views --------------------------------------------------------


def test_navigate_to_a_nested_bucket_and_switch_views(GO: GoRows) -> None:
    session = open_sample()
    app = BrowseApp(session, watch=False)
    FIRST_EXECUTION = GO[(HISTORY,)][0][0]
    first, second, third = GO[(HISTORY, FIRST_EXECUTION)]

    async def script(pilot: Pilot[None]) -> None:
        keys = keys_of(app)
        assert keys.path == () and keys.window.rows == GO[()]
        await pilot.press("down", "down")  # the tree: execution-history
        assert keys.path == (HISTORY,) and keys.window.rows[:5] == GO[(HISTORY,)][:5]
        await pilot.press("enter", "down")  # open it, down to its first nested bucket
        assert keys.path == (HISTORY, FIRST_EXECUTION)
        assert keys.window.rows == [first, second, third]
        await pilot.press("tab", "down", "down")  # to the key list, the third key
        assert app.focused is keys and keys.window.current == third
        value = third[1]
        assert value is not None
        assert app.value_text == json.dumps(json.loads(value), indent=2)
        assert app.status_text == (f"key 8 B · value {len(value)} B; "
                                   "in an inline bucket (stored in its parent's leaf)")
        await pilot.press("v")  # text
        assert app.value_text == value.decode()
        await pilot.press("v")  # JSON
        assert app.value_text.startswith('{\n  "ExecutionID": "e-00af984c')
        await pilot.press("v")  # hex
        assert app.value_text.splitlines()[:2] == [  # 8 bytes a line fit the pane
            '00000000  7b 22 45 78  65 63 75 74  |{"Execut|',
            '00000008  69 6f 6e 49  44 22 3a 22  |ionID":"|']
        assert len(app.value_text.splitlines()) == (len(value) + 7) // 8
        await pilot.press("v")  # back to automatic (JSON)
        assert app.value_text == json.dumps(json.loads(value), indent=2)
        await pilot.press("backspace")  # the parent bucket, with the child selected
        assert keys.path == (HISTORY,) and keys.window.current == (FIRST_EXECUTION, None)
        assert app.status_text.startswith("key 38 B · bucket, inline")
        await pilot.press("enter")  # opens the nested bucket again
        assert keys.path == (HISTORY, FIRST_EXECUTION) and keys.window.current == first
        await pilot.press("enter")  # a value: focus goes to the value pane
        assert app.focused is app.query_one("#value-pane")

    try:
        drive(app, script)
    finally:
        session.close()


def test_start_bucket_mouse_and_jump(GO: GoRows) -> None:
    session = open_sample()
    app = BrowseApp(session, start=(b"execution",), watch=False)
    rows = GO[(b"execution",)]

    async def script(pilot: Pilot[None]) -> None:
        keys = keys_of(app)
        assert app.focused is keys and keys.window.rows[0] == rows[0]
        await pilot.click("#keys", offset=(2, 4))  # the fourth row (under the border)
        assert keys.window.current == rows[3]
        await pilot.press("end")
        assert keys.window.current == rows[-1]
        await pilot.press("home", "pagedown")
        assert keys.window.current == rows[keys.window.height]
        await pilot.press("slash")
        assert isinstance(app.screen, FormScreen)
        await pilot.press(*"e-5", "enter")
        expected = next(r for r in rows if r[0] >= b"e-5")
        assert keys.window.current == expected and keys.window.rows[0] == expected
        await pilot.press("slash", *"zzz", "enter")  # past the end: the last key
        assert keys.window.current == rows[-1]
        await pilot.press("backspace")  # the root, "execution" selected
        assert keys.path == () and keys.window.current == (b"execution", None)
        await pilot.click("#keys", offset=(2, 2), times=2)  # double-click: open it
        assert keys.path == (HISTORY,) and keys.window.current == GO[(HISTORY,)][0]

    try:
        drive(app, script)
    finally:
        session.close()


def test_stats_and_info_screens(GO: GoRows) -> None:
    session = open_sample()
    app = BrowseApp(session, start=(b"execution",), watch=False)

    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("s")
        body = str(app.screen.body)  # type: ignore[attr-defined]
        key_n = len([r for r in GO[(b"execution",)] if r[1] is not None])
        assert re.search(rf"Number of keys/value pairs +{key_n}\n", body), body
        await pilot.press("escape", "i")
        body = str(app.screen.body)  # type: ignore[attr-defined]
        assert "Page size  4,096" in body and "read-only (shared lock)" in body
        await pilot.press("escape")
        assert len(app.screen_stack) == 1

    try:
        drive(app, script)
    finally:
        session.close()


# -- search ----------------------------------------------------------------------------


def expected_hits(GO: GoRows, pattern: bytes, regex: bool, values: bool) -> list[Hit]:
    """The hits over Go's record of the sample, in the browser's walk order."""
    found = re.compile(pattern).search if regex else (lambda data: pattern in data)
    hits: list[Hit] = []

    def walk(path: tuple[bytes, ...]) -> None:
        for key, value in GO[path]:
            if found(key):
                hits.append(Hit(path, key, "bucket" if value is None else "key"))
            elif values and value is not None and found(value):
                hits.append(Hit(path, key, "value"))
            if value is None:
                walk((*path, key))

    walk(())
    return hits


def test_search_keys_and_values_then_open_a_hit(GO: GoRows) -> None:
    session = open_sample()
    app = BrowseApp(session, watch=False)
    wanted = expected_hits(GO, b"Cancelled", regex=False, values=True)
    assert len(wanted) > 10

    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("f")
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        await pilot.press(*"Cancelled", "enter")
        await wait_for(pilot, lambda: not screen.running)
        assert screen.hits == wanted
        status = str(screen.query_one("#search-status").render())
        scanned = sum(map(len, GO.values()))  # every key and bucket name, the root's too
        assert status == f"done: {scanned} keys scanned, {len(wanted)} hits"
        await pilot.press("down", "enter")  # the second hit
        keys = keys_of(app)
        assert (keys.path, keys.window.current[0]) == (wanted[1].path, wanted[1].key)  # type: ignore[index]

        # A regex over keys only, from the root again.
        await pilot.press("backspace", "f")
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        await pilot.press("ctrl+r", "ctrl+v", *"^j-[0-3]", "enter")
        assert screen.query_one("#pattern", Input).value == "^j-[0-3]"
        await wait_for(pilot, lambda: not screen.running)
        assert screen.hits == expected_hits(GO, rb"^j-[0-3]", regex=True, values=False) != []
        await pilot.press("escape")  # not running: closes
        assert len(app.screen_stack) == 1

    try:
        drive(app, script)
    finally:
        session.close()


def test_escape_stops_a_running_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "keys.db"
    with pybbolt.open(path) as db, db.update() as tx:
        b = tx.create_bucket(b"b")
        for n in range(5000):
            b.put(b"k%05d" % n, b"v")
    session = Session(pybbolt.open(path, readonly=True))
    app = BrowseApp(session, start=(b"b",), watch=False)
    real_matcher = browse_widgets.matcher
    calls = []

    def matcher_held_midway(pattern: str, regex: bool) -> Callable[[bytes], bool]:
        match = real_matcher(pattern, regex)

        def held(data: bytes) -> bool:
            calls.append(data)
            if len(calls) == 100:  # the search pauses here until escape stops it
                screen = app.screen
                assert isinstance(screen, SearchScreen)
                assert screen.stop.wait(20)
            return match(data)

        return held

    monkeypatch.setattr(browse_widgets, "matcher", matcher_held_midway)

    async def script(pilot: Pilot[None]) -> None:
        await pilot.press("f", *"k0", "enter")
        screen = app.screen
        assert isinstance(screen, SearchScreen) and screen.running
        await wait_for(pilot, lambda: len(calls) >= 100)
        await pilot.press("escape")  # stops: the search ends at its batch of 2000 keys
        status = screen.query_one("#search-status")
        await wait_for(pilot, lambda: "stopped after" in str(status.render()))
        assert str(status.render()) == "stopped after 2,000 keys scanned, 2,000 hits"
        assert len(screen.hits) == 2000 and len(calls) == 2000
        assert isinstance(app.screen, SearchScreen)  # still open, with its hits
        await pilot.press("escape")  # now closes
        assert len(app.screen_stack) == 1

    try:
        drive(app, script)
    finally:
        session.close()


def test_search_streams_and_stops(thousand: Path) -> None:
    with pybbolt.open(thousand, readonly=True) as db:
        batches: list[tuple[int, int]] = []
        stop = threading.Event()

        def emit(hits: list[Hit], scanned: int) -> None:
            batches.append((len(hits), scanned))
            if scanned >= 300:
                stop.set()

        scanned, stopped = search(db, (), matcher("0", False), True, emit, stop, batch=5000)
        # The root's bucket name "b" and its 1000 keys: one batch, at the end.
        assert (scanned, stopped) == (1001, False) and batches == [(1000, 1001)]
        batches.clear()
        stop = threading.Event()
        scanned, stopped = search(db, (b"b",), matcher("k0000", False), True, emit, stop, batch=100)
        assert (scanned, stopped) == (300, True)
        assert batches == [(5, 100), (0, 200), (0, 300)]  # k00000 ... k00008
    with pytest.raises(pybbolt.Error, match="bad regular expression"):
        matcher("(", True)


# -- the lock -----------------------------------------------------------------------------


def test_browser_holds_a_shared_lock(boltgo: Path, tmp_path: Path) -> None:
    path = tmp_path / "sample.db"
    shutil.copyfile(SAMPLE, path)
    session = open_sample(path=path)
    app = BrowseApp(session, watch=False)

    async def script(pilot: Pilot[None]) -> None:
        assert go_try(boltgo, path, "read") == (0, "locked")  # Go readers share it
        status, line = go_try(boltgo, path, "write")  # Go writers wait
        assert (status, json.loads(line)) == (1, {"error": "timeout"})

    try:
        drive(app, script)
    finally:
        session.close()


def test_lock_timeout_explains_itself(boltgo: Path, tmp_path: Path) -> None:
    path = tmp_path / "sample.db"
    shutil.copyfile(SAMPLE, path)
    with go_holding(boltgo, path, "write"):
        for extra, held in ([], "another process holds its exclusive write lock"),\
                           (["--write"], "another process has it open"):
            r = subprocess.run([sys.executable, "-m", "pybbolt", "browse", "--timeout", "0.3",
                                *extra, str(path)], capture_output=True, text=True, timeout=60)
            assert r.returncode == 1 and r.stdout == ""
            assert r.stderr.startswith(f"Error: timeout: could not lock {path} within 0.3s: "
                                       f"{held}"), r.stderr
            assert "--timeout" in r.stderr


def test_without_textual_says_how_to_install() -> None:
    code = ("import sys; sys.modules['textual'] = None\n"
            "from pybbolt.cli.main import main\n"
            f"sys.exit(main(['browse', {str(SAMPLE)!r}]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (r.returncode, r.stdout, r.stderr) == (1, "", INSTALL_HINT)
    assert "pip install 'pybbolt[browse]'" in INSTALL_HINT


def test_bad_arguments(tmp_path: Path) -> None:
    for args, message in (
        (["browse", str(SAMPLE), "no-such-bucket"], "Error: bucket not found: no-such-bucket\n"),
        (["browse", "--decoder", "nope", str(SAMPLE)], "Error: unknown decoder 'nope'"),
        (["browse", "--write", "no-such.db"], "Error: open no-such.db: no such file or directory "
         "(browse --write changes files, it does not create them)\n"),
        (["browse", "no-such.db"], "Error: open no-such.db: no such file or directory\n"),
    ):
        r = subprocess.run([sys.executable, "-m", "pybbolt", *args], capture_output=True,
                           text=True, timeout=60, cwd=tmp_path)
        assert r.returncode == 1 and r.stderr.startswith(message), r.stderr
    assert list(tmp_path.iterdir()) == []


# -- --write ---------------------------------------------------------------------------------


def go_dump(boltgo: Path, path: Path) -> dict[str, object]:
    r = subprocess.run([str(boltgo), "dump", str(path)], capture_output=True, text=True,
                       timeout=60, check=True)
    dump: dict[str, object] = json.loads(r.stdout)
    return dump


def test_read_only_offers_no_changes() -> None:
    session = open_sample()
    app = BrowseApp(session, start=(b"execution",), watch=False)

    async def script(pilot: Pilot[None]) -> None:
        for key in "pendb":
            await pilot.press(key)
            assert len(app.screen_stack) == 1  # no form, no confirmation
        footer = {k for k, b in app.active_bindings.items() if b.binding.show}
        assert not footer & {"p", "e", "n", "d", "b"}

    try:
        drive(app, script)
    finally:
        session.close()


def test_write_put_rename_delete_buckets_verified_by_go(boltgo: Path, tmp_path: Path,
                                                         GO: GoRows) -> None:
    path = tmp_path / "sample.db"
    shutil.copyfile(SAMPLE, path)
    session = open_sample(readonly=False, path=path)
    app = BrowseApp(session, start=(b"execution",), watch=False)
    execution = GO[(b"execution",)]

    async def script(pilot: Pilot[None]) -> None:
        keys = keys_of(app)
        assert set(app.active_bindings) >= {"p", "e", "n", "d", "b"}
        # Put a new key: form, then confirmation.
        await pilot.press("p", *"e-new", "enter", *'{"ID": "e-new"}', "enter")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        assert keys.window.current == (b"e-new", b'{"ID": "e-new"}')
        # Rename it.
        await pilot.press("n", "end", "2", "enter", "y")
        assert keys.window.current == (b"e-new2", b'{"ID": "e-new"}')
        # Edit its value (hex, to reach any byte).
        await pilot.press("e")
        form = app.screen
        assert isinstance(form, FormScreen)
        assert [i.value for i in form.query(Input)] == ["e-new2", '{"ID": "e-new"}']
        form.query_one("#field-0", Input).value = b"e-new2".hex()
        form.query_one("#field-1", Input).value = "00ff"
        form.query_one("#hex", Checkbox).value = True
        form.query_one("#field-1", Input).focus()
        await pilot.press("enter", "y")
        assert keys.window.current == (b"e-new2", b"\x00\xff")
        # Delete the first key, after a "no" that changes nothing.
        await pilot.press("home", "d", "n")
        assert keys.window.current == execution[0]
        await pilot.press("d", "y")
        assert keys.window.current == execution[1]
        # A new bucket at the top level, and the deletion of a tree of buckets.
        await pilot.press("backspace", "b", *"audit", "enter", "y")
        assert keys.path == () and keys.window.current == (b"audit", None)
        await pilot.press("end", "d", "y")  # execution-index and its nested buckets
        assert [k for k, _ in keys.window.rows] == [b"audit", b"execution", HISTORY]

    try:
        drive(app, script)
    finally:
        session.close()
    before, after = go_dump(boltgo, SAMPLE), go_dump(boltgo, path)
    assert after["check"] == []
    # Six changes confirmed, one cancelled: six commits, one transaction each.
    assert after["meta"]["txid"] == before["meta"]["txid"] + 6  # type: ignore[index]
    got = go_rows(boltgo, path)
    assert [k for k, _ in got[()]] == [b"audit", b"execution", HISTORY]
    assert got[(b"audit",)] == []
    assert got[(b"execution",)] == sorted([*execution[1:], (b"e-new2", b"\x00\xff")])
    assert {p: r for p, r in got.items() if p[:1] == (HISTORY,)} == \
        {p: r for p, r in GO.items() if p[:1] == (HISTORY,)}


def test_reread_shows_a_commit_made_outside_the_view(tmp_path: Path) -> None:
    path = tmp_path / "sample.db"
    shutil.copyfile(SAMPLE, path)
    session = open_sample(readonly=False, path=path)
    app = BrowseApp(session, start=(b"execution",), watch=False)

    async def script(pilot: Pilot[None]) -> None:
        keys = keys_of(app)
        with session.db.update() as tx:
            tx.bucket(b"execution").put(b"e-0", b"late")  # type: ignore[union-attr]
        assert keys.window.rows[0] != (b"e-0", b"late")  # the view's transaction
        await pilot.press("home")
        assert keys.window.rows[0] != (b"e-0", b"late")  # still the view's transaction
        await pilot.press("r")  # keeps the selected key
        assert keys.window.current is not None and keys.window.current[0] == b"e-00af984c" \
            b"-75fd-4764-8e64-1c1f74ea06a0"
        await pilot.press("home")
        assert keys.window.rows[0] == (b"e-0", b"late")

    try:
        drive(app, script)
    finally:
        session.close()


def test_a_damaged_page_is_a_message_not_a_crash(tmp_path: Path, GO: GoRows) -> None:
    path = tmp_path / "damaged.db"
    shutil.copyfile(SAMPLE, path)
    data = bytearray(path.read_bytes())
    page_size = 4096
    # Bucket "execution" has root page 74, a branch (its header: id u64, flags
    # u16, count u16, overflow u32; then elements pos u32, ksize u32, pgid u64).
    branch = 74 * page_size
    assert int.from_bytes(data[branch + 8:branch + 10], "little") == 0x01
    first_leaf = int.from_bytes(data[branch + 24:branch + 32], "little")
    data[first_leaf * page_size + 8:first_leaf * page_size + 10] = b"\x00\x00"  # no type
    path.write_bytes(data)
    session = open_sample(path=path)
    app = BrowseApp(session, watch=False)

    async def script(pilot: Pilot[None]) -> None:
        keys = keys_of(app)
        await pilot.press("down")  # the tree: execution
        assert keys.path == (b"execution",) and keys.window.rows == []
        messages = [n.message for n in app._notifications]
        assert messages == ["cannot read /execution: assertion failed: "
                            f"page {first_leaf}: has unexpected type/flags: 0"]
        await pilot.press("down")  # the rest of the file reads as before
        assert keys.path == (HISTORY,) and keys.window.rows[:3] == GO[(HISTORY,)][:3]
        await pilot.press("tab", "backspace", "s")  # stats of every bucket meet the damage
        assert keys.path == () and len(app.screen_stack) == 1
        assert [n.message for n in app._notifications][1:] == [
            f"assertion failed: page {first_leaf}: has unexpected type/flags: 0"]

    try:
        drive(app, script)
    finally:
        session.close()
    assert app.return_code in (None, 0)


def test_decoder_told_by_the_buckets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(decode.BUILTIN, "raft", "tests.browse_util:RAFT_STANDIN")
    path = tmp_path / "raft.db"
    with pybbolt.open(path) as db, db.update() as tx:
        tx.create_bucket(b"logs").put((1).to_bytes(8, "big"), b"\x01\x02\x03")
        tx.create_bucket(b"conf").put(b"latest", b"hello")
    session = Session(pybbolt.open(path, readonly=True))
    app = BrowseApp(session, start=(b"logs",), watch=False)

    async def script(pilot: Pilot[None]) -> None:
        assert app.decoder == "raft" and app.sub_title.endswith("(read-only, decoder raft)")
        pane = app.query_one("#value-pane")
        assert app.value_text == json.dumps({"index": 1, "bytes": 3}, indent=2)
        assert pane.border_title == "value · decoder:raft (auto)"
        await pilot.press("backspace", "up", "enter")  # conf: not a log entry: text
        assert app.value_text == "hello" and pane.border_title == "value · text (auto)"
        await pilot.press("v", "v", "v", "v")  # text, json, hex, the decoder's
        assert app.value_text == "(decoder raft: not a log entry)"

    try:
        drive(app, script)
    finally:
        session.close()
    session = Session(pybbolt.open(path, readonly=True))
    try:  # --decoder wins over the buckets
        assert BrowseApp(session, decoder="json").decoder == "json"
    finally:
        session.close()


def test_a_changed_file_is_noticed(tmp_path: Path) -> None:
    path = tmp_path / "sample.db"
    shutil.copyfile(SAMPLE, path)
    session = open_sample(path=path)
    app = BrowseApp(session)
    app.WATCH_SECONDS = 0.05

    async def script(pilot: Pilot[None]) -> None:
        await pilot.pause(0.3)
        assert list(app._notifications) == []
        os.utime(path, ns=(0, 0))  # as a write by another program would change it
        await wait_for(pilot, lambda: len(app._notifications) > 0)
        assert [n.message for n in app._notifications] == ["the file changed: r re-reads it"]
        await pilot.press("r")
        assert [n.message for n in app._notifications][1:] == [
            f"re-read: transaction {session.tx.id}"]
        await pilot.pause(0.3)  # re-read: no new warning
        assert len(app._notifications) == 2

    try:
        drive(app, script)
    finally:
        session.close()


def test_value_views_of_awkward_values() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    assert render_auto(deep, b"k", (), None) == ("text", deep.decode())
    assert render_value(deep, b"k", (), "json") == "(JSON nested too deeply to show)"
    assert render_value(b"{oops", b"k", (), "json").startswith("(not JSON: Expecting")
    # Control characters would move the terminal's cursor: shown escaped.
    assert render_auto(b"a\x1b[2Jb\tc\n", b"k", (), None) == (
        "hex", "00000000  61 1b 5b 32 4a 62 09 63  0a                       |a.[2Jb.c.|")
    assert render_value(b"a\x1b[2Jb\tc\n\xff", b"k", (), "text") == "a\\x1b[2Jb\tc\n\\xff"
    assert render_auto(b"", b"k", (), None) == ("text", "")
    big = b"x" * (300 * 1024)
    assert render_value(big, b"k", (), "text") == "x" * (256 * 1024) + \
        f"\n… {44 * 1024:,} more bytes not shown"
    assert render_value(b"\x00" * 20, b"k", (), "hex", width=30).splitlines() == [
        f"{offset:08x}  00 00  00 00  |....|" for offset in range(0, 20, 4)]  # 4 a line fit


def test_real_etcd_file_opens_with_the_etcd_decoder() -> None:
    session = Session(pybbolt.open(SAMPLE.parent / "real" / "etcd34.db", readonly=True))
    app = BrowseApp(session, start=(b"key",), watch=False)

    async def script(pilot: Pilot[None]) -> None:
        assert app.decoder == "etcd" and app.sub_title.endswith("(read-only, decoder etcd)")
        assert app.query_one("#value-pane").border_title == "value · decoder:etcd (auto)"
        assert app.value_text.startswith("{")  # mvccpb.KeyValue as JSON

    try:
        drive(app, script)
    finally:
        session.close()
