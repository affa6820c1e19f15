"""`make mutate`: mutation testing of the core modules with mutmut 3, one module at a time.

Each module is mutated against its own focused tests only (TESTS below), in a scratch copy of
the tree under build/mutate/MODULE, so the checkout stays clean.  The copy lays ``cli/`` out as
``pybbolt/cli/`` (as it is installed), so the tests import every module, the CLI's included,
from mutmut's ``mutants/`` directory rather than from the editable install.

Why mutmut 3 and not cosmic-ray: its trampolines put every mutant in one copy of the code and
it runs, per mutant, only the tests that reached the mutated function, in forked workers.  Tests
that run the ``pybbolt`` script or Go programs as subprocesses do not see the mutants (they read
the installed code or are Go's verdict on our files), so the table prefers in-process tests.

Per module it prints total, killed, survived, timeout, no-tests, equivalent and the score
``(killed + timeout) / (total - equivalent)`` (a mutant that makes its tests hang is caught:
pytest never passes), then every survivor that is not listed as equivalent in
tests/mutation/equivalent.toml, with its diff.  A listed name that no longer names a mutant of
the module, or that the tests kill, is reported too (the list must not rot).  Exit status 1
when a module scores under 90 % or the list is stale.

    python scripts/mutate.py [MODULE ...] [--jobs N] [--only PATTERN ...]

``--only`` runs and reports only the mutants whose names match a pattern (fnmatch, as mutmut
takes them, e.g. ``'pybbolt.check.xǁ_Checkerǁ_leaks*'``): a quick loop while killing survivors;
the score is then of those mutants alone.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # the `mutate` extra installs tomli on 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

ROOT = Path(__file__).resolve().parents[1]
SCRATCH = ROOT / "build" / "mutate"
EQUIVALENT = ROOT / "tests" / "mutation" / "equivalent.toml"
THRESHOLD = 0.90
CAUGHT = ("killed", "timeout")

# Workloads of tests/test_same_pages.py that pybbolt must write byte for byte as
# Go does: the writer's allocation, growth and freelist page, in about two seconds.
_SAME_PAGES = [f"tests/test_same_pages.py::test_same_file_as_go[{name}]"
               for name in ("sequential-4096", "random-4096", "large-4096", "nested-4096",
                            "updates", "nofreelistsync")]

# test_api.py's in-process tests of DB and Tx (its others run `python -m cli`, which the
# scratch tree lays out as pybbolt.cli).
_API = [f"tests/test_api.py::test_{name}"
        for name in ("options_are_checked", "os_errors_are_oserrors_with_go_text",
                     "tx_after_close_raises_database_not_open", "stats_fields",
                     "dropped_read_tx_is_rolled_back_with_a_warning",
                     "dropped_write_tx_releases_the_writer",
                     "dropped_db_releases_its_lock_with_a_warning",
                     "nested_write_tx_raises_at_once", "second_writable_open_raises_at_once",
                     "len_paths_and_getitem")]

# The read paths' fast paths against their exact ones (lookups past the full leaf cache,
# scans a chunk of leaves at a time, get at the depth limit), on the fixtures that run in
# well under a second each.
_FAST_PATHS = [
    *(f"tests/test_fast_paths.py::test_scans_read_leaves_at_once_the_same[{name}]"
      for name in ("churn_seed1.db", "bacalhau_compute.db", "overflow.db", "many_buckets.db")),
    *(f"tests/test_fast_paths.py::test_lookups_past_the_full_cache_read_the_same[{name}]"
      for name in ("churn_seed1.db", "bacalhau_compute.db", "nested.db")),
    "tests/test_fast_paths.py::test_lookups_switch_layouts",
    "tests/test_fast_paths.py::test_lookups_past_the_full_cache_read_views",
    "tests/test_fast_paths.py::test_get_at_the_depth_limit_and_on_an_empty_branch",
]

# Module -> (its file in the scratch tree, the focused tests that guard it: pytest arguments).
TESTS: dict[str, tuple[str, list[str]]] = {
    # many_keys.db: tens of seconds per run, and the other files reach the same codecs
    "layout": ("pybbolt/layout.py", ["tests/test_layout.py", "-k", "not many_keys"]),
    # PageReader's exact walk (seek, iter_pages, go_compare), the check's and the stats'
    # walk, is tested in test_page itself, against Go's content and hand-built trees
    "page": ("pybbolt/page.py",
             ["tests/test_page.py", "tests/test_read.py", "tests/test_cursor.py"]),
    "meta": ("pybbolt/meta.py", ["tests/test_meta.py"]),
    "node": ("pybbolt/node.py", ["tests/test_node.py"]),
    # rebuild's walk problem: a damaged golden file, set up in test_check
    "freelist": ("pybbolt/freelist.py",
                 ["tests/test_freelist.py",
                  "tests/test_check.py::test_rebuild_reports_the_first_problem"]),
    "cursor": ("pybbolt/cursor.py", ["tests/test_cursor.py"]),
    # the writer's split, spill and rebalance: judged by the bytes of Go's file
    # (test_same_pages); the read API's ranges and protocols (test_write_api, test_api)
    "bucket": ("pybbolt/bucket.py",
               ["tests/test_bucket.py", "tests/test_write_api.py",
                *(f"tests/test_same_pages.py::test_same_file_as_go[{case}]" for case in (
                    "sequential-4096", "random-4096", "large-4096", "nested-4096",
                    "random-65536", "large-65536", "updates", "range-delete-head",
                    "range-delete-middle", "range-delete-tail", "nofreelistsync")),
                *(f"tests/test_api.py::test_{name}" for name in (
                    "str_keys_raise_type_error_saying_encode", "sequence_is_read_only",
                    "stats_fields", "items_ranges", "ranges_stream_over_many_pages",
                    "cursor_iteration_continues_from_where_it_stands",
                    "len_paths_and_getitem")),
                # the compactor's runs of sorted pairs (Bucket._put_sorted)
                "tests/test_compact.py::test_put_sorted_is_puts_or_nothing",
                "tests/test_compact.py::test_runs_of_pairs_same_bytes_as_bbolt",
                *_FAST_PATHS]),
    # the commit against Go's bytes (a few of test_same_pages' workloads); forgotten
    # transactions (test_api).  Not test_faults, nor test_api's dropped read transaction:
    # a transaction the garbage collector ends at a random point upsets mutmut's call
    # tracking (its stats run fails now and then); test_tx's dropped writer stays.
    "tx": ("pybbolt/tx.py",
           ["tests/test_tx.py", *_API, "tests/test_write_api.py",
            "tests/test_batch.py", *_SAME_PAGES,
            "--deselect", "tests/test_api.py::test_dropped_read_tx_is_rolled_back_with_a_warning"]),
    # mutated, DB.begin is called through mutmut's trampoline, which the warning of a
    # forgotten transaction then names as where it began: the tests of that text are left out
    "db": ("pybbolt/db.py",
           ["tests/test_db.py", "tests/test_tx.py", *_API, "tests/test_write_api.py",
            "tests/test_batch.py",
            "--deselect", "tests/test_tx.py::test_dropped_write_tx_warns_from_tx_py",
            "--deselect", "tests/test_api.py::test_dropped_read_tx_is_rolled_back_with_a_warning"]),
    # not the comparisons with the bbolt tool on random damage (20 s for every mutant
    # that survives), nor the many_keys.db runs (seconds each; the other files reach the
    # same code)
    "check": ("pybbolt/check.py",
              ["tests/test_check.py", "tests/test_check_order.py", "tests/test_check_freelist.py",
               "-k", "not against_bbolt and not fast_on_many_keys"]),
    "stats": ("pybbolt/stats.py",
              ["tests/test_stats.py", "-k", "not against_bbolt and not fast_on_many_keys"]),
    # the CLI's compact runs in-process in the regressions (cli.main.execute)
    "compact": ("pybbolt/compact.py",
                ["tests/test_compact.py", "tests/test_fuzz_regressions.py",
                 "tests/test_backup_and_threads.py", "-k", "compact"]),
    "textfmt": ("pybbolt/cli/textfmt.py", ["tests/test_cli_textfmt.py"]),
    "render": ("pybbolt/cli/render.py", ["tests/test_cli_inspect.py"]),
}


@dataclass
class Outcome:
    """One module's mutants by mutmut's verdict, and the equivalent ones."""

    module: str
    seconds: float
    status: dict[str, str]
    equivalent: dict[str, str]
    stale: list[str] = field(default_factory=list)

    def count(self, verdict: str) -> int:
        """How many mutants got ``verdict``."""
        return sum(1 for s in self.status.values() if s == verdict)

    @property
    def caught(self) -> int:
        """Mutants the tests fail on: killed, or hung until mutmut's timeout."""
        return sum(1 for s in self.status.values() if s in CAUGHT)

    @property
    def score(self) -> float:
        """Caught over the non-equivalent mutants (1.0 when there are none)."""
        counted = len(self.status) - len(self.equivalent)
        return self.caught / counted if counted else 1.0

    def survivors(self) -> list[str]:
        """Mutants not killed and not listed as equivalent."""
        return sorted(n for n, s in self.status.items()
                      if s not in CAUGHT and n not in self.equivalent)


