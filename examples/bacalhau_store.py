"""Look after a Bacalhau node's bbolt stores with pybbolt.

Bacalhau keeps a compute node's executions and a requester's jobs in bbolt
files and never removes finished executions.  This example reads and
cleans such a file while the node is stopped::

    python examples/bacalhau_store.py counts STORE      # executions per state
    python examples/bacalhau_store.py dangling STORE    # index entries that point nowhere
    python examples/bacalhau_store.py prune STORE --older-than 30d [--now TIME] [--dry-run]

Three layouts are understood, found by their buckets:

* ``compute-v1.4``: a compute node's store of Bacalhau 1.4 (``execution``,
  ``execution-history``, ``execution-index``, ``execution-live-index``);
* ``compute-v1.5``: the same store in Bacalhau 1.5 (``v1_executions``,
  ``v1_execution_history``, ``v1_idx_executions_by_job_id``,
  ``v1_idx_executions_by_state``, ``v1_events``, ``v1_checkpoints``);
* ``jobstore-v1.5``: a requester's job store (``jobs/<id>/{spec,executions,
  evaluations,history}`` and the ``idx_*`` buckets).

``counts`` gives what the node computes at restart: Bacalhau 1.5's
``GetExecutionCount`` counts the keys of the state index, 1.4's reads every
execution; for a job store, the executions of every job by compute state.

``prune`` removes the executions in a terminal state (compute store:
Completed, Failed, Cancelled; job store: also BidRejected and
AskForBidRejected) whose last update is older than ``--older-than``, from
every bucket that refers to them, in one transaction: the execution, its
history, its job and state index entries (and, in a job store, the job's
history entries about it).  Dangling index entries go too (``--keep-dangling``
keeps them).  Then the file is compacted so that the space is returned.
The compute store's event journal (``v1_events``) is left alone, as
Bacalhau's own ``DeleteExecution`` does: watchers replay it from their
checkpoints by sequence number.

The bundled sample ``tests/fixtures/bacalhau_compute.db`` has the 1.4 bucket
names but is a look-alike: its values are not the ``LocalExecutionState``
Bacalhau writes, and this example refuses it with a clear message.  The
stores in ``tests/fixtures/real/`` were written by Bacalhau's own code.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pybbolt

# pkg/compute/store/state.go (the same in 1.4 and 1.5)
COMPUTE_STATES = ["Undefined", "Created", "BidAccepted", "Running", "Publishing",
                  "Completed", "Failed", "Cancelled"]
COMPUTE_TERMINAL = frozenset({"Completed", "Failed", "Cancelled"})
COMPUTE_EXECUTING = frozenset({"Running", "Publishing"})
# pkg/models/execution.go
JOB_STATES = ["Undefined", "New", "AskForBid", "AskForBidAccepted", "AskForBidRejected",
              "BidAccepted", "BidRejected", "Completed", "Failed", "Cancelled"]
JOB_TERMINAL = frozenset({"AskForBidRejected", "BidRejected", "Completed", "Failed", "Cancelled"})

# Bucket names of each layout.
V14 = {"executions": b"execution", "history": b"execution-history",
       "by_job": b"execution-index", "live": b"execution-live-index"}
V15 = {"executions": b"v1_executions", "history": b"v1_execution_history",
       "by_job": b"v1_idx_executions_by_job_id", "by_state": b"v1_idx_executions_by_state"}
JOBS = b"jobs"


class StoreError(pybbolt.Error):
    """A file that is not a Bacalhau store, or a value Bacalhau would not have written."""


@dataclass(frozen=True)
class Execution:
    id: bytes
    job_id: bytes
    state: str
    updated_ns: int  # last update, nanoseconds since the Unix epoch


@dataclass(frozen=True)
class Dangling:
    """An index entry that points nowhere: ``key`` in the bucket at ``path``."""

    path: tuple[bytes, ...]
    key: bytes
    reason: str

    def __str__(self) -> str:
        where = "/".join(p.decode("utf-8", "replace") for p in (*self.path, self.key))
        return f"{where}: {self.reason}"


@dataclass
class PruneReport:
    layout: str
    pruned: list[bytes] = field(default_factory=list)
    dropped: list[Dangling] = field(default_factory=list)
    size_before: int = 0
    size_after: int = 0


def layout(tx: pybbolt.Tx) -> str:
    """``compute-v1.4``, ``compute-v1.5`` or ``jobstore-v1.5``."""
    names = {name for name, _ in tx.buckets()}
    if V15["executions"] in names:
        return "compute-v1.5"
    if V14["executions"] in names and V14["history"] in names:
        return "compute-v1.4"
    if JOBS in names and b"idx_executions" in names:
        return "jobstore-v1.5"
    shown = ", ".join(sorted(n.decode("utf-8", "replace") for n in names)) or "none"
    raise StoreError(f"not a Bacalhau store (buckets: {shown})")


# -- reading ---------------------------------------------------------------------

_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$")


def parse_time(text: str) -> int:
    """An RFC 3339 time as Go writes it, in nanoseconds since the Unix epoch (exact)."""
    import calendar

    m = _RFC3339.match(text)
    if m is None:
        raise StoreError(f"not an RFC 3339 time: {text!r}")
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    nanos = int((m.group(7) or "0").ljust(9, "0"))
    seconds = calendar.timegm((year, month, day, hour, minute, second))
    zone = m.group(8)
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return seconds * 1_000_000_000 + nanos


def _json(value: bytes, what: str) -> dict[str, object]:
    try:
        obj = json.loads(value)
    except (UnicodeDecodeError, ValueError) as e:
        raise StoreError(f"{what}: not JSON ({e})") from None
    if not isinstance(obj, dict):
        raise StoreError(f"{what}: not a JSON object")
    return obj


def _state_name(value: object, names: list[str], what: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(names):
        return names[value]
    if isinstance(value, str) and value in names:
        return value
    raise StoreError(f"{what}: unknown state {value!r}")


def _bucket(tx: pybbolt.Tx, *path: bytes) -> pybbolt.Bucket | None:
    bucket = tx.bucket(path[0])
    for name in path[1:]:
        if bucket is None:
            return None
        bucket = bucket.bucket(name)
    return bucket


def _values(bucket: pybbolt.Bucket | None) -> Iterator[tuple[bytes, bytes]]:
    if bucket is not None:
        for key, value in bucket.items():
            if value is not None:
                yield key, value


def _sub_buckets(bucket: pybbolt.Bucket | None) -> Iterator[tuple[bytes, pybbolt.Bucket]]:
    if bucket is not None:
        yield from bucket.buckets()


def compute_executions(tx: pybbolt.Tx, kind: str) -> dict[bytes, Execution]:
    """The executions of a compute store: ``LocalExecutionState`` JSON values."""
    names = V15 if kind == "compute-v1.5" else V14
    out = {}
    for key, value in _values(tx.bucket(names["executions"])):
        what = f"execution {key.decode('utf-8', 'replace')}"
        obj = _json(value, what)
        inner = obj.get("Execution")
        job_id = inner.get("JobID") if isinstance(inner, dict) else None
        updated = obj.get("UpdateTime")
        if not isinstance(job_id, str) or not isinstance(updated, str):
            raise StoreError(f"{what}: no Execution.JobID or UpdateTime")
        state = _state_name(obj.get("State"), COMPUTE_STATES, what)
        out[key] = Execution(key, job_id.encode(), state, parse_time(updated))
    return out


def job_executions(tx: pybbolt.Tx) -> dict[bytes, Execution]:
    """The executions of a job store: ``models.Execution`` JSON under ``jobs/<id>/executions``."""
    out = {}
    for job_id, job in _sub_buckets(tx.bucket(JOBS)):
        for key, value in _values(job.bucket(b"executions")):
            what = f"execution {key.decode('utf-8', 'replace')}"
            obj = _json(value, what)
            compute = obj.get("ComputeState")
            modified = obj.get("ModifyTime")
            if not isinstance(compute, dict) or not isinstance(modified, int):
                raise StoreError(f"{what}: no ComputeState or ModifyTime")
            state = _state_name(compute.get("StateType"), JOB_STATES, what)
            out[key] = Execution(key, job_id, state, modified)
    return out


def executions(tx: pybbolt.Tx, kind: str) -> dict[bytes, Execution]:
    return job_executions(tx) if kind == "jobstore-v1.5" else compute_executions(tx, kind)


def counts(tx: pybbolt.Tx) -> dict[str, int]:
    """Executions per state, as Bacalhau counts them (states with none left out)."""
    kind = layout(tx)
    if kind == "compute-v1.5":
        # GetExecutionCount: Stats().KeyN of the state's index bucket.
        out = {}
        for name, bucket in _sub_buckets(tx.bucket(V15["by_state"])):
            n = bucket.stats().key_n
            if n:
                out[name.decode("utf-8", "replace")] = n
        return out
    # 1.4 reads every execution at start; a job store has no counter at all.
    return dict(Counter(e.state for e in executions(tx, kind).values()))


def dangling(tx: pybbolt.Tx) -> list[Dangling]:
    """Index entries whose execution, evaluation or job is gone, or that disagree with it."""
    kind = layout(tx)
    if kind == "jobstore-v1.5":
        return _dangling_jobstore(tx)
    names = V15 if kind == "compute-v1.5" else V14
    execs = compute_executions(tx, kind)
    out = []
    for job_id, job in _sub_buckets(tx.bucket(names["by_job"])):
        empty = True
        for key, _ in job.items():
            empty = False
            found = execs.get(key)
            if found is None:
                out.append(Dangling((names["by_job"], job_id), key, "no such execution"))
            elif found.job_id != job_id:
                out.append(Dangling((names["by_job"], job_id), key,
                                    f"the execution belongs to {found.job_id.decode()}"))
        if empty:
            out.append(Dangling((names["by_job"],), job_id, "empty job index"))
    for key, _ in _sub_buckets(tx.bucket(names["history"])):
        if key not in execs:
            out.append(Dangling((names["history"],), key, "history of no execution"))
    if kind == "compute-v1.5":
        for state, bucket in _sub_buckets(tx.bucket(V15["by_state"])):
            for key, _ in bucket.items():
                found = execs.get(key)
                if found is None:
                    out.append(Dangling((V15["by_state"], state), key, "no such execution"))
                elif found.state.encode() != state:
                    out.append(Dangling((V15["by_state"], state), key,
                                        f"the execution is {found.state}"))
    else:
        for key, _ in _values(tx.bucket(V14["live"])):
            found = execs.get(key)
            if found is None:
                out.append(Dangling((V14["live"],), key, "no such execution"))
            elif found.state not in COMPUTE_EXECUTING:
                out.append(Dangling((V14["live"],), key,
                                    f"the execution is {found.state}, not live"))
    return out


def _dangling_jobstore(tx: pybbolt.Tx) -> list[Dangling]:
    job_ids = {name for name, _ in _sub_buckets(tx.bucket(JOBS))}
    out = []
    # idx_executions/<execution>/<job> and idx_evaluations/<evaluation>/<job>
    for index, child in ((b"idx_executions", b"executions"), (b"idx_evaluations", b"evaluations")):
        for key, bucket in _sub_buckets(tx.bucket(index)):
            for job_id, _ in bucket.items():
                job_name = job_id.decode("utf-8", "replace")
                if job_id not in job_ids:
                    reason = f"job {job_name} no longer exists"
                else:
                    children = _bucket(tx, JOBS, job_id, child)
                    if children is not None and children.get(key) is not None:
                        continue
                    reason = f"job {job_name} has no such {child[:-1].decode()}"
                out.append(Dangling((index, key), job_id, reason))
    # idx_namespaces/<namespace>/<job>, idx_tags/<tag>/<job>
    for index in (b"idx_namespaces", b"idx_tags"):
        for group, bucket in _sub_buckets(tx.bucket(index)):
            for job_id, _ in bucket.items():
                if job_id not in job_ids:
                    out.append(Dangling((index, group), job_id, "no such job"))
    # idx_inprogress/<type>:<job> (older versions: just <job>)
    for key, _ in _values(tx.bucket(b"idx_inprogress")):
        job_id = key.split(b":", 1)[-1]
        if job_id not in job_ids:
            out.append(Dangling((b"idx_inprogress",), key, "no such job"))
    return out


# -- writing ---------------------------------------------------------------------


def _remove(tx: pybbolt.Tx, path: tuple[bytes, ...], key: bytes) -> None:
    """Delete ``key`` (a value or a nested bucket) from the bucket at ``path``."""
    bucket = _bucket(tx, *path)
    if bucket is None:
        return
    if bucket.bucket(key) is not None:
        bucket.delete_bucket(key)
    elif bucket.get(key) is not None:
        bucket.delete(key)


def _drop_if_empty(tx: pybbolt.Tx, path: tuple[bytes, ...]) -> None:
    """Remove a per-item index bucket (``idx_executions/<id>``) left empty."""
    if len(path) == 2 and path[0] in (b"idx_executions", b"idx_evaluations"):
        bucket = _bucket(tx, *path)
        if bucket is not None and bucket.cursor().first() is None:
            _remove(tx, path[:1], path[1])


def _prune_compute(tx: pybbolt.Tx, kind: str, doomed: list[Execution]) -> None:
    names = V15 if kind == "compute-v1.5" else V14
    for e in doomed:
        _remove(tx, (names["executions"],), e.id)
        _remove(tx, (names["history"],), e.id)
        _remove(tx, (names["by_job"], e.job_id), e.id)
        job = _bucket(tx, names["by_job"], e.job_id)
        if job is not None and job.cursor().first() is None:
            _remove(tx, (names["by_job"],), e.job_id)  # as Bacalhau 1.5's DeleteExecution
        if kind == "compute-v1.5":
            for state, _ in list(_sub_buckets(tx.bucket(V15["by_state"]))):
                _remove(tx, (V15["by_state"], state), e.id)
        else:
            _remove(tx, (V14["live"],), e.id)


def _prune_jobstore(tx: pybbolt.Tx, doomed: list[Execution]) -> None:
    for e in doomed:
        _remove(tx, (JOBS, e.job_id, b"executions"), e.id)
        _remove(tx, (b"idx_executions",), e.id)
        history = _bucket(tx, JOBS, e.job_id, b"history")
        stale = [key for key, value in _values(history)
                 if _json(value, "history entry").get("ExecutionID") == e.id.decode()]
        for key in stale:
            _remove(tx, (JOBS, e.job_id, b"history"), key)


def prune(path: str | os.PathLike[str], older_than_ns: int, now_ns: int | None = None,
          drop_dangling: bool = True, dry_run: bool = False, compact: bool = True,
          timeout: float = 1.0) -> PruneReport:
    """Remove old executions in a terminal state (see the module's description).

    One write transaction; nothing is changed when anything fails.  The
    store must not be open in Bacalhau (its exclusive lock gives
    ``pybbolt.Timeout`` after ``timeout`` seconds).
    """
    now_ns = time.time_ns() if now_ns is None else now_ns
    cutoff = now_ns - older_than_ns
    size_before = os.path.getsize(path)
    with pybbolt.open(path, readonly=dry_run, timeout=timeout) as db, \
            (db.view() if dry_run else db.update()) as tx:
            kind = layout(tx)
            terminal = JOB_TERMINAL if kind == "jobstore-v1.5" else COMPUTE_TERMINAL
            doomed = sorted((e for e in executions(tx, kind).values()
                             if e.state in terminal and e.updated_ns < cutoff), key=lambda e: e.id)
            report = PruneReport(kind, [e.id for e in doomed], size_before=size_before)
            if not dry_run:
                if kind == "jobstore-v1.5":
                    _prune_jobstore(tx, doomed)
                else:
                    _prune_compute(tx, kind, doomed)
            if drop_dangling:
                # Looked for after the prune: its own entries are gone by then.
                report.dropped = dangling(tx)
                if not dry_run:
                    for entry in report.dropped:
                        _remove(tx, entry.path, entry.key)
                        _drop_if_empty(tx, entry.path)
    if compact and not dry_run:
        compact_file(path)
    report.size_after = os.path.getsize(path)
    return report


def compact_file(path: str | os.PathLike[str], timeout: float = 1.0) -> None:
    """Rewrite the file without its free pages (bbolt's compact), in place."""
    src_path = Path(path)
    tmp = src_path.with_name(src_path.name + ".compacting")
    tmp.unlink(missing_ok=True)
    mode = src_path.stat().st_mode & 0o777
    with pybbolt.open(src_path, readonly=True, timeout=timeout) as src:
        with src.view() as tx:
            page_size = tx.page_size
        with pybbolt.open(tmp, page_size=page_size, mode=mode) as dst:
            pybbolt.compact(dst, src, tx_max_size=1 << 20)
    os.replace(tmp, src_path)


# -- command line ----------------------------------------------------------------

_DURATION = re.compile(r"(\d+)([smhd])$")


def parse_duration(text: str) -> int:
    """``30d``, ``12h``, ``15m``, ``45s`` or ``0`` in nanoseconds."""
    if text == "0":
        return 0
    m = _DURATION.match(text)
    if m is None:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 30d, 12h, 15m, 45s)")
    unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    return int(m.group(1)) * unit * 1_000_000_000


def _time_arg(text: str) -> int:
    try:
        return parse_time(text)
    except StoreError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bacalhau_store.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("counts", "dangling"):
        sub.add_parser(name).add_argument("store")
    p = sub.add_parser("prune")
    p.add_argument("store")
    p.add_argument("--older-than", type=parse_duration, required=True)
    p.add_argument("--now", type=_time_arg,
                   help="RFC 3339 time to measure ages from (default: now)")
    p.add_argument("--dry-run", action="store_true", help="say what would go, change nothing")
    p.add_argument("--keep-dangling", action="store_true", help="leave dangling index entries")
    args = parser.parse_args(argv)
    try:
        if args.command == "prune":
            report = prune(args.store, args.older_than, args.now,
                           drop_dangling=not args.keep_dangling, dry_run=args.dry_run)
            verb = "would prune" if args.dry_run else "pruned"
            ids = ", ".join(i.decode("utf-8", "replace") for i in report.pruned)
            print(f"{report.layout}: {verb} {len(report.pruned)} executions"
                  + (f": {ids}" if ids else ""))
            for entry in report.dropped:
                print(f"{'would drop' if args.dry_run else 'dropped'} {entry}")
            if not args.dry_run:
                print(f"compacted: {report.size_before} -> {report.size_after} bytes")
            return 0
        with pybbolt.open(args.store, readonly=True, timeout=1.0) as db, db.view() as tx:
            if args.command == "counts":
                kind = layout(tx)
                order = JOB_STATES if kind == "jobstore-v1.5" else COMPUTE_STATES
                found = counts(tx)
                rank = {state: i for i, state in enumerate(order)}
                for state in sorted(found, key=lambda s: rank.get(s, len(order))):
                    print(f"{state} {found[state]}")
            else:
                for entry in dangling(tx):
                    print(entry)
        return 0
    except pybbolt.Timeout:
        print(f"error: {args.store} is in use (stop the Bacalhau node first)", file=sys.stderr)
    except (pybbolt.Error, OSError) as e:
        print(f"error: {args.store}: {e}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
