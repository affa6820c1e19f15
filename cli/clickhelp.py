"""Help texts, rendered by click from the command tree of :mod:`cli.spec`.

Parsing follows pflag (bbolt's own library) for byte-for-byte parity; what a
person reads with ``pybbolt --help`` or ``pybbolt COMMAND --help`` is click's
help, built from the same declarations: the command's description, its
arguments, its flags with their defaults, and the sub-commands of a group.
click is imported only when help is asked for, keeping every command's
start-up light.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from .flags import TYPE_NAMES, Flag
from .spec import TIMEOUT_FLAG, TIMEOUT_RUNNERS, Command
from .usage import command_flags

PROG = "pybbolt"


class _Command(click.Command):
    """A click command whose usage line is bbolt's ``Use`` string."""

    def __init__(self, use: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.use_args = use.split(" ", 1)[1] if " " in use else ""

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, f"{self.use_args} [flags]".strip())


class _Group(click.Group):
    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "COMMAND [ARGS]... [flags]")


def _option(flag: Flag) -> click.Option:
    decls = [f"--{flag.name}"] + ([f"-{flag.shorthand}"] if flag.shorthand else [])
    if flag.is_bool:
        return click.Option(decls, is_flag=True, help=flag.usage)
    default = flag.default
    shown = default not in ("", 0, 0.0, [], None)
    return click.Option(
        decls,
        metavar=TYPE_NAMES[flag.kind].upper() or None,
        help=flag.usage,
        default=default,
        show_default=shown,
    )


def _build(command: Command, path: Sequence[str]) -> click.Command:
    text = (command.long or command.short).rstrip()
    flags = command_flags(command, path)
    if command.run in TIMEOUT_RUNNERS:
        flags.append(TIMEOUT_FLAG)  # pybbolt's own flag: listed here, not in bbolt's usage
    params: list[click.Parameter] = [_option(f) for f in flags]
    if command.subcommands:
        group = _Group(name=command.name, help=text, params=params,
                       add_help_option=False, context_settings={"max_content_width": 100})
        for sub in command.subcommands:
            if sub.runnable or sub.subcommands:
                group.add_command(_build(sub, [*path, sub.name]), sub.name)
        return group
    return _Command(command.use, name=command.name, help=text, params=params,
                    add_help_option=False, context_settings={"max_content_width": 100})


def render_help(command: Command, path: Sequence[str]) -> str:
    """The help of ``command`` (reached by ``path``, e.g. ``["bbolt", "keys"]``)."""
    shown = [PROG, *path[1:]]
    cmd = _build(command, path)
    parent = None
    for name in shown[:-1]:
        parent = click.Context(click.Command(name), info_name=name, parent=parent)
    ctx = click.Context(cmd, info_name=shown[-1], parent=parent)
    return cmd.get_help(ctx) + "\n"
