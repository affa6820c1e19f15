"""Commands bbolt does not have: plain click commands, loaded when they run.

bbolt's own commands keep the lean pflag-compatible parser of :mod:`cli.main`
(byte-for-byte parity, fast start-up); a command listed here is a
``click.Command`` that owns its arguments, help and completion.  The first
word of the command line selects it, so a bbolt command line never reaches
this module.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import BinaryIO

    import click

# name -> "module:attribute" of a click.Command (modules of this package).
EXTRA_COMMANDS: dict[str, str] = {
    "browse": "cmd_browse:browse",
    "ls": "cmd_data:ls_command",
    "find": "cmd_data:find_command",
    "export": "cmd_data:export_command",
    "import": "cmd_data:import_command",
    "put": "cmd_edit:put_command",
    "delete": "cmd_edit:delete_command",
    "create-bucket": "cmd_edit:create_bucket_command",
    "delete-bucket": "cmd_edit:delete_bucket_command",
    "set-sequence": "cmd_edit:set_sequence_command",
}


def load(name: str) -> click.Command:
    """The click command registered as ``name``."""
    module_name, _, attribute = EXTRA_COMMANDS[name].partition(":")
    module = __import__(module_name, globals(), None, [attribute], 1)  # from .module import
    command: click.Command = getattr(module, attribute)
    return command


def run(name: str, args: Sequence[str], stdout: BinaryIO, stderr: BinaryIO) -> int:
    """Run the extra command ``name`` with ``args``; returns the exit status.

    The command writes through ``sys.stdout``/``sys.stderr`` as click commands
    do; they are pointed at the given binary streams for the run, so the CLI
    behaves the same in a process of its own and in an in-process test worker.
    """
    # Imported here: main imports this module on every start-up (the registry).
    import contextlib
    import io
    import sys

    import click

    from pybbolt.errors import Error

    command = load(name)
    out = io.TextIOWrapper(stdout, encoding="utf-8", errors="surrogateescape",
                           line_buffering=False, write_through=True)
    err = io.TextIOWrapper(stderr, encoding="utf-8", errors="surrogateescape",
                           line_buffering=False, write_through=True)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        result = command.main(list(args), prog_name=f"pybbolt {name}", standalone_mode=False)
        status = result if isinstance(result, int) else 0
    except click.exceptions.Exit as e:
        status = e.exit_code
    except click.ClickException as e:
        e.show(file=err)
        status = e.exit_code
    except click.Abort:
        err.write("Aborted!\n")
        status = 1
    except BrokenPipeError:
        status = 1
    except SystemExit as e:  # click's main turns a closed pipe (EPIPE) into exit(1)
        status = e.code if isinstance(e.code, int) else 1
    except Error as e:
        err.write(f"Error: {e}\n")
        status = 1
    except (RecursionError, MemoryError) as e:  # as cli.main does for bbolt's commands
        err.write(f"fatal error: {type(e).__name__}: {e}\n")
        status = 2
    finally:
        sys.stdout, sys.stderr = saved
        for stream in (out, err):
            with contextlib.suppress(BrokenPipeError):
                stream.flush()
            stream.detach()  # the caller's binary streams stay open
    return status
