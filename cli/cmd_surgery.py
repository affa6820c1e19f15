"""The surgery commands: argument checks and messages around :mod:`pybbolt.surgery`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from .common import check_source_path
from .goparse import NumError, parse_uint
from .runtime import CommandError, Invocation

T = TypeVar("T")

_ABANDON_WARNING = (
    "WARNING: The clearing has abandoned some pages that are not yet referenced from free list.\n"
    "Please consider executing `./bbolt surgery freelist abandon ...`\n"
)


def _output(inv: Invocation) -> str:
    """The common ``--output`` check of every surgery command that writes."""
    output = inv.opts.get_str("output")
    if output == "":
        raise CommandError(
            "output database path wasn't given, specify output database file path with "
            "--output option"
        )
    return output


def _step(prefix: str, action: Callable[[], T]) -> T:
    """Run one step; a pybbolt error becomes the command's error with ``prefix``."""
    import pybbolt

    try:
        return action()
    except pybbolt.CorruptionError:
        raise
    except pybbolt.Error as e:
        raise CommandError(f"{prefix}{e}") from None


def _copy(inv: Invocation, label: str, output: str) -> None:
    from pybbolt.surgery import copy_file

    _step(f"[{label}] copy file failed: ", lambda: copy_file(inv.args[0], output))


def run_revert_meta_page(inv: Invocation) -> None:
    from pybbolt.surgery import revert_meta_page

    output = _output(inv)
    check_source_path(inv.args[0])
    _copy(inv, "revert-meta-page", output)
    _step("revert-meta-page command failed: ", lambda: revert_meta_page(output))
    inv.out.text("The meta page is reverted.\n")


def run_copy_page(inv: Invocation) -> None:
    from pybbolt.layout import PGID_NO_FREELIST
    from pybbolt.surgery import active_meta, copy_page

    output = _output(inv)
    src, dst = inv.opts.get_int("from-page"), inv.opts.get_int("to-page")
    if src == dst:
        raise CommandError(f"'--from-page' and '--to-page' have the same value: {src}")
    check_source_path(inv.args[0])
    _copy(inv, "copy-page", output)
    _step("copy-page command failed: ", lambda: copy_page(output, src, dst))
    meta = _step("", lambda: active_meta(inv.args[0]))
    if meta.freelist != PGID_NO_FREELIST:
        inv.out.text(
            "WARNING: the free list might have changed.\n"
            "Please consider executing `./bbolt surgery freelist abandon ...`\n"
        )
    inv.out.text(f"The page {src} was successfully copied to page {dst}\n")


def _page_id(inv: Invocation) -> int:
    pgid = inv.opts.get_int("pageId")
    if pgid < 2:
        raise CommandError(f"the pageId must be at least 2, but got {pgid}")
    return pgid


def run_clear_page(inv: Invocation) -> None:
    from pybbolt.surgery import clear_page_elements

    output = _output(inv)
    pgid = _page_id(inv)
    check_source_path(inv.args[0])
    _copy(inv, "clear-page", output)
    abandon = _step(
        "clear-page command failed: ", lambda: clear_page_elements(output, pgid, 0, -1)
    )
    if abandon:
        inv.out.text(_ABANDON_WARNING)
    inv.out.text(f"The page ({pgid}) was cleared\n")


def run_clear_page_elements(inv: Invocation) -> None:
    from pybbolt.surgery import clear_page_elements

    output = _output(inv)
    pgid = _page_id(inv)
    start, end = inv.opts.get_int("from-index"), inv.opts.get_int("to-index")
    check_source_path(inv.args[0])
    _copy(inv, "clear-page-element", output)
    abandon = _step(
        "clear-page-element command failed: ",
        lambda: clear_page_elements(output, pgid, start, end),
    )
    if abandon:
        inv.out.text(_ABANDON_WARNING)
    inv.out.text(f"All elements in [{start}, {end}) in page {pgid} were cleared\n")


def run_freelist_abandon(inv: Invocation) -> None:
    from pybbolt.surgery import clear_freelist

    output = _output(inv)
    check_source_path(inv.args[0])
    _copy(inv, "freelist abandon", output)
    _step("abandom-freelist command failed: ", lambda: clear_freelist(output))
    inv.out.text(
        "The freelist was abandoned in both meta pages.\n"
        "It may cause some delay on next startup because bbolt needs to scan the whole db "
        "to reconstruct the free list.\n"
    )


def run_freelist_rebuild(inv: Invocation) -> None:
    from pybbolt.layout import PGID_NO_FREELIST
    from pybbolt.surgery import active_meta, rebuild_freelist

    output = _output(inv)
    check_source_path(inv.args[0])
    meta = _step("", lambda: active_meta(inv.args[0]))
    if meta.freelist != PGID_NO_FREELIST:
        raise CommandError(
            "the file already has freelist, please consider to abandon the freelist to "
            "forcibly rebuild it"
        )
    _copy(inv, "freelist rebuild", output)
    _step("", lambda: rebuild_freelist(output))
    inv.out.text("The freelist was successfully rebuilt.\n")


def run_meta_validate(inv: Invocation) -> None:
    from pybbolt.surgery import validate_metas

    check_source_path(inv.args[0])
    checks = _step("", lambda: validate_metas(inv.args[0]))
    for check in checks:
        if check.error is not None:
            inv.out.text(f"WARNING: The meta page {check.page} isn't valid: {check.error}!\n")
        else:
            inv.out.text(f"The meta page {check.page} is valid!\n")


def parse_meta_fields(items: list[str]) -> dict[str, int]:
    """Validate ``--fields`` items (``key:value``) as bbolt does; later items win."""
    from pybbolt.surgery import META_FIELDS

    fields: dict[str, int] = {}
    for item in items:
        kv = item.split(":")
        if len(kv) != 2:
            raise CommandError(f"invalid key-value pair: {item}")
        key, text = kv
        if key not in META_FIELDS:
            raise CommandError(f'field "{key}" isn\'t allowed to be updated')
        try:
            fields[key] = parse_uint(text, 10, 64)
        except NumError:
            raise CommandError(f'invalid value "{text}" for field "{key}"') from None
    return fields


def run_meta_update(inv: Invocation) -> None:
    from pybbolt.surgery import encode_meta_into, read_meta_page_at, update_meta, write_meta_page_at

    output = _output(inv)
    meta_page = inv.opts.get_int("meta-page")
    if meta_page > 1:
        raise CommandError(f"invalid meta page id: {meta_page}")
    fields = parse_meta_fields(inv.opts.get_strings("fields"))
    check_source_path(inv.args[0])
    _copy(inv, "meta update", output)
    page_size = 0
    if meta_page == 1:
        first = _step(
            "read the first meta page failed: ", lambda: read_meta_page_at(output, 0, 0)
        )
        page_size = first[0].page_size
    found = _step(
        f"read meta page {meta_page} failed: ",
        lambda: read_meta_page_at(output, meta_page, page_size),
    )
    meta, buf = found
    meta, changed = update_meta(meta, fields)
    if changed:
        encode_meta_into(buf, meta)
        _step(
            f"[meta update] write meta page {meta_page} failed: ",
            lambda: write_meta_page_at(output, buf, meta_page, page_size),
        )
    if meta_page == 1 and page_size != meta.page_size:
        inv.out.text(
            f"WARNING: The page size ({page_size}) in the first meta page doesn't match the "
            f"second meta page ({meta.page_size})\n"
        )
    if changed:
        inv.out.text(f"The meta page {meta_page} has been updated!\n")
    else:
        inv.out.text("Nothing changed!\n")
