"""The command tree of bbolt v1.5.0: names, ``Use`` lines, texts, flags, argument rules.

Everything here is declarative; the runners are named as ``"module:function"``
(modules of this package) and imported only when their command runs.
"""

from __future__ import annotations

from .flags import HELP_FLAG, Flag, FrozenRecord

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Sequence


class Args(FrozenRecord):
    """cobra's positional-argument rule of a command."""

    __slots__ = ("kind", "low", "high")  # noqa: RUF023 (in field order)

    def __init__(self, kind: str, low: int, high: int = 0) -> None:
        self.kind = kind  # "exact", "min", "range"
        self.low = low
        self.high = high

    def check(self, count: int) -> str | None:
        """The cobra error message for ``count`` arguments, or None."""
        if self.kind == "exact" and count != self.low:
            return f"accepts {self.low} arg(s), received {count}"
        if self.kind == "min" and count < self.low:
            return f"requires at least {self.low} arg(s), only received {count}"
        if self.kind == "range" and not self.low <= count <= self.high:
            return f"accepts between {self.low} and {self.high} arg(s), received {count}"
        return None


# The program's name, and the variable of click's shell-completion protocol
# (``_PYBBOLT_COMPLETE=bash_complete pybbolt`` answers a completion request).
PROG = "pybbolt"
COMPLETE_VAR = "_PYBBOLT_COMPLETE"

# Flags whose value is a file name (completed as paths; every command's first
# positional argument, the database file, is completed as a path as well).
FILE_FLAGS = frozenset(("output", "path", "cpuprofile", "memprofile", "blockprofile"))

# textfmt.FORMAT_MODES (tests check they agree), not imported from there: only
# the commands that format values need textfmt, and `buckets` does not.
FORMAT_MODES = "auto|ascii-encoded|hex|bytes|redacted"


# pybbolt's own flags on bbolt's commands (docs/JSON.md): hidden from the
# usage text printed after an error, which stays bbolt's byte for byte.
JSON_FLAG = Flag("json", "bool", False, "pybbolt: print JSON (docs/JSON.md)", hidden=True)
HEX_FLAG = Flag("hex", "bool", False,
                "pybbolt: every bucket name and key argument is given in hex", hidden=True)
DECODE_FLAG = Flag("decode", "string", "",
                   "pybbolt: show the value through a decoder (json, etcd, raft, module:function)",
                   hidden=True)


def exact(n: int) -> Args:
    return Args("exact", n)


def minimum(n: int) -> Args:
    return Args("min", n)


class Command(FrozenRecord):
    """One cobra command."""

    __slots__ = (  # noqa: RUF023 (in field order)
        "use", "short", "long", "flags", "args", "run", "legacy", "subcommands"
    )

    def __init__(
        self,
        use: str,
        short: str,
        long: str = "",
        flags: tuple[Flag, ...] = (),
        args: Args | None = None,
        run: str = "",  # "module:function"; empty for a group
        legacy: frozenset[str] = frozenset(),  # v1.4.3 single-dash long flags
        subcommands: tuple[Command, ...] = (),
    ) -> None:
        self.use = use
        self.short = short
        self.long = long
        self.flags = flags
        self.args = args
        self.run = run
        self.legacy = legacy
        self.subcommands = subcommands

    @property
    def name(self) -> str:
        return self.use.split(" ", 1)[0]

    @property
    def runnable(self) -> bool:
        return bool(self.run)

    def find(self, name: str) -> Command | None:
        for sub in self.subcommands:
            if sub.name == name:
                return sub
        return None


def command_flags(command: Command, path: Sequence[str]) -> list[Flag]:
    """The flags of a command as parsed: its own plus ``-h, --help``."""
    name = path[-1] if path else command.name
    help_flag = Flag(HELP_FLAG.name, "bool", False, f"help for {name}", "h")
    return [*command.flags, help_flag]


def _output_flag() -> Flag:
    return Flag("output", "string", "", "path to the filePath db file", required=True)


_STATS_LONG = """usage: bolt stats PATH

Stats performs an extensive search of the database to track every page
reference. It starts at the current meta page and recursively iterates
through every accessible bucket.

The following errors can be reported:

    already freed
        The page is referenced more than once in the freelist.

    unreachable unfreed
        The page is not referenced by a bucket or in the freelist.

    reachable freed
        The page is referenced by a bucket but is also in the freelist.

    out of bounds
        A page is referenced that is above the high water mark.

    multiple references
        A page is referenced by more than one other page.

    invalid type
        The page type is not "meta", "leaf", "branch", or "freelist".

No errors should occur in your database. However, if for some reason you
experience corruption, please submit a ticket to the etcd-io/bbolt project page:

  https://github.com/etcd-io/bbolt/issues
"""

