"""surgery: the damaged files of the golden set were made with bbolt's surgery
commands, so doing the same surgery must give the same bytes."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from pybbolt.cli.cmd_surgery import parse_meta_fields
from pybbolt.cli.main import execute
from pybbolt.cli.runtime import CommandError

GOLDEN = Path(__file__).resolve().parents[1].parent / "shared" / "golden"


def run(*argv: str) -> tuple[int, bytes, bytes]:
    out, err = io.BytesIO(), io.BytesIO()
    status = execute(list(argv), out, err)
    return status, out.getvalue(), err.getvalue()


def golden(name: str) -> Path:
    path = GOLDEN / name
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the golden set is required in CI: {path} is missing")
        pytest.skip("../shared/golden is not present next to the repository")
    return path


@pytest.mark.parametrize(
    ("argv", "made", "stdout"),
    [
        (
            ["freelist", "abandon"],
            "bad/freelist_abandoned.db",
            b"The freelist was abandoned in both meta pages.\nIt may cause some delay on next "
            b"startup because bbolt needs to scan the whole db to reconstruct the free list.\n",
        ),
        (
            ["copy-page", "--from-page", "3", "--to-page", "8"],
            "bad/copy_page_key_order.db",
            b"WARNING: the free list might have changed.\nPlease consider executing "
            b"`./bbolt surgery freelist abandon ...`\nThe page 3 was successfully copied to "
            b"page 8\n",
        ),
        (
            ["clear-page", "--pageId", "41"],
            "bad/cleared_branch.db",
            b"WARNING: The clearing has abandoned some pages that are not yet referenced from "
            b"free list.\nPlease consider executing `./bbolt surgery freelist abandon ...`\n"
            b"The page (41) was cleared\n",
        ),
        (
            ["meta", "update", "--meta-page", "1", "--fields", "pgid:34"],
            "bad/meta_hwm_lowered.db",
            b"The meta page 1 has been updated!\n",
        ),
    ],
)
def test_surgery_reproduces_golden_damage(
    tmp_path: Path, argv: list[str], made: str, stdout: bytes
) -> None:
    src = golden("db/multi_buckets.db")
    expected = golden(made)
    out = tmp_path / "out.db"
    status, got, err = run("surgery", *argv, str(src), "--output", str(out))
    assert (status, got, err) == (0, stdout, b"")
    assert out.read_bytes() == expected.read_bytes()
    # the output must not exist yet
    status, got, err = run("surgery", *argv, str(src), "--output", str(out))
    assert status == 1 and got == b"" and b"already exists" in err


def test_revert_meta_and_rebuild(tmp_path: Path) -> None:
    abandoned = golden("bad/freelist_abandoned.db")
    rebuilt = tmp_path / "rebuilt.db"
    status, out, _ = run("surgery", "freelist", "rebuild", str(abandoned), "--output", str(rebuilt))
    assert (status, out) == (0, b"The freelist was successfully rebuilt.\n")
    assert run("check", str(rebuilt))[:2] == (0, b"OK\n")
    status, _, err = run(
        "surgery", "freelist", "rebuild", str(rebuilt), "--output", str(tmp_path / "x.db")
    )
    assert status == 1 and b"already has freelist" in err
    assert not (tmp_path / "x.db").exists()
    reverted = tmp_path / "reverted.db"
    assert run("surgery", "revert-meta-page", str(rebuilt), "--output", str(reverted))[:2] == (
        0, b"The meta page is reverted.\n",
    )
    data = reverted.read_bytes()
    assert data[16:1024] == data[4096 + 16 : 4096 + 1024]


def test_meta_validate() -> None:
    assert run("surgery", "meta", "validate", str(golden("bad/meta0_bad_checksum.db"))) == (
        0, b"WARNING: The meta page 0 isn't valid: checksum error!\nThe meta page 1 is valid!\n",
        b"",
    )
    status, out, err = run("surgery", "meta", "validate", str(golden("bad/short_1000.db")))
    assert (status, out) == (1, b"")
    assert err.startswith(b"Error: read meta page 0 failed: EOF\n")


def test_clear_page_elements_in_the_middle(tmp_path: Path) -> None:
    out = tmp_path / "out.db"
    status, text, _ = run(
        "surgery", "clear-page-elements", str(golden("db/multi_buckets.db")), "--output",
        str(out), "--pageId", "2", "--from-index", "1", "--to-index", "3",
    )
    assert (status, text) == (0, b"All elements in [1, 3) in page 2 were cleared\n")
    assert run("check", str(out))[:2] == (0, b"OK\n")
    listing = run("page", str(out), "2")[1]
    assert b"Item Count: 46\n" in listing
    assert b'"gamma-key-00001"' in listing and b'"gamma-key-00002"' not in listing


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["copy-page", "--from-page", "3", "--to-page", "3", "--output", "o"],
         b"'--from-page' and '--to-page' have the same value: 3"),
        (["clear-page", "--pageId", "1", "--output", "o"],
         b"the pageId must be at least 2, but got 1"),
        (["clear-page", "--pageId", "5", "--output", ""],
         b"output database path wasn't given"),
        (["meta", "update", "--meta-page", "2", "--output", "o"], b"invalid meta page id: 2"),
        (["revert-meta-page"], b'required flag(s) "output" not set'),
    ],
)
def test_argument_errors(tmp_path: Path, argv: list[str], message: bytes) -> None:
    status, out, err = run("surgery", *argv, str(tmp_path / "missing.db"))
    assert (status, out) == (1, b"")
    assert err.startswith(b"Error: " + message)


def test_meta_fields() -> None:
    assert parse_meta_fields(["root:3", "pgid:9", "root:4"]) == {"root": 4, "pgid": 9}
    for bad, message in (
        ("root", "invalid key-value pair: root"),
        ("a:1:2", "invalid key-value pair: a:1:2"),
        ("txid:1", 'field "txid" isn\'t allowed to be updated'),
        ("pgid:x", 'invalid value "x" for field "pgid"'),
    ):
        with pytest.raises(CommandError, match=message):
            parse_meta_fields([bad])
