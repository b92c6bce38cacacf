import pytest
from builders import write_notebook
from conftest import FIXTURE_NOTEBOOKS, make_project

from workbench.cli import main


@pytest.fixture()
def project(tmp_path, monkeypatch):
    config = make_project(tmp_path / "p", notebooks=FIXTURE_NOTEBOOKS)
    monkeypatch.chdir(config.parent)
    return config


def test_unknown_parameter_exits_2_before_running(project, capsys):
    assert main(["report", "--param", "nonsense=1"]) == 2
    err = capsys.readouterr().err
    assert "unknown parameter(s) nonsense" in err
    assert not (project.parent / "reports").exists()


def test_param_without_equals(project, capsys):
    assert main(["report", "--param", "count"]) == 2
    assert "key=value" in capsys.readouterr().err


def test_bad_config_exits_2(tmp_path, capsys):
    bad = tmp_path / "workbench.yaml"
    bad.write_text("services: [a]\nwindow: soon\n")
    assert main(["--config", str(bad), "params"]) == 2
    assert "window" in capsys.readouterr().err


def test_report_prints_latest_index_and_fails_with_the_notebook_name(project, capsys):
    assert main(["report", "--notebooks", "03", "--run-id", "r1"]) == 0
    assert capsys.readouterr().out.strip() == "reports/r1/index.html"  # a partial run: never latest (see below)
    assert main(["report", "--notebooks", "02", "--run-id", "r2"]) == 1
    captured = capsys.readouterr()
    assert "FAILED 02_broken" in captured.err and "broken on purpose" in captured.err
    assert "executed copy kept at reports/r2/executed/02_broken.ipynb" in captured.err
    assert not (project.parent / "reports" / "latest").exists()


def test_params_lists_help(project, capsys):
    assert main(["params", "01"]) == 0
    assert "count: int = 3  # an integer" in capsys.readouterr().out


def test_sample_writes_data(project, capsys):
    assert main(["sample"]) == 0
    path = project.parent / capsys.readouterr().out.strip()
    assert path.is_file() and path.suffix == ".parquet"
    assert (project.parent / "data" / "sample-labels" / "incidents.csv").is_file()


