"""The ``etcd`` decoder: the buckets of an etcd v3 member's bbolt file.

What etcd's own ``etcd-dump-db`` shows, as JSON-ready values:

* ``key``: the key is a revision, 8-byte big-endian main revision, ``_``,
  8-byte big-endian sub revision, and a trailing ``t`` on a deletion
  (tombstone); it reads ``"main_sub"`` (``"6_0t"`` for a tombstone).  The
  value is an ``mvccpb.KeyValue``: ``key``, ``create_revision``,
  ``mod_revision``, ``version``, ``value``, ``lease``, every field present
  (protobuf leaves zeros out), plus ``"tombstone": true`` on a deletion.
* ``meta``: ``consistent_index`` and ``term`` as numbers,
  ``finishedCompactRev`` / ``scheduledCompactRev`` as ``"main_sub"``,
  ``confState`` (JSON) parsed; others as bytes.
* ``lease``: the key is the lease ID (a number), the value a
  ``leasepb.Lease`` (``ID``, ``TTL``, ``RemainingTTL``).
* ``members``, ``members_removed``, ``cluster``: JSON values parsed, text as text.
* ``alarm``: the key is an ``AlarmMember`` (``MemberID``, ``Alarm``).
* ``auth``: ``authEnabled`` as a boolean, ``authRevision`` as a number;
  ``authUsers`` / ``authRoles``: ``authpb.User`` / ``authpb.Role``.

Anything else (another bucket, an unknown meta key) appears as its bytes.
A value that does not parse never raises: the result is
``{"error": "what is wrong", "raw": <the bytes>}``.  A key that is not what
its bucket holds is shown as its bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence

from .decode import Decoder
from .jsonfmt import bytes_to_json

# Protobuf wire types.
_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5


class ProtobufError(ValueError):
    """Bytes that are not a protobuf message."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise ProtobufError("varint longer than 10 bytes")


