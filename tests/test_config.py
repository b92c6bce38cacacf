from pathlib import Path

import pytest
import yaml
from conftest import REPO

from workbench.config import find_root, load_config
from workbench.errors import ConfigError
from workbench.settings import parse_window


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "workbench.yaml"
    path.write_text(text)
    return path


def with_change(tmp_path: Path, change) -> Path:
    settings = yaml.safe_load((REPO / "workbench.yaml").read_text())
    change(settings)
    return write(tmp_path, yaml.safe_dump(settings))


def test_repository_config_loads():
    config = load_config(REPO / "workbench.yaml")
    assert config.services == ["checkout", "payments", "search", "catalog", "auth", "notifications"]
    assert [r.name for r in config.rules.baseline] == ["cpu_high", "p95_high", "errors_high", "traffic_drop"]
    assert [(r.metric, r.op, r.threshold) for r in config.rules.critical] == [
        ("error_rate", ">", 5.0),
        ("latency_p99", ">", 5000.0),
    ]
    assert config.root == REPO
    assert config.path("incidents") == REPO / "data" / "sample-labels" / "incidents.csv"


def _set(path, value):
    def change(settings):
        node = settings
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


BAD = [
    # (change, words the error must contain)
    (_set(["colour"], "blue"), ["colour", "unknown key"]),
    (_set(["window"], "fortnightly"), ["window", "fortnightly"]),
    (_set(["window"], "7min"), ["window", "divide a day"]),
    (_set(["window"], "30s"), ["window", "at least 1min"]),
    (_set(["services"], []), ["services"]),
    (_set(["services"], ["a", "a"]), ["services", "duplicate"]),
    (_set(["services"], ["bad name!"]), ["services", "bad name!"]),
    (_set(["source", "kind"], "influx"), ["source.kind", "influx"]),
    (_set(["source", "sample", "days"], 3), ["source.sample.days"]),
    (_set(["source", "sample", "start"], "someday"), ["source.sample.start", "someday"]),
    (_set(["source", "sample", "seeed"], 1), ["source.sample.seeed", "unknown key"]),
    (_set(["rules", "baseline"], [{"name": "x", "metric": "cpu", "op": ">", "threshold": 1}]), ["rules.baseline[0].metric"]),
    (_set(["rules", "baseline"], [{"name": "x", "metric": "cpu_usage", "op": ">>", "threshold": 1}]), ["rules.baseline[0].op"]),
    (_set(["rules", "baseline"], [{"name": "x", "metric": "cpu_usage", "op": ">", "threshold": "high"}]), ["rules.baseline[0].threshold"]),
    (_set(["rules", "baseline"], [{"name": "x", "metric": "request_rate", "op": "drop_pct", "threshold": 150}]), ["rules.baseline[0]", "drop_pct"]),
    (_set(["rules", "baseline"], [{"name": "x", "metric": "cpu_usage", "op": ">", "threshold": 1, "for": "soon"}]), ["rules.baseline[0].for", "soon"]),
    (_set(["rules", "critical"], [{"name": "x", "metric": "cpu_usage", "op": ">", "threshold": 1}] * 2), ["critical", "duplicate rule names"]),
    (_set(["root"], "/elsewhere"), ["root", "unknown key"]),
]


@pytest.mark.parametrize("change, words", BAD, ids=[" ".join(w) for _, w in BAD])
def test_bad_config_names_the_key(tmp_path, change, words):
    with pytest.raises(ConfigError) as err:
        load_config(with_change(tmp_path, change))
    for word in words:
        assert word in str(err.value)


@pytest.mark.parametrize(
    "text, words",
    [
        ("services: [a\n  b: [", ["not valid YAML"]),
        ("- just\n- a list\n", ["expected a mapping"]),
        ("", ["expected a mapping"]),
        ("window: 15min\n", ["services", "Field required"]),
        ("services: [a]\nwindow: 15min\nwindow: 5min\n", ["duplicate key 'window' (first on line 2)", "line 3"]),
        ("services: [a]\nmodel:\n  seed: 1\n  n_estimators: 10\n  n_estimators: 20\n", ["duplicate key 'n_estimators'"]),
    ],
)
def test_unusable_file(tmp_path, text, words):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    for word in words:
        assert word in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_unknown_service_lists_choices():
    config = load_config(REPO / "workbench.yaml")
    with pytest.raises(ConfigError, match="unknown service 'chekout'.*checkout, payments"):
        config.check_service("chekout")


def test_root_is_found_upward_and_from_environment(tmp_path, monkeypatch):
    write(tmp_path, "services: [a]\n")
    deep = tmp_path / "notebooks" / "sub"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert find_root() == tmp_path
    assert load_config().root == tmp_path  # relative default resolves from the root
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("WORKBENCH_ROOT", str(other))
    assert find_root() == other


def test_no_root_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="no workbench.yaml found"):
        find_root()


@pytest.mark.parametrize("value", ["1min", "5min", "15min", "1h", "1D"])
def test_good_windows(value):
    assert parse_window(value) == value