def test_evaluate_json(tmp_path, monkeypatch, capsys):
    import json

    config = make_project(tmp_path / "e", days=21, services=["payments"])
    monkeypatch.chdir(config.parent)
    assert main(["evaluate", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"baseline", "model", "hybrid", "summary"}
    for name in ("baseline", "model", "hybrid"):
        assert {"alerts_per_week", "fp_share", "missed_incidents", "ttd_median_minutes"} <= set(out[name])


def test_evaluate_names_an_incident_of_an_unconfigured_service_it_leaves_out(tmp_path, monkeypatch, capsys):
    config = make_project(tmp_path / "e", days=21, services=["payments"])
    log = config.parent / "data" / "sample-labels" / "incidents.csv"
    log.write_text(log.read_text() + "TYPO-1,paymnets,2026-09-10T10:00:00Z,2026-09-10T11:00:00Z,major,x,y,z\n")
    monkeypatch.chdir(config.parent)
    assert main(["evaluate", "--json"]) == 0
    err = capsys.readouterr().err
    assert "workbench evaluate: warning:" in err and "TYPO-1 ('paymnets')" in err and "left out" in err


# -- report runs: the config, the lock, parameters, credentials ---------------------------------


@pytest.fixture()
def two_configs(tmp_path, monkeypatch):
    """A project whose other.yaml names one service, and a notebook that says which file it loaded."""
    import yaml

    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    write_notebook(
        notebooks / "01_config.ipynb",
        'import workbench as wb\nconfig = wb.load_config(config_path)\nwb.show_headline({"services": ",".join(config.services), "file": config.config_file.name})',
        parameters='config_path: str = ""  # the config file; empty means the run\'s',
    )
    root = make_project(tmp_path / "p", notebooks=notebooks, labels=False).parent
    settings = yaml.safe_load((root / "workbench.yaml").read_text())
    settings["services"] = ["checkout"]
    settings["capacity"]["services"] = {k: v for k, v in settings["capacity"]["services"].items() if k == "checkout"}
    (root / "other.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    monkeypatch.chdir(root)
    return root


def headline(root, run_id):
    import json

    return json.loads((root / "reports" / run_id / "run.json").read_text())["notebooks"][0]["headline"]


def test_report_notebooks_use_workbench_config(two_configs, monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_CONFIG", "other.yaml")
    assert main(["report", "--run-id", "env"]) == 0, capsys.readouterr().err
    assert headline(two_configs, "env") == {"services": "checkout", "file": "other.yaml"}


def test_report_with_config_writes_no_machine_path(two_configs, capsys):
    assert main(["--config", str(two_configs / "other.yaml"), "report", "--run-id", "flag"]) == 0, capsys.readouterr().err
    assert headline(two_configs, "flag") == {"services": "checkout", "file": "other.yaml"}
    for page in (two_configs / "reports" / "flag" / "index.html", two_configs / "reports" / "index.html"):
        text = page.read_text()
        assert str(two_configs) not in text and "config_path" not in text
    assert "config other.yaml" in (two_configs / "reports" / "flag" / "index.html").read_text()


def test_report_refuses_while_another_run_holds_the_lock(project, capsys):
    from workbench._util import try_lock

    reports = project.parent / "reports"
    with try_lock(reports / ".report.lock", "a test holds it"):
        assert main(["report", "--notebooks", "03", "--run-id", "second"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "workbench report: error: another report run holds reports/.report.lock; nothing was started: try again when it has finished"
    assert [p.name for p in reports.iterdir()] == [".report.lock"]


@pytest.mark.parametrize(
    "notebook_name, param, message",
    [
        ("05", "history=abc", "parameter history='abc' must be a positive duration like '14D'"),
        ("06", "days=-3", "parameter days=-3 must be positive"),
    ],
)
def test_report_refuses_values_the_notebook_would_refuse(tmp_path, monkeypatch, capsys, notebook_name, param, message):
    config = make_project(tmp_path / "p", labels=False)  # the repository's notebooks
    monkeypatch.chdir(config.parent)
    assert main(["report", "--notebooks", notebook_name, "--param", param]) == 2
    assert message in capsys.readouterr().err
    assert not (config.parent / "reports").exists()


def test_report_never_shows_a_credential(tmp_path, monkeypatch, capfd):
    # The password reaches a notebook's outputs, its own stderr and stdout, an error, and
    # the Prometheus source's failure; none of it may reach a file of the run or the console.
    monkeypatch.setenv("WORKBENCH_PROMETHEUS_URL", "http://alice:S3cretPW@127.0.0.1:1")
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    url = "__import__('os').environ['WORKBENCH_PROMETHEUS_URL']"
    write_notebook(
        notebooks / "01_prints.ipynb",
        f"import os, sys\nprint({url})\nprint({url}, file=sys.stderr)\nos.system('echo $WORKBENCH_PROMETHEUS_URL; echo $WORKBENCH_PROMETHEUS_URL >&2')",
        f"import workbench as wb\nwb.show_headline({{'reached': {url}}})",
    )
    write_notebook(notebooks / "02_raises.ipynb", f"raise ConnectionError('cannot reach ' + {url})")
    write_notebook(
        notebooks / "03_prometheus.ipynb",
        'import workbench as wb\nwb.load_service(wb.load_config(""), "checkout", source="prometheus", start="2026-09-01", end="2026-09-02")',
    )
    prometheus = {"url": "http://127.0.0.1:9", "retries": 0, "backoff": 0, "timeout": "2s"}
    config = make_project(tmp_path / "p", notebooks=notebooks, labels=False, services=["checkout"], source={"kind": "sample", "prometheus": prometheus})
    monkeypatch.chdir(config.parent)
    assert main(["report", "--run-id", "leaky"]) == 1
    out, err = capfd.readouterr()
    assert "S3cretPW" not in out + err
    assert "FAILED 02_raises: cell 1: ConnectionError: cannot reach http://alice:***@127.0.0.1:1" in err
    assert "FAILED 03_prometheus" in err
    files = [p for p in (config.parent / "reports").rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"run.json", "index.html", "01_prints.html", "02_raises.html", "02_raises.ipynb", "03_prometheus.ipynb"}
    assert [p.name for p in files if b"S3cretPW" in p.read_bytes()] == []
    assert "http://alice:***@127.0.0.1:1" in (config.parent / "reports" / "leaky" / "01_prints.html").read_text()


# -- scheduled runs: latest, run ids, --keep, timestamps -------------------------------------


@pytest.fixture()
def good_suite(tmp_path, monkeypatch):
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    write_notebook(notebooks / "01_fine.ipynb", "print('fine')")
    write_notebook(notebooks / "02_fine.ipynb", "print('fine too')")
    config = make_project(tmp_path / "p", notebooks=notebooks, labels=False)
    monkeypatch.chdir(config.parent)
    return config.parent


def test_report_of_the_whole_suite_prints_latest_and_a_rerun_prints_the_id_it_used(good_suite, capsys):
    assert main(["report", "--run-id", "nightly"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "reports/latest/index.html"
    assert captured.err.splitlines()[-1].endswith("run nightly succeeded; reports/latest points at it")
    assert main(["report", "--run-id", "nightly"]) == 0
    captured = capsys.readouterr()
    assert "run nightly-2 (nightly was taken): the whole suite, 2 notebooks; reports in reports/nightly-2" in captured.err
    assert (good_suite / "reports" / "latest").resolve().name == "nightly-2"
    assert main(["report", "--notebooks", "01", "--run-id", "adhoc"]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == "reports/adhoc/index.html"
    assert "run adhoc succeeded; a partial run (01_fine), so reports/latest is unchanged" in captured.err
    assert (good_suite / "reports" / "latest").resolve().name == "nightly-2"


def test_report_keep_prunes_old_runs_and_refuses_zero(good_suite, capsys):
    for run_id in ("a", "b"):
        assert main(["report", "--run-id", run_id]) == 0
    assert main(["report", "--run-id", "c", "--keep", "1"]) == 0
    assert sorted(p.name for p in (good_suite / "reports").iterdir() if not p.name.startswith(".")) == ["c", "index.html", "latest"]
    capsys.readouterr()
    assert main(["report", "--run-id", "d", "--keep", "0"]) == 2
    assert "--keep must be at least 1" in capsys.readouterr().err
    assert not (good_suite / "reports" / "d").exists()


def test_report_progress_is_timestamped_unless_a_terminal_or_the_journal_shows_it(good_suite, capsys, monkeypatch, tmp_path):
    import os
    import re
    import sys

    from workbench.cli.reports import _timestamps_wanted

    assert main(["report", "--run-id", "stamped"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert err and all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", line) for line in err), err
    with open(tmp_path / "journal", "w") as stream:
        monkeypatch.setattr(sys, "stderr", stream)
        assert _timestamps_wanted()  # a file: a log someone reads later
        stat = os.fstat(stream.fileno())
        monkeypatch.setenv("JOURNAL_STREAM", f"{stat.st_dev}:{stat.st_ino}")
        assert not _timestamps_wanted()  # systemd's journal stamps lines itself
        monkeypatch.setattr(stream, "isatty", lambda: True, raising=False)
        monkeypatch.delenv("JOURNAL_STREAM")
        assert not _timestamps_wanted()  # a person at a terminal
