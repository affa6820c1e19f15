"""A long-lived process that runs ``pybbolt`` command lines in-process.

Starting a Python process per command costs ~0.2 s, most of the time of the
CLI replays (thousands of golden and fixture cases), so the tests start a
few of these workers instead and send them command lines.

The worker reads one JSON request a line on stdin and answers one JSON line
on its protocol descriptor (the original stdout; descriptor 1 itself goes to
``/dev/null`` so nothing a command prints directly can break the protocol).
Every request runs under an alarm of ``timeout`` seconds.  Two kinds:

- ``{"argv": [...], "timeout": S}`` (the fuzzer): runs ``execute`` with
  in-memory streams and answers the exit status, stderr, the stdout size,
  and, when the command escaped the CLI's own error handling, the exception
  and its traceback (a bug: ``pybbolt`` would print ``panic: internal
  error``).  Stdout larger than the output cap ends as a closed pipe does
  (``BrokenPipeError``), as if the output went to ``head``.
- ``{"argv": [...], "timeout": S, "capture": true, "cwd": DIR}`` (the
  replays): runs the console script's own ``main`` in ``DIR`` with
  ``sys.stdout``/``sys.stderr`` over in-memory buffers, as the ``pybbolt``
  program would, and answers the exit status and both streams' bytes
  (base64).  Arguments are given as Python sees argv (surrogate escapes for
  bytes that are not UTF-8).

State that one command could leave to the next is put back after every
request (working directory, ``sys.stdout``/``sys.stderr``, the environment,
the umask, signal handlers) and reported in ``"leaks"``: a command that
changes any of it would behave differently in a process of its own, so the
client treats a leak as a failure.  A worker that ran over its time or let
an exception escape is replaced by the client (its state is unknown).

:class:`Worker` and :class:`Pool` are the client side.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import queue
import select
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

OUTPUT_CAP = 1 << 20
ROOT = Path(__file__).resolve().parents[1]
# Signals whose handlers a command could change (SIGALRM is the worker's own).
WATCHED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGHUP, signal.SIGCHLD)


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


def process_state() -> dict[str, Any]:
    """What a command must not change for the next one."""
    umask = os.umask(0o022)
    os.umask(umask)
    return {
        "cwd": os.getcwd(),
        "environ": dict(os.environ),
        "umask": umask,
        "signals": {int(s): signal.getsignal(s) for s in WATCHED_SIGNALS},
        "alarm": signal.getsignal(signal.SIGALRM),
    }


def restore_state(before: dict[str, Any], cwd: str | None) -> list[str]:
    """Put the process state back as ``before``; what had changed (the
    working directory should be ``cwd`` when given: the command ran there)."""
    after = process_state()
    expected = dict(before, cwd=os.path.realpath(cwd)) if cwd is not None else before
    leaks = [name for name in before if after[name] != expected[name]]
    os.chdir(before["cwd"])
    if after["environ"] != before["environ"]:
        os.environ.clear()
        os.environ.update(before["environ"])
    os.umask(before["umask"])
    for signum, handler in before["signals"].items():
        signal.signal(signum, handler)
    signal.signal(signal.SIGALRM, before["alarm"])
    return leaks


def _run_fuzz(req: dict[str, Any], execute: Callable[..., int]) -> dict[str, Any]:
    out = CappedOutput()
    err = io.BytesIO()
    stray = io.StringIO()
    sys.stdout, sys.stderr = io.TextIOWrapper(io.BytesIO()), stray
    reply: dict[str, Any] = {}
    try:
        reply["status"] = execute(req["argv"], out, err)
    except Overtime:
        reply["overtime"] = True
    except BaseException as e:  # escaped the CLI: a bug
        reply["exception"] = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    reply["stderr"] = err.getvalue()[-4000:].decode("utf-8", "replace")
    reply["stray"] = stray.getvalue()[-4000:]
    reply["stdout_size"] = out.size
    reply["capped"] = out.capped
    return reply


def _run_capture(req: dict[str, Any], main: Callable[[list[str]], int]) -> dict[str, Any]:
    # The streams of a process started with a UTF-8 locale (as the tests run).
    out, err = io.BytesIO(), io.BytesIO()
    sys.stdout = io.TextIOWrapper(out, encoding="utf-8", errors="surrogateescape")
    sys.stderr = io.TextIOWrapper(err, encoding="utf-8", errors="backslashreplace")
    reply: dict[str, Any] = {}
    try:
        os.chdir(req["cwd"])
        reply["status"] = main(req["argv"])
    except Overtime:
        reply["overtime"] = True
    except SystemExit as e:
        reply["status"] = e.code if isinstance(e.code, int) else 1
    except BaseException as e:  # escaped main's own guard: a bug
        reply["exception"] = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a broken stream shows in the bytes compared
            stream.flush()
    reply["stdout"] = base64.b64encode(out.getvalue()).decode("ascii")
    reply["stderr"] = base64.b64encode(err.getvalue()).decode("ascii")
    return reply


def main() -> None:
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # nothing the commands print directly can break the protocol
    signal.signal(signal.SIGALRM, _alarm)
    from pybbolt.cli.main import execute
    from pybbolt.cli.main import main as cli_main

    proto.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        req = json.loads(line)
        before = process_state()
        start = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, float(req["timeout"]))
        try:
            capture = bool(req.get("capture"))
            reply = _run_capture(req, cli_main) if capture else _run_fuzz(req, execute)
        except Overtime:  # the alarm rang between the command and its reply
            reply = {"overtime": True}
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
        reply["seconds"] = time.monotonic() - start
        reply["leaks"] = restore_state(before, req.get("cwd"))
        proto.write(json.dumps(reply) + "\n")


# -- the client side --------------------------------------------------------------------


@dataclass(frozen=True)
class Captured:
    """What a ``pybbolt`` process would have left: as ``subprocess.CompletedProcess``."""

    returncode: int
    stdout: bytes
    stderr: bytes


class WorkerError(AssertionError):
    pass


class Worker:
    """One worker process of ``python`` (the project's interpreter)."""

    def __init__(self, preexec_fn: Callable[[], None] | None = None,
                 python: str = sys.executable) -> None:
        self.preexec_fn = preexec_fn
        self.python = python
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.python, "-m", "tests.cli_worker"], cwd=ROOT, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, preexec_fn=self.preexec_fn)
        assert json.loads(self._read(60)) == {"ready": True}

    def _read(self, timeout: float) -> str:
        assert self.proc is not None and self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.stop()
            raise WorkerError("the CLI worker hung past its own alarm")
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            self.proc = None
            raise WorkerError(f"the CLI worker died (status {code})")
        return line

    def request(self, req: dict[str, Any]) -> dict[str, Any]:
        """Send one request, return the reply; a worker left in doubt is restarted."""
        if self.proc is None:
            self.start()
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        reply: dict[str, Any] = json.loads(self._read(float(req["timeout"]) + 30))
        if reply.get("overtime") or reply.get("exception") or reply.get("leaks"):
            self.stop()
        return reply

    def run(self, argv: list[str], cwd: Path | str, timeout: float) -> Captured | None:
        """``pybbolt ARGV`` in ``cwd``, as the console script; None when it timed out."""
        reply = self.request({"argv": argv, "timeout": timeout, "capture": True,
                              "cwd": os.fspath(cwd)})
        if reply.get("overtime"):
            return None
        if reply.get("exception"):
            raise WorkerError(f"{argv}: escaped main():\n{reply['exception']}")
        if reply["leaks"]:
            raise WorkerError(f"{argv}: the command changed process state: {reply['leaks']}")
        return Captured(reply["status"], base64.b64decode(reply["stdout"]),
                        base64.b64decode(reply["stderr"]))

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


class Pool:
    """A few workers shared by threads: ``run`` takes whichever is free."""

    def __init__(self, size: int = 2) -> None:
        self.size = size
        self.idle: queue.Queue[Worker] = queue.Queue()
        self.all = [Worker() for _ in range(size)]
        for w in self.all:
            self.idle.put(w)

    @contextlib.contextmanager
    def worker(self) -> Iterator[Worker]:
        w = self.idle.get()
        try:
            yield w
        finally:
            self.idle.put(w)

    def run(self, argv: list[str], cwd: Path | str, timeout: float) -> Captured | None:
        with self.worker() as w:
            return w.run(argv, cwd, timeout)

    def close(self) -> None:
        for w in self.all:
            w.stop()


if __name__ == "__main__":
    main()
