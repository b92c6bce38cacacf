"""The error hierarchy, its exit statuses, and how the CLI maps them."""

from __future__ import annotations

import inspect

import pytest
from conftest import make_project

import workbench
import workbench.cli
import workbench.cli.reports
import workbench.errors as errors
from workbench.errors import (
    ConfigError,
    DataError,
    ForecastError,
    LabelError,
    ParameterError,
    ReportError,
    ServerError,
    SourceError,
    StoreError,
    WorkbenchError,
)
from workbench.sources.prometheus import PrometheusError

CLASSES = [obj for _, obj in inspect.getmembers(errors, inspect.isclass) if obj.__module__ == errors.__name__]
ERROR_CLASSES = [c for c in CLASSES if not issubclass(c, Warning)]


def test_the_module_exports_every_error_class():
    assert sorted(c.__name__ for c in CLASSES) == sorted(errors.__all__)
    assert [c.__name__ for c in CLASSES if c not in ERROR_CLASSES] == ["DataWarning"]


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_every_error_derives_from_workbench_error(cls):
    assert issubclass(cls, WorkbenchError)
    assert issubclass(cls, Exception)
    assert cls.exit_status in (1, 2)


@pytest.mark.parametrize(
    "cls, is_value_error, status",
    [
        (ConfigError, True, 2),
        (ParameterError, True, 2),
        (DataError, True, 2),
        (LabelError, True, 2),
        (ForecastError, True, 2),
        (ReportError, False, 2),
        (SourceError, False, 1),
        (StoreError, False, 1),
        (ServerError, False, 1),
        (PrometheusError, False, 1),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else str(v),
)
def test_input_errors_are_value_errors_and_exit_2(cls, is_value_error, status):
    assert issubclass(cls, ValueError) is is_value_error
    assert cls.exit_status == status
    assert cls("x").exit_status == status
    if is_value_error:
        with pytest.raises(ValueError):  # what scikit-learn and pandas callers catch
            raise cls("bad input")


@pytest.mark.parametrize("cls", [LabelError, ForecastError])
def test_label_and_forecast_errors_are_data_errors(cls):
    assert issubclass(cls, DataError)


def test_prometheus_error_is_a_source_error_not_bad_data():
    assert issubclass(PrometheusError, SourceError)
    assert not issubclass(PrometheusError, DataError)
    assert not issubclass(PrometheusError, ValueError)


# -- the CLI's mapping ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "error, status",
    [
        (SourceError("prometheus unreachable"), 1),
        (StoreError("store locked"), 1),
        (PrometheusError("HTTP 503"), 1),
        (ConfigError("window: bad"), 2),
        (ParameterError("count: not an int"), 2),
        (DataError("no rows"), 2),
        (LabelError("overlap"), 2),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
def test_cli_maps_errors_to_exit_statuses(monkeypatch, capsys, error, status):
    def failing(args):
        raise error

    # build_parser binds the function when main() builds the parser: patch first.
    monkeypatch.setattr(workbench.cli.reports, "_cmd_params", failing)
    assert workbench.cli.main(["params"]) == status
    captured = capsys.readouterr()
    assert captured.err.strip() == f"workbench params: error: {error}"
    assert captured.out == ""


def test_cli_lets_unexpected_errors_through(monkeypatch):
    def failing(args):
        raise RuntimeError("a bug, not a cause")

    monkeypatch.setattr(workbench.cli.reports, "_cmd_params", failing)
    with pytest.raises(RuntimeError, match="a bug"):
        workbench.cli.main(["params"])


def test_cli_returns_what_the_command_returns(monkeypatch):
    monkeypatch.setattr(workbench.cli.reports, "_cmd_params", lambda args: 0)
    assert workbench.cli.main(["params"]) == 0


def test_unreachable_source_exits_1(tmp_path, capsys):
    # Nothing listens on port 9 (discard) locally: the connection is refused at once.
    prometheus = {"url": "http://127.0.0.1:9", "retries": 0, "backoff": 0, "timeout": "2s"}
    config = make_project(tmp_path / "p", labels=False, services=["checkout"], source={"kind": "sample", "prometheus": prometheus})
    assert workbench.cli.main(["--config", str(config), "evaluate", "--source", "prometheus"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("workbench evaluate: error: ")
    assert "127.0.0.1:9" in err


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        workbench.cli.main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"workbench {workbench.__version__}"


def test_help_lists_the_exit_codes(capsys):
    with pytest.raises(SystemExit) as info:
        workbench.cli.main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "exit codes:" in out
    for code, meaning in workbench.cli.EXIT_CODES.items():
        assert f"  {code}  {meaning}" in out
    assert sorted(workbench.cli.EXIT_CODES) == [0, 1, 2]


def test_a_data_warning_prints_as_a_note_without_our_source_path():
    import warnings

    from workbench.errors import DataWarning

    assert warnings.formatwarning(DataWarning("checkout: no latency_p99 data"), DataWarning, "/abs/workbench/x.py", 12) == (
        "Note: checkout: no latency_p99 data\n"
    )
    assert "/abs/x.py:3: UserWarning: other" in warnings.formatwarning(UserWarning("other"), UserWarning, "/abs/x.py", 3)