def load_equivalent() -> dict[str, str]:
    """Mutant name -> why it behaves as the original (tests/mutation/equivalent.toml,
    one table per module)."""
    with EQUIVALENT.open("rb") as f:
        tables = tomllib.load(f)
    return {str(k): str(v) for table in tables.values() for k, v in table.items()}


def prepare(module: str) -> Path:
    """A fresh scratch tree for ``module``: pybbolt/ with cli/ inside, tests/, the config."""
    source, tests = TESTS[module]
    work = SCRATCH / module
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis")
    shutil.copytree(ROOT / "pybbolt", work / "pybbolt", ignore=ignore)
    shutil.copytree(ROOT / "cli", work / "pybbolt" / "cli", ignore=ignore)
    shutil.copytree(ROOT / "tests", work / "tests", ignore=ignore)
    config = (ROOT / "pyproject.toml").read_text() + (
        "\n[tool.mutmut]\n"
        'source_paths = ["pybbolt"]\n'
        f'only_mutate = {json.dumps([source])}\n'
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
        # Every mutant's run deletes its temporary files when it ends: thousands of runs
        # would otherwise leave tens of GB behind.
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-x", "-q", '
        '"-o", "tmp_path_retention_policy=none"]\n'
    )
    (work / "pyproject.toml").write_text(config)
    # The tests run inside mutants/ and find the Go tools and golden data from there
    # (tests/conftest.py: ROOT/.bin and ROOT/../shared).
    (work / "mutants").mkdir()
    if (ROOT / ".bin").is_dir():
        (work / "mutants" / ".bin").symlink_to(ROOT / ".bin")
    if (ROOT.parent / "shared").is_dir():
        (work / "shared").symlink_to((ROOT.parent / "shared").resolve())
    return work


