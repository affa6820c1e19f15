"""pybbolt: read and write Go bbolt (go.etcd.io/bbolt) database files in pure Python.

>>> import pybbolt
>>> with pybbolt.open("my.db", readonly=True) as db:     # doctest: +SKIP
...     with db.view() as tx:
...         for name, bucket in tx.buckets():
...             print(name, bucket.get(b"key"))
"""

from __future__ import annotations

from .bucket import Bucket
from .compact import compact  # a light import: it loads .check only on damage
from .cursor import Cursor
from .db import DB, open
from .errors import (
    BucketExists,
    BucketNameRequired,
    BucketNotFound,
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
from .tx import Tx

__version__ = "0.1.0"

__all__ = [
    "DB",
    "Bucket",
    "BucketExists",
    "BucketNameRequired",
    "BucketNotFound",
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
