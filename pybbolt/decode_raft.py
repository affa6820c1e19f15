"""The ``raft`` decoder: a raft-boltdb store (Consul, Nomad, Vault, ...).

raft-boltdb (v1 on boltdb/bolt, v2 on bbolt) keeps two buckets:

* ``logs``: the key is the log index (8 bytes, big-endian), shown as a
  number; the value is hashicorp/raft's ``Log`` encoded with go-msgpack,
  shown as ``{"index", "term", "type", "data"}`` plus ``"extensions"`` and
  ``"appended_at"`` when the writer's raft had them.  ``type`` is the
  ``LogType`` name (``"LogCommand"``, ``"LogConfiguration"``, ...; an unknown
  number stays a number), ``data`` and ``extensions`` are bytes (``null``
  for Go's nil slice), ``appended_at`` is an RFC 3339 time as Go prints it
  (``null`` where the newer time format wrote nil for the zero time).  A
  ``LogConfiguration`` log also has ``"configuration"``: its servers with
  ``suffrage``, ``id`` and ``address``.
* ``conf``: ``CurrentTerm`` and ``LastVoteTerm`` are numbers (raft's
  ``SetUint64``); other values, such as ``LastVoteCand``, are bytes.

The time inside a log comes in both of go-msgpack's encodings: Go's
``time.MarshalBinary`` (raft-boltdb v1 and v2's default) and the msgpack
timestamp (v2 with ``MsgpackUseNewTimeFormat``).  A value that does not
parse never raises: the result is ``{"error": "what is wrong", "raw": <the
bytes>}``.  Other buckets' values, and keys that are not 8 bytes, are shown
as their bytes.
"""

from __future__ import annotations

import datetime
import struct
from collections.abc import Sequence

from .decode import Decoder
from .jsonfmt import bytes_to_json

_MAX_DEPTH = 64


class MsgpackError(ValueError):
    """Bytes that are not msgpack."""


class Ext:
    """A msgpack extension value: its type and payload."""

    def __init__(self, code: int, data: bytes) -> None:
        self.code = code
        self.data = data


