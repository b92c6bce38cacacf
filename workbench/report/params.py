"""Notebook parameters: find the numbered notebooks, read each one's ``parameters`` cell
(``name: type = value  # help``), type the values given on the command line, and check
them against the config before anything runs.

Unknown names, mistyped values, unknown services or sources, bad windows or ranges are a
:class:`~workbench.errors.ParameterError`. So are values the notebook would refuse minutes
later: a parameter whose declared default is a duration (``history: str = "14D"``) must be a
positive duration with a unit, and a count of days, hours, weeks, minutes, jobs or things
(``days: int = 7``) must be positive. Names that look like secrets are refused outright,
because papermill writes parameters into the executed notebook. A name that only some of
the selected notebooks declare goes to those (:func:`parameter_scope` says which).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import papermill
import yaml

from workbench._registry import SOURCES
from workbench._secrets import redact
from workbench.config import Config
from workbench.errors import ConfigError, DataError, ParameterError, ReportError
from workbench.settings import parse_window
from workbench.settings.types import positive_duration

__all__ = ["check_values", "coerce_parameters", "discover_notebooks", "notebook_parameters", "parameter_scope"]

#: Notebook parameters whose values are names in a registry.
_CHOICES = {"source": SOURCES}

_SECRET_NAME = re.compile(r"(?i)(token|password|passwd|secret|api_?key|credential|routing_key)")
#: Numeric parameters that count something: zero or less makes the notebook fail (an empty
#: replay range, no worker processes), so they must be positive.
_COUNT_NAME = re.compile(r"(?i)^(?:n_)?(?:days|hours|weeks|minutes|count|jobs)$|_(?:days|hours|weeks|minutes|count)$")
#: A duration with a unit, as pandas reads it: ``14D``, ``1h30min``, ``90s``.
_DURATION = re.compile(r"^\s*-?\d+(?:\.\d+)?\s*[A-Za-z]+(?:\s*\d+(?:\.\d+)?\s*[A-Za-z]+)*\s*$")


def discover_notebooks(config: Config, names: list[str] | None = None) -> list[Path]:
    """The numbered notebooks (``NN_name.ipynb``) in order, or those named.

    A name may be the file name, its stem (``01_explore``) or its number (``01``).
    """
    folder = config.path("notebooks")
    found = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if not names:
        if not found:
            raise ReportError(f"no numbered notebooks in {folder}")
        return found
    chosen = []
    for name in names:
        stem = Path(name).stem
        match = [p for p in found if p.stem == stem or p.stem.split("_", 1)[0] == stem]
        if len(match) != 1:
            choices = ", ".join(p.stem for p in found)
            raise ReportError(f"no single notebook matches {name!r}; choose from: {choices}")
        chosen.append(match[0])
    return chosen


def notebook_parameters(path: Path) -> dict[str, dict]:
    """The parameters a notebook declares: ``{name: {"type", "default", "help", "choices"}}``.

    ``choices`` is the list of registered names for a parameter that names an extension
    point (``source``), from the registry itself, so help never lists a stale set; else ``None``.
    """
    raw = papermill.inspect_notebook(str(path))
    return {
        name: {
            "type": spec.get("inferred_type_name") or "None",
            "default": spec.get("default"),
            "help": spec.get("help", ""),
            "choices": _CHOICES[name].names() if name in _CHOICES else None,
        }
        for name, spec in raw.items()
    }


def _coerce(name: str, value: str, type_name: str):
    type_name = type_name.replace(" ", "")
    if type_name in ("str", "None"):
        return value
    try:
        if type_name == "int":
            return int(value)
        if type_name == "float":
            return float(value)
        if type_name == "bool":
            lowered = value.strip().lower()
            if lowered in ("true", "1", "yes"):
                return True
            if lowered in ("false", "0", "no"):
                return False
            raise ValueError(value)
        if type_name.startswith(("list", "dict")):
            parsed = yaml.safe_load(value)
            expected = list if type_name.startswith("list") else dict
            if not isinstance(parsed, expected):
                raise ValueError(value)
            return parsed
    except (ValueError, yaml.YAMLError):
        raise ParameterError(f"parameter {name}={value!r} is not a valid {type_name}") from None
    return value


def _duration_default(default) -> str | None:
    """The declared default if it is a duration string such as ``"14D"``, else ``None``."""
    try:
        value = ast.literal_eval(default) if isinstance(default, str) else default
    except (ValueError, SyntaxError):
        return None
    if isinstance(value, str) and _DURATION.match(value):
        try:
            positive_duration(value)
        except ValueError:
            return None
        return value
    return None


def _check_range(name: str, value, spec: dict) -> None:
    """Refuse a typed value the notebook would refuse: a bad duration, a count below one.

    Raises
    ------
    ParameterError
        Naming the parameter, the value and what is expected.
    """
    example = _duration_default(spec.get("default"))
    if example is not None and isinstance(value, str):
        problem = None
        if not _DURATION.match(value):
            problem = "not a duration with a unit"
        else:
            try:
                positive_duration(value)
            except ValueError as exc:
                problem = str(exc)
        if problem:
            raise ParameterError(f"parameter {name}={value!r} must be a positive duration like {example!r} ({problem})")
    if _COUNT_NAME.search(name) and isinstance(value, (int, float)) and not isinstance(value, bool) and value <= 0:
        raise ParameterError(f"parameter {name}={value!r} must be positive")


def coerce_parameters(notebooks: list[Path], raw: dict[str, str]) -> dict[Path, dict]:
    """Check ``raw`` (strings from the command line) against what each notebook declares.

    Returns the typed parameters for each notebook: a name goes only to the
    notebooks that declare it.

    Raises
    ------
    ParameterError
        A name that looks like a secret, a name no notebook declares, a value that
        does not parse as the declared type, or one the notebook would refuse (a bad
        duration, a count below one).
    """
    for name in raw:
        if _SECRET_NAME.search(name):
            raise ParameterError(
                f"parameter {name!r} looks like a secret; papermill writes parameters into the executed "
                "notebook, so secrets must come from the environment (see README, Configuration)"
            )
    declared = {path: notebook_parameters(path) for path in notebooks}
    known = {name for params in declared.values() for name in params}
    unknown = sorted(set(raw) - known)
    if unknown:
        listing = ", ".join(sorted(known)) or "none"
        raise ParameterError(f"unknown parameter(s) {', '.join(unknown)}; the selected notebooks take: {listing}")
    typed = {
        path: {name: _coerce(name, value, params[name]["type"]) for name, value in raw.items() if name in params}
        for path, params in declared.items()
    }
    for path, values in typed.items():
        for name, value in values.items():
            _check_range(name, value, declared[path][name])
    return typed


def parameter_scope(typed: dict[Path, dict], raw: dict[str, str]) -> dict[str, list[str]]:
    """The given parameters that only some of the notebooks declare, with the notebooks that do.

    ``typed`` is :func:`coerce_parameters`' result. Such a parameter is applied where it is
    declared, not refused: ``--param service=search`` over the whole suite must work although
    ``07_retrain`` looks at every service. But it is said (the runner prints one line per
    name, and the run's page shows it), because ``--param start=...`` reaching only 01 and
    02 is not what everyone would guess. Returns ``{name: [notebook stems]}``, in run order.
    """
    scope = {name: [path.stem for path, values in typed.items() if name in values] for name in raw}
    return {name: stems for name, stems in scope.items() if len(stems) < len(typed)}


def check_values(config: Config, raw: dict[str, str]) -> None:
    """Check the values of the shared parameters the configuration can judge.

    ``service``, ``source``, ``window``, ``start`` and ``end`` mean the same in
    every notebook, so a wrong one fails here, not minutes into a run.
    """
    from workbench.sources import time_range

    try:
        if raw.get("service"):
            config.check_service(raw["service"])
        if raw.get("source"):
            SOURCES.check(raw["source"])
        if raw.get("window"):
            parse_window(raw["window"])
        time_range(raw.get("start"), raw.get("end"))
    except (ConfigError, DataError, ValueError) as exc:
        raise ParameterError(redact(str(exc))) from None
