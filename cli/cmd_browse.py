"""``pybbolt browse DB [BUCKET...]``: the terminal browser (the extra ``pybbolt[browse]``).

Textual is imported only when the browser runs; without it the command says
how to install it.  The file is opened before the interface starts, so a
lock held by another process is reported in plain words on the terminal.
"""

from __future__ import annotations

import errno
import os
import sys

import click

INSTALL_HINT = (
    "pybbolt browse needs the Textual library, which pybbolt installs as an extra:\n"
    "    pip install 'pybbolt[browse]'\n"
)


def lock_message(path: str, writable: bool, timeout: float) -> str:
    """Why opening ``path`` timed out, and what to do about it."""
    if writable:
        held = ("another process has it open (bbolt takes an exclusive lock to write, "
                "and any reader, such as a running service or another browser, blocks it)")
    else:
        held = ("another process holds its exclusive write lock: usually the service that "
                "owns the file (etcd, containerd, Bacalhau, ...) is running")
    return (
        f"timeout: could not lock {path} within {timeout:g}s: {held}.\n"
        "Stop that process, or browse a copy taken while it is stopped, or wait longer "
        "with --timeout (0 waits for as long as it takes)."
    )


@click.command(name="browse")
@click.argument("db", type=click.Path(dir_okay=False))
@click.argument("bucket", nargs=-1)
@click.option("--write", is_flag=True,
              help="Allow changes (put, delete, rename, buckets), each confirmed and "
                   "committed as one transaction. Takes the exclusive lock.")
@click.option("--timeout", type=float, default=2.0, show_default=True,
              help="Seconds to wait for the file lock (0: wait as long as it takes).")
@click.option("--decoder", metavar="NAME",
              help="A value decoder (e.g. json, or module:function) offered as a view "
                   "and chosen for every value.")
def browse(db: str, bucket: tuple[str, ...], write: bool, timeout: float,
           decoder: str | None) -> int:
    """Browse DB in a terminal user interface.

    Starts at BUCKET (nested names, outermost first) if given. Opens the file
    read-only with a shared lock unless --write is given. Press ? in the
    browser for the keys. Needs the extra: pip install 'pybbolt[browse]'.
    """
    try:
        import textual  # noqa: F401  (the extra; its absence is reported, not raised)
    except ImportError:
        sys.stderr.write(INSTALL_HINT)
        return 1

    import pybbolt
    from pybbolt.decode import get_decoder

    from .browse_app import BrowseApp
    from .browse_model import Session, path_names

    if decoder is not None:
        get_decoder(decoder)  # an unknown name fails here, with the known ones listed
    if write and not os.path.exists(db):  # opening for writing would create it
        from pybbolt.oserrors import errno_text

        sys.stderr.write(f"Error: open {db}: {errno_text(errno.ENOENT)} "
                         "(browse --write changes files, it does not create them)\n")
        return 1
    try:
        database = pybbolt.open(db, readonly=not write, timeout=timeout or None)
    except pybbolt.Timeout:
        sys.stderr.write(f"Error: {lock_message(db, write, timeout)}\n")
        return 1
    session = Session(database)
    try:
        start = path_names(bucket)
        if start and session.bucket(start) is None:
            sys.stderr.write(f"Error: bucket not found: {' '.join(bucket)}\n")
            return 1
        BrowseApp(session, start, decoder).run()
    finally:
        session.close()
    return 0
