"""examples/bacalhau_store.py on stores written by Bacalhau's own code.

tests/fixtures/real/bacalhau151_*.db come from tests/go/bacalhau (Bacalhau
v1.5.1: a compute node's store through boltdb.NewStore, a requester's job
store through boltjobstore.NewBoltJobStore), bacalhau140_compute.db from
tests/go/bacalhau14 (v1.4.0); the *_counts.json files beside them hold what
Bacalhau's GetExecutionCount / GetExecutions returned on them.  The
Bacalhau-marked test at the end (`make bacalhau-check`) has Bacalhau open the
pruned stores again.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import pybbolt

from .conftest import BIN, FIXTURES, ROOT
from .content import db_content
from .workload import go_dump

REAL = FIXTURES / "real"
COMPUTE_151 = REAL / "bacalhau151_compute.db"
JOBS_151 = REAL / "bacalhau151_jobstore.db"
COMPUTE_140 = REAL / "bacalhau140_compute.db"
DAY_NS = 86400 * 10**9


def _load_example() -> ModuleType:
    path = ROOT / "examples" / "bacalhau_store.py"
    spec = importlib.util.spec_from_file_location("bacalhau_store", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bacalhau_store"] = module
    spec.loader.exec_module(module)
    return module


bs = _load_example()


def go_counts(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REAL / name).read_text())
    return data


def counts_of(path: Path) -> dict[str, int]:
    with pybbolt.open(str(path), readonly=True) as db, db.view() as tx:
        result: dict[str, int] = bs.counts(tx)
        return result


def dangling_of(path: Path) -> list[str]:
    with pybbolt.open(str(path), readonly=True) as db, db.view() as tx:
        return [str(d) for d in bs.dangling(tx)]


def all_keys(path: Path, skip: bytes = b"") -> set[bytes]:
    """Every key and bucket name in the file (outside the top-level bucket ``skip``)."""
    out: set[bytes] = set()

    def walk(bucket: pybbolt.Bucket) -> None:
        for key, value in bucket.items():
            out.add(key)
            if value is None:
                child = bucket.bucket(key)
                assert child is not None
                walk(child)

    with pybbolt.open(str(path), readonly=True) as db, db.view() as tx:
        for name, bucket in tx.buckets():
            if name != skip:
                out.add(name)
                walk(bucket)
    return out


# -- counts and dangling entries on the files as Bacalhau left them -------------


def test_layouts() -> None:
    for path, kind in ((COMPUTE_151, "compute-v1.5"), (JOBS_151, "jobstore-v1.5"),
                       (COMPUTE_140, "compute-v1.4"),
                       (FIXTURES / "bacalhau_compute.db", "compute-v1.4")):
        with pybbolt.open(str(path), readonly=True) as db, db.view() as tx:
            assert bs.layout(tx) == kind


def test_counts_equal_bacalhaus() -> None:
    """What the example counts is what Bacalhau's own code returned on the same files."""
    v151 = go_counts("bacalhau151_counts.json")
    v140 = go_counts("bacalhau140_counts.json")
    assert counts_of(COMPUTE_151) == v151["compute"]["counts"]
    assert counts_of(JOBS_151) == v151["jobstore"]["counts"]
    assert counts_of(COMPUTE_140) == v140["compute"]["counts"]
    # ... and what the Go programs did (tests/go/bacalhau*/main.go), written out:
    compute = {"Created": 1, "BidAccepted": 1, "Running": 2, "Publishing": 1,
               "Completed": 3, "Failed": 2, "Cancelled": 1}
    assert v151["compute"]["counts"] == compute
    assert v140["compute"]["counts"] == compute
    assert v151["jobstore"]["counts"] == {"New": 1, "AskForBid": 1, "AskForBidRejected": 1,
                                          "BidAccepted": 1, "Completed": 2, "Failed": 1,
                                          "Cancelled": 1}


def test_dangling_entries_bacalhau_leaves() -> None:
    # 1.5.1's DeleteJob keeps the job's idx_executions and idx_evaluations
    # entries, DeleteEvaluation its idx_evaluations entry.
    assert dangling_of(JOBS_151) == [
        "idx_executions/e-d1/j-doomed: job j-doomed no longer exists",
        "idx_executions/e-d2/j-doomed: job j-doomed no longer exists",
        "idx_evaluations/ev-b2/j-beta: job j-beta has no such evaluation",
        "idx_evaluations/ev-d1/j-doomed: job j-doomed no longer exists",
    ]
    # 1.4.0's DeleteExecution of a running execution keeps its live index
    # entry and the empty index bucket of its job; 1.5.1's leaves nothing.
    assert dangling_of(COMPUTE_140) == [
        "execution-index/j-delta: empty job index",
        "execution-live-index/e-old-deleted: no such execution",
    ]
    assert dangling_of(COMPUTE_151) == []


