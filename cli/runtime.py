"""What a command runner gets and how it reports: buffered output, errors."""

from __future__ import annotations

from .flags import Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import BinaryIO

    from .flags import Parsed
    from .spec import Command

_FLUSH_AT = 1 << 16


class CommandError(Exception):
    """An error the command returns: ``Error: MSG`` + usage on stderr, exit 1."""


class Crash(Exception):
    """What bbolt meets with a panic or a fatal runtime error: exit status 2."""


class Exit(Exception):
    """Stop at once with a status; ``message`` (if any) goes to stderr as is."""

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message


class Output:
    """Buffered binary standard output (some outputs are not UTF-8)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._parts: list[bytes] = []
        self._size = 0

    def write(self, data: bytes) -> None:
        self._parts.append(data)
        self._size += len(data)
        if self._size >= _FLUSH_AT:
            self.flush()

    def text(self, text: str) -> None:
        """Write text (paths and names keep their raw bytes)."""
        self.write(text.encode("utf-8", "surrogateescape"))

    def flush(self) -> None:
        if self._parts:
            data = b"".join(self._parts)
            self._parts.clear()
            self._size = 0
            self._stream.write(data)
        self._stream.flush()


class Invocation(Record):
    """A parsed command line handed to a runner."""

    __slots__ = ("command", "path", "opts", "out", "err", "args")  # noqa: RUF023 (in field order)

    def __init__(
        self,
        command: Command,
        path: list[str],
        opts: Parsed,
        out: Output,
        err: BinaryIO,
        args: list[str] | None = None,
    ) -> None:
        self.command = command
        self.path = path
        self.opts = opts
        self.out = out
        self.err = err
        self.args: list[str] = [] if args is None else args
