"""cobra's usage text, printed after an error (the v1.5.0 tool's layout, docs/CLI.md §1.5)."""

from __future__ import annotations

from .flags import TYPE_NAMES
from .spec import Command, command_flags

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Sequence

    from .flags import Flag

__all__ = ["command_flags", "flag_listing", "usage_text"]

_MIN_NAME_PADDING = 11


def _default_text(flag: Flag) -> str:
    default = flag.default
    if flag.kind == "string":
        return "" if default == "" else f' (default "{default}")'
    if flag.kind == "bool":
        return " (default true)" if default else ""
    if isinstance(default, list):
        return "" if not default else f" (default [{','.join(default)}])"
    if isinstance(default, float):
        return "" if default == 0 else f" (default {default:g})"
    return "" if default == 0 else f" (default {default})"


def flag_listing(flags: Sequence[Flag]) -> str:
    """pflag's ``FlagUsages``: one line per flag, sorted, descriptions aligned."""
    lines: list[tuple[str, str]] = []
    for flag in sorted(flags, key=lambda f: f.name):
        if flag.hidden:  # pybbolt's own flags: bbolt's usage text stays bbolt's
            continue
        head = f"  -{flag.shorthand}, --{flag.name}" if flag.shorthand else f"      --{flag.name}"
        type_name = TYPE_NAMES[flag.kind]
        if type_name:
            head += " " + type_name
        lines.append((head, flag.usage + _default_text(flag)))
    width = max(len(head) for head, _ in lines) + 1
    text = "".join(f"{head} {' ' * (width - len(head))} {usage}\n" for head, usage in lines)
    return text.rstrip()


def usage_text(command: Command, path: Sequence[str]) -> str:
    """cobra's usage template for ``command`` at ``path`` (``["bbolt", ...]``)."""
    command_path = " ".join(path)
    out = ["Usage:"]
    if command.runnable:
        rest = command.use.split(" ", 1)
        line = command_path + (" " + rest[1] if len(rest) > 1 else "")
        if "[flags]" not in line:
            line += " [flags]"
        out.append("\n  " + line)
    subs = [c for c in command.subcommands if c.runnable or c.subcommands]
    if subs:
        out.append(f"\n  {command_path} [command]")
        pad = max([_MIN_NAME_PADDING, *(len(c.name) for c in subs)])
        out.append("\n\nAvailable Commands:")
        for sub in sorted(subs, key=lambda c: c.name):
            out.append(f"\n  {sub.name.ljust(pad)} {sub.short}")
    out.append("\n\nFlags:\n" + flag_listing(command_flags(command, path)))
    if subs:
        out.append(
            f'\n\nUse "{command_path} [command] --help" for more information about a command.'
        )
    out.append("\n")
    return "".join(out)