def test_cli_counts_and_dangling(capsys: pytest.CaptureFixture[str]) -> None:
    assert bs.main(["counts", str(COMPUTE_140)]) == 0
    assert capsys.readouterr().out == (
        "Created 1\nBidAccepted 1\nRunning 2\nPublishing 1\nCompleted 3\nFailed 2\nCancelled 1\n")
    assert bs.main(["dangling", str(COMPUTE_140)]) == 0
    assert capsys.readouterr().out == (
        "execution-index/j-delta: empty job index\n"
        "execution-live-index/e-old-deleted: no such execution\n")


# -- pruning -------------------------------------------------------------------

OLD_TERMINAL = [b"e-old-cancelled", b"e-old-completed-1", b"e-old-completed-2", b"e-old-failed"]
AFTER_COMPUTE_PRUNE = {"Created": 1, "BidAccepted": 1, "Running": 2, "Publishing": 1,
                       "Completed": 1, "Failed": 1}


def pruned_copy(src: Path, tmp_path: Path, older_than_ns: int, now_ns: int) -> tuple[Path, Any]:
    path = tmp_path / src.name
    shutil.copyfile(src, path)
    return path, bs.prune(path, older_than_ns, now_ns)


def cutoff_ns(name: str) -> int:
    ns: int = bs.parse_time(go_counts(name)["compute_cutoff"])
    return ns


@pytest.mark.parametrize(("src", "counts_file"), [(COMPUTE_151, "bacalhau151_counts.json"),
                                                   (COMPUTE_140, "bacalhau140_counts.json")])
def test_prune_compute_store(src: Path, counts_file: str, tmp_path: Path, boltgo: Path) -> None:
    # The old executions reached their last state before the cutoff, the new ones after.
    path, report = pruned_copy(src, tmp_path, 0, cutoff_ns(counts_file))
    assert report.pruned == OLD_TERMINAL
    assert counts_of(path) == AFTER_COMPUTE_PRUNE
    assert dangling_of(path) == []
    # Gone from every bucket (the event journal keeps its records, as Bacalhau does).
    keys = all_keys(path, skip=b"v1_events")
    assert not keys & set(OLD_TERMINAL)
    # j-beta's job index bucket emptied: removed, as Bacalhau 1.5 does (1.4 left it).
    assert b"j-beta" not in keys
    if src == COMPUTE_151:
        assert report.dropped == []
    else:
        assert [str(d) for d in report.dropped] == [
            "execution-index/j-delta: empty job index",
            "execution-live-index/e-old-deleted: no such execution"]
        assert not keys & {b"j-delta", b"e-old-deleted"}
    # Compacted, and Go sees a clean file with the same content.
    assert report.size_after < report.size_before
    go = go_dump(boltgo, path)
    assert go["check"] == []
    assert db_content(str(path)) == go["content"]


def test_prune_job_store(tmp_path: Path, boltgo: Path) -> None:
    # The job store's clock was fixed (2024-05-01 12:00 UTC, +1 h a state, +1 day a job):
    # e-a1 Completed 05-01 15:00, e-a2 AskForBidRejected 05-01 17:00,
    # e-b1 Failed 05-02 20:00, e-c1 Cancelled 05-03 23:00, the others not terminal.
    now = bs.parse_time("2024-05-04T00:00:00Z")
    path, report = pruned_copy(JOBS_151, tmp_path, DAY_NS, now)
    assert report.pruned == [b"e-a1", b"e-a2", b"e-b1"]
    assert len(report.dropped) == 4
    assert dangling_of(path) == []
    assert counts_of(path) == {"New": 1, "AskForBid": 1, "BidAccepted": 1, "Completed": 1,
                               "Cancelled": 1}
    keys = all_keys(path)
    assert not keys & {b"e-a1", b"e-a2", b"e-b1", b"e-d1", b"e-d2", b"ev-b2", b"ev-d1"}
    with pybbolt.open(str(path), readonly=True) as db, db.view() as tx:
        history = tx.bucket(b"jobs").bucket(b"j-beta").bucket(b"history")  # type: ignore[union-attr]
        assert history is not None
        left = [json.loads(v)["ExecutionID"] if b"ExecutionID" in v else None
                for _, v in history.items() if v is not None]
        assert left == [None, "e-b2", "e-b2"]  # the job's own entry and e-b2's stay
    go = go_dump(boltgo, path)
    assert go["check"] == []
    assert db_content(str(path)) == go["content"]


def test_dry_run_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / JOBS_151.name
    shutil.copyfile(JOBS_151, path)
    before = path.read_bytes()
    assert bs.main(["prune", str(path), "--older-than", "1d", "--now", "2024-05-04T00:00:00Z",
                    "--dry-run"]) == 0
    assert capsys.readouterr().out == (
        "jobstore-v1.5: would prune 3 executions: e-a1, e-a2, e-b1\n"
        "would drop idx_executions/e-d1/j-doomed: job j-doomed no longer exists\n"
        "would drop idx_executions/e-d2/j-doomed: job j-doomed no longer exists\n"
        "would drop idx_evaluations/ev-b2/j-beta: job j-beta has no such evaluation\n"
        "would drop idx_evaluations/ev-d1/j-doomed: job j-doomed no longer exists\n")
    assert path.read_bytes() == before


