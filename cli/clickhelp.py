"""click's side of ``pybbolt``: one command tree for help and shell completion.

:func:`tree` declares the whole command line to click once: bbolt's commands
from :mod:`cli.spec` (their flags as options, the database file as a
``click.Path`` argument, the other file-valued flags as paths) and, in a
section of their own, the commands bbolt lacks (:mod:`cli.extra`, imported
only when help or completion needs them).  That tree renders ``pybbolt
--help`` and ``pybbolt COMMAND --help``, answers click's completion protocol
(``_PYBBOLT_COMPLETE=bash_complete ...``) and writes the scripts of
``pybbolt completion bash|fish|zsh``.

bbolt's commands are not *run* through click: they keep the pflag-compatible
parser of :mod:`cli.main` (see :mod:`cli` for why).  This module, and click
with it, is imported only for help and completion.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

import click
from click.shell_completion import CompletionItem, get_completion_class, shell_complete

from . import extra
from .flags import TYPE_NAMES, Flag
from .runtime import CommandError
from .spec import COMPLETE_VAR, FILE_FLAGS, HELP, PROG, ROOT, Command, command_flags

# Help texts of pybbolt where bbolt's (cobra's) text speaks of the bbolt program.
_TEXTS: dict[tuple[str, ...], str] = {
    ("help",): "Help for any command: pybbolt help [path to command].",
    ("completion",): (
        "Print the shell completion script of pybbolt for bash, fish, powershell or zsh.\n\n"
        "Load it in the running shell with, e.g., source <(pybbolt completion bash); "
        "to load it in every session, put its output where your shell looks for "
        "completions (e.g. /etc/bash_completion.d/pybbolt)."
    ),
}

# Descriptions for pybbolt's help of the flags bbolt declares without one
# (cobra's usage text, part of parity, keeps them empty).
_FLAG_TEXTS: dict[str, str] = {
    "no-sync": "do not fsync the database written",
    "output": "the database file to write",
    "tx-max-size": "commit after copying this many bytes of keys and values",
    "batch-size": "writes per transaction (0: --count, one transaction)",
    "blockprofile": "write a block profile to this file (left empty by pybbolt)",
    "count": "number of keys written, then read",
    "cpuprofile": "write a CPU profile (cProfile) to this file",
    "fill-percent": "fill percent of the buckets written",
    "gobench-output": "print the results in the format of go test -bench",
    "key-size": "size of a key in bytes",
    "memprofile": "write a memory profile to this file (left empty by pybbolt)",
    "path": "database file (default: a new temporary file, removed afterwards)",
    "profile-mode": "phases profiled: rw, r or w",
    "read-mode": "order of the reads: seq or rnd",
    "value-size": "size of a value in bytes",
    "work": "keep the database file and print its path",
    "write-mode": "order of the writes: seq, rnd, seq-nest or rnd-nest",
}


class _Formatter(click.HelpFormatter):
    """click's help layout, except that option descriptions never break a word
    at a hyphen (``auto|ascii-encoded|hex`` lists values one copies)."""

    def write_dl(
        self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2
    ) -> None:
        start = len(self.buffer)
        # U+2011 (non-breaking hyphen) has the width of "-" and is not a break point.
        super().write_dl([(a, b.replace("-", "\u2011")) for a, b in rows], col_max, col_spacing)
        self.buffer[start:] = [part.replace("\u2011", "-") for part in self.buffer[start:]]


class _Context(click.Context):
    formatter_class = _Formatter


class _Command(click.Command):
    """A bbolt command: its usage line is bbolt's ``Use`` string."""

    context_class = _Context

    def __init__(self, use: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.use_args = use.split(" ", 1)[1] if " " in use else ""

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, f"{self.use_args} [flags]".strip())


class _Group(click.Group):
    """A bbolt group (``surgery``, ``completion``)."""

    context_class = _Context

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "COMMAND [ARGS]... [flags]")


