"""The ``containerd`` decoder: containerd's metadata store (``meta.db``).

containerd (1.x, schema ``v1``) keeps its metadata as nested buckets,
``v1/<namespace>/{content,images,containers,leases,snapshots,...}``, whose
small values are:

* ``createdat``, ``updatedat``: Go's ``time.MarshalBinary``, shown as
  RFC 3339 text as Go prints it;
* ``size`` and ``v1/version``: Go's ``binary.PutVarint`` (zigzag), shown
  as numbers;
* everything else (labels, annotations, digests, media types, names) as
  text, and protobuf values (a container's ``spec``, runtime ``options``)
  as bytes.

Keys are shown as they are.  A value that does not parse never raises:
the result is ``{"error": "what is wrong", "raw": <the bytes>}``.
"""

from __future__ import annotations

from collections.abc import Sequence

from .decode import Decoder
from .decode_raft import go_binary_time
from .jsonfmt import bytes_to_json

_TIMES = frozenset({b"createdat", b"updatedat"})


def go_varint(value: bytes) -> int:
    """Go's ``binary.Varint``: the zigzag varint that fills the whole value."""
    result = shift = 0
    for i, byte in enumerate(value):
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if i != len(value) - 1:
                raise ValueError(f"{len(value) - i - 1} bytes after the varint")
            return (result >> 1) ^ -(result & 1)
        shift += 7
        if shift >= 70:
            raise ValueError("varint longer than 10 bytes")
    raise ValueError("truncated varint")


def _value(value: bytes, key: bytes, path: Sequence[bytes]) -> object:
    try:
        if key in _TIMES:
            return go_binary_time(value)
        if key == b"size" or (key == b"version" and len(path) == 1):
            return go_varint(value)
    except ValueError as e:
        return {"error": str(e), "raw": bytes_to_json(value)}
    return bytes_to_json(value)


CONTAINERD = Decoder("containerd", _value)
