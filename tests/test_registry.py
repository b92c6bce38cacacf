"""The extension-point registries: names, checks, lazy loading, run-time and plug-in names."""

from __future__ import annotations

import argparse
import importlib.metadata
import inspect
import json
import sys

import pytest
from conftest import make_project

from workbench._registry import DETECTORS, FORECASTERS, SOURCES, STORES, Registry
from workbench.cli import build_parser
from workbench.config import load_config
from workbench.errors import ConfigError

BUILTINS = {
    "source": (SOURCES, ["files", "parquet", "postgres", "prometheus", "sample"]),
    "store": (STORES, ["parquet", "postgres"]),
    "detector": (DETECTORS, ["isolation_forest", "series"]),
    "forecaster": (FORECASTERS, ["median4", "mstl", "profile", "seasonal_naive"]),
}


def fresh(builtins: dict[str, str] | None = None, group: str = "workbench.tests-no-such-group") -> Registry:
    """A registry of its own, so a test never changes the package's registries."""
    return Registry("thing", dict(builtins or {}), group)


def fake_entry_points(found: dict[str, list[tuple[str, str]]], calls: list | None = None):
    """A stand-in for importlib.metadata.entry_points(group=...) returning ``found[group]``."""

    def entry_points(*, group: str | None = None, **_):
        if calls is not None:
            calls.append(group)
        return [importlib.metadata.EntryPoint(name=name, value=value, group=group) for name, value in found.get(group, [])]

    return entry_points


# -- names and check -------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(BUILTINS))
def test_names_are_sorted_and_include_the_builtins(kind):
    registry, builtins = BUILTINS[kind]
    names = registry.names()
    assert names == sorted(names)
    assert set(builtins) <= set(names)


def test_names_include_run_time_registrations_in_order():
    registry = fresh({"zeta": "json:dumps", "alpha": "json:loads"})
    registry.register("middle", "json:JSONDecoder")
    assert registry.names() == ["alpha", "middle", "zeta"]


def test_check_returns_a_known_name():
    assert SOURCES.check("sample") == "sample"
    assert "sample" in SOURCES


@pytest.mark.parametrize("name", ["nope", "Sample", "", "sample "])
def test_check_lists_the_choices_for_an_unknown_name(name):
    with pytest.raises(ConfigError) as info:
        SOURCES.check(name)
    message = str(info.value)
    assert f"unknown source {name!r}" in message
    assert "available: " + ", ".join(SOURCES.names()) in message


@pytest.mark.parametrize("thing", [None, 3, ("sample",)])
def test_contains_is_false_for_non_strings(thing):
    assert thing not in SOURCES


# -- load and register -------------------------------------------------------------------


def test_load_resolves_module_attribute():
    registry = fresh()
    registry.register("dumps", "json:dumps")
    assert registry.load("dumps") is json.dumps
    assert registry.create("dumps", {"a": 1}) == '{"a": 1}'