def mutmut(work: Path, *args: str) -> str:
    """Run the venv's mutmut in ``work``; its standard output."""
    exe = Path(sys.executable).with_name("mutmut")
    # Temporary files inside the module's scratch tree, removed with it.
    tmp = work / "tmp"
    tmp.mkdir(exist_ok=True)
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", TMPDIR=str(tmp))
    cp = subprocess.run([str(exe), *args], cwd=work, env=env, capture_output=True, text=True)
    if cp.returncode != 0:
        sys.stderr.write(cp.stdout[-4000:] + cp.stderr[-4000:])
        raise SystemExit(f"mutmut {' '.join(args)} failed in {work} ({cp.returncode})")
    return cp.stdout


def run_module(module: str, jobs: int, equivalent: dict[str, str],
               only: list[str] | None = None) -> Outcome:
    """Mutate one module against its tests (only the mutants matching ``only``, when given)
    and collect the verdicts."""
    work = prepare(module)
    start = time.monotonic()
    mutmut(work, "run", "--max-children", str(jobs), *(only or []))
    seconds = time.monotonic() - start
    status: dict[str, str] = {}
    for line in mutmut(work, "results", "--all", "true").splitlines():
        name, sep, verdict = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name and (
                not only or any(fnmatch.fnmatchcase(name, pattern) for pattern in only)):
            status[name] = verdict
    prefix = TESTS[module][0].removesuffix(".py").replace("/", ".") + "."
    listed = {n: r for n, r in equivalent.items() if n.startswith(prefix)
              and (not only or any(fnmatch.fnmatchcase(n, pattern) for pattern in only))}
    stale = sorted(n for n in listed if status.get(n, "killed") in CAUGHT)
    mine = {n: r for n, r in listed.items() if n not in stale}
    return Outcome(module, seconds, status, mine, stale)


