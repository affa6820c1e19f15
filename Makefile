# pybbolt development tasks.  `scripts/dev TARGET` installs what is missing first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAMPLE := tests/fixtures/bacalhau_compute.db

.PHONY: venv gotools test lint fixtures demo soak fuzz bench clean

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

test: venv gotools
	$(PY) -m pytest -q -p no:cacheprovider

lint: venv
	$(VENV)/bin/ruff check pybbolt cli tests
	$(VENV)/bin/mypy

fixtures: gotools
	.bin/boltgo gen-fixtures tests/fixtures

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