def test_load_imports_only_when_the_name_is_used(tmp_path, monkeypatch):
    module = "wb_registry_lazy_probe"
    (tmp_path / f"{module}.py").write_text("class Thing:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, module, raising=False)
    registry = fresh()
    registry.register("probe", f"{module}:Thing")
    assert registry.names() == ["probe"] and registry.check("probe") == "probe"
    assert module not in sys.modules  # listing and checking import nothing
    loaded = registry.load("probe")
    assert module in sys.modules and loaded is sys.modules[module].Thing
    assert registry.load("probe") is loaded  # cached
    monkeypatch.delitem(sys.modules, module)


@pytest.mark.parametrize(
    "target",
    ["nosuchmodule:X", "json:no_such_attribute", "workbench.no_such_stage:Thing"],
)
def test_a_target_that_cannot_be_loaded_is_named(target):
    registry = fresh()
    registry.register("broken", target)
    with pytest.raises(ConfigError) as info:
        registry.load("broken")
    assert "thing 'broken'" in str(info.value)
    assert f"cannot load {target!r}" in str(info.value)


@pytest.mark.parametrize(
    "name, target, message",
    [
        ("x", "json", "target must look like 'module:attribute'"),
        ("x", "json.dumps", "target must look like 'module:attribute'"),
        ("", "json:dumps", "needs a non-empty name"),
        (None, "json:dumps", "needs a non-empty name"),
        (7, "json:dumps", "needs a non-empty name"),
    ],
)
def test_register_refuses_bad_names_and_targets(name, target, message):
    registry = fresh()
    with pytest.raises(ConfigError, match=message):
        registry.register(name, target)
    assert registry.names() == []


def test_register_replaces_even_after_a_load():
    registry = fresh({"codec": "json:dumps"})
    assert registry.load("codec") is json.dumps
    registry.register("codec", "json:loads")
    assert registry.load("codec") is json.loads
    registry.register("codec", len)  # an object, not a string
    assert registry.load("codec") is len
    assert registry.names() == ["codec"]


def test_load_of_an_unknown_name_lists_the_choices():
    registry = fresh({"a": "json:dumps", "b": "json:loads"})
    with pytest.raises(ConfigError, match="unknown thing 'c'; available: a, b"):
        registry.load("c")


@pytest.mark.parametrize("kind, name", [(kind, name) for kind, (_, names) in BUILTINS.items() for name in names])
def test_every_builtin_loads(kind, name):
    registry = BUILTINS[kind][0]
    loaded = registry.load(name)
    assert callable(loaded)
    if kind == "forecaster":
        assert inspect.isfunction(loaded) and loaded.__name__ == name
    else:
        assert inspect.isclass(loaded)
        assert loaded.__module__.startswith("workbench.")


# -- plug-ins ---------------------------------------------------------------------------


def test_plugins_add_names_but_never_shadow_a_builtin(monkeypatch):
    calls: list = []
    found = {"workbench.things": [("influx", "json:dumps"), ("sample", "json:loads")]}
    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points(found, calls))
    registry = Registry("thing", {"sample": "json:JSONDecoder"}, "workbench.things")
    assert registry.names() == ["influx", "sample"]
    assert registry.load("influx") is json.dumps
    assert registry.load("sample") is json.JSONDecoder  # the built-in, not the plug-in
    registry.names()
    assert calls == ["workbench.things"]  # entry points are read once


def test_plugins_of_other_groups_are_ignored(monkeypatch):
    found = {"workbench.stores": [("influx", "json:dumps")]}
    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points(found))
    assert fresh({"a": "json:dumps"}, group="workbench.sources").names() == ["a"]


@pytest.fixture()
def influx_plugin(monkeypatch):
    """The package's SOURCES with a plug-in 'influx' (and an impostor 'sample'), restored after."""
    found = {"workbench.sources": [("influx", "json:JSONDecoder"), ("sample", "json:loads")]}
    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points(found))
    monkeypatch.setattr(SOURCES, "_targets", dict(SOURCES._targets))
    monkeypatch.setattr(SOURCES, "_loaded", dict(SOURCES._loaded))
    monkeypatch.setattr(SOURCES, "_plugins_read", False)
    return SOURCES


def test_plugin_on_the_package_registry(influx_plugin):
    from workbench.sources.sample import SampleSource

    assert "influx" in influx_plugin.names()
    assert influx_plugin.load("influx") is json.JSONDecoder
    assert influx_plugin.load("sample") is SampleSource


# -- choices derived from the registry ---------------------------------------------------


def test_config_rejects_an_unregistered_source(tmp_path):
    path = make_project(tmp_path / "p", labels=False, source={"kind": "influx"})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert "source.kind" in message and "unknown source 'influx'" in message
    assert "available: " + ", ".join(SOURCES.names()) in message


def test_config_accepts_a_plugin_source(tmp_path, influx_plugin):
    config = load_config(make_project(tmp_path / "p", labels=False, source={"kind": "influx"}))
    assert config.source.kind == "influx"


def _choices(parser: argparse.ArgumentParser, command: str, dest: str):
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return next(a for a in sub.choices[command]._actions if a.dest == dest).choices


def test_cli_choices_come_from_the_registries():
    parser = build_parser()
    assert list(_choices(parser, "evaluate", "source")) == SOURCES.names()
    assert list(_choices(parser, "forecast", "source")) == SOURCES.names()
    assert list(_choices(parser, "pull", "store")) == STORES.names()


def test_cli_offers_a_plugin_source(influx_plugin):
    parser = build_parser()
    assert "influx" in _choices(parser, "evaluate", "source")
    assert parser.parse_args(["evaluate", "--source", "influx"]).source == "influx"


@pytest.mark.parametrize("argv", [["evaluate", "--source", "nope"], ["forecast", "--source", "influx"], ["pull", "--store", "nope"]])
def test_cli_refuses_an_unknown_choice(argv, capsys):
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(argv)
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
