"""Running a pybbolt command line in-process, as the shell would, for exact-output tests."""

from __future__ import annotations

import io
import sys

from pybbolt.cli.main import execute


def run(*argv: object, stdin: bytes = b"") -> tuple[int, str, str]:
    """``pybbolt ARGV...`` with ``stdin``: (exit status, stdout, stderr) as text."""
    out, err = io.BytesIO(), io.BytesIO()
    saved = sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    try:
        status = execute([str(a) for a in argv], out, err)
    finally:
        sys.stdin = saved
    return (status, out.getvalue().decode("utf-8", "surrogateescape"),
            err.getvalue().decode("utf-8", "surrogateescape"))


def ok(*argv: object, stdin: bytes = b"") -> str:
    """The standard output of a command line that must succeed quietly on stderr."""
    status, out, err = run(*argv, stdin=stdin)
    assert (status, err) == (0, ""), (argv, status, err)
    return out
