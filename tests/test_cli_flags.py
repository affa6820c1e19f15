"""The pflag-compatible parser and Go's value parsers."""

from __future__ import annotations

import pytest
from pybbolt.cli.flags import Flag, FlagError, Parser, strip_flags
from pybbolt.cli.goparse import NumError, parse_bool, parse_int, parse_uint

FLAGS = [
    Flag("format", "string", "auto", shorthand="f"),
    Flag("all", "bool", False),
    Flag("help", "bool", False, shorthand="h"),
    Flag("count", "int64", 1000),
    Flag("from-page", "uint64", 0),
    Flag("output", "string", "", shorthand="o"),
    Flag("fields", "strings", []),
    Flag("tx-max-size", "int64", 65536),
]


def parse(*argv: str, legacy: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    return Parser(FLAGS, legacy).parse(list(argv))


def test_flags_anywhere_and_double_dash() -> None:
    p = parse("db", "--format", "hex", "b", "--", "--all", "-x")
    assert p.args == ["db", "b", "--all", "-x"]
    assert p.get_str("format") == "hex"
    assert not p.get_bool("all")
    assert p.changed == {"format"}


def test_equals_and_bool_values() -> None:
    p = parse("--format=", "--all=false", "x")
    assert p.get_str("format") == ""
    assert p.get_bool("all") is False and "all" in p.changed
    assert parse("--all", "true").args == ["true"]
    with pytest.raises(FlagError, match='invalid argument "yes" for "--all" flag'):
        parse("--all=yes")


def test_shorthand_clusters() -> None:
    assert parse("-fhex").get_str("format") == "hex"
    assert parse("-f=hex").get_str("format") == "hex"
    assert parse("-f", "hex").get_str("format") == "hex"
    p = parse("-hfhex")
    assert p.get_bool("help") and p.get_str("format") == "hex"
    # v1.5.0: -format is -f ormat
    assert parse("-format", "hex", "db").get_str("format") == "ormat"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bogus"], "unknown flag: --bogus"),
        (["-x"], "unknown shorthand flag: 'x' in -x"),
        (["-all"], "unknown shorthand flag: 'a' in -all"),
        (["-help"], "unknown shorthand flag: 'e' in -elp"),
        (["-1"], "unknown shorthand flag: '1' in -1"),
        (["--format"], "flag needs an argument: --format"),
        (["-f"], "flag needs an argument: 'f' in -f"),
        (["---x"], "bad flag syntax: ---x"),
        (["--=x"], "bad flag syntax: --=x"),
        (
            ["--count", "abc"],
            'invalid argument "abc" for "--count" flag: '
            'strconv.ParseInt: parsing "abc": invalid syntax',
        ),
        (
            ["--from-page=-1"],
            'invalid argument "-1" for "--from-page" flag: '
            'strconv.ParseUint: parsing "-1": invalid syntax',
        ),
        (
            ["--from-page", "18446744073709551616"],
            "value out of range",
        ),
    ],
)
def test_errors(argv: list[str], message: str) -> None:
    with pytest.raises(FlagError) as e:
        parse(*argv)
    assert message in str(e.value)


def test_lone_dash_and_empty_are_positional() -> None:
    assert parse("-", "", "x").args == ["-", "", "x"]


def test_legacy_single_dash_flags_before_first_positional() -> None:
    legacy = ("tx-max-size", "all", "format")
    p = parse("-o", "out", "-tx-max-size", "4096", "src", legacy=legacy)
    assert p.get_int("tx-max-size") == 4096 and p.get_str("output") == "out"
    assert p.args == ["src"]
    assert parse("-format=hex", "db", legacy=legacy).get_str("format") == "hex"
    assert parse("-all", "db", legacy=legacy).get_bool("all")
    # after a positional argument the v1.5.0 rules apply
    with pytest.raises(FlagError, match="'a' in -all"):
        parse("db", "-all", legacy=legacy)


def test_string_slices_accumulate() -> None:
    p = parse("--fields", "a:1,b:2", "--fields=c:3")
    assert p.get_strings("fields") == ["a:1", "b:2", "c:3"]


def test_strip_flags_like_cobra() -> None:
    assert strip_flags(["keys", "-f", "hex", "db", "b"], FLAGS) == ["keys", "db", "b"]
    # unknown flags are assumed to take a value
    assert strip_flags(["--bogus", "info", "db"], []) == ["db"]
    assert strip_flags(["", "x", "--", "y"], []) == ["x"]


def test_go_number_parsing() -> None:
    assert parse_uint("0x10", 0) == 16
    assert parse_uint("010", 0) == 8
    assert parse_uint("1_000", 0) == 1000
    assert parse_int("-0b11", 0) == -3
    assert parse_int("-9223372036854775808", 0) == -(1 << 63)
    for bad in ("", "1_", "_1", "0x", "+1"):
        with pytest.raises(NumError):
            parse_uint(bad, 0)
    with pytest.raises(NumError, match="out of range"):
        parse_uint("4294967296", 0, 32)
    with pytest.raises(NumError, match='parsing "9223372036854775808": value out of range'):
        parse_int("9223372036854775808", 0)
    with pytest.raises(NumError, match="invalid syntax"):
        parse_uint("0x10", 10)
    assert parse_bool("T") and not parse_bool("False")
