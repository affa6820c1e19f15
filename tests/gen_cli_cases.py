#!/usr/bin/env python3
"""Record the real bbolt v1.5.0 CLI on our own fixtures: tests/fixtures/cases.jsonl.

    python3 tests/gen_cli_cases.py [--bbolt .bin/bbolt] [--runs 3] [--check]

Every read command runs on every database of tests/fixtures/manifest.json
(check, buckets, keys, get, stats, info, pages, page, page-item, dump,
inspect, compact), in the case format of the golden set
(../shared/golden/README.md, "cases.jsonl"), so that the golden harness
``run_cases.py tests/fixtures --cmd .venv/bin/pybbolt`` replays them.

Each case runs the way run_cases.py runs it: in a fresh temporary folder
holding a copy of the database under its own name, with ``{out}`` =
``compacted.db`` and ``{missing}`` = ``missing.db`` in that folder, and the
absolute paths turned back into the placeholders in the recorded outputs.
Each case runs ``--runs`` times; a case whose runs disagree (or that crashes,
exit status other than 0 and 1) is left out and reported.

Besides the golden fields every case records ``db_sha256``, the sha256 of the
database it was recorded on (tests/test_fixture_cli.py checks it against the
file and the manifest).  Outputs larger than STDOUT_CAP are left out, except
for the few cases listed as large on purpose.

The choice of cases depends only on the manifest and on ``bbolt pages`` (page
types and counts); it is deterministic.  ``--check`` regenerates the set
in memory and compares it with the committed file (exit status 1 if they
differ).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
MANIFEST = FIXTURES / "manifest.json"
CASES = FIXTURES / "cases.jsonl"
BBOLT = ROOT / ".bin" / "bbolt"

OUT_NAME = "compacted.db"  # as in run_cases.py
MISSING_NAME = "missing.db"
VERSION = "1.5.0"
STDOUT_CAP = 40_000  # bytes of stdout a case may record, unless marked large
LARGE_CAP = 700_000  # the few cases marked large
PAGE_ALL_CAP = 80_000  # `page --all` only on files where it stays below this
BIG_VALUE = 4_000  # values above this are only printed redacted
FORMATS = ["hex", "bytes", "ascii-encoded", "redacted", "auto"]
STACK_NOTE = "[stack traces omitted]\n"
# inspect prints invalid UTF-8 in a bucket name as the raw character U+FFFD
# with the reference binary (Go's json v2 encoder, docs/CLI.md §6.2) and as the
# escape \ufffd with a Go toolchain without it, such as the one `make gotools`
# may use: those cases depend on the build of the tool.
TOOLCHAIN_JSON = "inspect of invalid UTF-8 names depends on the Go toolchain (docs/CLI.md §6.2)"


def h(data: bytes, salt: str) -> str:
    return hashlib.sha256(salt.encode() + b"\0" + data).hexdigest()


def pick(items: Sequence[Any], n: int, salt: str) -> list[Any]:
    """n items chosen by a hash of their repr (deterministic), in their original order."""
    if len(items) <= n:
        return list(items)
    ranked = sorted(range(len(items)), key=lambda i: h(repr(items[i]).encode(), salt))
    return [items[i] for i in sorted(ranked[:n])]


def valid_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def as_arg(b: bytes) -> str | None:
    """The command-line argument for these bytes, if JSON text can carry them."""
    if not b or b"\0" in b:
        return None
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return None


# -- the candidate cases --------------------------------------------------------------


@dataclass
class Bucket:
    path: tuple[bytes, ...]
    entries: list[dict[str, Any]] | None  # None: not listed in the manifest
    key_count: int
    subs: list[bytes]
    inline: bool


@dataclass
class Page:
    id: int
    type: str
    items: int
    overflow: int


@dataclass
class Case:
    argv: list[str]
    group: str
    note: str | None = None
    large: bool = False
    reference_argv: list[str] | None = None  # legacy single-dash flags
    extra: dict[str, Any] = field(default_factory=dict)


def buckets_of(content: dict[str, Any] | None) -> list[Bucket]:
    out: list[Bucket] = []

    def walk(bs: list[dict[str, Any]], path: tuple[bytes, ...]) -> None:
        for b in bs:
            p = (*path, bytes.fromhex(b["name_hex"]))
            out.append(Bucket(p, b.get("entries"), b["key_count"],
                              [bytes.fromhex(s["name_hex"]) for s in b["buckets"]], b["inline"]))
            walk(b["buckets"], p)

    walk((content or {}).get("buckets", []), ())
    return out


def positional(flags: list[str], pos: list[str]) -> list[str]:
    """flags then positionals, with `--` when a positional looks like a flag."""
    if any(a.startswith("-") for a in pos):
        return [*flags, "--", *pos]
    return [*flags, *pos]


def fmt_flags(fmt: str | None, flag: str = "--format") -> list[str]:
    return [] if fmt is None else [flag, fmt]


def read_pages(bbolt: Path, db: Path) -> list[Page]:
    p = subprocess.run([str(bbolt), "pages", str(db)], capture_output=True, check=True)
    pages = []
    for line in p.stdout.decode().splitlines()[2:]:
        parts = line.split()
        pid, typ = int(parts[0]), parts[1]
        items = int(parts[2]) if len(parts) > 2 else 0
        ovf = int(parts[3]) if len(parts) > 3 else 0
        pages.append(Page(pid, typ, items, ovf))
    return pages


def value_len(e: dict[str, Any]) -> int:
    if "v" in e:
        return len(e["v"]) // 2
    return int(e.get("vlen", 0))


def key_of(e: dict[str, Any]) -> bytes | None:
    return bytes.fromhex(e["k"]) if "k" in e else None


def keys_cases(name: str, bs: list[Bucket], twin: bool, rot: int) -> list[Case]:
    """Every top-level bucket (one format each, rotating; every format on a
    small one), some nested paths, the errors.  A fixture of the same shape as
    an earlier one gets the small bucket and one nested path only."""
    cases: list[Case] = []
    tops = [b for b in bs if len(b.path) == 1 and as_arg(b.path[0]) is not None]
    nested = [b for b in bs if len(b.path) > 1 and all(as_arg(x) for x in b.path)]
    small = [b for b in tops if b.key_count + len(b.subs) <= 500]
    showcase = small[0] if small else None
    for i, b in enumerate(tops):
        if twin and b is not showcase:
            continue
        arg = as_arg(b.path[0]) or ""
        if b is showcase:
            for fmt in [None, *FORMATS[:4]]:
                cases.append(Case(["keys", *positional(fmt_flags(fmt), ["{db}", arg])], "keys"))
            variant = rot % 3
            if variant == 0:
                cases.append(Case(["keys", *positional(["-f", "hex"], ["{db}", arg])], "keys"))
            elif variant == 1 and not arg.startswith("-"):
                cases.append(Case(["keys", "{db}", arg, "--format", "ascii-encoded"], "keys",
                                  "flag after the positional arguments"))
            else:
                cases.append(Case(["keys", *positional(["--format", "auto"], ["{db}", arg])],
                                  "keys"))
        else:
            fmt = [None, *FORMATS][i % (len(FORMATS) + 1)]
            cases.append(Case(["keys", *positional(fmt_flags(fmt), ["{db}", arg])], "keys"))
    for j, b in enumerate(pick(nested, 1 if twin else 5, name + "/nested")):
        args = [as_arg(x) or "" for x in b.path]
        fmt = [None, *FORMATS][(j + rot) % (len(FORMATS) + 1)]
        cases.append(Case(["keys", *positional(fmt_flags(fmt), ["{db}", *args])], "keys"))
    if twin:
        return cases
    cases.append(Case(["keys", "{db}", "no-such-bucket"], "keys", "bucket not found"))
    first = next((b for b in nested + tops if b.entries and "k" in b.entries[0]), None)
    if first is not None:
        args = [as_arg(x) or "" for x in first.path]
        cases.append(Case(["keys", *positional([], ["{db}", *args, "no-such-bucket"])], "keys",
                          "nested bucket not found"))
        k = next((as_arg(key_of(e) or b"") for e in first.entries or []
                  if as_arg(key_of(e) or b"")), None)
        if k is not None:
            cases.append(Case(["keys", *positional([], ["{db}", *args, k])], "keys",
                              "path through a key that is not a bucket"))
        if rot % 4 == 0:
            cases.append(Case(["keys", *positional(["--format", "bogus"], ["{db}", *args])],
                              "keys", "bad format"))
    return cases


def get_cases(name: str, bs: list[Bucket], twin: bool, rot: int) -> list[Case]:
    """A few keys (first, last, middle, an empty value, a long value, a random
    one) of a few buckets, by their text or by --parse-format hex, in rotating
    formats; keys and buckets that are not there."""
    cases: list[Case] = []
    usable = [b for b in bs if all(as_arg(x) for x in b.path)
              and any("k" in e for e in b.entries or [])]
    chosen = pick(usable, 1 if twin else 3, name + "/get")
    n = rot
    for bi, b in enumerate(chosen):
        args = [as_arg(x) or "" for x in b.path]
        entries = [e for e in b.entries or [] if "k" in e]
        picks = [entries[0], entries[len(entries) // 2]]
        if bi == 0:
            picks += [entries[-1]]
            picks += [e for e in entries if value_len(e) == 0][:1]
            picks += [e for e in entries if value_len(e) > 1024][:1]
        picks += pick(entries, 1, name + "/get/" + repr(b.path))
        seen: set[str] = set()
        for e in picks:
            if e["k"] in seen:
                continue
            seen.add(e["k"])
            k = bytes.fromhex(e["k"])
            big = value_len(e) > BIG_VALUE
            n += 1
            karg = as_arg(k)
            if karg is not None and n % 2 == 0:
                fmt = "redacted" if big else [None, *FORMATS][n // 2 % (len(FORMATS) + 1)]
                cases.append(Case(["get", *positional(fmt_flags(fmt), ["{db}", *args, karg])],
                                  "get"))
            else:
                fmt2 = "redacted" if big else [None, *FORMATS][n // 2 % (len(FORMATS) + 1)]
                cases.append(Case(["get", *positional(["--parse-format", "hex", *fmt_flags(fmt2)],
                                                      ["{db}", *args, k.hex()])], "get"))
        if bi == 0:
            cases.append(Case(["get", *positional([], ["{db}", *args, "no-such-key"])], "get",
                              "key not found"))
        for sub in b.subs[:1]:
            cases.append(Case(["get", *positional(["--parse-format", "hex"],
                                                  ["{db}", *args, sub.hex()])],
                              "get", "key is a nested bucket"))
    if twin:
        return cases
    for b in bs:  # buckets the manifest does not list (too many keys)
        if b.entries is None and all(as_arg(x) for x in b.path):
            args = [as_arg(x) or "" for x in b.path]
            cases.append(Case(["get", *positional([], ["{db}", *args, "no-such-key"])], "get",
                              "key not found"))
    cases.append(Case(["get", "{db}", "no-such-bucket", "k"], "get", "bucket not found"))
    if chosen and rot % 4 == 2:
        args = [as_arg(x) or "" for x in chosen[0].path]
        cases.append(Case(["get", *positional(["--parse-format", "hex"], ["{db}", *args, "zz"])],
                          "get", "bad hex key"))
    return cases


def dedup(ids: Iterable[int]) -> list[int]:
    out: list[int] = []
    for i in ids:
        if i not in out:
            out.append(i)
    return out


def page_cases(name: str, db: dict[str, Any], pages: list[Page], rot: int) -> list[Case]:
    """page, page-item and dump on pages of every type, at and beyond the ends."""
    meta = db["meta"]
    ps = db["page_size"]
    hwm = meta["pgid"]
    npages = db["size"] // ps
    cases: list[Case] = []
    by_type: dict[str, list[Page]] = {}
    for p in pages:
        by_type.setdefault(p.type, []).append(p)
    leaves = by_type.get("leaf", [])
    branches = by_type.get("branch", [])
    frees = by_type.get("free", [])
    freelists = by_type.get("freelist", [])
    overflowed = [p for p in pages if p.overflow > 0 and p.type != "free"]
    some_leaves = pick(leaves, 2, name + "/page/leaf")

    ids = [meta["root"]]
    if meta["freelist"] < hwm:
        ids.append(meta["freelist"])
    ids += [p.id for p in some_leaves[:1]]
    ids += [p.id for p in pick(branches, 1, name + "/page/branch")]
    ids += [p.id for p in overflowed[:1]]
    ids = dedup(ids)
    # leaf pages of the large page sizes print too much in full: values redacted
    fv = ["--format-value", "redacted"] if ps >= 16384 else []
    for i in ids:
        cases.append(Case(["page", *fv, "{db}", str(i)], "page"))
    cases.append(Case(["page", *fv, "{db}", "0", "1",
                       *[str(p.id) for p in some_leaves[1:] + frees[:1]]], "page"))
    if overflowed:
        cases.append(Case(["page", "{db}", str(overflowed[0].id + 1)], "page",
                          "inside an overflow run"))
    cases.append(Case(["page", "{db}", str(hwm), str(npages + 3)], "page",
                      "at the high-water mark, beyond the end of the file"))
    for j, p in enumerate(some_leaves[:1]):
        fmt = FORMATS[(rot + j) % len(FORMATS)]
        cases.append(Case(["page", "--format-value", fmt, "{db}", str(p.id)], "page"))
    if leaves and rot % 4 == 3:
        cases.append(Case(["page", "--format-value", "bogus", "{db}", str(leaves[0].id)], "page",
                          "bad format"))
    cases.append(Case(["page", "--all", "{db}"], "page", extra={"page_all": True}))
    if rot % 2 == 0:
        cases.append(Case(["page", "--all", "--format-value", FORMATS[rot % 4], "{db}"], "page",
                          extra={"page_all": True}))

    # page-item
    for j, p in enumerate(some_leaves):
        for k in sorted({0, max(p.items - 1, 0)} if j == 0 else {p.items // 2}):
            fmt = [None, *FORMATS][(rot + j + k) % (len(FORMATS) + 1)]
            if ps >= 16384:
                fmt = "redacted"
            cases.append(Case(["page-item", *fmt_flags(fmt), "{db}", str(p.id), str(k)],
                              "page-item"))
        if j == 0:
            only = "--key-only" if rot % 2 else "--value-only"
            cases.append(Case(["page-item", only, "--format", FORMATS[rot % 4], "{db}",
                               str(p.id), str(p.items // 2)], "page-item"))
            cases.append(Case(["page-item", "{db}", str(p.id), str(p.items)], "page-item",
                              "item index out of range"))
    root = next((p for p in pages if p.id == meta["root"]), None)
    if root is not None and root.type == "leaf" and root.items:
        cases.append(Case(["page-item", "--format", "hex", "{db}", str(root.id), "0"], "page-item",
                          "root leaf: a bucket entry"))
    odd = pick(branches, 1, name + "/item/branch") + freelists[:1] + frees[:1]
    for p in odd[rot % len(odd):][:1] if odd else []:
        cases.append(Case(["page-item", "{db}", str(p.id), "0"], "page-item", f"{p.type} page"))
    if rot % 4 == 1:
        cases.append(Case(["page-item", "{db}", "0", "0"], "page-item", "meta page"))
    if rot % 4 == 2:
        cases.append(Case(["page-item", "{db}", str(npages + 3), "0"], "page-item",
                          "beyond the end of the file"))

    # dump
    cases.append(Case(["dump", "{db}", "0", str(meta["root"])], "dump"))
    for p in pick(leaves + branches + frees, 1, name + "/dump"):
        cases.append(Case(["dump", "{db}", str(p.id)], "dump"))
    if overflowed:
        cases.append(Case(["dump", "{db}", str(overflowed[0].id + 1)], "dump",
                          "inside an overflow run"))
    cases.append(Case(["dump", "{db}", str(npages - 1), str(npages)], "dump",
                      "last page, then beyond the end"))
    return cases


def check_cases(name: str, db: dict[str, Any], pages: list[Page], rot: int) -> list[Case]:
    meta = db["meta"]
    cases = [Case(["check", "{db}"], "check")]
    tree = [p for p in pages if p.type in ("leaf", "branch") and p.id != meta["root"]]
    freeish = [p.id for p in pages if p.type in ("free", "freelist")]
    odd = [1, meta["pgid"], *freeish[:1]]
    ids = [meta["root"], *[p.id for p in pick(tree, 1, name + "/check")], odd[rot % len(odd)]]
    for i in dedup(ids):
        cases.append(Case(["check", "--from-page", str(i), "{db}"], "check"))
    return cases


def stats_cases(name: str, bs: list[Bucket], rot: int) -> list[Case]:
    cases = [Case(["stats", "{db}"], "stats")]
    tops = [b.path[0] for b in bs if len(b.path) == 1]
    prefixes: list[bytes] = []
    for t in pick(tops, 1, name + "/stats"):
        prefixes += [t[: max(1, len(t) // 2)], t]
    prefixes = [*prefixes[rot % 2:][:1], [b"no-such-prefix", b"t"][rot % 2]]
    for p in prefixes:
        arg = as_arg(p)
        if arg is not None:
            cases.append(Case(["stats", *positional([], ["{db}", arg])], "stats"))
    return cases


def compact_cases(rot: int) -> list[Case]:
    cases = [
        Case(["compact", "-o", "{out}", "{db}"], "compact"),
        Case(["compact", "--tx-max-size", "4096", "-o", "{out}", "{db}"], "compact"),
    ]
    if rot % 3 == 0:
        cases.append(Case(["compact", "--tx-max-size", "0", "--no-sync", "-o", "{out}", "{db}"],
                          "compact"))
    if rot % 5 == 1:
        cases.append(Case(["compact", "-o", "{out}", "-tx-max-size", "1024", "{db}"], "compact",
                          "single-dash -tx-max-size", reference_argv=[
                              "compact", "-o", "{out}", "--tx-max-size", "1024", "{db}"]))
    return cases


def shape_key(db: dict[str, Any]) -> str:
    """The bucket paths of a database: fixtures of the same shape (the same
    workload with other options) get fewer bucket-level cases."""
    paths = sorted(b.path for b in buckets_of(db.get("content")))
    return hashlib.sha256(repr(paths).encode()).hexdigest()


def candidates(db: dict[str, Any], pages: list[Page], rot: int, twin: bool) -> list[Case]:
    """The cases of one database; rot (its position in the manifest) rotates
    the formats and the rarer variants across the databases."""
    name = db["path"]
    bs = buckets_of(db.get("content"))
    cases: list[Case] = []
    if name == "many_keys.db":  # the one large listing, on purpose
        cases.append(Case(["keys", "--format", "bytes", "{db}", "keys"], "keys", large=True))
    cases += check_cases(name, db, pages, rot)
    cases.append(Case(["buckets", "{db}"], "buckets"))
    cases.append(Case(["info", "{db}"], "info"))
    cases.append(Case(["pages", "{db}"], "pages"))
    cases.append(Case(["inspect", "{db}"], "inspect", extra={"skip": TOOLCHAIN_JSON} if any(
        not valid_utf8(x) for b in bs for x in b.path) else {}))
    cases += stats_cases(name, bs, rot)
    cases += keys_cases(name, bs, twin, rot)
    cases += get_cases(name, bs, twin, rot)
    cases += page_cases(name, db, pages, rot)
    cases += compact_cases(rot)
    if name == "inline_bucket.db":
        cases.append(Case(["page", "-all", "{db}"], "page", "single-dash -all",
                          reference_argv=["page", "--all", "{db}"]))
    return cases


# -- running the reference tool -----------------------------------------------------------


def stream(d: dict[str, Any], key: str, data: bytes) -> None:
    try:
        d[key] = data.decode("utf-8")
    except UnicodeDecodeError:
        d[key + "_b64"] = base64.b64encode(data).decode("ascii")


def strip_stack(err: bytes) -> bytes:
    i = err.find(b"\ngoroutine ")
    return err if i < 0 else err[: i + 1] + STACK_NOTE.encode()


def run_once(bbolt: Path, src: Path, argv: list[str]) -> dict[str, Any]:
    tmp = tempfile.mkdtemp(prefix="bbolt-gen-")
    try:
        dbp = os.path.join(tmp, src.name)
        shutil.copyfile(src, dbp)
        outp = os.path.join(tmp, OUT_NAME)
        subst = [("{db}", dbp), ("{out}", outp), ("{missing}", os.path.join(tmp, MISSING_NAME))]

        def run(args: list[str]) -> dict[str, Any]:
            for ph, path in subst:
                args = [a.replace(ph, path) for a in args]
            p = subprocess.run([str(bbolt), *args], capture_output=True, cwd=tmp, timeout=300)
            out, err = p.stdout, p.stderr
            for ph, path in subst:
                out = out.replace(path.encode(), ph.encode())
                err = err.replace(path.encode(), ph.encode())
            r: dict[str, Any] = {"exit": p.returncode}
            stream(r, "stdout", out)
            stream(r, "stderr", strip_stack(err))
            return r

        r = run(argv)
        if argv[0] == "compact":
            r["out_size"] = os.path.getsize(outp) if os.path.exists(outp) else None
            if r["out_size"]:
                for cmd in ("stats", "pages"):
                    q = run([cmd, "{out}"])
                    r["out_" + cmd] = {"argv": [cmd, "{out}"],
                                       **{k: q[k] for k in q if k != "exit"}, "exit": q["exit"]}
        return r
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def stdout_len(r: dict[str, Any]) -> int:
    if "stdout" in r:
        return len(r["stdout"].encode())
    return len(base64.b64decode(r["stdout_b64"]))


def record(bbolt: Path, db: dict[str, Any], c: Case,
           runs: int) -> tuple[dict[str, Any] | None, str]:
    src = FIXTURES / db["path"]
    argv = c.reference_argv or c.argv
    results = [run_once(bbolt, src, argv) for _ in range(runs)]
    first = results[0]
    stable_keys = [k for k in first if k != "out_pages"]
    if any({k: r.get(k) for k in stable_keys} != {k: first.get(k) for k in stable_keys}
           for r in results[1:]):
        return None, "runs disagree"
    if first["exit"] not in (0, 1):
        return None, f"exit status {first['exit']}"
    cap = LARGE_CAP if c.large else PAGE_ALL_CAP if c.extra.get("page_all") else STDOUT_CAP
    if stdout_len(first) > cap:
        return None, f"stdout of {stdout_len(first)} bytes"
    case: dict[str, Any] = {"id": 0, "db": db["path"], "argv": c.argv, "group": c.group}
    if c.note:
        case["note"] = c.note
    if c.reference_argv:
        case["legacy_flags"] = True
        case["reference_argv"] = c.reference_argv
    case["exit"] = first["exit"]
    for k in ("stdout", "stdout_b64", "stderr", "stderr_b64"):
        if k in first:
            case[k] = first[k]
    case["bbolt_version"] = VERSION
    if "out_size" in first:
        case["out_size"] = first["out_size"]
        if "out_stats" in first:
            case["out_stats"] = first["out_stats"]
            case["out_pages"] = first["out_pages"]
            case["out_pages_stable"] = all(r.get("out_pages") == first["out_pages"]
                                           for r in results)
    case["db_sha256"] = db["sha256"]
    return case, ""


def sha256_file(path: Path) -> str:
    d = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            d.update(chunk)
    return d.hexdigest()


def generate(bbolt: Path, runs: int, only: Iterable[str] = (),
             jobs: int = 1) -> tuple[list[dict[str, Any]], list[str]]:
    """Record every candidate case; ``jobs`` cases at a time (the same
    result in the same order whatever ``jobs`` is)."""
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    wanted = set(only)
    todo: list[tuple[dict[str, Any], Case]] = []
    dropped: list[str] = []
    contents: set[str] = set()
    for rot, db in enumerate(manifest["databases"]):
        if wanted and db["path"] not in wanted:
            continue
        src = FIXTURES / db["path"]
        if sha256_file(src) != db["sha256"]:
            raise SystemExit(f"{db['path']}: sha256 differs from the manifest")
        pages = read_pages(bbolt, src)
        key = shape_key(db)
        twin = key in contents
        contents.add(key)
        seen: set[tuple[str, ...]] = set()
        for c in candidates(db, pages, rot, twin):
            if tuple(c.argv) in seen:
                continue
            seen.add(tuple(c.argv))
            if c.extra.get("skip"):
                dropped.append(f"{db['path']} {json.dumps(c.argv, ensure_ascii=False)}: "
                               f"{c.extra['skip']}")
                continue
            todo.append((db, c))
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as ex:
        recorded = list(ex.map(lambda t: record(bbolt, t[0], t[1], runs), todo))
    cases: list[dict[str, Any]] = []
    for (db, c), (case, why) in zip(todo, recorded):
        if case is None:
            dropped.append(f"{db['path']} {json.dumps(c.argv, ensure_ascii=False)}: {why}")
            continue
        case["id"] = len(cases) + 1
        cases.append(case)
    return cases, dropped


def dumps(cases: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in cases)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bbolt", default=str(BBOLT), help="the reference bbolt v1.5.0 CLI")
    ap.add_argument("--runs", type=int, default=3,
                    help="runs per case; cases whose runs disagree are left out")
    ap.add_argument("--check", action="store_true",
                    help="compare a fresh recording with the committed cases.jsonl")
    ap.add_argument("--output", default=str(CASES))
    ap.add_argument("--jobs", type=int, default=1, help="cases recorded at a time")
    a = ap.parse_args()
    bbolt = Path(a.bbolt)
    if not os.access(bbolt, os.X_OK):
        print(f"{bbolt}: the bbolt CLI is missing (make gotools)", file=sys.stderr)
        return 2
    cases, dropped = generate(bbolt, a.runs, jobs=a.jobs)
    for d in dropped:
        print("left out:", d, file=sys.stderr)
    text = dumps(cases)
    if a.check:
        # out_pages is informative only: compacted page layouts follow Go's map order
        def stable(line: str) -> dict[str, Any]:
            c = json.loads(line)
            c.pop("out_pages", None)
            c.pop("out_pages_stable", None)
            return c

        path = Path(a.output)
        old = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        new = text.splitlines()
        diff = [i + 1 for i in range(max(len(old), len(new)))
                if i >= len(old) or i >= len(new) or stable(old[i]) != stable(new[i])]
        if diff:
            print(f"{a.output} is stale: {len(diff)} cases differ (first: line {diff[0]}); "
                  f"recorded {len(old)} cases, now {len(new)}", file=sys.stderr)
            return 1
        print(f"{a.output} is up to date: {len(cases)} cases")
        return 0
    Path(a.output).write_text(text, encoding="utf-8")
    per = Counter(c["group"] for c in cases)
    for g in sorted(per):
        print(f"{g:10} {per[g]}")
    print(f"total      {len(cases)} cases, {len(text.encode())} bytes, {len(dropped)} left out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
