"""A pflag-compatible command-line parser (spf13/pflag as cobra uses it).

Rules (docs/CLI.md §1.4): flags anywhere among the arguments, ``--`` ends them,
``--name value`` / ``--name=value``, boolean flags take no separate value,
``-abc`` is a cluster of shorthands where a shorthand with a value takes the
rest of the cluster or the next argument.  One extension (docs/CLI.md §9.2): before
the first positional argument, a single-dash word whose name is one of the
command's v1.4.3 flags (``-tx-max-size 4096``, ``-format=hex``) is read as the
double-dash flag.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from typing import Literal, TypeAlias

    FlagKind: TypeAlias = Literal[
        "bool", "string", "int", "int64", "uint", "uint32", "uint64", "float", "strings"
    ]
    FlagValue: TypeAlias = bool | str | int | float | list[str]

# How the flag listing names each kind (pflag's ``UnquoteUsage``).
TYPE_NAMES: dict[str, str] = {
    "bool": "",
    "string": "string",
    "int": "int",
    "int64": "int",
    "uint": "uint",
    "uint32": "uint32",
    "uint64": "uint",
    "float": "float",
    "strings": "strings",
}


class Record:
    """What the dataclasses these classes were gave: ``==`` and ``repr`` from the
    fields (``__slots__``, in declaration order).  Plain classes keep
    ``dataclasses`` (and the ``inspect`` it imports) out of the CLI's start-up."""

    __slots__ = ()

    def _values(self) -> tuple[object, ...]:
        names: tuple[str, ...] = self.__slots__
        return tuple(getattr(self, name) for name in names)

    def __eq__(self, other: object) -> bool:  # (and so __hash__ is None)
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    def __repr__(self) -> str:
        names: tuple[str, ...] = self.__slots__
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__name__}({fields})"


class FrozenRecord(Record):
    """A :class:`Record` never changed after ``__init__``: hashable."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash(self._values())


class Flag(FrozenRecord):
    """One flag of a command, as declared with pflag."""

    # In field order (repr, ==), not sorted:
    __slots__ = (  # noqa: RUF023
        "name", "kind", "default", "usage", "shorthand", "required", "hidden"
    )

    def __init__(
        self,
        name: str,
        kind: FlagKind,
        default: FlagValue,
        usage: str = "",
        shorthand: str = "",
        required: bool = False,
        hidden: bool = False,  # pflag's MarkHidden: parsed, left out of the usage text
    ) -> None:
        self.name = name
        self.kind = kind
        self.default = default
        self.usage = usage
        self.shorthand = shorthand
        self.required = required
        self.hidden = hidden

    @property
    def is_bool(self) -> bool:
        return self.kind == "bool"


HELP_FLAG = Flag("help", "bool", False, "help for {name}", "h")


class FlagError(Exception):
    """A parse error; its text is pflag's message."""


class Parsed(Record):
    """The outcome of parsing: flag values, which were set, and the positionals."""

    __slots__ = ("values", "changed", "args")  # noqa: RUF023 (in field order)

    def __init__(
        self,
        values: dict[str, FlagValue],
        changed: set[str] | None = None,
        args: list[str] | None = None,
    ) -> None:
        self.values = values
        self.changed: set[str] = set() if changed is None else changed
        self.args: list[str] = [] if args is None else args

    def get_str(self, name: str) -> str:
        value = self.values[name]
        assert isinstance(value, str)
        return value

    def get_bool(self, name: str) -> bool:
        value = self.values[name]
        assert isinstance(value, bool)
        return value

    def get_int(self, name: str) -> int:
        value = self.values[name]
        assert isinstance(value, int) and not isinstance(value, bool)
        return value

    def get_float(self, name: str) -> float:
        value = self.values[name]
        assert isinstance(value, float)
        return value

    def get_strings(self, name: str) -> list[str]:
        value = self.values[name]
        assert isinstance(value, list)
        return value


def _split_csv(text: str) -> list[str]:
    """pflag's ``readAsCSV`` for string-slice flags."""
    if text == "":
        return []
    import csv

    try:
        rows = list(csv.reader([text], strict=True))
    except csv.Error as e:
        raise ValueError(str(e)) from None
    return rows[0] if rows else []


def convert(flag: Flag, text: str) -> FlagValue:
    """Parse ``text`` as the flag's type (pflag's ``Value.Set``)."""
    kind = flag.kind
    if kind == "string":
        return text
    from .goparse import parse_bool, parse_float, parse_int, parse_uint

    if kind == "bool":
        return parse_bool(text)
    if kind in ("int", "int64"):
        return parse_int(text, 0, 64)
    if kind in ("uint", "uint64"):
        return parse_uint(text, 0, 64)
    if kind == "uint32":
        return parse_uint(text, 0, 32)
    if kind == "float":
        return parse_float(text)
    return _split_csv(text)


