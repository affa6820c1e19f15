# pybbolt development tasks.  `scripts/dev TARGET` installs what is missing first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAMPLE := tests/fixtures/bacalhau_compute.db

.PHONY: venv gotools test lint fixtures demo soak fuzz bench bench-browse clean

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

lint: venv
	$(VENV)/bin/ruff check pybbolt cli tests benchmarks fuzz
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
# every read CLI command, and through the library), then the atheris harness
# for FUZZ_SECONDS if atheris is installed (`$(PY) -m pip install atheris`).
FUZZ_EXAMPLES ?= 2000
FUZZ_SECONDS ?= 600
fuzz: venv gotools
	PYBBOLT_FUZZ_CLI_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q -p no:cacheprovider -s tests/test_fuzz_cli.py tests/test_fuzz_regressions.py
	PYBBOLT_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest -q -p no:cacheprovider -s tests/test_hostile.py
	@if $(PY) -c 'import atheris' 2>/dev/null; then \
		mkdir -p build/fuzz-corpus && $(PY) fuzz/fuzz_read.py build/fuzz-corpus -max_total_time=$(FUZZ_SECONDS) \
			-timeout=20 -rss_limit_mb=1024 -max_len=512 -len_control=0 -artifact_prefix=build/fuzz-; \
	else echo "atheris is not installed: skipping fuzz/fuzz_read.py" >&2; fi
