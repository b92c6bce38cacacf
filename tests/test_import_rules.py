"""The design's import rules (../shared/DESIGN.md), enforced on the source (an ``ast`` walk, no imports run).

Stages, in data-flow order, may import the shared base modules and earlier stages only;
``present`` is for notebooks, workflows, reports and the CLI; ``workflows`` is the only
core layer that loads data, and nothing but the CLI imports it (or ``report``, or ``cli``).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "workbench"

#: Modules every layer may import. ``_secrets`` (credential masking) and ``quality`` (the
#: data-quality checks ``contracts.validate_long`` applies) are not in DESIGN.md's layout yet.
BASE = {"errors", "_util", "_registry", "contracts", "settings", "config", "__init__", "_secrets", "quality"}
#: Stages in data-flow order: each may import only earlier ones. The store comes before the
#: sources because the sources read it (``parquet`` and ``postgres`` are sources backed by the
#: store, and the sample caches itself as a Parquet file); filling the store from a source is
#: ``workflows.pull``'s job, so nothing in the store imports a source.
STAGES = ["store", "sources", "labels", "features", "detect", "alerting", "lifecycle", "evaluate", "forecast", "runbooks"]
#: Who may import what beyond the base (None: anything but the layers named in NEVER).
ALLOWED: dict[str, set[str] | None] = {
    **{stage: set(STAGES[:i]) for i, stage in enumerate(STAGES)},
    "present": set(STAGES),
    "testing": set(),
    "report": set(STAGES) | {"present"},
    "workflows": set(STAGES) | {"present"},
    "cli": None,
}
NEVER = {"cli", "report", "workflows"}
#: Stages that work on frames and must not reach for data themselves.
FRAMES_ONLY = {"detect", "features", "alerting", "evaluate", "runbooks"}


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _module_name(path: Path) -> list[str]:
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = ["workbench", *rel.parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _imports(path: Path) -> set[str]:
    """The workbench layers a module imports, anywhere in it (module level or inside functions).

    Relative imports are resolved against the module's package, and ``from workbench
    import name`` is traced through the front door to the module that defines the name.
    """
    import workbench

    found = set()
    package = _module_name(path)
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names = [module]
            if module == "workbench":
                # The front door: each name lives in some layer's module.
                names = [workbench._EXPORTS.get(alias.name, f"workbench.{alias.name}") for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "workbench" and len(parts) > 1:
                found.add(parts[1])
    return found


def _dynamic_imports(path: Path) -> list[int]:
    """Lines that import by a computed name (only the registry and the front door may)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__"):
                lines.append(node.lineno)
    return lines


def violations(layer: str, imported: set[str]) -> list[str]:
    """What is wrong with ``layer`` importing ``imported`` (empty when the rules hold)."""
    imported = imported - BASE - {layer}
    if layer in BASE:
        # The base imports only the base: it is below every stage.
        return [f"{layer} is a base module but imports {sorted(imported)}"] if imported else []
    if layer not in ALLOWED:
        return [f"{layer} is a new layer: give it a place in ALLOWED and in ../shared/DESIGN.md"]
    wrong = []
    if layer != "cli" and imported & NEVER:
        wrong.append(f"{layer} imports {sorted(imported & NEVER)}")
    allowed = ALLOWED[layer]
    if allowed is not None and not imported <= allowed:
        wrong.append(f"{layer} may not import {sorted(imported - allowed)}")
    if layer in FRAMES_ONLY and imported & {"sources", "store"}:
        wrong.append(f"{layer} loads data itself via {sorted(imported & {'sources', 'store'})}")
    if layer == "labels" and "detect" in imported:
        wrong.append("labels imports detect")
    return wrong


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_follows_the_import_rules(path):
    assert not violations(_layer(path), _imports(path))
    if path.name not in ("_registry.py", "__init__.py") or path.parent != PACKAGE:
        assert not _dynamic_imports(path), f"{path.name} imports by a computed name on lines {_dynamic_imports(path)}"


@pytest.mark.parametrize(
    ("layer", "source", "broken"),
    [
        ("detect", "def f():\n    from workbench.workflows.evaluate import run_systems\n", "imports ['workflows']"),
        ("features", "from workbench.store.parquet import ParquetStore\n", "loads data itself"),
        ("labels", "from workbench.detect.rules import RuleSet\n", "may not import ['detect']"),
        ("sources", "from ..alerting import policy\n", "may not import ['alerting']"),
        ("detect", "from workbench import run_systems\n", "imports ['workflows']"),
        ("evaluate", "from workbench import plan_capacity\n", "imports ['workflows']"),
        ("contracts", "from workbench.features.windows import to_windows\n", "is a base module"),
        ("present", "from workbench.report.runner import run_report\n", "imports ['report']"),
    ],
)
def test_the_rules_catch_a_violation(tmp_path, layer, source, broken):
    # Feed the real rules a module that breaks them, so a hole in the check shows.
    folder = tmp_path / "workbench" / layer
    folder.mkdir(parents=True)
    module = folder / "m.py"
    module.write_text(source)
    global PACKAGE
    saved, PACKAGE = PACKAGE, tmp_path / "workbench"
    try:
        found = violations(_layer(module), _imports(module))
    finally:
        PACKAGE = saved
    assert any(broken in v for v in found), found


def test_a_computed_import_is_caught(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("import importlib\nmod = importlib.import_module('workbench.workflows.evaluate')\n")
    assert _dynamic_imports(module) == [2]


def test_every_module_is_under_400_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in MODULES if (n := len(p.read_text().splitlines())) > 400}
    assert not long, long


def test_no_import_cycles():
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        name = ".".join(_module_name(path))
        deps = set()
        for node in ast.parse(path.read_text()).body:  # module level only: lazy imports cannot cycle
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("workbench"):
                deps.add(node.module)
            elif isinstance(node, ast.Import):
                deps |= {alias.name for alias in node.names if alias.name.startswith("workbench")}
        graph[name] = deps
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for dep in graph.get(node, ()):
            if state.get(dep) == 1:
                raise AssertionError(" -> ".join(trail + [node, dep]))
            if dep in graph and not state.get(dep):
                visit(dep, trail + [node])
        state[node] = 2

    for node in graph:
        if not state.get(node):
            visit(node, [])


def test_import_workbench_loads_nothing_heavy():
    heavy = ["matplotlib", "sklearn", "statsmodels", "shap", "ipywidgets"]
    code = f"import sys, workbench, workbench.cli; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_exported_name_resolves():
    import workbench

    for name in workbench.__all__:
        assert getattr(workbench, name) is not None
    with pytest.raises(AttributeError):
        workbench.no_such_name  # noqa: B018
