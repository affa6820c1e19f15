"""Entry point of ``pybbolt``: cobra's dispatch over the command tree.

Finds the command (cobra's ``Find``), parses its flags (pflag rules), checks
arguments and required flags, runs it, and turns the outcome into bbolt's
streams and exit status (docs/CLI.md §1.3): errors print ``Error: MSG`` and the
usage on stderr with status 1; damage bbolt meets with a panic prints one
line on stderr with status 2.
"""

from __future__ import annotations

import os
import sys

from pybbolt.errors import CorruptionError, Error

from .extra import EXTRA_COMMANDS
from .flags import FlagError, Parser, strip_flags
from .runtime import CommandError, Crash, Exit, Invocation, Output
from .spec import COMPLETE_VAR, HELP, ROOT, Command, command_flags

# Start-up time is most of what `get` and `buckets` cost: this module imports
# neither typing nor the command modules (each command imports its own, when
# it runs), nor the usage text (printed on errors only).
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import BinaryIO

    from .flags import Flag

    Runner = Callable[[Invocation], None]


def _levenshtein(a: bytes, b: bytes) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost))
        previous = current
    return previous[-1]


def suggestions(word: str) -> list[str]:
    """cobra's ``SuggestionsFor``: commands within distance 2, or with the prefix."""
    typed = word.lower()
    found = []
    for command in ROOT.subcommands:
        if command is HELP:
            continue
        name = command.name.lower()
        close = _levenshtein(os.fsencode(typed), os.fsencode(name)) <= 2
        if close or name.startswith(typed):
            found.append(command.name)
    return found


def find(argv: Sequence[str]) -> tuple[Command, list[str], list[str]]:
    """cobra's ``Find``: the command, its path and its arguments."""
    command, path, args = ROOT, ["bbolt"], list(argv)
    while True:
        flags = _find_time_flags(command)
        words = strip_flags(args, flags)
        if not words:
            break
        sub = command.find(words[0])
        if sub is None:
            break
        args = _minus_first(args, words[0], flags)
        command, path = sub, [*path, sub.name]
    return command, path, args


def _find_time_flags(command: Command) -> tuple[Flag, ...]:
    """The flags cobra knows while finding the command: the root's ``-h`` and
    ``-v`` (and every ``-h``) are only added when a command executes."""
    return () if command is ROOT else command.flags


def _minus_first(args: list[str], word: str, flags: Sequence[Flag]) -> list[str]:
    """cobra's ``argsMinusFirstX``: drop the first non-flag occurrence of ``word``."""
    values = {f"--{f.name}" for f in flags if not f.is_bool}
    shorts = {f"-{f.shorthand}" for f in flags if f.shorthand and f.is_bool}
    pos = 0
    while pos < len(args):
        s = args[pos]
        if s == "--":
            break
        if s.startswith("--") and "=" not in s and (s in values or s[2:] not in _names(flags)):
            pos += 2
            continue
        if s.startswith("-") and "=" not in s and len(s) == 2 and s not in shorts:
            pos += 2
            continue
        if not s.startswith("-") and s == word:
            return args[:pos] + args[pos + 1 :]
        pos += 1
    return args


def _names(flags: Sequence[Flag]) -> set[str]:
    return {f.name for f in flags}


def _unknown_command(args: Sequence[str]) -> str | None:
    words = strip_flags(args, _find_time_flags(ROOT))
    if not words:
        return None
    word = words[0]
    message = f'unknown command "{word}" for "bbolt"'
    hints = suggestions(word)
    if hints:
        message += "\n\nDid you mean this?\n" + "".join(f"\t{h}\n" for h in hints)
    return message


def _load(run: str) -> Runner:
    module_name, _, function = run.partition(":")
    module = __import__(module_name, globals(), None, [function], 1)  # from .module import
    runner: Runner = getattr(module, function)
    return runner


def _required_missing(flags: Sequence[Flag], changed: set[str]) -> str | None:
    missing = sorted(f.name for f in flags if f.required and f.name not in changed)
    if not missing:
        return None
    return "required flag(s) " + ", ".join(f'"{m}"' for m in missing) + " not set"


def _usage_text(command: Command, path: Sequence[str]) -> str:
    from .usage import usage_text

    return usage_text(command, path)