class Parser:
    """Parses the arguments of one command against its flags."""

    def __init__(self, flags: Sequence[Flag], legacy: Iterable[str] = ()) -> None:
        self.flags = {f.name: f for f in flags}
        self.shorthands = {f.shorthand: f for f in flags if f.shorthand}
        self.legacy = frozenset(legacy)

    def parse(self, argv: Sequence[str]) -> Parsed:
        values: dict[str, FlagValue] = {
            f.name: (list(f.default) if isinstance(f.default, list) else f.default)
            for f in self.flags.values()
        }
        result = Parsed(values)
        args = list(argv)
        while args:
            s = args.pop(0)
            if len(s) < 2 or s[0] != "-":
                result.args.append(s)
                continue
            if s == "--":
                result.args.extend(args)
                break
            if s[1] == "-":
                args = self._long(s, s[2:], args, result)
            elif not result.args and self._is_legacy(s):
                args = self._long(s, s[1:], args, result)
            else:
                args = self._shorts(s, args, result)
        return result

    def _is_legacy(self, s: str) -> bool:
        name = s[1:].split("=", 1)[0]
        return name in self.legacy and len(name) > 1

    def _set(self, flag: Flag, value: str, result: Parsed) -> None:
        try:
            converted = convert(flag, value)
        except ValueError as e:
            from pybbolt.gotext import go_quote_str

            shown = f"-{flag.shorthand}, --{flag.name}" if flag.shorthand else f"--{flag.name}"
            raise FlagError(
                f"invalid argument {go_quote_str(value)} for {go_quote_str(shown)} flag: {e}"
            ) from None
        if flag.kind == "strings" and flag.name in result.changed:
            current = result.values[flag.name]
            assert isinstance(current, list) and isinstance(converted, list)
            converted = current + converted
        result.values[flag.name] = converted
        result.changed.add(flag.name)

    def _long(self, s: str, name: str, args: list[str], result: Parsed) -> list[str]:
        if not name or name[0] in "-=":
            raise FlagError(f"bad flag syntax: {s}")
        key, eq, value = name.partition("=")
        flag = self.flags.get(key)
        if flag is None:
            raise FlagError(f"unknown flag: --{key}")
        if eq:
            self._set(flag, value, result)
        elif flag.is_bool:
            self._set(flag, "true", result)
        elif args:
            self._set(flag, args[0], result)
            return args[1:]
        else:
            raise FlagError(f"flag needs an argument: {s}")
        return args

    def _shorts(self, s: str, args: list[str], result: Parsed) -> list[str]:
        shorthands = s[1:]
        remaining = args
        while shorthands:
            c = shorthands[0]
            flag = self.shorthands.get(c)
            if flag is None:
                raise FlagError(f"unknown shorthand flag: {_quote_char(c)} in -{shorthands}")
            rest = shorthands[1:]
            if len(shorthands) > 2 and shorthands[1] == "=":
                self._set(flag, shorthands[2:], result)
                rest = ""
            elif flag.is_bool:
                self._set(flag, "true", result)
            elif len(shorthands) > 1:
                self._set(flag, shorthands[1:], result)
                rest = ""
            elif args:
                self._set(flag, args[0], result)
                remaining = args[1:]
            else:
                raise FlagError(f"flag needs an argument: {_quote_char(c)} in -{shorthands}")
            shorthands = rest
        return remaining


def _quote_char(c: str) -> str:
    """Go's ``%q`` of a byte (a single-quoted character literal)."""
    from pybbolt.gotext import go_quote_str

    if c == "'":
        return "'\\''"
    if c == "\\":
        return "'\\\\'"
    quoted = go_quote_str(c)
    return "'" + quoted[1:-1].replace('\\"', '"') + "'"


def strip_flags(argv: Sequence[str], flags: Sequence[Flag]) -> list[str]:
    """cobra's ``stripFlags``: the words that look like (sub)command names.

    A ``--flag`` without ``=`` that is not boolean (or unknown) and a
    two-character ``-f`` that is not boolean swallow the next word.
    """
    by_name = {f.name: f for f in flags}
    by_short = {f.shorthand: f for f in flags if f.shorthand}
    commands: list[str] = []
    args = list(argv)
    while args:
        s = args.pop(0)
        if s == "--":
            break
        takes_value = False
        if s.startswith("--") and "=" not in s:
            flag = by_name.get(s[2:])
            takes_value = flag is None or not flag.is_bool
        elif s.startswith("-") and "=" not in s and len(s) == 2:
            flag = by_short.get(s[1:])
            takes_value = flag is None or not flag.is_bool
        if takes_value:
            if len(args) <= 1:
                break
            args.pop(0)
            continue
        if s and not s.startswith("-"):
            commands.append(s)
    return commands
