"""The real notebooks, run the way `workbench report` runs them, on the small sample project;
their git filter; and `make lab`."""

import os
import re
import shutil
import subprocess
import sys

import nbformat
import pandas as pd
import pytest
from conftest import FIXTURE_NOTEBOOKS, REPO, make_project

from workbench.config import load_config
from workbench.labels.incidents import in_range, read_incidents
from workbench.report.params import discover_notebooks, notebook_parameters
from workbench.report.runner import run_report
from workbench.sources.sample import ensure_sample
from workbench.workflows.train import train_services

pytestmark = pytest.mark.notebooks


def assert_reads_plainly(page: str) -> None:
    """What a leader must never meet in a report: a time with ``+00:00``, a pandas index
    column, an empty cell shown as None or nan, a cell cut short, a traceback, a printed dict."""
    assert "+00:00" not in page
    assert not any("<th" in body for body in re.findall(r"<tbody>(.*?)</tbody>", page, re.S)), "a table shows its index"
    cells = [cell.strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", page, re.S)]
    assert not [c for c in cells if c in ("None", "nan", "NaN", "NaT") or c.endswith("...")], "an empty or cut-short cell"
    assert "Traceback" not in page and "{&#39;" not in page and "[{" not in page


def answer_of(page: str) -> str:
    """The report's first bold sentence: its answer."""
    return re.search(r"<p class=.answer.><b>(.*?)</b></p>", page, re.S).group(1)


@pytest.fixture(scope="module")
def explore_run(sample_config):
    return run_report(
        sample_config,
        notebooks=["01_explore"],
        parameters={"service": "payments", "start": "2026-09-05", "end": "2026-09-13"},
        run_id="explore",
        log=lambda *_: None,
    )


def test_explore_runs_and_leads_with_the_answer(sample_config, explore_run):
    assert explore_run.ok, explore_run.notebooks[0].error
    headline = explore_run.notebooks[0].headline
    assert headline["service"] == "payments"
    assert headline["from"].startswith("2026-09-05")
    log = read_incidents(sample_config.path("incidents"))
    expected = in_range(log, "payments", pd.Timestamp("2026-09-05T00:00Z"), pd.Timestamp("2026-09-12T23:59Z"))
    assert headline["incidents"] == len(expected)
    assert headline["samples"] > 0.98 * 8 * 24 * 60
    assert headline["answer"].startswith(f"payments had {len(expected)} labelled incident") and "over 8 days" in headline["answer"]
    assert headline["covers"] == "payments; 2026-09-05 to 2026-09-12 (UTC)"


def test_explore_report_reads_plainly(explore_run):
    page = (explore_run.folder / "01_explore.html").read_text()
    assert_reads_plainly(page)
    answer = answer_of(page)
    assert answer.startswith("payments had ") and ("% complete" in answer or "data are complete" in answer)
    assert "labelled_by" not in page and "latency_p95" not in page and "Glossary" in page and "All times are UTC." in page


def test_explore_report_has_plots_and_no_code(explore_run):
    page = (explore_run.folder / "01_explore.html").read_text()
    assert page.count("data:image/png;base64") >= 3  # timeline, heatmaps, correlations
    assert "wb.load_config" not in page and "import workbench" not in page


def test_first_output_is_the_headline(explore_run):
    nb = nbformat.read(explore_run.folder / "executed" / "01_explore.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert "application/vnd.aiops-workbench.headline+json" in outputs[0].get("data", {})


def test_notebooks_follow_the_house_rules(sample_config):
    # The temporary project holds copies of the repository's notebooks.
    for path in discover_notebooks(sample_config):
        nb = nbformat.read(path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert "parameters" in code[0].metadata.get("tags", []), f"{path.name}: first code cell must be the parameters cell"
        for cell in code:
            assert not cell.get("outputs"), f"{path.name}: outputs must be stripped"
            assert not any(line.lstrip().startswith(("def ", "class ")) for line in cell.source.splitlines()), path.name
        for name, spec in notebook_parameters(path).items():
            assert spec["type"] != "None", f"{path.name}: parameter {name} needs a type annotation"
            assert spec["help"], f"{path.name}: parameter {name} needs a help comment"


@pytest.fixture(scope="module")
def label_run(sample_config):
    return run_report(sample_config, notebooks=["02_label_incidents"], parameters={"service": "checkout"}, run_id="label", log=lambda *_: None)


def test_label_report_says_what_was_labelled_not_how_to_label(sample_config, label_run):
    assert label_run.ok, label_run.notebooks[0].error
    log = read_incidents(sample_config.path("incidents"))
    headline = label_run.notebooks[0].headline
    assert headline["incidents labelled"] == len(log)
    assert headline["answer"].startswith(f"{len(log)} incidents are labelled across {log['service'].nunique()} services")
    page = (label_run.folder / "02_label_incidents.html").read_text()
    assert_reads_plainly(page)
    assert answer_of(page) == headline["answer"]
    assert "slider" not in page and "Pick a range" not in page  # the how-to is the labeller's, in JupyterLab only
    assert "Incidents by kind and month" in page and "Incidents by service" in page and page.count("<img") >= 1


@pytest.fixture(scope="module")
def train_run(tmp_path_factory):
    # Its own project: 03 saves a model version, which the shared sample project must not gain.
    config = load_config(make_project(tmp_path_factory.mktemp("train") / "wb", services=["checkout"]))
    ensure_sample(config)
    run = run_report(config, notebooks=["03_train"], run_id="train", log=lambda *_: None)
    return config, run


def test_train_report_leads_with_the_model_and_lists_versions_plainly(train_run):
    config, run = train_run
    assert run.ok, run.notebooks[0].error
    version = next((config.path("models") / "checkout").iterdir()).name
    headline = run.notebooks[0].headline
    assert headline["answer"].startswith("A new checkout model learned what normal looks like from ")
    assert headline["answer"].endswith(f"saved as version {version}.") and "rarer than once in 4 normal weeks" in headline["answer"]
    page = (run.folder / "03_train.html").read_text()
    assert_reads_plainly(page)
    assert answer_of(page) == headline["answer"]
    assert "offset_" not in page and "alarm raw score" not in page and "feature_schema" not in page
    assert "sha256 (start)" in page and f"<td>{version}</td>" in page and "Glossary" in page


@pytest.fixture(scope="module")
def capacity_run(sample_config):
    return run_report(sample_config, notebooks=["05_capacity_forecast"], run_id="capacity", log=lambda *_: None)


def test_capacity_forecast_leads_with_the_plan(capacity_run):
    assert capacity_run.ok, [nb.error for nb in capacity_run.notebooks]
    nb = nbformat.read(capacity_run.folder / "executed" / "05_capacity_forecast.ipynb", as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code" and c.get("outputs"))
    html = first.outputs[0]["data"]["text/html"]
    assert "monthly cost change" in html and "days to saturation" in html and "recommended" in html
    page = (capacity_run.folder / "05_capacity_forecast.html").read_text()
    assert page.count("<img") >= 2 and "Rolling-origin backtest" in page and "import workbench" not in page


@pytest.fixture(scope="module")
def live_run(sample_config):
    # 06 uses the project's newest saved models; give it one for checkout only, so the
    # other services show the degraded path (the rules alone) in the same run.
    train_services(sample_config, ["checkout"])
    return run_report(sample_config, notebooks=["06_live_alerts"], parameters={"days": 5}, run_id="live", log=lambda *_: None)


def test_live_alerts_lead_with_pages_and_delivery(sample_config, live_run):
    assert live_run.ok, [nb.error for nb in live_run.notebooks]
    headline = live_run.notebooks[0].headline
    assert headline["episodes"] == headline["pages"] + headline["investigations"]
    assert headline["events delivered"] >= headline["episodes"] and headline["waiting or dead"] == 0
    assert "checkout" not in headline["model"]  # its model was used; services without one ran on the rules
    page = (live_run.folder / "06_live_alerts.html").read_text()
    assert page.count("<img") >= 1 and "Every episode, and why" in page and "import workbench" not in page
    # The report replays into a scratch state: the project's own alert state is untouched.
    assert not (sample_config.root / "data" / "alerts").exists()


# -- notebook hygiene: the git filter and `make lab` ------------------------------------------


def _make_variable(name: str) -> list[str]:
    makefile = (REPO / "Makefile").read_text().replace("\\\n", " ")
    return re.search(rf"^{name} := (.*)$", makefile, re.MULTILINE).group(1).split()


def _git_filter(path, cwd) -> bytes:
    """What the Makefile's nbstripout filter makes of ``path``: what git would store."""
    pytest.importorskip("nbstripout", reason="nbstripout is not installed (make setup installs it)")
    keys = " ".join(_make_variable("NBSTRIPOUT_EXTRA_KEYS"))
    # Run outside the clone, so only the Makefile's settings count, not a registered filter's.
    command = [sys.executable, "-m", "nbstripout", "--textconv", *_make_variable("NBSTRIPOUT_ARGS"), "--extra-keys", keys, str(path)]
    return subprocess.run(command, cwd=cwd, capture_output=True, check=True).stdout


@pytest.mark.parametrize("path", sorted([*(REPO / "notebooks").glob("*.ipynb"), *FIXTURE_NOTEBOOKS.glob("*.ipynb")]), ids=lambda p: p.name)
def test_the_git_filter_leaves_the_committed_notebooks_as_they_are(path, tmp_path):
    assert _git_filter(path, tmp_path) == path.read_bytes(), f"{path.name}: the git filter would change it; strip it with the filter"


def test_the_git_filter_drops_what_lab_and_papermill_add(tmp_path):
    committed = REPO / "notebooks" / "01_explore.ipynb"
    nb = nbformat.read(committed, as_version=4)
    nb.metadata.update(
        papermill={"parameters": {"service": "search"}, "duration": 12.5},
        widgets={"application/vnd.jupyter.widget-state+json": {"state": {}}},
    )
    nb.metadata.language_info.update(
        codemirror_mode={"name": "ipython", "version": 3}, file_extension=".py", mimetype="text/x-python",
        nbconvert_exporter="python", pygments_lexer="ipython3", version="3.11.7",
    )
    for count, cell in enumerate(nb.cells, start=1):
        cell.metadata.update(papermill={"status": "completed"}, execution={"iopub.status.idle": "2026-11-28T10:00:00Z"})
        if cell.cell_type == "markdown":
            cell.metadata["jp-MarkdownHeadingCollapsed"] = True
        else:
            cell.execution_count = count
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="a printout\n")]
    injected = nbformat.v4.new_code_cell('service = "search"\n', metadata={"tags": ["injected-parameters"]})
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells.insert(first_code + 1, injected)
    saved = tmp_path / committed.name
    nbformat.write(nb, saved)
    assert _git_filter(saved, tmp_path) == committed.read_bytes()


def test_the_notebooks_are_filtered_in_git():
    rules = (REPO / ".gitattributes").read_text().splitlines()
    assert "*.ipynb filter=nbstripout diff=ipynb" in rules


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_serves_the_project_and_opens_the_notebooks():
    # Only what make would run (-n): starting a server is test_browser.py's job.
    shown = subprocess.run(
        ["make", "--no-print-directory", "-n", "lab", "LAB_ARGS=--no-browser"], cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    lab = next(line for line in shown if " lab " in line and "jupyter" in line)
    assert f'--ServerApp.root_dir="{REPO}"' in lab and "--LabApp.default_url=/lab/tree/notebooks" in lab
    assert lab.endswith("--no-browser")
    as_root = os.getuid() == 0
    assert ("--allow-root" in lab) == as_root
    assert any("warning" in line and "root" in line for line in shown) == as_root