def _fail(err: BinaryIO, command: Command, path: Sequence[str], message: str) -> int:
    text = f"Error: {message}\n{_usage_text(command, path)}\n"
    err.write(text.encode("utf-8", "surrogateescape"))
    return 1


def render_help(path: Sequence[str]) -> str:
    """Help for a person, rendered by click (not part of bbolt parity)."""
    from .clickhelp import render_help as render

    return render(path)


def execute(argv: Sequence[str], stdout: BinaryIO, stderr: BinaryIO) -> int:
    """Run one command line; returns the exit status."""
    if argv and argv[0] in EXTRA_COMMANDS:
        from .extra import run

        return run(argv[0], argv[1:], stdout, stderr)
    command, path, args = find(argv)
    if command is ROOT:
        message = _unknown_command(args)
        if message is not None:
            stderr.write(f"Error: {message}\nRun 'bbolt --help' for usage.\n".encode(
                "utf-8", "surrogateescape"))
            return 1
    flags = command_flags(command, path)
    out = Output(stdout)
    try:
        opts = Parser(flags, command.legacy).parse(args)
    except FlagError as e:
        return _fail(stderr, command, path, str(e))
    if opts.get_bool("help"):
        out.text(render_help(path))
        out.flush()
        return 0
    if command is ROOT and opts.get_bool("version"):
        out.text("bbolt version dev\n")
        out.flush()
        return 0
    if not command.runnable:
        out.text(render_help(path))
        out.flush()
        return 0
    if command.args is not None:
        problem = command.args.check(len(opts.args))
        if problem is not None:
            return _fail(stderr, command, path, problem)
    missing = _required_missing(command.flags, opts.changed)
    if missing is not None:
        return _fail(stderr, command, path, missing)
    invocation = Invocation(command, path, opts, out, stderr, opts.args)
    return _run(invocation)


def _run(inv: Invocation) -> int:
    try:
        try:
            _load(inv.command.run)(inv)
        finally:
            inv.out.flush()
    except CommandError as e:
        return _fail(inv.err, inv.command, inv.path, str(e))
    except Exit as e:
        if e.message:
            inv.err.write(e.message.encode("utf-8", "surrogateescape"))
        return e.status
    except (Crash, CorruptionError) as e:
        text = str(e)
        if not text.startswith("fatal error"):
            text = "panic: " + text
        inv.err.write(f"{text}\n".encode("utf-8", "surrogateescape"))
        return 2
    except Error as e:
        return _fail(inv.err, inv.command, inv.path, str(e))
    except BrokenPipeError:
        return 1
    except (RecursionError, MemoryError) as e:
        inv.err.write(f"fatal error: {type(e).__name__}: {e}\n".encode())
        return 2
    return 0


def run_help(inv: Invocation) -> None:
    """cobra's ``help [command]``."""
    if inv.args and inv.args[0] in EXTRA_COMMANDS:
        inv.out.text(render_help(["bbolt", *inv.args]))
        return
    command, path, args = find(inv.args)
    if command is ROOT and _unknown_command(args) is not None:
        topic = "[" + " ".join(f"`{a}`" for a in inv.args) + "]"
        inv.err.write(f"Unknown help topic {topic}\n".encode("utf-8", "surrogateescape"))
        usage = _usage_text(ROOT, ["bbolt"])
        usage = usage.split("\n\nFlags:")[0] + usage[usage.index('\n\nUse "'):]
        inv.err.write(usage.encode())
        return
    inv.out.text(render_help(path))


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point: returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv is None and COMPLETE_VAR in os.environ:
            # click's completion protocol: the shell asks what may come next.
            from .clickhelp import complete

            status = complete(os.environ[COMPLETE_VAR])
        else:
            status = execute(args, sys.stdout.buffer, sys.stderr.buffer)
    except BrokenPipeError:
        status = 1
    except Exception as e:  # never a traceback, whatever the input
        sys.stderr.write(f"panic: internal error: {type(e).__name__}: {e}\n")
        status = 2
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        # Nobody reads any more: keep the interpreter's final flush quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        status = status or 1
    return status


if __name__ == "__main__":
    sys.exit(main())
