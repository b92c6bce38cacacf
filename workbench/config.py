"""Project paths and the validated ``workbench.yaml``.

Everything that names a file or a setting comes from here, so notebooks never
hold machine paths. A bad key or value raises :class:`ConfigError` whose
message names the key (``rules.baseline[2].op``) and what was wrong with it.
Each stage's section is a model in :mod:`workbench.settings`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from workbench._secrets import redact
from workbench.errors import ConfigError
from workbench.settings import (
    AlertingSettings,
    BusinessSettings,
    CapacitySettings,
    Duration,
    LifecycleSettings,
    ModelSettings,
    Paths,
    ReportSettings,
    RoutingSettings,
    Rules,
    Source,
    StoreSettings,
    Window,
)
from workbench.settings.types import Strict

__all__ = ["CONFIG_ENV", "Config", "ROOT_ENV", "find_root", "load_config"]

CONFIG_ENV = "WORKBENCH_CONFIG"
ROOT_ENV = "WORKBENCH_ROOT"


class Config(Strict):
    """The validated contents of ``workbench.yaml`` plus the project root and the file it came from.

    ``config_file`` is the absolute path :func:`load_config` read (``None`` for a config built
    in code): a report run hands it to its notebooks' kernels, so they load the same file
    however it was chosen (``--config``, ``$WORKBENCH_CONFIG`` or the default).
    """

    services: Annotated[list[str], Field(min_length=1)]
    window: Window = "15min"
    max_fill: Duration = "5min"
    source: Source = Field(default_factory=Source)
    store: StoreSettings = Field(default_factory=StoreSettings)
    paths: Paths = Field(default_factory=Paths)
    rules: Rules = Field(default_factory=Rules)
    model: ModelSettings = Field(default_factory=ModelSettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    alerting: AlertingSettings = Field(default_factory=AlertingSettings)
    capacity: CapacitySettings = Field(default_factory=CapacitySettings)
    lifecycle: LifecycleSettings = Field(default_factory=LifecycleSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    business: BusinessSettings = Field(default_factory=BusinessSettings)
    root: Path = Field(default=Path("."), exclude=True)
    config_file: Path | None = Field(default=None, exclude=True)

    @field_validator("services")
    @classmethod
    def _services(cls, value: list[str]) -> list[str]:
        dupes = sorted({s for s in value if value.count(s) > 1})
        if dupes:
            raise ValueError(f"duplicate services {dupes}")
        bad = [s for s in value if not s or not s.replace("-", "").replace("_", "").isalnum()]
        if bad:
            raise ValueError(f"service names must be letters, digits, '-' or '_': {bad}")
        return value

    @model_validator(mode="after")
    def _capacity_services_known(self) -> Config:
        unknown = sorted(set(self.capacity.services) - set(self.services))
        if unknown:
            raise ValueError(f"capacity.services names unknown services {unknown}; configured: {self.services}")
        return self

    def path(self, name: str) -> Path:
        """Absolute path of a configured path (``data``, ``reports``, ``incidents`` ...)."""
        return (self.root / getattr(self.paths, name)).resolve()

    def check_service(self, service: str) -> str:
        """Return ``service`` if configured, else raise :class:`ConfigError` listing the choices."""
        if service not in self.services:
            raise ConfigError(f"unknown service {service!r}; configured services: {', '.join(self.services)}")
        return service


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (YAML keeps the last, silently)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen and key != "<<":
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first on line {seen[key] + 1}): YAML would keep only the last one", key_node.start_mark
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


def find_root(start: Path | None = None) -> Path:
    """The project root: ``$WORKBENCH_ROOT``, else the nearest folder holding ``workbench.yaml``.

    Searching upward lets notebooks (run from ``notebooks/``) and the CLI (run from
    anywhere inside the project) agree on one root without naming a path.
    """
    if os.environ.get(ROOT_ENV):
        return Path(os.environ[ROOT_ENV]).resolve()
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "workbench.yaml").is_file():
            return folder
    raise ConfigError(f"no workbench.yaml found in {here} or any parent; set {ROOT_ENV} or run inside the project")


def _format_errors(path: Path, exc: ValidationError) -> str:
    # Each message may echo the value it refuses (a URL with user:password@, a DSN): redacted.
    lines = [f"{path}: invalid configuration"]
    for err in exc.errors():
        key = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in err["loc"]).replace(".[", "[")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif isinstance(err.get("input"), (str, int, float, bool)) and repr(err["input"]) not in msg:
            msg += f" (got {err['input']!r})"
        lines.append(f"  {key or '(top level)'}: {msg}")
    return redact("\n".join(lines))


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Load and validate ``workbench.yaml``.

    Parameters
    ----------
    path
        The file; default (``None`` or ``""``) ``$WORKBENCH_CONFIG``, else ``workbench.yaml``
        in the project root. A relative path is taken from the project root, so the same
        value works from the CLI and from a notebook. The notebooks' ``config_path``
        parameter defaults to ``""``, so a report run's kernels (given ``$WORKBENCH_CONFIG``)
        load the file the run was started with.

    Raises
    ------
    ConfigError
        The file is missing, is not YAML, or holds an unknown key or a bad value.
    """
    if path is None or str(path) == "":
        path = os.environ.get(CONFIG_ENV) or "workbench.yaml"
    path = Path(path)
    if not path.is_absolute():
        path = find_root() / path
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        raw = yaml.load(path.read_text(), Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        # The parser quotes the offending line, which may hold a credential.
        raise ConfigError(redact(f"{path}: not valid YAML: {exc}")) from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, got {type(raw).__name__}")
    if "root" in raw:
        raise ConfigError(f"{path}: root: unknown key (the root is the config file's folder)")
    if "config_file" in raw:
        raise ConfigError(f"{path}: config_file: unknown key (it is the file being read)")
    try:
        return Config(**raw, root=path.parent.resolve(), config_file=path.resolve())
    except ValidationError as exc:
        raise ConfigError(_format_errors(path, exc)) from None
