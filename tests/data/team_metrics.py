"""Writes ``team_metrics.csv``: a team's own metrics as a newcomer might export them.

Two services (``api``, ``web``) that the bundled sample does not have, 28 days at
5-minute resolution, in wide form (``timestamp, service`` and one column per canonical
metric), drawn by the sample generator with another seed and start than the sample's.
Used by ``tests/workflows/test_init.py`` and the README's "Your own data" walkthrough.
Run ``.venv/bin/python tests/data/team_metrics.py`` to write it again (it is deterministic).
"""

from pathlib import Path

from workbench.settings.data import SampleSettings
from workbench.sources.sample import generate

OUT = Path(__file__).with_name("team_metrics.csv")


def main() -> None:
    data = generate(SampleSettings(seed=23, start="2026-07-06", days=28, drift=False), ["api", "web"])
    wide = data.metrics.pivot_table(index=["timestamp", "service"], columns="metric", values="value").reset_index()
    wide = wide.groupby([wide["timestamp"].dt.floor("5min"), "service"]).mean(numeric_only=True).reset_index()
    wide["timestamp"] = wide["timestamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    wide.round(2).to_csv(OUT, index=False)


if __name__ == "__main__":
    main()
