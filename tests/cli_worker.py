"""A long-lived process that runs CLI command lines in-process, for the fuzzer.

Started by tests/test_fuzz_cli.py with an address-space limit.  Reads one
JSON request a line on stdin (``{"argv": [...], "timeout": S}``), runs
``cli.main.execute`` with in-memory streams under an alarm, and answers one
JSON line on its protocol descriptor: the exit status, stderr, the stdout
size, and, when the command escaped the CLI's own error handling, the
exception and its traceback (a bug: ``pybbolt`` would print
``panic: internal error``).  Stdout larger than the output cap ends as a
closed pipe does (``BrokenPipeError``), as if the output went to ``head``.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import time
import traceback
from types import FrameType
from typing import Any

OUTPUT_CAP = 1 << 20


class Overtime(BaseException):
    pass


class CappedOutput(io.RawIOBase):
    """A binary stream that keeps a count and closes "the pipe" at the cap."""

    def __init__(self) -> None:
        self.size = 0
        self.capped = False

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        n = len(memoryview(b))
        self.size += n
        if self.size > OUTPUT_CAP:
            self.capped = True
            raise BrokenPipeError(32, "Broken pipe")
        return n


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Overtime()


def main() -> None:
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing the commands print directly can break the protocol
    signal.signal(signal.SIGALRM, _alarm)
    from cli.main import execute

    proto.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        req = json.loads(line)
        out = CappedOutput()
        err = io.BytesIO()
        stray = io.StringIO()
        sys.stdout, sys.stderr = io.TextIOWrapper(io.BytesIO()), stray
        reply: dict[str, Any] = {}
        start = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, float(req["timeout"]))
        try:
            reply["status"] = execute(req["argv"], out, err)  # type: ignore[arg-type]
        except Overtime:
            reply["overtime"] = True
        except BaseException as e:  # escaped the CLI: a bug
            reply["exception"] = "".join(traceback.format_exception(type(e), e, e.__traceback__))
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        reply["seconds"] = time.monotonic() - start
        reply["stderr"] = err.getvalue()[-4000:].decode("utf-8", "replace")
        reply["stray"] = stray.getvalue()[-4000:]
        reply["stdout_size"] = out.size
        reply["capped"] = out.capped
        proto.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    main()
