"""Targets, and the Markdown rendering of a run's results (``latest.md``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .workload import GET_COUNT, OPERATIONS

PY_STORES = ("pybbolt", "lmdb", "sqlite")

# Library targets: pybbolt's median over Go's, at most this (same run).
OP_TARGETS: dict[str, float] = {
    "b": 4, "c2": 4, "d": 3, "e": 10, "e2": 10, "f": 5, "g": 10, "h": 3,
}
# CLI targets: (command, compared with, at most this ratio).
CLI_TARGETS: list[tuple[str, str, float]] = [
    ("keys", "bbolt", 1.0),
    ("check", "bbolt", 3.0),
    ("stats", "bbolt", 5.0),
    ("get", "python -c pass", 1.3),
    ("buckets", "python -c pass", 1.3),
]
RSS_LIMIT_MB = 150.0
RSS_COMMANDS = ("check", "stats", "keys", "compact")


@dataclass(frozen=True)
class Target:
    name: str
    scope: str
    value: float | None  # None: not measured
    limit: float
    unit: str  # "x" for ratios, " MB"
    lower_bound: bool = False  # the value is only a lower bound (a timeout)
    strict: bool = False  # value must be < limit rather than <=
    note: str = ""

    @property
    def met(self) -> bool:
        if self.value is None or (self.lower_bound and self.value > self.limit):
            return False
        return self.value < self.limit if self.strict else self.value <= self.limit

    def verdict(self) -> str:
        """``met``, or ``missed by F x`` (how many times over the limit)."""
        if self.value is None:
            return "not measured"
        if self.met:
            return "met"
        return f"missed by {'> ' if self.lower_bound else ''}{self.value / self.limit:.1f}x"

    def detail(self) -> str:
        if self.value is None:
            return "no figure"
        shown = f"{'> ' if self.lower_bound else ''}{self.value:.2f}{self.unit}"
        bound = f"{'<' if self.strict else '≤'} {self.limit:g}{self.unit}"
        if self.met:
            room = self.limit / self.value if self.value else float("inf")
            text = f"{shown} {bound} ({room:.1f}x headroom)"
        else:
            text = f"{shown}, target {bound}"
        return f"{text}; {self.note}" if self.note else text

    def describe(self) -> str:
        return f"{self.verdict()}: {self.detail()}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "scope": self.scope, "value": self.value, "limit": self.limit,
            "unit": self.unit.strip(), "lower_bound": self.lower_bound, "met": self.met,
            "verdict": self.verdict(), "detail": self.detail(),
        }


def _ratio(num: dict[str, Any], den: dict[str, Any]) -> tuple[float | None, bool]:
    """num/den of two measurements' medians; a timed-out num gives a lower bound."""
    d = den.get("median")
    if not d:
        return None, False
    if "median" in num:
        return float(num["median"]) / d, False
    if num.get("status") == "timeout":
        return float(num["timeout_s"]) / d, True
    return None, False


def _floor_note(row: dict[str, Any], den: dict[str, Any]) -> str:
    """The pure-Python floor of an operation against the same denominator."""
    floor, _ = _ratio(row.get("floor", {}), den)
    return "" if floor is None else f"Python floor {floor:.2f}x"


