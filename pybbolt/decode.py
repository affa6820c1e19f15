"""Value decoders: readable forms of the values real programs store.

A decoder turns a stored pair into JSON-ready values (dicts, lists, strings,
numbers; bytes through :func:`pybbolt.jsonfmt.bytes_to_json`).  Decoders are
found by name: the built-in ones below, those that installed packages declare
in the ``pybbolt.decoders`` entry-point group, or ``module:function`` for a
function ``f(value: bytes) -> object`` of the user's own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from .errors import Error
from .jsonfmt import bytes_to_json

# (value, key, bucket path from the root) -> a JSON-ready object
ValueDecoder = Callable[[bytes, bytes, Sequence[bytes]], object]
# (key, bucket path) -> a JSON-ready object
KeyDecoder = Callable[[bytes, Sequence[bytes]], object]


class DecoderError(Error):
    """An unknown decoder name, or a decoder that cannot be loaded."""


class Decoder:
    """A named pair of key and value decoders."""

    def __init__(self, name: str, value: ValueDecoder, key: KeyDecoder | None = None) -> None:
        self.name = name
        self.value = value
        self.key: KeyDecoder = key if key is not None else _raw_key

    def __repr__(self) -> str:
        return f"Decoder({self.name!r})"


def _raw_key(key: bytes, path: Sequence[bytes]) -> object:
    return bytes_to_json(key)


def _json_value(value: bytes, key: bytes, path: Sequence[bytes]) -> object:
    try:
        return json.loads(value)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply for json
        return bytes_to_json(value)  # not JSON: shown as it is


# Built-in decoders: name -> "module:attribute" of a Decoder (loaded on use).
BUILTIN: dict[str, str] = {
    "json": "pybbolt.decode:JSON",
    "etcd": "pybbolt.decode_etcd:ETCD",
    "raft": "pybbolt.decode_raft:RAFT",
    "containerd": "pybbolt.decode_containerd:CONTAINERD",
}

JSON = Decoder("json", _json_value)


def names() -> list[str]:
    """The names of the built-in and installed decoders."""
    from importlib.metadata import entry_points

    return sorted({*BUILTIN, *(ep.name for ep in entry_points(group="pybbolt.decoders"))})


def get_decoder(name: str) -> Decoder:
    """The decoder called ``name`` (built-in, entry point, or ``module:function``)."""
    from importlib import import_module
    from importlib.metadata import entry_points

    target = BUILTIN.get(name)
    if target is None:
        found = [ep for ep in entry_points(group="pybbolt.decoders") if ep.name == name]
        if found:
            target = found[0].value
        elif ":" in name:
            target = name
        else:
            known = ", ".join(names())
            raise DecoderError(f"unknown decoder {name!r} (known: {known}; or module:function)")
    module_name, _, attribute = target.partition(":")
    try:
        obj = getattr(import_module(module_name), attribute)
    except (ImportError, AttributeError) as e:
        raise DecoderError(f"cannot load decoder {name!r} from {target}: {e}") from None
    if isinstance(obj, Decoder):
        return obj
    if callable(obj):
        function = obj
        return Decoder(name, lambda value, key, path: function(value))
    raise DecoderError(f"decoder {name!r} ({target}) is not a Decoder or a function")
