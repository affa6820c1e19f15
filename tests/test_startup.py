"""Start-up cost of the CLI (issue #6): what `pybbolt get` and `buckets` import.

`get` and `buckets` are mostly interpreter start-up and imports, so the read
path keeps heavy modules out: the package imports its API on first use, the
CLI imports only the command it runs, and nothing on the way needs typing,
dataclasses, threading, contextlib (and the functools, collections, inspect
they pull in).  The probes run in a fresh interpreter without site (as a
regular install sees it: the editable install's import hook preloads pathlib,
re, functools...), with the package mapped as pyproject.toml maps it.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

import pybbolt
from pybbolt.db import Info
from pybbolt.meta import Meta, replace
from pybbolt.page import PageHeader

from .conftest import FIXTURES, ROOT

SAMPLE = FIXTURES / "bacalhau_compute.db"
KEY = "e-00af984c-75fd-4764-8e64-1c1f74ea06a0"

# Never on the get/buckets path: the stdlib modules that cost the most, and
# pybbolt's modules for other commands.
HEAVY = {
    "typing", "dataclasses", "inspect", "ast", "dis", "tokenize", "threading",
    "contextlib", "functools", "collections", "re", "enum", "hashlib", "csv",
    "pathlib", "urllib.parse", "importlib.util", "click", "construct",
}
OTHER_COMMANDS = {
    "pybbolt.check", "pybbolt.stats", "pybbolt.compact", "pybbolt.surgery", "pybbolt.pagefile",
    "pybbolt.inspect", "pybbolt.cli.usage", "pybbolt.cli.clickhelp",
    "pybbolt.cli.cmd_check", "pybbolt.cli.cmd_pages", "pybbolt.cli.cmd_bench",
    "pybbolt.cli.cmd_surgery", "pybbolt.cli.cmd_compact", "pybbolt.unicode_print",
}

_PROBE = """
import io, sys
sys.path.insert(0, {root!r})
before = set(sys.modules)
import pybbolt
package = sorted(set(sys.modules) - before)
pybbolt.__path__.append({root!r})  # pybbolt.cli is cli/, as pyproject.toml maps it
from pybbolt.cli.main import execute
out, err = io.BytesIO(), io.BytesIO()
status = execute({argv!r}, out, err)
print(repr((package, sorted(set(sys.modules) - before), status, out.getvalue(), err.getvalue())))
"""


def _probe(argv: list[str]) -> tuple[list[str], set[str], int, bytes, bytes]:
    code = _PROBE.format(root=str(ROOT), argv=argv)
    run = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd="/", check=True
    )
    package, loaded, status, out, err = ast.literal_eval(run.stdout)
    return package, set(loaded), status, out, err


def test_import_pybbolt_loads_only_the_errors() -> None:
    package, _, _, _, _ = _probe(["version"])
    assert [m for m in package if m.startswith("pybbolt")] == ["pybbolt", "pybbolt.errors"]


@pytest.mark.parametrize(
    ("argv", "expected", "unused"),
    [
        (["buckets", str(SAMPLE)], b"execution\nexecution-history\nexecution-index\n",
         {"pybbolt.cli.textfmt"}),
        (["get", str(SAMPLE), "execution", KEY], b'{"ID":"' + KEY.encode(), set()),
    ],
)
def test_read_commands_import_little(argv: list[str], expected: bytes, unused: set[str]) -> None:
    _, loaded, status, out, err = _probe(argv)
    assert (status, err) == (0, b"")
    assert out.startswith(expected)
    assert loaded & HEAVY == set()
    assert loaded & (OTHER_COMMANDS | unused) == set()


@pytest.mark.parametrize("argv", [["check", str(SAMPLE)], ["stats", str(SAMPLE)],
                                  ["inspect", str(SAMPLE)], ["pages", str(SAMPLE)],
                                  ["keys", str(SAMPLE), "execution"]],
                         ids=["check", "stats", "inspect", "pages", "keys"])
def test_walk_commands_import_no_heavy_module(argv: list[str]) -> None:
    """On the small files people mostly have, the walks cost less than
    ``import dataclasses`` (which imports inspect, re, enum): their result
    types are records that dataclasses accepts without being dataclasses."""
    _, loaded, status, _, err = _probe(argv)
    assert (status, err) == (0, b"")
    assert loaded & HEAVY == set()


def test_the_page_dump_parses_with_construct() -> None:
    """construct is kept off the read path, not out of the package: the cold
    page dumps parse with the declarations of pybbolt.layout."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "pybbolt", "page", str(SAMPLE), "0"],
        capture_output=True, cwd=ROOT, check=False,
    )
    assert run.returncode == 0
    assert run.stdout.startswith(b"Page ID:    0\nPage Type:  meta\n")
    imported = {line.rsplit(b"|", 1)[-1].strip() for line in run.stderr.splitlines()}
    assert {b"construct", b"pybbolt.pagefile"} <= imported


def test_python_dash_m_pybbolt_is_the_command() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pybbolt", "buckets", str(SAMPLE)],
        capture_output=True, cwd=ROOT, check=False,
    )
    assert (run.returncode, run.stdout, run.stderr) == (
        0, b"execution\nexecution-history\nexecution-index\n", b""
    )


def test_public_names() -> None:
    for name in pybbolt.__all__:
        assert getattr(pybbolt, name) is not None
        assert name in dir(pybbolt)
    with pytest.raises(AttributeError):
        _ = pybbolt.no_such_name


def test_compact_stays_the_function_after_importing_its_module() -> None:
    code = (
        "import sys, pybbolt.compact, pybbolt; "
        "print(pybbolt.compact is sys.modules['pybbolt.compact'].compact)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.stdout.strip() == "True", run.stderr


def test_meta_is_an_immutable_value() -> None:
    m = Meta(1, 2, 4096, 0, 3, 0, 2, 4, 5, 6)
    assert m == Meta(**vars(m)) and hash(m) == hash(Meta(*m.fields()))
    assert repr(m) == (
        "Meta(magic=1, version=2, page_size=4096, flags=0, root=3, sequence=0, "
        "freelist=2, pgid=4, txid=5, checksum=6)"
    )
    changed = replace(m, txid=7)
    assert (changed.txid, changed.checksum, m.txid) == (7, 6, 5)
    with pytest.raises(AttributeError):
        m.txid = 8
    with pytest.raises(TypeError):
        replace(m, nonsense=1)


def test_page_header() -> None:
    h = PageHeader(3, 2, 10, 0)
    assert h == PageHeader(3, 2, 10, 0) != PageHeader(3, 2, 10, 1)
    assert hash(h) == hash(PageHeader(3, 2, 10, 0))
    assert repr(h) == "PageHeader(id=3, flags=2, count=10, overflow=0)"


def test_info_is_a_value() -> None:
    assert Info(4096) == Info(page_size=4096) != Info(8192)
    assert hash(Info(4096)) == hash(Info(4096))
    assert repr(Info(4096)) == "Info(page_size=4096)"


def test_spec_format_modes_are_textfmt_modes() -> None:
    from pybbolt.cli import spec, textfmt

    assert spec.FORMAT_MODES == textfmt.FORMAT_MODES


def test_ascii_printability_needs_no_table() -> None:
    from pybbolt.cli.textfmt import is_printable

    from pybbolt.unicode_print import is_print

    for code in range(128):
        assert is_printable(bytes([code])) == is_print(code)
    assert is_printable(b"") and is_printable(b"plain text") and not is_printable(b"tab\t")
