"""``pybbolt find``: the bucket path and key of each match, depth first, exact outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from .cli_run import ok, run
from .conftest import FIXTURES
from .test_cli_ls import small_store


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return small_store(tmp_path)


def test_everything_matches_without_tests(db: Path) -> None:
    assert ok("find", db) == (
        "006e756c/\n006e756c\t6b00\n-flag/\n-flag\t--json\napp/\napp\ta\napp\tb\napp\tempty\n"
        "app\tjson\napp/sub/\napp/sub/deeper/\napp/sub/deeper\tz\napp/sub\tk\n")


def test_key_and_value_tests(db: Path) -> None:
    assert ok("find", db, "--key-regex", "^[a-z]$") == (
        "app\ta\napp\tb\napp/sub/deeper\tz\napp/sub\tk\n")
    assert ok("find", db, "--key-prefix", "s") == "app/sub/\n"
    assert ok("find", db, "app", "--value-regex", "x") == "app\tjson\n"
    assert ok("find", db, "--value-regex", r"\x00\xff") == "app\tb\n"
    assert ok("find", db, "--key-prefix", "k", "--value-regex", "^v$") == "app/sub\tk\n"
    assert ok("find", db, "app", "sub", "--key-regex", ".") == (
        "app/sub/deeper/\napp/sub/deeper\tz\napp/sub\tk\n")
    assert ok("find", "--hex", db, "--key-prefix", "6b") == "006e756c\t6b00\napp/sub\tk\n"
    assert ok("find", db, "--key-regex", ".", "--limit", "2") == "006e756c/\n006e756c\t6b00\n"
    assert ok("find", db, "--value-regex", "nothing like it") == ""


def test_json_and_decode(db: Path) -> None:
    assert ok("find", "--json", db, "--key-regex", "^(sub|k)$") == (
        '{"bucket":["app","sub"],"sequence":0}\n'
        '{"bucket":["app","sub"],"key":"k"}\n'
    )
    # --decode: the value test reads the decoded JSON (compact).
    assert ok("find", "--decode", "json", db, "--value-regex", r'^\{"x":\[1') == "app\tjson\n"
    # A value that is not JSON decodes to its bytes: "x" is the string "x".
    assert ok("find", "--json", "--decode", "json", db, "--value-regex", r'"x"') == (
        '{"bucket":["-flag"],"key":"--json","decoded_value":"x"}\n'
        '{"bucket":["app"],"key":"json","decoded_value":{"x":[1,2]}}\n')


def test_a_fixture() -> None:
    nested = FIXTURES / "nested.db"
    assert ok("find", nested, "--key-regex", "^item-00[0-1]$") == (
        "org/team-a/project-x\titem-000\norg/team-a/project-x\titem-001\n")
    assert ok("find", nested, "--key-regex", "^(project|team)-") == (
        "org/team-a/\norg/team-a/project-x/\norg/team-b/\n")


def test_errors(db: Path) -> None:
    assert run("find", db, "--key-regex", "(") == (
        1, "", "Error: bad regular expression: missing ), unterminated subpattern at "
        "position 0\n")
    assert run("find", db, "nope") == (1, "", "Error: bucket not found: nope\n")