class _Root(_Group):
    """``pybbolt``: bbolt's commands, then the commands of :data:`extra.EXTRA_COMMANDS`,
    each loaded when help or completion first asks for it."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*sorted(self.commands), *sorted(set(extra.EXTRA_COMMANDS) - set(self.commands))]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name in extra.EXTRA_COMMANDS:
            return extra.load(cmd_name)
        return None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        extras = sorted(set(extra.EXTRA_COMMANDS) - set(self.commands))
        for title, names in (("Commands", sorted(self.commands)),
                             ("Commands of pybbolt (not in bbolt)", extras)):
            commands = [(name, self.get_command(ctx, name)) for name in names]
            shown = [(name, cmd) for name, cmd in commands if cmd is not None and not cmd.hidden]
            if not shown:
                continue
            limit = formatter.width - 6 - max(len(name) for name, _ in shown)
            with formatter.section(title):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in shown])


def _keep_layout(text: str) -> str:
    """Mark the paragraphs with indented lines (bbolt's lists) so click keeps them as written."""
    paragraphs = text.split("\n\n")
    return "\n\n".join(
        "\b\n" + p if any(line.startswith(" ") for line in p.splitlines()) else p
        for p in paragraphs
    )


def _help_text(command: Command, names: tuple[str, ...]) -> str:
    text = _TEXTS.get(names) or (command.long or command.short).rstrip()
    if text.startswith("usage: bolt "):
        # bbolt's Long text of stats begins with the usage line of its old tool.
        text = text.split("\n\n", 1)[1]
    return _keep_layout(text)


def _option(flag: Flag) -> click.Option:
    decls = [f"--{flag.name}"] + ([f"-{flag.shorthand}"] if flag.shorthand else [])
    text = flag.usage or _FLAG_TEXTS.get(flag.name, "")
    if flag.is_bool:
        return click.Option(decls, is_flag=True, help=text)
    default = flag.default
    # A default the description already states (get --format) is not shown twice.
    shown = default not in ("", 0, 0.0, [], None) and "(default" not in flag.usage
    return click.Option(
        decls,
        type=click.Path() if flag.name in FILE_FLAGS else None,
        metavar=TYPE_NAMES[flag.kind].upper() or None,
        help=text,
        default=default,
        show_default=shown,
        required=flag.required,
    )


def _complete_command_names(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[CompletionItem]:
    """``pybbolt help WORD``: the top-level command names."""
    root = tree()
    return [CompletionItem(name) for name in root.list_commands(ctx)
            if name.startswith(incomplete)]


def _arguments(command: Command) -> list[click.Parameter]:
    """The positional arguments, as completion needs them: the first is the database file."""
    if command is HELP:
        return [click.Argument(["command"], nargs=-1, shell_complete=_complete_command_names)]
    rule = command.args
    if rule is None or (rule.kind == "exact" and rule.low == 0):
        return []
    params: list[click.Parameter] = [click.Argument(["db"], type=click.Path(), required=False)]
    if rule.kind != "exact" or rule.low > 1:
        params.append(click.Argument(["rest"], nargs=-1))
    return params


def _build(command: Command, path: Sequence[str]) -> click.Command:
    names = tuple(path[1:])
    settings = {"max_content_width": 100}
    params: list[click.Parameter] = [_option(f) for f in command_flags(command, path)]
    text = _help_text(command, names)
    if command.subcommands:
        group_class = _Root if command is ROOT else _Group
        group = group_class(name=command.name, help=text, short_help=command.short,
                            params=params, add_help_option=False, context_settings=settings)
        for sub in command.subcommands:
            if sub.runnable or sub.subcommands:
                group.add_command(_build(sub, [*path, sub.name]), sub.name)
        return group
    return _Command(command.use, name=command.name, help=text, short_help=command.short,
                    params=[*params, *_arguments(command)], add_help_option=False,
                    context_settings=settings)


@functools.cache
def tree() -> click.Group:
    """The click command tree of ``pybbolt`` (built once)."""
    root = _build(ROOT, ["bbolt"])
    assert isinstance(root, click.Group)
    return root


def render_help(path: Sequence[str]) -> str:
    """The help of the command at ``path`` (``["bbolt", "surgery", "meta"]``; an extra
    command by its name, ``["bbolt", "NAME"]``), as far as the path names commands."""
    command: click.Command = tree()
    ctx = command.context_class(command, info_name=PROG)
    for name in path[1:]:
        if not isinstance(command, click.Group):
            break
        sub = command.get_command(ctx, name)
        if sub is None:
            break
        command = sub
        ctx = command.context_class(command, info_name=name, parent=ctx)
    return command.get_help(ctx) + "\n"


def completion_script(shell: str) -> str:
    """click's completion script of ``pybbolt`` for ``shell`` (bash, fish, zsh;
    powershell with click 8.5 or newer)."""
    completion_class = get_completion_class(shell)
    if completion_class is None:
        raise CommandError(f"the installed click has no {shell} completion")
    return completion_class(tree(), {}, PROG, COMPLETE_VAR).source()


def complete(instruction: str) -> int:
    """Answer click's completion protocol (``instruction`` is the value of
    ``_PYBBOLT_COMPLETE``, e.g. ``bash_complete`` or ``zsh_source``)."""
    return shell_complete(tree(), {}, PROG, COMPLETE_VAR, instruction)