# `mutmut show` for many mutants in one process (one `mutmut show` each costs a second).
_DIFFS = """
import json, sys
from mutmut.mutation.diff_apply import find_mutant, get_diff_for_mutant
print(json.dumps({n: get_diff_for_mutant(n, path=find_mutant(n).path) for n in sys.argv[1:]}))
"""


def diffs(work: Path, names: list[str]) -> dict[str, str]:
    """Each mutant's diff against the original, as `mutmut show NAME` prints it."""
    if not names:
        return {}
    cp = subprocess.run([sys.executable, "-c", _DIFFS, *names], cwd=work, capture_output=True,
                        text=True, check=True)
    table: dict[str, str] = json.loads(cp.stdout.splitlines()[-1])
    return table


def report(outcome: Outcome, work: Path) -> None:
    """Print one module's line of counts and its survivors with their diffs."""
    o = outcome
    print(f"{o.module:9} total {len(o.status):4}  killed {o.count('killed'):4}  "
          f"survived {o.count('survived'):3}  timeout {o.count('timeout'):3}  "
          f"no-tests {o.count('no tests'):3}  equivalent {len(o.equivalent):3}  "
          f"score {o.score:6.1%}  {o.seconds:6.0f}s", flush=True)
    for name in o.stale:
        print(f"  STALE equivalent entry (no such mutant, or killed): {name}")
    survivors = o.survivors()
    for name, diff in diffs(work, survivors).items():
        print(f"  {o.status[name]}: {name}")
        for ln in diff.splitlines():
            if ln.startswith(("-", "+")) and not ln.startswith(("---", "+++")):
                print(f"      {ln.strip()}")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    """Run the chosen modules (all by default) one after another."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE",
                        help=f"modules to mutate (default: all of {', '.join(TESTS)})")
    parser.add_argument("--jobs", type=int, default=2, help="mutmut's --max-children")
    parser.add_argument("--only", nargs="+", metavar="PATTERN",
                        help="only the mutants whose names match (fnmatch patterns)")
    ns = parser.parse_args(argv)
    unknown = [m for m in ns.modules if m not in TESTS]
    if unknown:
        parser.error(f"unknown modules {unknown}; known: {', '.join(TESTS)}")
    equivalent = load_equivalent()
    failed = False
    for module in ns.modules or list(TESTS):
        outcome = run_module(module, ns.jobs, equivalent, ns.only)
        report(outcome, SCRATCH / module)
        shutil.rmtree(SCRATCH / module / "tmp", ignore_errors=True)
        failed |= outcome.score < THRESHOLD or bool(outcome.stale)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
