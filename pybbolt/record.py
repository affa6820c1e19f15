"""Result records that :mod:`dataclasses` accepts, without importing it.

``import dataclasses`` imports ``inspect``, ``re`` and ``enum``: twice the
instructions of an empty interpreter's whole start-up, more than the walk of
``stats`` or ``inspect`` on a file of ten buckets.  So the walks' result
types are plain classes with ``__slots__`` that declare their fields here,
and their ``__dataclass_fields__`` is made the first time something asks:
``dataclasses.fields``, ``asdict``, ``astuple``, ``replace`` and
``is_dataclass`` work on them as on a dataclass.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from dataclasses import Field
    from typing import Any, ClassVar


class _Fields:
    """The class attribute ``__dataclass_fields__``, made on first access."""

    def __init__(self) -> None:
        self.made: dict[str, Field[Any]] | None = None

    def __get__(self, obj: object, owner: type[Record]) -> dict[str, Field[Any]]:
        if self.made is None:
            import dataclasses

            specs: list[Any] = []
            for name, default in owner._FIELDS.items():
                if default is REQUIRED:
                    specs.append((name, "Any"))
                elif callable(default):
                    specs.append((name, "Any", dataclasses.field(default_factory=default)))
                else:
                    specs.append((name, "Any", dataclasses.field(default=default)))
            twin = dataclasses.make_dataclass(owner.__name__, specs)
            self.made = twin.__dataclass_fields__  # type: ignore[attr-defined]
        return self.made


REQUIRED = object()  # a field without a default


class Record:
    """A record of the fields in ``_FIELDS`` (name -> default, a type to call
    for a fresh one, or ``REQUIRED``): equal when of the same class with
    equal fields, shown as a dataclass is."""

    __slots__ = ()
    _FIELDS: ClassVar[dict[str, Any]] = {}
    if TYPE_CHECKING:  # what dataclasses' functions look for
        __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    def __init_subclass__(cls) -> None:
        cls.__dataclass_fields__ = _Fields()  # type: ignore[assignment]

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self._FIELDS)

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass with eq

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._FIELDS)
        return f"{self.__class__.__qualname__}({inner})"
