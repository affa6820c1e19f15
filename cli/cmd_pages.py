"""Commands that look at pages: pages, page, page-item, dump."""

from __future__ import annotations

from .common import check_source_path, open_readonly
from .goparse import NumError, parse_uint
from .runtime import CommandError, Crash, Invocation, Output
from .textfmt import FormatError, format_bytes, go_quote, is_printable

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from pybbolt.pagefile import RawPage

SEPARATOR = b"===============================================\n"


def parse_page_ids(words: Sequence[str]) -> list[int]:
    """bbolt's ``stringToPages``: decimal u64 ids, empty strings skipped."""
    ids = []
    for word in words:
        if word == "":
            continue
        try:
            ids.append(parse_uint(word, 10, 64))
        except NumError as e:
            raise CommandError(str(e)) from None
    return ids


def run_pages(inv: Invocation) -> None:
    from pybbolt.pagetable import page_rows

    if inv.opts.get_bool("json"):
        from .cmd_json import run_pages_json

        return run_pages_json(inv)
    path = inv.args[0]
    check_source_path(path)
    with open_readonly(path, inv) as db, db.view() as tx:
        rows = page_rows(tx)
        out = inv.out
        out.write(b"ID       TYPE       ITEMS  OVRFLW\n======== ========== ====== ======\n")
        # A free page shows neither count nor overflow, an overflow of 0 none
        # (%-formatting: a third cheaper than f-strings with format specs).
        lines: list[str] = []
        try:
            for pgid, kind, count, overflow in rows:
                if kind == "free":
                    lines.append("%-8d free                    \n" % pgid)  # noqa: UP031
                elif overflow > 0:
                    lines.append("%-8d %-10s %-6d %-6d\n" % (pgid, kind, count, overflow))  # noqa: UP031
                else:
                    lines.append("%-8d %-10s %-6d       \n" % (pgid, kind, count))  # noqa: UP031
                if len(lines) >= 4096:
                    out.text("".join(lines))
                    lines.clear()
        finally:
            out.text("".join(lines))  # bbolt prints each row before it reads the next page


# --- page ---------------------------------------------------------------------


def key_text(key: bytes) -> bytes:
    """How ``page`` shows a key: Go-quoted if printable, else hex."""
    if is_printable(key):
        return go_quote(key).encode("utf-8")
    return key.hex().encode("ascii")


def _print_leaf(out: Output, page: RawPage, mode: str) -> None:
    from pybbolt.pagefile import bucket_header, leaf_items

    out.text(f"Item Count: {page.header.count}\n\n")
    for item in leaf_items(page):
        if item.is_bucket:
            root, sequence = bucket_header(item)
            value = f"<pgid={root},seq={sequence}>".encode()
        else:
            value = format_bytes(item.value, mode)
        out.write(key_text(item.key) + b": " + value + b"\n")
    out.write(b"\n")


def _print_branch(out: Output, page: RawPage) -> None:
    from pybbolt.pagefile import branch_items

    out.text(f"Item Count: {page.header.count}\n\n")
    for item in branch_items(page):
        out.write(key_text(item.key) + f": <pgid={item.pgid}>\n".encode())
    out.write(b"\n")


def _print_freelist(out: Output, page: RawPage) -> None:
    from pybbolt.pagefile import freelist_ids

    ids = freelist_ids(page)
    out.text(f"Item Count: {len(ids)}\nOverflow: {page.header.overflow}\n\n")
    out.text("".join(f"{i}\n" for i in ids))
    out.write(b"\n")


def _print_meta(out: Output, page: RawPage) -> None:
    from pybbolt.pagefile import page_meta

    m = page_meta(page)
    out.text(
        f"Version:    {m.version}\n"
        f"Page Size:  {m.page_size} bytes\n"
        f"Flags:      {m.flags:08x}\n"
        f"Root:       <pgid={m.root}>\n"
        f"Freelist:   <pgid={m.freelist}>\n"
        f"HWM:        <pgid={m.pgid}>\n"
        f"Txn ID:     {m.txid}\n"
        f"Checksum:   {m.checksum:016x}\n"
        "\n"
    )


def print_page(out: Output, path: str, pgid: int, mode: str) -> int:
    """bbolt's ``printPage``: one page in human readable form; returns its overflow."""
    from pybbolt.pagefile import read_page

    page = read_page(path, pgid)
    header = page.header
    out.text(
        f"Page ID:    {header.id}\n"
        f"Page Type:  {page.type_name}\n"
        f"Total Size: {len(page.data)} bytes\n"
        f"Overflow pages: {header.overflow}\n"
    )
    kind = page.type_name
    if kind == "meta":
        _print_meta(out, page)
    elif kind == "leaf":
        _print_leaf(out, page, mode)
    elif kind == "branch":
        _print_branch(out, page)
    elif kind == "freelist":
        _print_freelist(out, page)
    return header.overflow