def protobuf_fields(data: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """``(field number, wire type, value)`` of each field of a protobuf message.

    Varints and fixed-width fields give unsigned integers, length-delimited
    fields their bytes; groups (wire types 3 and 4) are refused.
    """
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise ProtobufError("field number 0")
        value: int | bytes
        if wire == _VARINT:
            value, pos = _varint(data, pos)
        elif wire in (_FIXED64, _FIXED32):
            width = 8 if wire == _FIXED64 else 4
            if pos + width > len(data):
                raise ProtobufError(f"truncated fixed{width * 8} field {number}")
            value = int.from_bytes(data[pos:pos + width], "little")
            pos += width
        elif wire == _LEN:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ProtobufError(f"field {number}: length {length} past the end")
            value = data[pos:pos + length]
            pos += length
        else:
            raise ProtobufError(f"field {number}: unsupported wire type {wire}")
        yield number, wire, value


def _int64(value: int) -> int:
    """A varint as Go's int64 (negative numbers are 10-byte two's complement)."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >> 63 else value


# How a field of a message reads: (name, kind), kind one of "int64",
# "uint64", "bytes", "string", "bool", an Enum, or the Schema of a nested message.
Schema = dict[int, tuple[str, object]]


def decode_message(data: bytes, schema: Schema,
                   repeated: frozenset[str] = frozenset()) -> dict[str, object]:
    """A protobuf message as a dict, every field of ``schema`` present.

    Absent fields take proto3's defaults (0, empty, false, the enum's zero);
    a field named in ``repeated`` is a list; fields not in ``schema`` are
    skipped, as protobuf readers do.
    """
    out: dict[str, object] = {}
    for name, kind in schema.values():
        out[name] = [] if name in repeated else _default(kind)
    for number, wire, value in protobuf_fields(data):
        field = schema.get(number)
        if field is None:
            continue
        name, kind = field
        decoded = _field(name, kind, wire, value)
        if name in repeated:
            items = out[name]
            assert isinstance(items, list)
            items.append(decoded)
        else:
            out[name] = decoded
    return out


def _default(kind: object) -> object:
    if kind in ("int64", "uint64"):
        return 0
    if kind == "bool":
        return False
    if kind in ("bytes", "string"):
        return ""
    if isinstance(kind, Enum):
        return kind.names.get(0, 0)
    return None  # an absent nested message


class Enum:
    """A protobuf enum field: its value names by number."""

    def __init__(self, names: dict[int, str]) -> None:
        self.names = names


def _field(name: str, kind: object, wire: int, value: int | bytes) -> object:
    if kind in ("int64", "uint64", "bool") or isinstance(kind, Enum):
        if not isinstance(value, int) or wire != _VARINT:
            raise ProtobufError(f"{name}: expected a varint")
        if kind == "int64":
            return _int64(value)
        if kind == "bool":
            return value != 0
        if isinstance(kind, Enum):
            return kind.names.get(value, value)  # unknown numbers stay numbers
        return value & ((1 << 64) - 1)
    if not isinstance(value, bytes):
        raise ProtobufError(f"{name}: expected a length-delimited field")
    if kind == "bytes":
        return bytes_to_json(value)
    if kind == "string":
        return value.decode("utf-8", "replace")
    assert isinstance(kind, dict)
    return decode_message(value, kind)


# mvccpb.KeyValue (etcd api/mvccpb/kv.proto)
KEY_VALUE: Schema = {
    1: ("key", "bytes"), 2: ("create_revision", "int64"), 3: ("mod_revision", "int64"),
    4: ("version", "int64"), 5: ("value", "bytes"), 6: ("lease", "int64"),
}
# leasepb.Lease (etcd server/lease/leasepb/lease.proto)
LEASE: Schema = {1: ("ID", "int64"), 2: ("TTL", "int64"), 3: ("RemainingTTL", "int64")}
# etcdserverpb.AlarmMember
ALARM_MEMBER: Schema = {
    1: ("MemberID", "uint64"), 2: ("Alarm", Enum({0: "NONE", 1: "NOSPACE", 2: "CORRUPT"})),
}
# authpb.User and authpb.Role (etcd api/authpb/auth.proto)
USER: Schema = {
    1: ("name", "bytes"), 2: ("password", "bytes"), 3: ("roles", "string"),
    4: ("options", {1: ("no_password", "bool")}),
}
PERMISSION: Schema = {
    1: ("permType", Enum({0: "READ", 1: "WRITE", 2: "READWRITE"})),
    2: ("key", "bytes"), 3: ("range_end", "bytes"),
}
ROLE: Schema = {1: ("name", "bytes"), 2: ("keyPermission", PERMISSION)}

_REV_LEN = 17  # 8 + '_' + 8 (mvcc/revision.go); 18 with the tombstone mark 't'


def revision(key: bytes) -> str:
    """A revision key as ``"main_sub"`` (``"main_subt"`` for a tombstone)."""
    if len(key) not in (_REV_LEN, _REV_LEN + 1) or key[8:9] != b"_" or (
            len(key) == _REV_LEN + 1 and key[-1:] != b"t"):
        raise ValueError(f"not an etcd revision ({len(key)} bytes: {key.hex()})")
    main = _int64(int.from_bytes(key[:8], "big"))
    sub = _int64(int.from_bytes(key[9:17], "big"))
    return f"{main}_{sub}" + ("t" if len(key) == _REV_LEN + 1 else "")


def _uint64_be(value: bytes) -> int:
    if len(value) != 8:
        raise ValueError(f"expected an 8-byte big-endian number, got {len(value)} bytes")
    return int.from_bytes(value, "big")


def _json_or_text(value: bytes) -> object:
    try:
        return json.loads(value)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply for json
        return bytes_to_json(value)


def _key_value(value: bytes, key: bytes) -> object:
    out = decode_message(value, KEY_VALUE)
    if len(key) == _REV_LEN + 1 and key.endswith(b"t"):
        out["tombstone"] = True
    return out


_META: dict[bytes, Callable[[bytes], object]] = {
    b"consistent_index": _uint64_be,
    b"term": _uint64_be,
    b"finishedCompactRev": revision,
    b"scheduledCompactRev": revision,
    b"confState": json.loads,
}
_AUTH: dict[bytes, Callable[[bytes], object]] = {
    b"authEnabled": lambda v: v == b"\x01",
    b"authRevision": _uint64_be,
}


def _value(value: bytes, key: bytes, path: Sequence[bytes]) -> object:
    bucket = path[-1] if path else b""
    try:
        if bucket == b"key":
            return _key_value(value, key)
        if bucket == b"meta" and key in _META:
            return _META[key](value)
        if bucket == b"auth" and key in _AUTH:
            return _AUTH[key](value)
        if bucket == b"lease":
            return decode_message(value, LEASE)
        if bucket == b"authUsers":
            return decode_message(value, USER, frozenset({"roles"}))
        if bucket == b"authRoles":
            return decode_message(value, ROLE, frozenset({"keyPermission"}))
        if bucket in (b"members", b"members_removed", b"cluster"):
            return _json_or_text(value)
    except (ValueError, RecursionError) as e:  # UnicodeDecodeError is a ValueError
        return {"error": str(e) or type(e).__name__, "raw": bytes_to_json(value)}
    return bytes_to_json(value)


def _key(key: bytes, path: Sequence[bytes]) -> object:
    bucket = path[-1] if path else b""
    try:
        if bucket == b"key":
            return revision(key)
        if bucket == b"lease":
            return _int64(_uint64_be(key))
        if bucket == b"alarm":
            return decode_message(key, ALARM_MEMBER)
    except ValueError:
        pass  # not what the bucket holds: shown as it is
    return bytes_to_json(key)


ETCD = Decoder("etcd", _value, _key)
