"""The 04 notebook's and ``workbench evaluate``'s workflow: load every service's metrics and
the labels, replay the three systems (:mod:`workbench.evaluate.replay`), compare them on
the labelled incidents (:mod:`workbench.evaluate.events`).
"""

from __future__ import annotations

import pandas as pd
from joblib import Parallel, delayed

from workbench.config import Config
from workbench.contracts import ALERT_COLUMNS
from workbench.evaluate.events import SYSTEMS, compare
from workbench.evaluate.replay import Evaluation, run_and_explain
from workbench.labels.incidents import read_events, read_incidents
from workbench.sources import load_service

__all__ = ["run_systems"]


def run_systems(
    config: Config,
    source: str | None = None,
    services: list[str] | None = None,
    explain_services: list[str] | None = None,
    jobs: int = 2,
) -> Evaluation:
    """Run every service through all three systems and compare them on the labelled incidents.

    Parameters
    ----------
    explain_services
        Services whose model alerts get SHAP top features (each model explained
        costs about a second; ``None`` explains none).
    jobs
        Services run in parallel processes (1 runs them in this process).
    """
    chosen_services = services or list(config.services)
    samples = {service: load_service(config, service, source=source) for service in chosen_services}
    incidents = read_incidents(config.path("incidents"), list(config.services))
    events = read_events(config.path("events"))
    explain = set(explain_services or [])
    # Services are independent: one process each, as many at once as jobs allows.
    done = Parallel(n_jobs=min(jobs, len(chosen_services)))(
        delayed(run_and_explain)(config, s, samples[s], incidents, events, s in explain) for s in chosen_services
    )
    runs = dict(zip(chosen_services, done))
    start = min(r.scores["confidence"].first_valid_index() for r in runs.values())
    end = max(r.windows.index[-1] for r in runs.values()) + pd.Timedelta(config.window)
    alerts = {
        name: pd.concat([r.alerts[name] for r in runs.values()], ignore_index=True) if runs else pd.DataFrame(columns=ALERT_COLUMNS)
        for name in SYSTEMS
    }
    chosen = incidents[incidents["service"].isin(list(runs))]
    evaluation = Evaluation(runs, alerts, chosen, start, end)
    evaluation.results = compare(alerts, chosen, start, end, window=config.window)
    return evaluation
