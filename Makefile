# The two Quick start commands are `make report` and `make test`; both build the
# virtual environment first if it is missing or older than the pins.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup report test bench constraints lab clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $(STAMP)

setup: $(STAMP)

## Run every notebook on the configured source (bundled sample by default); prints reports/latest/index.html
report: setup
	$(BIN)/workbench report

## The whole test suite: unit, report and notebook tests (nbval runs each notebook top to bottom)
test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile --nbval-lax --ignore=tests/notebooks tests notebooks

## Time the CLI and the report suite; measure detection, forecasting, Prometheus pulls and the live loop; record all in benchmarks/RESULTS.md
bench: setup
	$(BIN)/python benchmarks/bench_cli.py
	$(BIN)/python benchmarks/bench_report.py
	$(BIN)/python benchmarks/bench_detection.py
	$(BIN)/python benchmarks/bench_forecast.py
	$(BIN)/python benchmarks/bench_pull.py
	$(BIN)/python benchmarks/bench_live.py

## Re-pin after a deliberate upgrade: fresh venv from pyproject ranges, then freeze
constraints:
	rm -rf .venv-pin && $(PYTHON) -m venv .venv-pin && .venv-pin/bin/pip install --quiet -e '.[test]'
	{ sed -n '1,3p' constraints.txt; .venv-pin/bin/pip freeze --exclude-editable; } > constraints.new && mv constraints.new constraints.txt
	rm -rf .venv-pin

lab: setup
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf $(VENV) .cache .pytest_cache data/sample
