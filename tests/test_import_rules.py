"""DESIGN.md's import rules, enforced on the source (an ``ast`` walk, no imports run).

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

#: Modules every layer may import.
BASE = {"errors", "_util", "_registry", "contracts", "settings", "config", "__init__"}
#: Stages in data-flow order: each may import only earlier ones.
STAGES = ["store", "sources", "labels", "features", "detect", "alerting", "lifecycle", "evaluate", "forecast"]
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
FRAMES_ONLY = {"detect", "features", "alerting", "evaluate"}


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path) -> set[str]:
    """The top-level workbench layers a module imports (at module level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "workbench" and len(parts) > 1:
                found.add(parts[1])
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_follows_the_import_rules(path):
    layer = _layer(path)
    imported = _imports(path) - BASE - {layer}
    if layer in BASE:
        # The base imports only the base: it is below every stage.
        assert not imported, f"{path.name} is a base module but imports {sorted(imported)}"
        return
    assert layer in ALLOWED, f"{layer} is a new layer: give it a place in ALLOWED and in DESIGN.md"
    if layer != "cli":
        assert not imported & NEVER, f"{layer} imports {sorted(imported & NEVER)}"
    allowed = ALLOWED[layer]
    if allowed is not None:
        assert imported <= allowed, f"{layer} may not import {sorted(imported - allowed)}"
    if layer in FRAMES_ONLY:
        assert not imported & {"sources", "store"}, f"{layer} loads data itself via {sorted(imported & {'sources', 'store'})}"
    if layer == "labels":
        assert "detect" not in imported


def test_the_rules_catch_a_violation(tmp_path):
    # The walk must see imports inside functions too, or the rules could be dodged.
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from workbench.workflows.evaluate import run_systems\n")
    assert _imports(module) == {"workflows"}


def test_every_module_is_under_400_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in MODULES if (n := len(p.read_text().splitlines())) > 400}
    assert not long, long


def test_no_import_cycles():
    graph: dict[str, set[str]] = {}
    for path in MODULES:
        rel = path.relative_to(PACKAGE).with_suffix("")
        name = ".".join(("workbench", *rel.parts)).removesuffix(".__init__")
        deps = set()
        for node in ast.parse(path.read_text()).body:  # module level only: lazy imports cannot cycle
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("workbench"):
                deps.add(node.module)
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
