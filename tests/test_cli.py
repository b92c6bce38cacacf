import pytest
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
    assert capsys.readouterr().out.strip() == "reports/latest/index.html"
    assert main(["report", "--notebooks", "02", "--run-id", "r2"]) == 1
    captured = capsys.readouterr()
    assert "FAILED 02_broken" in captured.err and "broken on purpose" in captured.err
    assert "executed copy kept at reports/r2/executed/02_broken.ipynb" in captured.err
    assert (project.parent / "reports" / "latest").resolve().name == "r1"


def test_params_lists_help(project, capsys):
    assert main(["params", "01"]) == 0
    assert "count: int = 3  # an integer" in capsys.readouterr().out


def test_sample_writes_data(project, capsys):
    assert main(["sample"]) == 0
    path = project.parent / capsys.readouterr().out.strip()
    assert path.is_file() and path.suffix == ".parquet"
    assert (project.parent / "data" / "incidents.csv").is_file()


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
    log = config.parent / "data" / "incidents.csv"
    log.write_text(log.read_text() + "TYPO-1,paymnets,2026-09-10T10:00:00Z,2026-09-10T11:00:00Z,major,x,y,z\n")
    monkeypatch.chdir(config.parent)
    assert main(["evaluate", "--json"]) == 0
    err = capsys.readouterr().err
    assert "workbench evaluate: warning:" in err and "TYPO-1 ('paymnets')" in err and "left out" in err
