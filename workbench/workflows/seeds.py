"""``workbench evaluate --seeds``: the same evaluation on several draws of the sample, each
with its own labelled incidents, to see whether a result holds beyond the one seed it was
built on, and why a bad seed goes wrong.

Each seed's sample is generated into a temporary folder (its metrics, incidents and events);
the project's own data, labels and models are never read or written. Per seed: the three
systems' figures (:func:`workbench.workflows.evaluate.run_systems`), the hybrid's false alarms
by likely cause and its missed incidents by kind (:mod:`workbench.evaluate.diagnose`).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench.config import Config
from workbench.errors import ParameterError
from workbench.evaluate.diagnose import CAUSES, false_alarm_causes, missed_kinds
from workbench.labels.incidents import read_events
from workbench.workflows.evaluate import run_systems
from workbench.workflows.sample import write_sample_labels

__all__ = ["SeedResult", "evaluate_seeds", "parse_seeds", "seeds_table"]


@dataclass(frozen=True)
class SeedResult:
    """One seed's evaluation: the figures per system, the hybrid's false alarms by cause and misses by kind."""

    seed: int
    results: dict
    false_alarms: dict[str, int]
    missed: dict[str, int]

    def causes_words(self) -> str:
        """The hybrid's false alarms by cause, in words ("lasting shift 3, other 4"; "none")."""
        return ", ".join(f"{k} {v}" for k, v in self.false_alarms.items() if v) or "none"

    def missed_words(self) -> str:
        """The hybrid's misses by kind, in words ("traffic_drop 1"; "none")."""
        return ", ".join(f"{k} {v}" for k, v in self.missed.items()) or "none"

    def as_dict(self) -> dict:
        keep = ("alerts_per_week", "volume_change", "fp_share", "false_alerts", "missed_incidents", "incidents", "ttd_median_minutes")
        return {
            "seed": self.seed,
            **{name: {k: self.results[name][k] for k in keep if k in self.results[name]} for name in ("baseline", "model", "hybrid")},
            "false_alarms_by_cause": self.false_alarms,
            "missed_by_kind": self.missed,
        }


def parse_seeds(text: str) -> list[int]:
    """``"7,11,13"`` or ``"11-14"`` (or both, comma-separated) as a list of seeds, in order, once each."""
    seeds: list[int] = []
    try:
        for part in str(text).split(","):
            part = part.strip()
            lo, _, hi = part.partition("-")
            chunk = range(int(lo), int(hi) + 1) if hi else [int(lo)]
            seeds += [s for s in chunk if s not in seeds]
    except ValueError:
        raise ParameterError(f"--seeds takes whole numbers such as 7,11,13 or 11-14, got {text!r}") from None
    if not seeds or any(s < 0 for s in seeds):
        raise ParameterError(f"--seeds takes whole numbers >= 0, got {text!r}")
    return seeds


def _evaluate_one(config: Config, seed: int, services: list[str] | None, jobs: int) -> SeedResult:
    with tempfile.TemporaryDirectory(prefix=f"wb-seed{seed}-") as folder:
        sample = config.source.sample.model_copy(update={"seed": seed})
        scratch = config.model_copy(update={"root": Path(folder), "source": config.source.model_copy(update={"kind": "sample", "sample": sample})})
        write_sample_labels(scratch)
        evaluation = run_systems(scratch, services=services, jobs=jobs)
        events = read_events(scratch.path("events"))
    gaps = {s: run.windows.index[run.windows.isna().all(axis=1)] for s, run in evaluation.runs.items()}
    hybrid = evaluation.alerts["hybrid"]
    hybrid = hybrid[(hybrid["start"] >= evaluation.start) & (hybrid["start"] < evaluation.end)]
    false = false_alarm_causes(hybrid, evaluation.incidents, events, gaps, window=config.window)
    counts = {c: int((false["cause"] == c).sum()) for c in CAUSES}
    return SeedResult(seed, evaluation.results, counts, missed_kinds(evaluation.results["hybrid"]["missed_incidents"], evaluation.incidents))


def evaluate_seeds(config: Config, seeds: list[int], services: list[str] | None = None, jobs: int = 2) -> list[SeedResult]:
    """The evaluation on each seed's sample (see the module notes).

    Raises
    ------
    ParameterError
        The project's source is not the sample (another seed of a team's own data means nothing).
    """
    if config.source.kind != "sample":
        raise ParameterError(f"--seeds evaluates draws of the generated sample; this project's source is {config.source.kind!r}")
    return [_evaluate_one(config, seed, services, jobs) for seed in seeds]


def seeds_table(results: list[SeedResult]) -> pd.DataFrame:
    """One row per seed (the hybrid against the old thresholds), then the spread: min, median, max."""
    rows = []
    for r in results:
        h, b = r.results["hybrid"], r.results["baseline"]
        rows.append(
            {
                "seed": str(r.seed),
                "incidents": h["incidents"],
                "alerts / week (old)": b["alerts_per_week"],
                "alerts / week (hybrid)": h["alerts_per_week"],
                "fewer alerts": -h.get("volume_change", float("nan")),
                "false-positive share": h["fp_share"],
                "missed": len(h["missed_incidents"]),
                "TTD median (min)": h["ttd_median_minutes"],
            }
        )
    table = pd.DataFrame(rows)
    if len(table) > 1:
        numbers = table.drop(columns="seed").apply(pd.to_numeric, errors="coerce")
        for name, row in (("min", numbers.min()), ("median", numbers.median()), ("max", numbers.max())):
            table.loc[len(table)] = {"seed": name, **row.to_dict()}
    return table