def test_prune_is_one_transaction(tmp_path: Path) -> None:
    """A value Bacalhau would not write stops the prune before anything changes."""
    path = tmp_path / COMPUTE_151.name
    shutil.copyfile(COMPUTE_151, path)
    with pybbolt.open(str(path)) as db, db.update() as tx:
        tx.bucket(b"v1_executions").put(b"e-zz-broken", b"{not json")  # type: ignore[union-attr]
    before = db_content(str(path))
    with pytest.raises(bs.StoreError, match="execution e-zz-broken: not JSON"):
        bs.prune(path, 0, cutoff_ns("bacalhau151_counts.json"))
    assert db_content(str(path)) == before


def test_refusals(tmp_path: Path, boltgo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Not a Bacalhau store.
    assert bs.main(["counts", str(REAL / "etcd34.db")]) == 1
    assert capsys.readouterr().err.startswith(
        f"error: {REAL / 'etcd34.db'}: not a Bacalhau store (buckets: alarm, auth,")
    # The bundled sample has the 1.4 bucket names, but its values are not
    # LocalExecutionState (it was not written by Bacalhau).
    assert bs.main(["counts", str(FIXTURES / "bacalhau_compute.db")]) == 1
    assert "no Execution.JobID or UpdateTime" in capsys.readouterr().err
    # A store Bacalhau holds open (an exclusive lock) is left alone.
    path = tmp_path / COMPUTE_151.name
    shutil.copyfile(COMPUTE_151, path)
    holder = subprocess.Popen(
        [str(boltgo), "hold", str(path), "--mode", "write", "--seconds", "10"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        before = path.read_bytes()
        assert bs.main(["prune", str(path), "--older-than", "0"]) == 1
        assert capsys.readouterr().err == (
            f"error: {path} is in use (stop the Bacalhau node first)\n")
        assert path.read_bytes() == before
    finally:
        holder.kill()
        holder.wait()


def test_parse_time_is_exact() -> None:
    assert bs.parse_time("1970-01-01T00:00:01.000000002Z") == 1_000_000_002
    assert bs.parse_time("2024-05-01T14:00:00+02:00") == bs.parse_time("2024-05-01T12:00:00Z")
    assert bs.parse_time("2024-05-01T12:00:00Z") == 1714564800 * 10**9
    with pytest.raises(bs.StoreError, match="not an RFC 3339 time"):
        bs.parse_time("yesterday")


# -- Bacalhau opens the pruned stores (`make bacalhau-check`) -----------------------


@pytest.mark.bacalhau
def test_bacalhau_agrees_after_prune(tmp_path: Path) -> None:
    """Bacalhau's own code reads the pruned stores and counts what the example counts."""
    tool151, tool140 = BIN / "bacalhau", BIN / "bacalhau14"
    assert tool151.exists() and tool140.exists(), \
        "run `make bacalhau-check` (builds .bin/bacalhau*)"
    compute151, _ = pruned_copy(COMPUTE_151, tmp_path, 0, cutoff_ns("bacalhau151_counts.json"))
    jobs151, _ = pruned_copy(JOBS_151, tmp_path, DAY_NS, bs.parse_time("2024-05-04T00:00:00Z"))
    compute140, _ = pruned_copy(COMPUTE_140, tmp_path, 0, cutoff_ns("bacalhau140_counts.json"))
    out = subprocess.run([str(tool151), "counts", str(compute151), str(jobs151)],
                         capture_output=True, text=True, check=True)
    seen151 = json.loads(out.stdout)
    out = subprocess.run([str(tool140), "counts", str(compute140)],
                         capture_output=True, text=True, check=True)
    seen140 = json.loads(out.stdout)
    assert seen151["compute"]["counts"] == counts_of(compute151) == AFTER_COMPUTE_PRUNE
    assert seen140["compute"]["counts"] == counts_of(compute140) == AFTER_COMPUTE_PRUNE
    assert seen151["jobstore"]["counts"] == counts_of(jobs151)
    remaining = {"e-new-bid", "e-new-completed", "e-new-failed", "e-new-publishing",
                 "e-new-running", "e-old-created", "e-old-running"}
    assert set(seen151["compute"]["executions"]) == remaining
    assert set(seen140["compute"]["executions"]) == remaining
    assert set(seen151["jobstore"]["executions"]) == {"e-b2", "e-c1", "e-c2", "e-e1", "e-e2"}
    assert seen151["jobstore"]["jobs"] == ["j-alpha", "j-beta", "j-delta", "j-gamma"]
    # History: the job entries stay, the pruned executions' entries go.
    assert seen151["jobstore"]["history"] == {"j-alpha": 1, "j-beta": 3, "j-delta": 5, "j-gamma": 3}