# -- credentials in a bad value are masked; the file read is recorded -----------------------


@pytest.mark.parametrize(
    "change, secret, shown",
    [
        # A URL with user:password@ is refused (credentials belong in the environment), and
        # the refusal must not print the password back.
        (_set(["source", "prometheus", "url"], "http://bob:Hunter2pw@prom:9090"), "Hunter2pw", "http://bob:***@prom:9090"),
        (_set(["source", "prometheus", "step"], "password=Hunter2pw"), "Hunter2pw", "password=***"),
        (_set(["source", "sample", "start"], "postgresql://wb:Hunter2pw@db/wb"), "Hunter2pw", "postgresql://wb:***@db/wb"),
    ],
)
def test_errors_mask_credentials_in_the_values_they_echo(tmp_path, change, secret, shown):
    with pytest.raises(ConfigError) as err:
        load_config(with_change(tmp_path, change))
    assert secret not in str(err.value)
    assert shown in str(err.value)


def test_yaml_errors_mask_credentials_in_the_line_they_quote(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, "services: [a]\nsource: {prometheus: {url: http://bob:Hunter2pw@prom:9090\n"))
    assert "not valid YAML" in str(err.value) and "Hunter2pw" not in str(err.value)


def test_the_file_read_is_recorded_but_not_dumped(tmp_path, monkeypatch):
    path = write(tmp_path, "services: [a]\n")
    other = tmp_path / "other.yaml"
    other.write_text("services: [b]\n")
    assert load_config(path).config_file == path.resolve()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKBENCH_CONFIG", "other.yaml")
    for blank in (None, ""):  # what a notebook's empty config_path means
        config = load_config(blank)
        assert config.config_file == other.resolve() and config.services == ["b"]
    assert "config_file" not in config.model_dump() and "root" not in config.model_dump()
    with pytest.raises(ConfigError, match="config_file: unknown key"):
        load_config(write(tmp_path, "services: [a]\nconfig_file: /elsewhere.yaml\n"))


# -- report: timeout and keep ------------------------------------------------------------------


def test_report_settings_default_and_load():
    config = load_config(REPO / "workbench.yaml")
    assert (config.report.timeout, config.report.keep) == ("20min", 30)


@pytest.mark.parametrize(
    "change, words",
    [
        (_set(["report", "timeout"], "soon"), ["report.timeout", "soon"]),
        (_set(["report", "timeout"], "0s"), ["report.timeout", "must be positive"]),
        (_set(["report", "keep"], 0), ["report.keep"]),
        (_set(["report", "kept"], 3), ["report.kept", "unknown key"]),
    ],
    ids=["timeout-not-a-duration", "timeout-zero", "keep-zero", "typo"],
)
def test_bad_report_settings_name_the_key(tmp_path, change, words):
    with pytest.raises(ConfigError) as err:
        load_config(with_change(tmp_path, change))
    for word in words:
        assert word in str(err.value)


def test_report_keep_null_keeps_every_run(tmp_path):
    assert load_config(with_change(tmp_path, _set(["report", "keep"], None))).report.keep is None


# -- business: toil, cost, business hours ------------------------------------------------------


def test_business_settings_default_and_load():
    business = load_config(REPO / "workbench.yaml").business
    assert (business.minutes_per_page, business.minutes_per_investigation, business.hourly_cost, business.currency) == (30, 15, 100, "$")
    assert (business.timezone, business.business_days, business.business_hours, business.night) == ("UTC", ["Mon", "Tue", "Wed", "Thu", "Fri"], "09:00-18:00", "22:00-07:00")


@pytest.mark.parametrize(
    "change, words",
    [
        (_set(["business", "minutes_per_page"], 0), ["business.minutes_per_page", "greater than 0"]),
        (_set(["business", "hourly_cost"], -5), ["business.hourly_cost"]),
        (_set(["business", "timezone"], "Mars/Olympus"), ["business.timezone", "unknown time zone 'Mars/Olympus'"]),
        (_set(["business", "business_hours"], "9 to 5"), ["business.business_hours", "not a span of clock times like '09:00-18:00'"]),
        (_set(["business", "night"], "22:00-22:00"), ["business.night", "starts and ends at the same time"]),
        (_set(["business", "business_days"], ["Mon", "Funday"]), ["business.business_days[1]", "Funday"]),
        (_set(["business", "business_days"], ["Mon", "Mon"]), ["business.business_days", "days given twice: ['Mon']"]),
        (_set(["business", "minutes_per_pgae"], 20), ["business.minutes_per_pgae", "unknown key"]),
    ],
    ids=["no minutes", "negative cost", "unknown zone", "bad hours", "empty night", "unknown day", "repeated day", "typo"],
)
def test_bad_business_settings_name_the_key(tmp_path, change, words):
    with pytest.raises(ConfigError) as err:
        load_config(with_change(tmp_path, change))
    for word in words:
        assert word in str(err.value)
