# The two Quick start commands are `make report` and `make test`; both build the
# virtual environment first if it is missing or older than the pins.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

# Notebooks stay as committed whatever JupyterLab or papermill adds when they save: the git
# filter (nbstripout; .gitattributes applies it to *.ipynb) drops outputs and execution counts,
# papermill's injected parameters cell and run metadata, widget state, and what a kernel writes
# into language_info. Cell ids are kept: they are the notebooks' own. `make setup` registers it
# in this clone. Not `required`, so git still works without the venv (after `make clean` it
# warns that the filter failed).
NBSTRIPOUT_ARGS := --keep-id --drop-tagged-cells injected-parameters
NBSTRIPOUT_EXTRA_KEYS := metadata.papermill cell.metadata.papermill cell.metadata.execution metadata.widgets \
  metadata.language_info.codemirror_mode metadata.language_info.file_extension metadata.language_info.mimetype \
  metadata.language_info.nbconvert_exporter metadata.language_info.pygments_lexer metadata.language_info.version \
  cell.metadata.jp-MarkdownHeadingCollapsed cell.metadata.trusted
NBSTRIPOUT := "$(abspath $(BIN)/python)" -m nbstripout $(NBSTRIPOUT_ARGS)
# Set a git config key only when it differs: several shells may share one clone.
git_set = { test "$$(git config --local --get $(1))" = '$(2)' || git config --local $(1) '$(2)'; }

# JupyterLab refuses root unless told; a container or CI machine often is root.
LAB_AS_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)
LAB_ARGS ?=

.PHONY: setup report test bench constraints lab clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $(STAMP)

## Build .venv from the pins and register the notebooks' git filter
# (then refresh git's index once: in a fresh clone every notebook looks possibly changed to
# git until then, and each status or describe would run the filter on all of them)
setup: $(STAMP)
	@if [ "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$(CURDIR)" ]; then \
	  $(call git_set,filter.nbstripout.clean,$(NBSTRIPOUT)) && \
	  $(call git_set,filter.nbstripout.smudge,cat) && \
	  $(call git_set,filter.nbstripout.extrakeys,$(NBSTRIPOUT_EXTRA_KEYS)) && \
	  $(call git_set,diff.ipynb.textconv,$(NBSTRIPOUT) --textconv) && \
	  { git update-index -q --refresh >/dev/null 2>&1 || true; }; \
	else echo "not a git clone: the notebooks' git filter (nbstripout) is not registered"; fi

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
	$(BIN)/python benchmarks/bench_runbooks.py
	$(BIN)/python benchmarks/bench_business.py
	$(BIN)/python benchmarks/bench_calibration.py
	$(BIN)/python benchmarks/bench_seeds.py

## Re-pin after a deliberate upgrade: fresh venv from pyproject ranges, then freeze
constraints:
	rm -rf .venv-pin && $(PYTHON) -m venv .venv-pin && .venv-pin/bin/pip install --quiet -e '.[test]'
	{ sed -n '1,3p' constraints.txt; .venv-pin/bin/pip freeze --exclude-editable; } > constraints.new && mv constraints.new constraints.txt
	rm -rf .venv-pin

## JupyterLab over the whole project (workbench.yaml, data/ visible), opened on notebooks/; extra options in LAB_ARGS
lab: setup
	$(if $(LAB_AS_ROOT),@echo "warning: running JupyterLab as root (--allow-root): its kernels and terminals can change anything on this machine" >&2)
	$(BIN)/jupyter lab $(LAB_AS_ROOT) --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/notebooks $(LAB_ARGS)

clean:
	rm -rf $(VENV) .cache .pytest_cache data/sample