_PAGES_LONG = """Pages prints a table of pages with their type (meta, leaf, branch, freelist).
Leaf and branch pages will show a key count in the "items" column while the
freelist will show the number of free pages in the "items" column.

The "overflow" column shows the number of blocks that the page spills over
into. Normally there is no overflow but large keys and values can cause
a single page to take up multiple blocks.
"""

_COMPACT_LONG = """compact opens a database at source path and walks it recursively, copying keys
as they are found from all buckets, to a newly created database at the destination path.
The original database is left untouched.
"""

_BENCH_FLAGS = (
    Flag("batch-size", "int64", 0),
    Flag("blockprofile", "string", ""),
    Flag("count", "int64", 1000),
    Flag("cpuprofile", "string", ""),
    Flag("fill-percent", "float", 0.5),
    Flag("gobench-output", "bool", False),
    Flag("initial-mmap-size", "int", 0, "Set initial mmap size in bytes for database file."),
    Flag("key-size", "int", 8),
    Flag("memprofile", "string", ""),
    Flag("no-sync", "bool", False),
    Flag("page-size", "int", 4096, "Set page size in bytes."),
    Flag("path", "string", ""),
    Flag("profile-mode", "string", "rw"),
    Flag("read-mode", "string", "seq"),
    Flag("value-size", "int", 32),
    Flag("work", "bool", False),
    Flag("write-mode", "string", "seq"),
)

SURGERY = Command(
    "surgery <subcommand>",
    "surgery related commands",
    subcommands=(
        Command(
            "revert-meta-page <bbolt-file>",
            "Revert the meta page to revert the changes performed by the latest transaction",
            flags=(_output_flag(),),
            args=exact(1),
            run="cmd_surgery:run_revert_meta_page",
        ),
        Command(
            "copy-page <bbolt-file>",
            "Copy page from the source page Id to the destination page Id",
            flags=(
                _output_flag(),
                Flag("from-page", "uint64", 0, "source page Id", required=True),
                Flag("to-page", "uint64", 0, "destination page Id", required=True),
            ),
            args=exact(1),
            run="cmd_surgery:run_copy_page",
        ),
        Command(
            "clear-page <bbolt-file>",
            "Clears all elements from the given page, which can be a branch or leaf page",
            flags=(_output_flag(), Flag("pageId", "uint64", 0, "page Id", required=True)),
            args=exact(1),
            run="cmd_surgery:run_clear_page",
        ),
        Command(
            "clear-page-elements <bbolt-file>",
            "Clears elements from the given page, which can be a branch or leaf page",
            flags=(
                _output_flag(),
                Flag("pageId", "uint64", 0, "page id", required=True),
                Flag(
                    "from-index", "int", 0,
                    "start element index (included) to clear, starting from 0", required=True,
                ),
                Flag(
                    "to-index", "int", 0,
                    "end element index (excluded) to clear, starting from 0, "
                    "-1 means to the end of page",
                    required=True,
                ),
            ),
            args=exact(1),
            run="cmd_surgery:run_clear_page_elements",
        ),
        Command(
            "freelist <subcommand>",
            "freelist related surgery commands",
            subcommands=(
                Command(
                    "abandon <bbolt-file>",
                    "Abandon the freelist from both meta pages",
                    flags=(_output_flag(),),
                    args=exact(1),
                    run="cmd_surgery:run_freelist_abandon",
                ),
                Command(
                    "rebuild <bbolt-file>",
                    "Rebuild the freelist",
                    flags=(_output_flag(),),
                    args=exact(1),
                    run="cmd_surgery:run_freelist_rebuild",
                ),
            ),
        ),
        Command(
            "meta <subcommand>",
            "meta page related surgery commands",
            subcommands=(
                Command(
                    "validate <bbolt-file>",
                    "Validate both meta pages",
                    args=exact(1),
                    run="cmd_surgery:run_meta_validate",
                ),
                Command(
                    "update <bbolt-file>",
                    "Update fields in meta pages",
                    flags=(
                        _output_flag(),
                        Flag(
                            "fields", "strings", [],
                            "comma separated list of fields (supported fields: pageSize, root, "
                            "freelist and pgid) to be updated, and each item is a "
                            "colon-separated key-value pair",
                        ),
                        Flag(
                            "meta-page", "uint32", 0,
                            "the meta page ID to operate on, valid values are 0 and 1",
                        ),
                    ),
                    args=exact(1),
                    run="cmd_surgery:run_meta_update",
                ),
            ),
        ),
    ),
)

COMPLETION = Command(
    "completion",
    "Generate the autocompletion script for the specified shell",
    "Generate the autocompletion script for bbolt for the specified shell.\n"
    "See each sub-command's help for details on how to use the generated script.\n",
    subcommands=tuple(
        Command(
            shell,
            f"Generate the autocompletion script for {shell}",
            args=exact(0),
            run="cmd_misc:run_completion",
        )
        for shell in ("bash", "fish", "powershell", "zsh")
    ),
)

