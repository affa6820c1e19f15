# pybbolt development tasks.  `scripts/dev TARGET` installs what is missing first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAMPLE := tests/fixtures/bacalhau_compute.db
DIST := build/dist

.PHONY: venv gotools test test-all lint fixtures real-fixtures real-shapes bacalhau-fixtures bacalhau-check demo soak fuzz bench bench-browse clean layout-proof mutate

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,lint]'
	touch $@

# The Go side of the tests: our Go programs and the real bbolt CLI, in .bin/.
gotools:
	@if command -v go >/dev/null 2>&1; then bash tests/go/build.sh; \
	elif [ "$${CI:-}" = true ]; then echo "Go is required in CI" >&2; exit 1; \
	else echo "Go not found: the Go cross-tests will be skipped" >&2; fi

test: venv gotools lint
	$(PY) -m pytest -q -p no:cacheprovider

# Everything: lint, the default suite and the soak-marked tests in one run
# (the long runs with many more examples stay in `make soak` and `make fuzz`;
# Bacalhau's own code reading pruned stores in `make bacalhau-check`).
test-all: venv gotools lint
	$(PY) -m pytest -q -p no:cacheprovider -m "not bacalhau"

# Also builds the sdist and wheel that would be published (into $(DIST), with
# the venv's setuptools: no download) and checks them with twine.  setuptools
# reuses build/lib, so it is cleared first: a module deleted from the tree must
# not survive in the wheel.
lint: venv
	$(VENV)/bin/ruff check pybbolt cli tests benchmarks fuzz examples scripts
	$(VENV)/bin/mypy
	rm -rf $(DIST) build/lib build/bdist.*
	$(PY) -m build --quiet --no-isolation --outdir $(DIST) .
	$(VENV)/bin/twine check --strict $(DIST)/*
	$(VENV)/bin/lint-imports

fixtures: gotools
	.bin/boltgo gen-fixtures tests/fixtures

# Files written by the real programs (tests/fixtures/real, see tests/go/realprog/README.md):
# an etcd 3.4 member (Debian's etcd-server and etcd-client), a containerd 1.6
# meta.db (Debian's containerd, run as root) and raft-boltdb v1/v2 stores.
REAL := tests/fixtures/real
real-fixtures:
	mkdir -p $(REAL)
	bash tests/go/realprog/etcd.sh $(REAL)/etcd34.db
	bash tests/go/realprog/containerd.sh $(REAL)/containerd16.db
	cd tests/go/realprog/raftstore && go run . $(CURDIR)/$(REAL)

# Stores of the real programs at the field shapes' size, for benchmarks/FIELD.md
# (not committed; etcd and containerd need root's Debian packages, see scripts/dev).
REALSHAPES := build/real
real-shapes: venv
	mkdir -p $(REALSHAPES)
	$(PY) -m benchmarks.real_etcd $(REALSHAPES)/etcd.db
	$(PY) -m benchmarks.real_raft $(REALSHAPES)/raft_v2.db
	$(PY) -m benchmarks.real_raft --v1 $(REALSHAPES)/raft_v1.db
	$(PY) -m benchmarks.real_containerd $(REALSHAPES)/containerd.db

# Bacalhau stores written by Bacalhau's own code (v1.5.1 and v1.4.0, each in a
# Go module of its own: the first build downloads Bacalhau's dependencies).
bacalhau-fixtures:
	mkdir -p $(REAL)
	cd tests/go/bacalhau && go run . gen $(CURDIR)/$(REAL)
	cd tests/go/bacalhau14 && go run . gen $(CURDIR)/$(REAL)

# examples/bacalhau_store.py prunes copies of those stores, then Bacalhau's own
# code opens them and must count what the example counts (slow: builds Bacalhau).
bacalhau-check: venv gotools
	cd tests/go/bacalhau && go build -o $(CURDIR)/.bin/bacalhau .
	cd tests/go/bacalhau14 && go build -o $(CURDIR)/.bin/bacalhau14 .
	$(PY) -m pytest -q -p no:cacheprovider -m bacalhau tests/test_bacalhau_store.py

# The main job: inspect the bundled sample database with the CLI.
demo: venv
	$(VENV)/bin/pybbolt buckets $(SAMPLE)
	$(VENV)/bin/pybbolt check $(SAMPLE)
	$(VENV)/bin/pybbolt stats $(SAMPLE)

clean:
	rm -rf $(VENV) .bin build *.egg-info

# Performance against Go bbolt, py-lmdb and sqlite3 (not part of `test`):
# writes benchmarks/results/latest.{md,json}.  BENCH_QUICK=1: N=100,000 only.
bench: venv gotools
	bash benchmarks/setup.sh $(PY)
	$(PY) -m benchmarks.run
	$(MAKE) bench-browse

# pybbolt browse: the first screen of a 1,000,000-key bucket (target: within a
# second); writes benchmarks/results/browse.md.  BROWSE_N=... for another size.
BROWSE_N ?= 1000000
bench-browse: venv
	$(PY) -m benchmarks.browse_first_screen --n $(BROWSE_N)

# Long runs, not part of `make test`: the soak-marked tests (a database past
# 4 GiB), the writer model with many more examples, 500 SIGKILLs, and the
# full fault-injection study (more tears and power-cut subsets).
soak: venv gotools
	$(PY) -m pytest -q -p no:cacheprovider -s -m soak tests/
	HYPOTHESIS_PROFILE=soak $(PY) -m pytest -q -p no:cacheprovider -s tests/test_writer_model.py
	PYBBOLT_KILLS=500 $(PY) -m pytest -q -p no:cacheprovider -s tests/test_crash.py
	PYBBOLT_FAULT_FULL=1 $(PY) -m pytest -q -p no:cacheprovider -s tests/test_faults.py

# Hostile input with many more examples (FUZZ_EXAMPLES damaged files through
# every read CLI command, and through the library; ten times the differential
# examples against the real bbolt CLI), then the atheris harness
# for FUZZ_SECONDS if atheris is installed (`$(PY) -m pip install atheris`).
FUZZ_EXAMPLES ?= 2000
FUZZ_SECONDS ?= 600
fuzz: venv gotools
	PYBBOLT_FUZZ_CLI_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q -p no:cacheprovider -s tests/test_fuzz_cli.py tests/test_fuzz_regressions.py
	PYBBOLT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q -p no:cacheprovider -s tests/test_hostile.py
	PYBBOLT_DIFF_EXAMPLES=300 PYBBOLT_DIFF_DAMAGE_EXAMPLES=400 $(PY) -m pytest -q -p no:cacheprovider -s tests/test_cli_differential.py
	@if $(PY) -c 'import atheris' 2>/dev/null; then \
		mkdir -p build/fuzz-corpus && $(PY) fuzz/fuzz_read.py build/fuzz-corpus -max_total_time=$(FUZZ_SECONDS) \
			-timeout=20 -rss_limit_mb=1024 -max_len=512 -len_control=0 -artifact_prefix=build/fuzz-; \
	else echo "atheris is not installed: skipping fuzz/fuzz_read.py" >&2; fi

# Which workloads of tests/test_same_pages.py Go lays out the same way every
# run: LAYOUT_REPLAYS Go replays of each (default 60), distinct files counted.
LAYOUT_REPLAYS ?= 60
layout-proof: venv gotools
	LAYOUT_REPLAYS=$(LAYOUT_REPLAYS) $(PY) -m tests.layout_replays

# Mutation testing (not part of `make test`): each core module against its own
# focused tests (the table in scripts/mutate.py), in build/mutate/MODULE; per-module
# scores and the survivors.  MODULES="page node" for a subset; about an hour for all.
MODULES ?=
mutate: venv gotools $(VENV)/.mutate-installed
	$(PY) scripts/mutate.py $(MODULES)
$(VENV)/.mutate-installed: pyproject.toml
	$(PY) -m pip install -q -e '.[mutate]'
	touch $@
