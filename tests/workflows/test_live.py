"""The 06 notebook's workflow: the live loop replayed into a scratch state."""

import pandas as pd
import pytest
from conftest import make_project

from workbench.config import load_config
from workbench.workflows.live import live_answer, replay_live


def test_without_any_model_the_rules_alone_fill_the_report(tmp_path):
    # No model saved: every episode is a rule's, none has a confidence, and the tables still render.
    config = load_config(make_project(tmp_path / "wb", days=14, services=["checkout", "payments"]))
    live = replay_live(config, days=7)
    headline = live.headline()
    assert headline["model"] == "no model yet for checkout, payments (rules only)"
    assert headline["model only"] == 0 and headline["episodes"] == headline["pages"] >= 1
    assert headline["answer"].startswith("Over the last 7 days the live loop opened ")
    table = live.table()
    assert len(table) == headline["episodes"] and (table["how unusual"] == "rule only").all()
    assert isinstance(table.index, pd.RangeIndex) and table["raised by"].eq("rules").all()
    # Each page's runbook advice in words: a step with its incidents, "none: nothing similar before", or "—".
    advice = table["suggested step (as in)"]
    assert advice.map(lambda a: a in ("—", "none: nothing similar before") or (a.endswith(")") and "INC-" in a)).all()
    assert (advice != "—").any(), "the sample's labelled incidents should advise at least one page"
    assert list(live.per_service()["service"]) == ["checkout", "payments"]
    assert not (config.root / "data" / "alerts").exists() and not (config.root / "models").exists()
    assert list(live.delivery().columns) == ["sink", "state", "events"]
    assert live.scope().startswith("checkout, payments; ") and [m.name for m in live.measures()] == ["pages per week", "alert events not delivered"]


def _episodes(*rows) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=["service", "action"])


def _outbox(*states) -> pd.DataFrame:
    return pd.DataFrame({"state": list(states)})


@pytest.mark.parametrize(
    ("days", "episodes", "outbox", "answer"),
    [
        (7, _episodes(("checkout", "page_with_context"), ("checkout", "investigate")), _outbox(*["delivered"] * 5),
         "Over the last 7 days the live loop opened 2 episodes, all on checkout: 1 page and 1 investigation; all 5 alert events were delivered."),
        (7, _episodes(), _outbox(),
         "Over the last 7 days the live loop opened no episodes; no alert events were sent."),
        (1, _episodes(("search", "page")), _outbox("delivered"),
         "Over the last day the live loop opened 1 episode, on search: 1 page and no investigations; the 1 alert event was delivered."),
        (3, _episodes(("checkout", "page"), ("payments", "investigate"), ("checkout", "page")), _outbox("delivered", "delivered", "pending", "dead", "skipped"),
         "Over the last 3 days the live loop opened 3 episodes (checkout 2, payments 1): 2 pages and 1 investigation; 2 of 5 alert events "
         "were delivered (1 waiting for a retry, 1 refused by the receiver, 1 skipped)."),
    ],
    ids=["one-service", "nothing", "one-episode", "several-services-undelivered"],
)
def test_the_answer_sentence_is_computed_from_episodes_and_outbox(days, episodes, outbox, answer):
    assert live_answer(days, episodes, outbox) == answer