def targets(results: dict[str, Any]) -> list[Target]:
    out: list[Target] = []
    for n, ops in results["ops"].items():
        scope = f"N={int(n):,}"
        for op, limit in OP_TARGETS.items():
            if op not in ops:
                continue
            value, lower = _ratio(ops[op]["pybbolt"], ops[op]["go"])
            note = _floor_note(ops[op], ops[op]["go"])
            out.append(
                Target(f"({op}) {OPERATIONS[op]} vs Go", scope, value, limit, "x", lower, note=note)
            )
            if op in ("e", "e2"):
                value, lower = _ratio(ops[op]["pybbolt"], ops["e"]["lmdb"])
                note = _floor_note(ops[op], ops["e"]["lmdb"])
                out.append(Target(
                    f"({op}) scan vs py-lmdb cursor", scope, value, 1.0, "x", lower, note=note))
    cli = results.get("cli")
    if cli:
        scope = f"CLI, N={cli['n']:,}"
        cmds = cli["commands"]
        for name, against, limit in CLI_TARGETS:
            py = cmds.get(name, {}).get("pybbolt")
            if against == "bbolt":
                other = cmds.get(name, {}).get("bbolt")
            else:
                other = cmds.get(against, {}).get("python")
            value = py["median"] / other["median"] if py and other else None
            out.append(Target(f"pybbolt {name} vs {against}", scope, value, limit, "x"))
        for name in RSS_COMMANDS:
            row = cli.get("rss", {}).get(name, {})
            rss, bbolt = row.get("pybbolt"), row.get("bbolt")
            value = rss["peak_rss_mb"] if rss else None
            note = ""
            if rss:
                note = f"anonymous {rss['anon_mb']:.0f} MB, file-backed {rss['file_mb']:.0f} MB"
                if bbolt:
                    note += f"; bbolt {bbolt['peak_rss_mb']:.0f} MB"
            out.append(Target(f"peak RSS of pybbolt {name}", scope, value, RSS_LIMIT_MB, " MB",
                              strict=True, note=note))
    out += _field_targets(results.get("field"))
    moved = results.get("transfer")
    if moved:
        scope = f"CLI, N={moved['n']:,}"
        export = moved["commands"]["export"]
        value = export["pybbolt"]["median"] / export["go"]["median"]
        out.append(Target("pybbolt export vs Go ForEach + encoding/json", scope, value, 1.0,
                          "x", strict=True))
        for name in ("export", "import"):
            rss = moved["commands"][name]["pybbolt"]["rss"]
            out.append(Target(f"peak RSS of pybbolt {name}", scope, rss["peak_rss_mb"],
                              RSS_LIMIT_MB, " MB", strict=True,
                              note=f"anonymous {rss['anon_mb']:.0f} MB"))
    return out


def _field_targets(field: dict[str, Any] | None) -> list[Target]:
    """Per field shape: each command's ratio to bbolt, and the peak RSS."""
    from .field import RSS_COMMANDS as FIELD_RSS
    from .field import limit_of

    out: list[Target] = []
    for shape, data in (field or {}).get("shapes", {}).items():
        scope = f"{shape} shape, {data['mb']:.0f} MB"
        for name, row in data["commands"].items():
            value = row["pybbolt"]["median"] / row["bbolt"]["median"]
            out.append(Target(f"pybbolt {name} vs bbolt", scope, value, limit_of(name), "x"))
        peak = max((row["rss"]["peak_rss_mb"] for name, row in data["commands"].items()
                    if name in FIELD_RSS and "rss" in row), default=None)
        out.append(Target("peak RSS of pybbolt (largest command)", scope, peak, RSS_LIMIT_MB,
                          " MB", strict=True))
    return out


