"""bench: Go duration and benchmark renderings, argument checks, a short real run."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from pybbolt.cli.cmd_bench import Results, report
from pybbolt.cli.godur import benchmark_result, duration
from pybbolt.cli.main import execute


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (0, "0s"),
        (999, "999ns"),
        (15644, "15.644µs"),
        (1000, "1µs"),
        (1564413, "1.564413ms"),
        (1000005081, "1.000005081s"),
        (2_000_000_000, "2s"),
        (62_500_000_000, "1m2.5s"),
        (3_723_000_000_000, "1h2m3s"),
    ],
)
def test_go_durations(ns: int, text: str) -> None:
    assert duration(ns) == text


def test_benchmark_results() -> None:
    assert benchmark_result(100, 2161200) == "     100\t     21612 ns/op"
    assert benchmark_result(113685100, 1_000_000_000) == "113685100\t         8.796 ns/op"


def test_report_shapes() -> None:
    write, read = Results(1000, 1564413), Results(0, 0)
    assert report(write, read, False) == (
        "# Write\t1000(ops)\t1.564413ms\t(1.564µs/op)\t(639386 op/sec)\n"
        "# Read\t0(ops)\t0s\t(0s/op)\t(0 op/sec)\n\n"
    )
    assert report(Results(100, 2161200), Results(10, 100), True) == (
        "BenchmarkWrite\t     100\t     21612 ns/op\n"
        "BenchmarkRead \t      10\t        10.00 ns/op\n\n"
    )


def run(*argv: str) -> tuple[int, bytes, bytes]:
    out, err = io.BytesIO(), io.BytesIO()
    return execute(list(argv), out, err), out.getvalue(), err.getvalue()


def test_argument_errors() -> None:
    status, out, err = run("bench", "--count", "10", "--batch-size", "3")
    assert (status, out) == (1, b"")
    assert err.startswith(b"Error: the number of iterations must be divisible by the batch size\n")
    status, out, err = run("bench", "--write-mode", "seq-del")
    assert (status, out) == (1, b"")
    assert err.startswith(
        b"Error: the write mode should be one of seq, rnd, seq-nest, or rnd-nest\n"
    )
    status, _, err = run("bench", "-count", "x")
    assert status == 1 and err.startswith(b'Error: invalid argument "x" for "--count" flag')


def test_short_run(tmp_path: Path) -> None:
    path = tmp_path / "bench.db"
    status, out, err = run(
        "bench", "--count", "40", "--batch-size", "20", "--path", str(path), "--work",
        "--write-mode", "rnd-nest", "--read-mode", "rnd",
    )
    assert status == 0, err
    assert re.fullmatch(
        rb"# Write\t40\(ops\)\t\S+\t\(\S+/op\)\t\(\d+ op/sec\)\n"
        rb"# Read\t\d+\(ops\)\t\S+\t\(\S+/op\)\t\(\d+ op/sec\)\n\n",
        out,
    )
    assert err.startswith(f"work: {path}\nstarting write benchmark.\n".encode())
    assert path.exists()
    status, out, err = run("bench", "--count", "8", "--path", str(path) + "2", "--read-mode", "x")
    assert status == 1 and b"Error: bench: read: invalid read mode: x\n" in err
    assert not Path(str(path) + "2").exists()
