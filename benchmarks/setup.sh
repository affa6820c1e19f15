#!/usr/bin/env bash
# What `make bench` needs beyond the test environment: py-lmdb in the venv
# (a bench-only dependency, not one of pybbolt's), pybbolt installed as users
# install it for the CLI timings, and, where it can be installed, hyperfine
# for the whole-process CLI timings.
set -euo pipefail
py="${1:-.venv/bin/python}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$py" -m pip install -q lmdb

# The CLI timings run a regular (not editable) install of the working tree in
# a venv of its own, benchmarks/work/venv (git-ignored): an editable install
# adds an import hook to every start-up of its interpreter, `python -c pass`
# included.  The venv has no pip of its own (the test venv's pip installs into
# it, with --python) and the same base interpreter as the test venv; pybbolt's
# dependencies are installed the first time only.
bench_venv="$root/benchmarks/work/venv"
if [ ! -x "$bench_venv/bin/python" ]; then
    "$py" -m venv --without-pip "$bench_venv"
fi
if "$bench_venv/bin/python" -c 'import click, construct' 2>/dev/null; then
    "$py" -m pip --python "$bench_venv/bin/python" install -q --no-deps --force-reinstall "$root"
else
    "$py" -m pip --python "$bench_venv/bin/python" install -q "$root"
fi

if ! command -v hyperfine >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine) \
            >/dev/null 2>&1 || true
    fi
    command -v hyperfine >/dev/null 2>&1 \
        || echo "benchmarks: hyperfine not available; the CLIs are timed with subprocess" >&2
fi
