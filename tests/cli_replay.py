"""Replay recorded bbolt CLI cases against pybbolt in-process.

The golden set's harness, ``run_cases.py``, is the oracle: it copies each
case's database into a fresh folder, substitutes the paths, runs the
command, and compares stdout bytes, exit status, stderr emptiness and, for
``compact``, the output file and ``stats`` on it.  Here its own
``check_case`` does all of that; only its ``run`` (one ``pybbolt`` process
per command) is replaced by a pool of long-lived workers
(tests/cli_worker.py) that run the console script's ``main`` in-process.
:func:`replay_by_process` keeps a few cases on the real console script.

``COUNTS`` collects what was replayed, per set; the session summary prints it.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from .cli_worker import Pool
from .conftest import GOLDEN

RUN_CASES = GOLDEN / "run_cases.py"
TIMEOUT = 300.0  # run_cases.py's default, per command
JOBS = int(os.environ.get("PYBBOLT_REPLAY_JOBS", "2"))
# (set name) -> Counter of "passed", "total", "subprocess"
COUNTS: dict[str, Counter[str]] = {}


def harness() -> ModuleType:
    """A fresh copy of ``run_cases.py`` (its ``run`` can be replaced without
    touching another copy)."""
    spec = importlib.util.spec_from_file_location("golden_run_cases", RUN_CASES)
    assert spec is not None and spec.loader is not None, f"cannot load {RUN_CASES}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def load_cases(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def group_of(case: dict[str, Any]) -> str:
    """The command group, as run_cases.py's ``--only`` names it."""
    return str(case.get("group") or (case["argv"][0] if case["argv"] else "(none)"))


def groups(path: Path) -> list[str]:
    return sorted({group_of(c) for c in load_cases(path)}) if path.exists() else []


Result = tuple[dict[str, Any], bool, list[str]]


def _check_all(h: ModuleType, set_dir: Path, cases: list[dict[str, Any]],
               cmd: list[str], jobs: int) -> list[Result]:
    def work(case: dict[str, Any]) -> Result:
        ok, reasons = h.check_case(case, str(set_dir), cmd, cmd, TIMEOUT)
        return case, ok, reasons

    with ThreadPoolExecutor(max_workers=jobs) as ex:
        return list(ex.map(work, cases))


@contextmanager
def pool() -> Iterator[Pool]:
    p = Pool(JOBS)
    try:
        yield p
    finally:
        p.close()


def replay(name: str, set_dir: Path, cases: list[dict[str, Any]], workers: Pool) -> list[Result]:
    """Every case through the harness, the commands run by ``workers``."""
    h = harness()

    def run(cmd: list[str], argv: list[str], cwd: str, timeout: float) -> Any:
        return workers.run(argv, cwd, timeout)

    h.run = run
    results = _check_all(h, set_dir, cases, ["pybbolt"], workers.size)
    _count(name, results, "in-process")
    return results


def replay_by_process(name: str, set_dir: Path, cases: list[dict[str, Any]],
                      cmd: list[str]) -> list[Result]:
    """The cases through the harness as it is: one ``cmd`` process per command."""
    results = _check_all(harness(), set_dir, cases, cmd, JOBS)
    _count(name, results, "subprocess")
    return results


def _count(name: str, results: list[Result], how: str) -> None:
    c = COUNTS.setdefault(name, Counter())
    c[f"{how} passed"] += sum(ok for _, ok, _ in results)
    c[f"{how} total"] += len(results)


def failures(results: list[Result], show: int = 20) -> str:
    """The first failures, as run_cases.py prints them."""
    bad = [(c, reasons) for c, ok, reasons in results if not ok]
    lines = []
    for c, reasons in bad[:show]:
        lines.append(f"FAIL #{c.get('id')} db={c.get('db')} "
                     f"argv={json.dumps(c['argv'], ensure_ascii=False)}")
        lines += [f"    {r}" for r in reasons]
    if len(bad) > show:
        lines.append(f"... and {len(bad) - show} more failures")
    return "\n".join(lines)


def summary() -> list[str]:
    """One line per replayed set, for the session's summary."""
    lines = []
    for name, c in sorted(COUNTS.items()):
        parts = [f"{c[f'{how} passed']}/{c[f'{how} total']} cases passed {how}"
                 for how in ("in-process", "subprocess") if c[f"{how} total"]]
        lines.append(f"{name}: {', '.join(parts)}")
    return lines
