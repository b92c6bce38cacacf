"""The 14-day sample's labelled incidents as signatures, built once per session."""

from dataclasses import dataclass

import pandas as pd
import pytest

from workbench.features.service import ServiceFeatures
from workbench.features.windows import to_windows
from workbench.labels.incidents import read_events, read_incidents
from workbench.runbooks.signature import deviations, fit_baseline, signature_table
from workbench.sources import load_service


@dataclass
class SampleHistory:
    incidents: pd.DataFrame
    events: pd.DataFrame
    windows: dict[str, pd.DataFrame]
    baselines: dict[str, ServiceFeatures]
    deviation: dict[str, pd.DataFrame]
    table: pd.DataFrame


@pytest.fixture(scope="session")
def sample_history(sample_config) -> SampleHistory:
    incidents = read_incidents(sample_config.path("incidents"), list(sample_config.services))
    events = read_events(sample_config.path("events"))
    windows, baselines, deviation = {}, {}, {}
    for service in sorted(set(incidents["service"])):
        mine = events[events["service"].isin([service, "*"])]
        windows[service] = to_windows(load_service(sample_config, service), sample_config.window, sample_config.max_fill)
        baselines[service] = fit_baseline(windows[service], incidents[incidents["service"] == service], mine)
        deviation[service] = deviations(baselines[service], windows[service], mine)
    return SampleHistory(incidents, events, windows, baselines, deviation, signature_table(incidents, deviation, events))
