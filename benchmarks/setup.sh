#!/usr/bin/env bash
# What `make bench` needs beyond the test environment: py-lmdb in the venv
# (a bench-only dependency, not one of pybbolt's) and, where it can be
# installed, hyperfine for the whole-process CLI timings.
set -euo pipefail
py="${1:-.venv/bin/python}"
"$py" -m pip install -q lmdb
if ! command -v hyperfine >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq hyperfine) \
            >/dev/null 2>&1 || true
    fi
    command -v hyperfine >/dev/null 2>&1 \
        || echo "benchmarks: hyperfine not available; the CLIs are timed with subprocess" >&2
fi
