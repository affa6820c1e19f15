"""Light stand-ins for the three stdlib imports of :mod:`pybbolt.db`.

Every ``pybbolt`` command opens a database, so whatever ``db.py`` imports is
paid by every start-up: ``threading`` and ``contextlib`` load ``functools``
and ``collections``, ``dataclasses`` loads ``inspect`` (and ``ast``, ``dis``,
``tokenize``...), together several times the cost of pybbolt's own modules
for ``pybbolt get``.  ``db.py`` uses only two locks, one ``suppress`` and one
frozen dataclass; these give it the same objects and the same behaviour
without those imports.  (``db.py`` imports them under these names so that
none of its code had to change; type checkers see the real modules.)
"""

from __future__ import annotations

import _thread

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType
    from typing import TypeVar

    _T = TypeVar("_T")


class threading:  # stands for the module
    """``threading.Lock`` and ``threading.RLock``: the very same C locks."""

    Lock = _thread.allocate_lock
    RLock = _thread.RLock


class _Suppress:
    """``contextlib.suppress``: ignore the given exceptions in a ``with`` body."""

    def __init__(self, *exceptions: type[BaseException]) -> None:
        self._exceptions = exceptions

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        return exc_type is not None and issubclass(exc_type, self._exceptions)


class contextlib:  # stands for the module
    """``contextlib.suppress``."""

    suppress = _Suppress


class FrozenInstanceError(AttributeError):
    """As ``dataclasses.FrozenInstanceError``: a field of a frozen instance was set."""


def dataclass(*, frozen: bool = False) -> Callable[[type[_T]], type[_T]]:
    """``dataclasses.dataclass(frozen=True)`` for a class of plain annotated fields.

    Adds what the real decorator adds to such a class: ``__init__`` (positional
    or keyword arguments, class-level defaults), ``__eq__``, ``__hash__``,
    ``__repr__``, and a ``__setattr__``/``__delattr__`` that raise.  Only the
    frozen form is provided: it is the one ``db.py`` uses.
    """
    if not frozen:
        raise NotImplementedError("pybbolt._light.dataclass: only frozen=True")

    def make(cls: type[_T]) -> type[_T]:
        names = tuple(cls.__dict__.get("__annotations__", {}))  # noqa: RUF063 (no inspect)
        defaults = {name: cls.__dict__[name] for name in names if name in cls.__dict__}
        qualname = cls.__qualname__

        def __init__(self: object, *args: object, **kwargs: object) -> None:
            if len(args) > len(names):
                raise TypeError(
                    f"{qualname}.__init__() takes {len(names) + 1} positional arguments "
                    f"but {len(args) + 1} were given"
                )
            values = dict(zip(names, args))
            for name, value in kwargs.items():
                if name not in names:
                    raise TypeError(
                        f"{qualname}.__init__() got an unexpected keyword argument {name!r}"
                    )
                if name in values:
                    raise TypeError(
                        f"{qualname}.__init__() got multiple values for argument {name!r}"
                    )
                values[name] = value
            for name in names:
                if name not in values:
                    if name not in defaults:
                        raise TypeError(
                            f"{qualname}.__init__() missing 1 required positional "
                            f"argument: {name!r}"
                        )
                    values[name] = defaults[name]
                object.__setattr__(self, name, values[name])

        def fields(self: object) -> tuple[object, ...]:
            return tuple(getattr(self, name) for name in names)

        def __eq__(self: object, other: object) -> bool:
            if other.__class__ is not self.__class__:
                return NotImplemented
            return fields(self) == fields(other)

        def __hash__(self: object) -> int:
            return hash(fields(self))

        def __repr__(self: object) -> str:
            shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
            return f"{type(self).__qualname__}({shown})"

        def __setattr__(self: object, name: str, value: object) -> None:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")

        def __delattr__(self: object, name: str) -> None:
            raise FrozenInstanceError(f"cannot delete field {name!r}")

        methods = {
            "__init__": __init__, "__eq__": __eq__, "__hash__": __hash__,
            "__repr__": __repr__, "__setattr__": __setattr__, "__delattr__": __delattr__,
        }
        for name, method in methods.items():
            method.__qualname__ = f"{qualname}.{name}"
            setattr(cls, name, method)
        return cls

    return make
