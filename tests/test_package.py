"""The package as it would be published: the built wheel, installed in a fresh venv.

`make lint` builds the sdist and wheel into build/dist; this test uses that
wheel when it is newer than every source file, and builds one (with the
venv's setuptools, no download) otherwise, once per session.  The fresh venv
gets the wheel alone (``--no-deps``, ``--no-index``); construct and click, the
runtime dependencies, are made visible from the test's own environment by a
``.pth`` file, so the test needs no network.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import click
import construct
import pytest

from .conftest import FIXTURES, ROOT

DIST = ROOT / "build" / "dist"
SOURCES = ("pybbolt", "cli", "pyproject.toml", "README.md", "LICENSE")


def _newest_source() -> float:
    times = []
    for name in SOURCES:
        path = ROOT / name
        files = path.rglob("*.py") if path.is_dir() else [path]
        times += [f.stat().st_mtime for f in files]
    return max(times)


def _built(directory: Path, suffix: str) -> Path | None:
    found = sorted(directory.glob(f"pybbolt-*{suffix}"))
    return found[-1] if len(found) == 1 else None


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sdist, wheel) of the working tree."""
    wheel, sdist = _built(DIST, ".whl"), _built(DIST, ".tar.gz")
    if wheel and sdist and min(wheel.stat().st_mtime, sdist.stat().st_mtime) > _newest_source():
        return sdist, wheel
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--quiet", "--no-isolation", "--outdir", str(out), "."],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    wheel, sdist = _built(out, ".whl"), _built(out, ".tar.gz")
    assert wheel is not None and sdist is not None
    return sdist, wheel


def test_sdist_and_wheel_carry_the_license(dist: tuple[Path, Path]) -> None:
    sdist, wheel = dist
    license_text = (ROOT / "LICENSE").read_bytes()
    assert license_text.startswith(b"MIT License\n\nCopyright (c) the pybbolt authors\n")
    with tarfile.open(sdist) as tar:
        member = tar.extractfile(f"{sdist.name.removesuffix('.tar.gz')}/LICENSE")
        assert member is not None and member.read() == license_text
    with zipfile.ZipFile(wheel) as whl:
        info = wheel.name.split("-py3-")[0] + ".dist-info"
        assert whl.read(f"{info}/licenses/LICENSE") == license_text
        metadata = whl.read(f"{info}/METADATA").decode()
    assert "\nLicense-Expression: MIT\n" in metadata
    assert "\nClassifier: Typing :: Typed\n" in metadata


def test_wheel_installs_and_runs(dist: tuple[Path, Path], tmp_path: Path) -> None:
    _, wheel = dist
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=300)
    python = venv / "bin" / "python"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", "--disable-pip-version-check", str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip())
    # The runtime dependencies, from this environment (appended to sys.path,
    # after the venv's own site-packages, so the wheel's pybbolt comes first).
    deps = {str(Path(m.__file__ or "").parent.parent) for m in (click, construct)}
    (site / "deps.pth").write_text("".join(f"{d}\n" for d in sorted(deps)))

    where = subprocess.run(
        [str(python), "-c", "import pybbolt, pybbolt.cli; print(pybbolt.__file__)"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(site)  # the wheel's copy, not the tree

    sample = tmp_path / "sample.db"
    shutil.copyfile(FIXTURES / "bacalhau_compute.db", sample)
    for command in ([str(venv / "bin" / "pybbolt")], [str(python), "-m", "pybbolt"]):
        run = subprocess.run([*command, "check", str(sample)], capture_output=True,
                             timeout=120, cwd=tmp_path)
        assert (run.returncode, run.stdout, run.stderr) == (0, b"OK\n", b""), command