def _try_print_page(out: Output, path: str, pgid: int, mode: str) -> int | None:
    """:func:`print_page`, a failure reported as bbolt's "Prining page" line."""
    import pybbolt

    try:
        return print_page(out, path, pgid, mode)
    except (pybbolt.Error, FormatError) as e:
        out.text(f"Prining page {pgid} failed: {e}. Continuing...\n")
        return None


def run_page(inv: Invocation) -> None:
    from pybbolt.pagefile import RawPageError, read_meta0_geometry

    path = inv.args[0]
    ids = parse_page_ids(inv.args[1:])
    show_all = inv.opts.get_bool("all")
    mode = inv.opts.get_str("format-value")
    if not ids and not show_all:
        raise CommandError("page id required")
    if show_all and ids:
        raise CommandError("invalid args: either use '--all' or 'pageid...'")
    check_source_path(path)
    out = inv.out
    if not show_all:
        for i, pgid in enumerate(ids):
            if i:
                out.write(SEPARATOR)
            _try_print_page(out, path, pgid, mode)
        return
    try:
        _page_size, hwm = read_meta0_geometry(path)
    except RawPageError as e:
        out.text(f"cannot read number of pages: {e}")
        return
    pgid = 0
    while pgid < hwm:
        if pgid:
            out.write(SEPARATOR)
        overflow = _try_print_page(out, path, pgid, mode)
        pgid += 1 if overflow is None else overflow + 1


# --- page-item ----------------------------------------------------------------


def run_page_item(inv: Invocation) -> None:
    from pybbolt.pagefile import page_item, read_page

    path = inv.args[0]
    try:
        pgid = parse_uint(inv.args[1], 10, 64)
        index = parse_uint(inv.args[2], 10, 64) & 0xFFFF
    except NumError as e:
        raise CommandError(str(e)) from None
    key_only = inv.opts.get_bool("key-only")
    value_only = inv.opts.get_bool("value-only")
    if key_only and value_only:
        raise CommandError("the --key-only or --value-only flag may be set, but not both")
    check_source_path(path)
    page = read_page(path, pgid)
    mode = inv.opts.get_str("format")
    try:
        if not value_only:
            inv.out.write(format_bytes(page_item(page, index).key, mode) + b"\n")
        if not key_only:
            inv.out.write(format_bytes(page_item(page, index).value, mode) + b"\n")
    except FormatError as e:
        raise CommandError(str(e)) from None


# --- dump -----------------------------------------------------------------------


def hexdump_lines(data: bytes, address: int) -> Iterator[str]:
    """bbolt's ``dumpPage`` layout: 16-byte lines, repeated lines folded as ``*``.

    The last line of the page is always printed in full.  A page whose size
    is not a multiple of 16 stops (as Go's slicing panics) at its partial line.
    """
    size = len(data)
    prev: bytes | None = None
    skipped = False
    for offset in range(0, size, 16):
        if offset + 16 > size:
            raise Crash(
                f"runtime error: slice bounds out of range [:{offset + 16}] with capacity {size}"
            )
        line = data[offset : offset + 16]
        if line == prev and offset != size - 16:
            if not skipped:
                yield f"{address + offset:07x} *\n"
                skipped = True
        else:
            h = line.hex()
            yield (
                f"{address + offset:07x} {h[0:4]} {h[4:8]} {h[8:12]} {h[12:16]} "
                f"{h[16:20]} {h[20:24]} {h[24:28]} {h[28:32]}\n"
            )
            skipped = False
        prev = line
    yield "\n"


def hexdump_page(data: bytes, address: int) -> bytes:
    """The whole dump of one page (see :func:`hexdump_lines`)."""
    return "".join(hexdump_lines(data, address)).encode("ascii")


def run_dump(inv: Invocation) -> None:
    from pybbolt.pagefile import read_block, read_meta0_geometry

    path = inv.args[0]
    ids = parse_page_ids(inv.args[1:])
    if not ids:
        raise CommandError("page id required")
    check_source_path(path)
    page_size, _hwm = read_meta0_geometry(path)
    for i, pgid in enumerate(ids):
        if i:
            inv.out.write(SEPARATOR)
        data = read_block(path, pgid, page_size)
        address = (pgid * page_size) & ((1 << 64) - 1)
        lines: list[str] = []
        try:
            lines.extend(hexdump_lines(data, address))
        finally:
            inv.out.text("".join(lines))