HELP = Command(
    "help [command]",
    "Help about any command",
    "Help provides help for any command in the application.\n"
    "Simply type bbolt help [path to command] for full details.",
    run="main:run_help",
)

ROOT = Command(
    "bbolt",
    "A simple command line tool for inspecting bbolt databases",
    flags=(Flag("version", "bool", False, "version for bbolt", "v"),),
    subcommands=(
        Command(
            "version",
            "print the current version of bbolt",
            run="cmd_misc:run_version",
        ),
        SURGERY,
        Command(
            "inspect <bbolt-file>",
            "inspect the structure of the database",
            args=exact(1),
            run="cmd_read:run_inspect",
        ),
        Command(
            "check <bbolt-file>",
            "verify integrity of bbolt database data",
            flags=(
                Flag(
                    "from-page", "uint64", 0,
                    "check db integrity starting from the given page ID",
                ),
                JSON_FLAG,
            ),
            args=exact(1),
            run="cmd_check:run_check",
        ),
        Command(
            "buckets <bbolt-file>",
            "print a list of buckets in bbolt database",
            flags=(JSON_FLAG,),
            args=exact(1),
            run="cmd_read:run_buckets",
        ),
        Command(
            "info <bbolt-file>",
            "prints basic information about the bbolt database.",
            flags=(JSON_FLAG,),
            args=exact(1),
            run="cmd_read:run_info",
        ),
        Command(
            "compact [options] -o <dst-bbolt-file> <src-bbolt-file>",
            "creates a compacted copy of the database from source path to the destination "
            "path, preserving the original.",
            _COMPACT_LONG,
            flags=(
                Flag("no-sync", "bool", False),
                Flag("output", "string", "", shorthand="o", required=True),
                Flag("tx-max-size", "int64", 65536),
            ),
            args=minimum(1),
            run="cmd_compact:run_compact",
            legacy=frozenset(("tx-max-size", "no-sync")),
        ),
        Command(
            "stats <bbolt-file>",
            "print stats of bbolt database",
            _STATS_LONG,
            flags=(JSON_FLAG,),
            args=Args("range", 1, 2),
            run="cmd_check:run_stats",
        ),
        Command(
            "pages <bbolt-file>",
            "print a list of pages in bbolt database",
            _PAGES_LONG,
            flags=(JSON_FLAG,),
            args=exact(1),
            run="cmd_pages:run_pages",
        ),
        Command(
            "keys <bbolt-file> <buckets>",
            "print a list of keys in the given (sub)bucket in bbolt database",
            flags=(
                Flag("format", "string", "auto", "Output format one of: " + FORMAT_MODES, "f"),
                JSON_FLAG,
                HEX_FLAG,
            ),
            args=minimum(2),
            run="cmd_read:run_keys",
            legacy=frozenset(("format",)),
        ),
        Command(
            "dump <bbolt-file> pageid [pageid...]",
            "prints a hexadecimal dump of one or more pages of bbolt database.",
            args=minimum(2),
            run="cmd_pages:run_dump",
        ),
        Command(
            "page-item [options] <bbolt-file> pageid itemid",
            "print a page item key and value in a bbolt database",
            flags=(
                Flag("format", "string", "auto", "Output format one of: " + FORMAT_MODES),
                Flag("key-only", "bool", False, "Print only the key"),
                Flag("value-only", "bool", False, "Print only the value"),
            ),
            args=exact(3),
            run="cmd_pages:run_page_item",
            legacy=frozenset(("format", "key-only", "value-only")),
        ),
        Command(
            "page <bbolt-file> [pageid...]",
            "page prints one or more pages in human readable format.",
            flags=(
                Flag("all", "bool", False, "List all pages."),
                Flag(
                    "format-value", "string", "auto",
                    "Output format one of: " + FORMAT_MODES
                    + ". Applies to values on the leaf page.",
                ),
            ),
            args=minimum(1),
            run="cmd_pages:run_page",
            legacy=frozenset(("all", "format-value")),
        ),
        Command(
            "bench",
            "run synthetic benchmark against bbolt",
            flags=_BENCH_FLAGS,
            run="cmd_bench:run_bench",
            legacy=frozenset(f.name for f in _BENCH_FLAGS)
            - {"page-size", "initial-mmap-size"},
        ),
        Command(
            "get PATH [BUCKET..] KEY",
            "get the value of a key from a (sub)bucket in a bbolt database",
            flags=(
                Flag("parse-format", "string", "ascii-encoded",
                     "Input format one of: ascii-encoded|hex"),
                Flag("format", "string", "auto",
                     "Output format one of: " + FORMAT_MODES + " (default: auto)"),
                JSON_FLAG,
                HEX_FLAG,
                DECODE_FLAG,
            ),
            args=minimum(3),
            run="cmd_read:run_get",
            legacy=frozenset(("format", "parse-format")),
        ),
        COMPLETION,
        HELP,
    ),
)
