"""The 06 notebook's workflow: the live loop replayed into a scratch state."""

import pandas as pd
from conftest import make_project

from workbench.config import load_config
from workbench.workflows.live import replay_live


def test_without_any_model_the_rules_alone_fill_the_report(tmp_path):
    # No model saved: every episode is a rule's, none has a confidence, and the tables still render.
    config = load_config(make_project(tmp_path / "wb", days=14, services=["checkout", "payments"]))
    live = replay_live(config, days=7)
    headline = live.headline()
    assert headline["model"] == "skipped for checkout, payments"
    assert headline["model only"] == 0 and headline["episodes"] == headline["pages"] >= 1
    table = live.table()
    assert len(table) == headline["episodes"] and table["confidence"].isna().all()
    assert set(live.per_service().index) == {"checkout", "payments"}
    assert not (config.root / "data" / "alerts").exists() and not (config.root / "models").exists()
    assert isinstance(live.delivery(), pd.DataFrame)
