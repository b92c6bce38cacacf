"""The sample's incident write-ups (:mod:`workbench.sources.sample_text`): varied text, the kind
still first, the service's own details, and nothing else of the sample changed by them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.sources.sample_text import PHRASES, TEXT_STREAM, write_up
from workbench.sources.scenarios import INCIDENT_KINDS, schedule

SERVICES = ["checkout", "payments", "search", "catalog", "auth", "notifications"]
INDEX = pd.date_range("2026-09-01", periods=60 * 24 * 60, freq="1min", tz="UTC")


def drawn(text: bool):
    return schedule(INDEX, SERVICES, np.random.default_rng(7), np.random.default_rng([7, TEXT_STREAM]) if text else None)


def test_the_write_ups_change_no_other_draw():
    plain_events, plain = drawn(text=False)
    events, written = drawn(text=True)
    assert events == plain_events
    assert [(i.window, i.kind, i.magnitude) for i in written] == [(i.window, i.kind, i.magnitude) for i in plain]
    for short, long in zip(plain, written):
        # The drawn phrases stay in the text, the kind stays first.
        assert long.cause.startswith(f"{long.kind}: ") and short.cause.removeprefix(f"{short.kind}: ") in long.cause
        assert short.resolution.lower() in long.resolution.lower()


def test_incidents_of_a_kind_read_alike_without_reading_the_same():
    _, written = drawn(text=True)
    for kind in INCIDENT_KINDS:
        causes = [i.cause for i in written if i.kind == kind]
        resolutions = [i.resolution for i in written if i.kind == kind]
        assert len(causes) == 5 and len(set(causes)) >= 4, causes
        assert len(set(resolutions)) >= 3, resolutions
    # Not one template per kind: the phrasing around the drawn phrase varies too.
    frames = {i.cause.replace(i.window.service, "{service}") for i in written if i.kind == "night_cpu_saturation"}
    assert len(frames) >= 3


def test_the_text_names_the_service_and_its_own_details():
    rng = np.random.default_rng([1, TEXT_STREAM])
    texts = [" ".join(write_up("latency_spike", "lock contention in database", "query killed", "checkout", rng)) for _ in range(30)]
    assert any("checkout-" in t for t in texts) and any("payment provider" in t for t in texts)
    assert all("{" not in t and "}" not in t for t in texts)  # every placeholder filled
    other = " ".join(write_up("latency_spike", "x", "y", "billing", np.random.default_rng(0)))
    assert "billing" in other or "upstream API" in other  # a service of a team's own gets generic details


def test_a_kind_without_phrasings_keeps_its_phrases():
    assert write_up("disk_full", "log volume filled", "logs rotated", "checkout", np.random.default_rng(0)) == ("disk_full: log volume filled", "logs rotated")
    assert set(PHRASES) == set(INCIDENT_KINDS)