def render_field(field: dict[str, Any], level: int = 2) -> list[str]:
    """The field-shape tables: per shape and command, both CLIs and the ratio."""
    lines = [
        "",
        "#" * level + " CLI on field-shaped files",
        "",
        "Stores shaped like etcd 3.4, raft-boltdb and containerd write them, generated by "
        "`boltgo gen-shape` (Go bbolt v1.5.0; `benchmarks/field.py`, shapes compared with "
        "the real programs' files in `benchmarks/FIELD.md`). Median wall time of "
        f"{field['runs']} runs each, whole process; peak RSS of one pybbolt run.",
        "",
        "| shape | command | pybbolt | bbolt | ratio | target | pybbolt peak RSS |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    from .field import limit_of

    for shape, data in field["shapes"].items():
        label = f"{shape} ({data['mb']:.0f} MB, {data['keys']:,} keys)"
        for name, row in data["commands"].items():
            py, go = row["pybbolt"]["median"], row["bbolt"]["median"]
            rss = f"{row['rss']['peak_rss_mb']:.0f} MB" if "rss" in row else "—"
            lines.append(
                f"| {label} | `{row['pybbolt']['command']}` | {fmt_time(py)} | {fmt_time(go)} "
                f"| {fmt_ratio(py / go, False)} | ≤ {limit_of(name):g}x | {rss} |"
            )
            label = ""
    return lines


# -- rendering -------------------------------------------------------------


def fmt_time(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 1e-3:
        return f"{s * 1e6:.0f} µs"
    if s < 1:
        return f"{s * 1e3:.3g} ms"
    return f"{s:.2f} s"


def fmt_cell(m: dict[str, Any]) -> str:
    status = m.get("status")
    if status == "n/a":
        return "n/a"
    if status == "error":
        return "error"
    if status == "timeout" and "median" not in m:
        return f"> {m['timeout_s']:.0f} s (timeout)"
    cell = fmt_time(m.get("median"))
    if len(m.get("seconds", [])) == 1:
        cell += " ¹"
    return cell


def fmt_ratio(value: float | None, lower: bool) -> str:
    if value is None:
        return "—"
    shown = f"{value:.1f}x" if value >= 10 else f"{value:.2f}x"
    return f"> {shown}" if lower else shown


# The README's performance section lies between these lines (make bench rewrites it).
README_START = "<!-- bench:start: written by `make bench` -->"
README_END = "<!-- bench:end -->"


def render(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        "# pybbolt performance: results of `make bench`",
        "",
        f"Run of {meta['date']} on {meta['machine']}; Python {meta['python']}, "
        f"Go bbolt {meta['bbolt']} ({meta['go']}), py-lmdb {meta['lmdb']}, "
        f"SQLite {meta['sqlite']}; pybbolt at commit {meta['commit']}. "
        f"The run took {meta.get('duration_s', 0) / 60:.1f} min; load average "
        f"{meta.get('load_average_start')} at its start, {meta.get('load_average_end')} at its end "
        "(other work on the machine inflates every figure).",
        "",
        "Workload, identical for every store: one bucket `bench`; key i = 8 zero bytes + "
        "uint64 big-endian i; value = 100 bytes. Writers do not sync (bbolt `NoSync`, "
        "lmdb `sync=False`, sqlite `synchronous=OFF`). Every figure is the median of "
        f"{meta['reps']} repetitions, each timed inside its process (start-up, key "
        "generation, opening a source file and the first import of a module an "
        "operation loads lazily not counted); ratio = pybbolt / Go in the "
        "same run. Go's (e) and (e2) touch each key and value slice without copying "
        "(idiomatic Go); the Python stores return new bytes objects. sqlite's (f) is "
        "`PRAGMA integrity_check`, its (h) `VACUUM INTO`; lmdb's (h) is "
        "`copyfd(compact=True)`. The Python floor is the benchmark's own loop with a "
        "dict (c2: `__setitem__`, d: `get`) or prebuilt lists (e, e2: `zip(keys, values)`) "
        "of the same pairs standing in for the store: no Python store can go below it. "
        "Operations (d) to (h) of pybbolt and Go read the same "
        "file, the one Go's load (a) wrote"
        + (
            f" (pybbolt's own (a) file is byte-identical to it: {_identical(results)})."
            if results.get("identical") else "."
        ),
        "",
    ]
    table, per_get = _library_table(results)
    lines += table
    lines += [
        "",
        "¹ one repetition only: it took longer than the runner's slow limit "
        f"({meta['slow_s']:.0f} s). A timeout is a repetition stopped at the limit "
        f"({meta['timeout_s']:.0f} s; {meta.get('timeout_a_s', meta['timeout_s']):.0f} s for "
        "(a), whose pybbolt time grows quadratically); its ratio is a lower bound.",
        "",
        "Per get (d): " + "; ".join(per_get) + ".",
    ]
    notes = results.get("notes", [])
    if notes:
        lines += ["", *[f"- {note}" for note in notes]]
    cli = results.get("cli")
    if cli:
        lines += _render_cli(cli)
    if results.get("field"):
        lines += render_field(results["field"])
    lines += _render_transfer(results)
    lines += _targets_table(results)
    return "\n".join(lines)


def render_readme(results: dict[str, Any]) -> str:
    """The README's performance section: the tables of :func:`render`, briefly."""
    meta = results["meta"]
    lines = [
        f"Last `make bench`: {meta['date']}, {meta['machine']}, Python {meta['python']}, "
        f"Go bbolt {meta['bbolt']}; pybbolt at commit {meta['commit']}. Ratio = pybbolt / Go "
        "in the same run; every figure is a median (¹: of one repetition; method and notes: "
        "[`benchmarks/results/latest.md`](benchmarks/results/latest.md); where the time "
        "goes: [`benchmarks/PROFILE.md`](benchmarks/PROFILE.md)).",
        "",
    ]
    lines += _library_table(results, 3)[0]
    cli = results.get("cli")
    if cli:
        lines += _render_cli(cli, 3)
    if results.get("field"):
        lines += render_field(results["field"], 3)
    lines += _render_transfer(results, 3)
    lines += _targets_table(results, 3)
    return "\n".join(lines)


def _library_table(results: dict[str, Any], level: int = 2) -> tuple[list[str], list[str]]:
    """The table of library operations, and the per-get figures."""
    lines = [
        "#" * level + " Library operations",
        "",
        "| operation | N | pybbolt | Go | ratio | lmdb | sqlite | Python floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    per_get: list[str] = []
    for n, ops in results["ops"].items():
        for op, row in ops.items():
            value, lower = _ratio(row["pybbolt"], row["go"])
            others = [
                "as (e)" if op == "e2" and row[s].get("status") == "n/a" else fmt_cell(row[s])
                for s in ("lmdb", "sqlite")
            ]
            others.append(fmt_cell(row["floor"]) if "floor" in row else "n/a")
            cells = [
                f"({op}) {OPERATIONS[op]}", f"{int(n):,}", fmt_cell(row["pybbolt"]),
                fmt_cell(row["go"]), fmt_ratio(value, lower), *others,
            ]
            lines.append("| " + " | ".join(cells) + " |")
            if op == "d":
                per_get.append(
                    f"N={int(n):,}: "
                    + ", ".join(
                        f"{s} {fmt_time(row[s]['median'] / GET_COUNT)}"
                        for s in ("pybbolt", "go", "lmdb", "sqlite", "floor")
                        if s in row and row[s].get("median")
                    )
                )
    return lines, per_get


def _targets_table(results: dict[str, Any], level: int = 2) -> list[str]:
    lines = [
        "",
        "#" * level + " Targets",
        "",
        "| target | scope | result | figure |",
        "| --- | --- | --- | --- |",
    ]
    tgs = results["targets"]
    for t in tgs:
        mark = t["verdict"] if t["met"] else f"**{t['verdict']}**"
        lines.append(f"| {t['name']} | {t['scope']} | {mark} | {t['detail']} |")
    met = sum(1 for t in tgs if t["met"])
    lines += ["", f"{met} of {len(tgs)} targets met. See `benchmarks/PROFILE.md` for where "
              "the time goes in each missed one.", ""]
    return lines


def _identical(results: dict[str, Any]) -> str:
    same = results["identical"].items()
    return ", ".join(f"N={int(n):,} {'yes' if v else 'NO'}" for n, v in same)


def _render_cli(cli: dict[str, Any], level: int = 2) -> list[str]:
    cmds = cli["commands"]
    floor = cmds["python -c pass"]["python"]["median"]
    lines = [
        "",
        "#" * level + f" CLI, whole process (N={cli['n']:,} database, {cli['timer']})",
        "",
        f"Median wall time; `pybbolt` is `{cli.get('pybbolt', '.venv/bin/pybbolt')}`, "
        f"`bbolt` the real v1.5.0 CLI. "
        f"DB is the file of Go's load (a), {cli['db_mb']:.0f} MB. Start-up floor "
        f"`python -c pass` (`{cli.get('python', '.venv/bin/python')}`): {fmt_time(floor)}.",
        "",
        "| command | pybbolt | bbolt | pybbolt / bbolt | pybbolt / `python -c pass` |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    failed: list[str] = []
    for name, row in cmds.items():
        if name == "python -c pass":
            continue
        py, go = row["pybbolt"]["median"], row["bbolt"]["median"]
        for tool in ("pybbolt", "bbolt"):
            if row[tool].get("exit_codes", [0]) != [0]:
                failed.append(f"`{row[tool]['command']}` exited {row[tool]['exit_codes']}")
        startup = fmt_ratio(py / floor, False) if name in ("get", "buckets") else "—"
        lines.append(
            f"| `{row['pybbolt']['command']}` | {fmt_time(py)} | {fmt_time(go)} | "
            f"{fmt_ratio(py / go, False)} | {startup} |"
        )
    if failed:
        lines += ["", "Exit status other than 0: " + "; ".join(failed) + "."]
    rss = cli.get("rss", {})
    if rss:
        lines += [
            "",
            "#" * (level + 1) + " Peak RSS",
            "",
            "`ru_maxrss` of one run; the anonymous and file-backed parts are the peaks of "
            "`RssAnon` and `RssFile` sampled every 10 ms from `/proc` (file-backed pages "
            "are mostly the database's mapping).",
            "",
            "| command | pybbolt peak RSS | anon | file | bbolt peak RSS |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for name, row in rss.items():
            py, go = row["pybbolt"], row.get("bbolt")
            lines.append(
                f"| {name} | {py['peak_rss_mb']:.0f} MB | {py['anon_mb']:.0f} MB | "
                f"{py['file_mb']:.0f} MB | "
                + (f"{go['peak_rss_mb']:.0f} MB" if go else "—")
                + " |"
            )
    return lines


def _render_transfer(results: dict[str, Any], level: int = 2) -> list[str]:
    """export / import of the CLI's database (benchmarks/transfer.py), if measured."""
    moved = results.get("transfer")
    if not moved:
        return []
    from .transfer import render

    return render(moved, moved["n"], level)
