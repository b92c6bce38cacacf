"""``workbench evaluate --seeds``: the evaluation on several draws of the sample, each in a
temporary folder, per seed and the spread, with the hybrid's false alarms by cause."""

from __future__ import annotations

import json

import pytest
from conftest import make_project

from workbench.cli import main
from workbench.config import load_config
from workbench.errors import ParameterError
from workbench.evaluate.diagnose import CAUSES
from workbench.workflows.seeds import evaluate_seeds, parse_seeds, seeds_table


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A 42-day, one-service sample project (never written to by the tests)."""
    return load_config(make_project(tmp_path_factory.mktemp("seeds") / "p", days=42, services=["checkout"]))


@pytest.fixture(scope="module")
def two_seeds(project):
    before = sorted(p.relative_to(project.root) for p in project.root.rglob("*"))
    results = evaluate_seeds(project, [7, 11], jobs=1)
    assert sorted(p.relative_to(project.root) for p in project.root.rglob("*")) == before, "the project's folder changed"
    return results


def test_each_seed_is_its_own_sample_with_its_own_incidents(two_seeds):
    a, b = two_seeds
    assert (a.seed, b.seed) == (7, 11)
    assert a.results["hybrid"]["incidents"] >= 1 and b.results["hybrid"]["incidents"] >= 1
    assert a.results["baseline"]["alerts_per_week"] != b.results["baseline"]["alerts_per_week"]
    for r in two_seeds:
        assert set(r.false_alarms) == set(CAUSES) and sum(r.false_alarms.values()) == r.results["hybrid"]["false_alerts"]
        assert sum(r.missed.values()) == len(r.results["hybrid"]["missed_incidents"])


def test_the_table_has_a_row_per_seed_then_the_spread(two_seeds):
    table = seeds_table(two_seeds)
    assert table["seed"].tolist() == ["7", "11", "min", "median", "max"]
    shares = table.set_index("seed")["false-positive share"]
    assert shares["min"] == min(shares["7"], shares["11"]) and shares["max"] == max(shares["7"], shares["11"])
    assert seeds_table(two_seeds[:1])["seed"].tolist() == ["7"]  # one seed: no spread rows


@pytest.mark.parametrize(
    ("text", "seeds"), [("7", [7]), ("7,11,13", [7, 11, 13]), ("11-13,7,12", [11, 12, 13, 7]), (" 5 , 6 ", [5, 6])]
)
def test_seed_lists(text, seeds):
    assert parse_seeds(text) == seeds


@pytest.mark.parametrize("text", ["", "seven", "7,,11", "-3", "3-x"])
def test_bad_seed_lists_are_clear(text):
    with pytest.raises(ParameterError, match="--seeds takes whole numbers"):
        parse_seeds(text)


def test_a_team_source_is_refused(tmp_path):
    config = load_config(make_project(tmp_path / "p", days=14, services=["checkout"], source={"kind": "files", "files": {"path": "m.parquet"}}))
    with pytest.raises(ParameterError, match="draws of the generated sample; this project's source is 'files'"):
        evaluate_seeds(config, [7])


def test_the_command_prints_json_per_seed(project, capsys):
    assert main(["--config", str(project.root / "workbench.yaml"), "evaluate", "--seeds", "7", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["seed"] for r in out] == [7] and set(out[0]) >= {"baseline", "hybrid", "false_alarms_by_cause", "missed_by_kind"}
    assert main(["--config", str(project.root / "workbench.yaml"), "evaluate", "--seeds", "nope"]) == 2
    assert "--seeds takes whole numbers" in capsys.readouterr().err