class _Reader:
    """A msgpack reader of the subset go-msgpack writes (old raw strings too).

    Strings and binaries are both returned as ``bytes`` (the old spec that
    go-msgpack follows by default has one raw type for both), maps as dicts.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            raise MsgpackError(f"truncated: {n} bytes needed at offset {self.pos}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def count(self, n: int) -> int:
        # Every element takes at least one byte: a larger count is damage,
        # refused before it can make a huge list.
        count = self.uint(n)
        if count > len(self.data) - self.pos:
            raise MsgpackError(f"{count} elements announced at offset {self.pos}, fewer bytes left")
        return count

    def value(self, depth: int = 0) -> object:
        if depth > _MAX_DEPTH:
            raise MsgpackError("nested too deeply")
        b = self.uint(1)
        if b <= 0x7F:
            return b
        if b >= 0xE0:
            return b - 0x100
        if 0x80 <= b <= 0x8F:
            return self.map(b & 0x0F, depth)
        if 0x90 <= b <= 0x9F:
            return [self.value(depth + 1) for _ in range(b & 0x0F)]
        if 0xA0 <= b <= 0xBF:
            return self.take(b & 0x1F)
        if b == 0xC0:
            return None
        if b in (0xC2, 0xC3):
            return b == 0xC3
        if b in (0xC4, 0xC5, 0xC6, 0xD9, 0xDA, 0xDB):  # bin8/16/32, str8/16/32
            width = {0xC4: 1, 0xC5: 2, 0xC6: 4, 0xD9: 1, 0xDA: 2, 0xDB: 4}[b]
            return self.take(self.uint(width))
        if b in (0xC7, 0xC8, 0xC9):  # ext8/16/32
            length = self.uint({0xC7: 1, 0xC8: 2, 0xC9: 4}[b])
            code = int.from_bytes(self.take(1), "big", signed=True)
            return Ext(code, self.take(length))
        if 0xD4 <= b <= 0xD8:  # fixext 1..16
            code = int.from_bytes(self.take(1), "big", signed=True)
            return Ext(code, self.take(1 << (b - 0xD4)))
        if b in (0xCA, 0xCB):
            return struct.unpack(">f" if b == 0xCA else ">d", self.take(4 if b == 0xCA else 8))[0]
        if 0xCC <= b <= 0xCF:
            return self.uint(1 << (b - 0xCC))
        if 0xD0 <= b <= 0xD3:
            return int.from_bytes(self.take(1 << (b - 0xD0)), "big", signed=True)
        if b in (0xDC, 0xDD):
            return [self.value(depth + 1) for _ in range(self.count(2 if b == 0xDC else 4))]
        if b in (0xDE, 0xDF):
            return self.map(self.count(2 if b == 0xDE else 4), depth)
        raise MsgpackError(f"unknown msgpack type byte 0x{b:02x} at offset {self.pos - 1}")

    def map(self, n: int, depth: int) -> dict[object, object]:
        out: dict[object, object] = {}
        for _ in range(n):
            key = self.value(depth + 1)
            if isinstance(key, (list, dict, Ext)):
                raise MsgpackError("a map key that is a map, an array or an extension")
            out[key] = self.value(depth + 1)
        return out


def unpack(data: bytes) -> object:
    """The one msgpack value ``data`` holds (trailing bytes are an error)."""
    reader = _Reader(data)
    value = reader.value()
    if reader.pos != len(data):
        raise MsgpackError(f"{len(data) - reader.pos} bytes after the value")
    return value


# hashicorp/raft log.go and configuration.go
LOG_TYPES = {0: "LogCommand", 1: "LogNoop", 2: "LogAddPeerDeprecated", 3: "LogRemovePeerDeprecated",
             4: "LogBarrier", 5: "LogConfiguration"}
SUFFRAGES = {0: "Voter", 1: "Nonvoter", 2: "Staging"}
CONF_UINT64 = frozenset({b"CurrentTerm", b"LastVoteTerm"})

_YEAR1 = datetime.datetime(1, 1, 1, tzinfo=datetime.timezone.utc)
_UNIX = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def go_time(seconds: int, nanos: int, epoch: datetime.datetime, offset_minutes: int | None) -> str:
    """A time as Go's RFC3339Nano prints it (``Z`` for UTC, trailing zeros dropped)."""
    if not 0 <= nanos < 1_000_000_000:
        raise ValueError(f"nanoseconds out of range: {nanos}")
    try:
        moment = epoch + datetime.timedelta(seconds=seconds + (offset_minutes or 0) * 60)
    except OverflowError:
        raise ValueError(f"time out of range: {seconds} s") from None
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    text = f"{moment.year:04d}" + text[text.index("-"):]  # strftime does not pad year 1
    if nanos:
        text += "." + f"{nanos:09d}".rstrip("0")
    if not offset_minutes:
        return text + "Z"
    sign = "+" if offset_minutes > 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{text}{sign}{hours:02d}:{minutes:02d}"


def go_binary_time(value: bytes) -> str:
    """Go's ``time.MarshalBinary`` bytes as RFC 3339 (raft-boltdb, containerd)."""
    # version 1: version, seconds since year 1, nanoseconds, zone offset in
    # minutes (-1: UTC); version 2 adds the seconds of the offset.
    if len(value) != {1: 15, 2: 16}.get(value[0] if value else 0, -1):
        raise ValueError(f"not a Go binary time ({len(value)} bytes)")
    seconds = int.from_bytes(value[1:9], "big", signed=True)
    nanos = int.from_bytes(value[9:13], "big", signed=True)
    offset = int.from_bytes(value[13:15], "big", signed=True)
    return go_time(seconds, nanos, _YEAR1, None if offset == -1 else offset)


