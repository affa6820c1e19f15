"""pybbolt: read and write Go bbolt (go.etcd.io/bbolt) database files in pure Python.

>>> import pybbolt
>>> with pybbolt.open("my.db", readonly=True) as db:     # doctest: +SKIP
...     with db.view() as tx:
...         for name, bucket in tx.buckets():
...             print(name, bucket.get(b"key"))
"""

from __future__ import annotations

import sys

from .errors import (
    BboltPanic,
    BucketExists,
    BucketNameRequired,
    BucketNotFound,
    CheckError,
    ChecksumError,
    CorruptionError,
    DatabaseNotOpen,
    DatabaseReadOnly,
    DifferentDB,
    Error,
    FileTooSmall,
    FreePagesNotLoaded,
    IncompatibleValue,
    InvalidDatabase,
    InvalidMapping,
    KeyRequired,
    KeyTooLarge,
    MaxSizeReached,
    PageError,
    SameBuckets,
    Timeout,
    TxClosed,
    TxNotWritable,
    ValueTooLarge,
    VersionMismatch,
)

# The rest of the API is imported on first use (PEP 562 ``__getattr__``): the
# CLI's commands import only what they run, so ``import pybbolt`` (done by any
# ``import pybbolt.cli...``) loads the errors and nothing else.
TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from types import ModuleType

    from .bucket import Bucket
    from .compact import compact
    from .cursor import Cursor
    from .db import DB, open
    from .tx import Tx
else:
    ModuleType = type(sys)

__version__ = "0.1.0"

__all__ = [
    "DB",
    "BboltPanic",
    "Bucket",
    "BucketExists",
    "BucketNameRequired",
    "BucketNotFound",
    "CheckError",
    "ChecksumError",
    "CorruptionError",
    "Cursor",
    "DatabaseNotOpen",
    "DatabaseReadOnly",
    "DifferentDB",
    "Error",
    "FileTooSmall",
    "FreePagesNotLoaded",
    "IncompatibleValue",
    "InvalidDatabase",
    "InvalidMapping",
    "KeyRequired",
    "KeyTooLarge",
    "MaxSizeReached",
    "PageError",
    "SameBuckets",
    "Timeout",
    "Tx",
    "TxClosed",
    "TxNotWritable",
    "ValueTooLarge",
    "VersionMismatch",
    "__version__",
    "compact",
    "open",
]

# Exported name -> the submodule that defines it.
_LAZY = {
    "Bucket": "bucket",
    "Cursor": "cursor",
    "DB": "db",
    "Tx": "tx",
    "compact": "compact",
    "open": "db",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value: object = getattr(__import__(module, globals(), None, [name], 1), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


class _Package(ModuleType):
    """The package module: importing the submodule ``pybbolt.compact`` would
    set the package attribute ``compact`` to that module (the import system
    does so for every submodule), hiding the function of the same name; the
    function keeps the name whatever the order of the imports."""

    def __setattr__(self, name: str, value: object) -> None:
        if name == "compact" and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