def _time(value: object) -> str | None:
    """``AppendedAt`` in whichever encoding go-msgpack used."""
    if value is None:
        return None  # the new format's zero time
    if isinstance(value, Ext):
        if value.code != -1:
            raise ValueError(f"AppendedAt: extension type {value.code}, not a timestamp")
        value = value.data
    if not isinstance(value, bytes):
        raise ValueError(f"AppendedAt: unexpected {type(value).__name__}")
    n = len(value)
    if n in (15, 16) and value[0] in (1, 2):
        return go_binary_time(value)
    # The msgpack timestamp formats: 32, 64 and 96 bits (Unix time).
    if n == 4:
        return go_time(int.from_bytes(value, "big"), 0, _UNIX, None)
    if n == 8:
        both = int.from_bytes(value, "big")
        return go_time(both & ((1 << 34) - 1), both >> 34, _UNIX, None)
    if n == 12:
        seconds = int.from_bytes(value[4:], "big", signed=True)
        return go_time(seconds, int.from_bytes(value[:4], "big"), _UNIX, None)
    raise ValueError(f"AppendedAt: {n} bytes is no known time encoding")


def _bytes_or_null(value: object, name: str) -> object:
    if value is None:
        return None
    if not isinstance(value, bytes):
        raise ValueError(f"{name}: expected bytes, got {type(value).__name__}")
    return bytes_to_json(value)


def _text(value: object) -> object:
    return bytes_to_json(value) if isinstance(value, bytes) else value


def configuration(data: bytes) -> dict[str, object]:
    """A ``LogConfiguration`` log's data: raft's ``Configuration``."""
    decoded = unpack(data)
    servers = decoded.get(b"Servers") if isinstance(decoded, dict) else None
    if not isinstance(servers, list):
        raise ValueError("configuration without a Servers list")
    out = []
    for server in servers:
        if not isinstance(server, dict):
            raise ValueError("a configuration server that is not a map")
        suffrage = server.get(b"Suffrage")
        if isinstance(suffrage, int):
            suffrage = SUFFRAGES.get(suffrage, suffrage)
        out.append({"suffrage": suffrage,
                    "id": _text(server.get(b"ID")), "address": _text(server.get(b"Address"))})
    return {"servers": out}


def log(value: bytes) -> dict[str, object]:
    """A raft-boltdb ``logs`` value as a dict (see the module's description)."""
    fields = unpack(value)
    if not isinstance(fields, dict):
        raise ValueError("a log that is not a msgpack map")
    numbers = []
    for field in (b"Index", b"Term", b"Type"):
        number = fields.get(field)
        if not isinstance(number, int) or isinstance(number, bool):
            raise ValueError(f"log without a numeric {field.decode()}")
        numbers.append(number)
    index, term, type_ = numbers
    out: dict[str, object] = {"index": index, "term": term, "type": LOG_TYPES.get(type_, type_)}
    data = fields.get(b"Data")
    out["data"] = _bytes_or_null(data, "Data")
    if b"Extensions" in fields:
        out["extensions"] = _bytes_or_null(fields[b"Extensions"], "Extensions")
    if b"AppendedAt" in fields:
        out["appended_at"] = _time(fields[b"AppendedAt"])
    if out["type"] == "LogConfiguration" and isinstance(data, bytes):
        out["configuration"] = configuration(data)
    return out


def _value(value: bytes, key: bytes, path: Sequence[bytes]) -> object:
    bucket = path[-1] if path else b""
    try:
        if bucket == b"logs":
            return log(value)
        if bucket == b"conf" and key in CONF_UINT64:
            if len(value) != 8:
                raise ValueError(f"{key.decode()}: expected 8 bytes, got {len(value)}")
            return int.from_bytes(value, "big")
    except (ValueError, RecursionError) as e:
        return {"error": str(e), "raw": bytes_to_json(value)}
    return bytes_to_json(value)


def _key(key: bytes, path: Sequence[bytes]) -> object:
    if path and path[-1] == b"logs" and len(key) == 8:
        return int.from_bytes(key, "big")
    return bytes_to_json(key)


RAFT = Decoder("raft", _value, _key)
