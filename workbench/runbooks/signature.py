"""What an incident looked like, as a fixed-length vector: its signature.

A signature is built from a span (a labelled incident or a live episode: service, start,
end), the service's per-window deviations from its usual level, the model's SHAP top
features when there are any, and the events calendar. Similar incidents have similar
signatures (:mod:`workbench.runbooks.similar` compares them by cosine similarity).

The columns, in this order (:data:`COLUMNS`), in three blocks (:data:`BLOCKS`):

**metrics**, four per canonical metric ``m`` (``request_rate``, ``error_rate``,
``latency_p95``, ``latency_p99``, ``cpu_usage``, ``memory_usage``), from the robust z of
each window in the span (the deviation from the median of its weekday-or-weekend hour, in
robust standard deviations: :class:`~workbench.features.service.ServiceFeatures`):

``m_worst``
    The deviation at its worst (largest ``|z|``), squashed: ``sign(z) * log1p(|z| / threshold)``
    (z = 3 gives 0.69, z = 30 gives 2.4, z = 300 gives 4.6). Signed: + above the usual
    level, - below. The squash keeps one enormous deviation (errors at z 300) from
    drowning the pattern across metrics that tells one kind of incident from another.
``m_mean``
    The mean z over the span, squashed the same way: a long, steady deviation (a leak, a
    slow dependency) against a brief one.
``m_direction``
    +1 when the metric crossed ``threshold`` (|z|) upwards at its worst, -1 downwards, 0
    when it never crossed it (it did not move).
``m_order``
    Which metrics moved first: ``1 / rank`` of the window in which the metric first
    crossed the threshold (1 for the first to move, 0.5 for the second, ...; metrics
    crossing in the same window share a rank), 0 when it never crossed.

A metric with no value in the span (not collected, or a gap) has zeros in its four
columns, never NaN, and is named in :attr:`Signature.missing`.

**shap**, one column per model feature (``shap_<feature>``, the keys of
:data:`workbench.detect.explain.FEATURE_NAMES`): the model's top features for the span,
weighted by rank (1 for the top one, 1/2 for the second, ...; several windows' lists are
summed and scaled so the largest is 1). All zeros when none were given; a name the model
does not have is left out and said in :attr:`Signature.notes`.

**context**, from the events calendar (events of the service or of ``*``, site-wide):

``deploy_before``
    1 when a deploy started in the ``lookback`` (1 hour) before the span's start, else 0.
``campaign``, ``maintenance``
    1 when such a planned event overlaps the span, else 0.
``hour_sin``, ``hour_cos``
    The start's hour of day (UTC) on the unit circle, so 23:00 is next to 00:00.

**span**: ``duration``, ``log2`` of the span's length in hours (0 for an hour, -2 for 15
minutes, 3 for 8 hours): a 20-minute error burst and a two-hour partial outage move the
same metric, and their length is what tells them apart. For an episode still open it is
the length so far.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench._util import infer_step, to_utc
from workbench.contracts import CANONICAL_METRICS
from workbench.detect.explain import FEATURE_NAMES
from workbench.errors import DataError, DataWarning, ParameterError
from workbench.features.context import remove_incidents, remove_planned
from workbench.features.service import ServiceFeatures

__all__ = [
    "BLOCKS",
    "COLUMNS",
    "META_COLUMNS",
    "Signature",
    "deviations",
    "fit_baseline",
    "signature",
    "signature_table",
]

METRIC_PARTS = ("worst", "mean", "direction", "order")
SHAP_FEATURES: tuple[str, ...] = tuple(FEATURE_NAMES)
CONTEXT_COLUMNS = ("deploy_before", "campaign", "maintenance", "hour_sin", "hour_cos")

#: The column blocks, in vector order (see the module docstring).
BLOCKS: dict[str, tuple[str, ...]] = {
    "metrics": tuple(f"{m}_{part}" for m in CANONICAL_METRICS for part in METRIC_PARTS),
    "shap": tuple(f"shap_{f}" for f in SHAP_FEATURES),
    "context": CONTEXT_COLUMNS,
    "span": ("duration",),
}
#: Every column of a signature vector, in order.
COLUMNS: tuple[str, ...] = tuple(c for block in BLOCKS.values() for c in block)

#: The columns a signature table carries before the vector.
META_COLUMNS = ("service", "start", "end", "cause", "resolution", "missing")
_EVENT_COLUMNS = ("start", "end", "service", "type")


@dataclass(frozen=True)
class Signature:
    """One span's signature.

    Attributes
    ----------
    service, start, end
        The span (UTC; ``end`` exclusive).
    vector
        The values, indexed by :data:`COLUMNS`; never NaN.
    missing
        Metrics with no value in the span: their columns are zeros.
    notes
        What the vector leaves out, in words: metrics without data, unknown SHAP features.
    id
        The incident or episode id, when known.
    """

    service: str
    start: pd.Timestamp
    end: pd.Timestamp
    vector: pd.Series
    missing: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    id: str = ""


def fit_baseline(
    windows: pd.DataFrame,
    incidents: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    *,
    margin: str = "1h",
) -> ServiceFeatures:
    """A service's slot baselines (a fitted :class:`ServiceFeatures`), learnt from its normal windows only.

    Hourly slots, not the model's window slots (``ServiceModel.features``): the signature's
    parameters were chosen on hourly deviations. Fitted here over the history given, with or
    without a model.
    Windows overlapping one of ``incidents`` (the service's own, widened by ``margin``) or a
    campaign or maintenance in ``events`` are left out, as in training.

    Raises
    ------
    DataError
        Fewer than 7 days of normal windows (see :meth:`ServiceFeatures.fit`).
    """
    width = infer_step(windows.index)
    normal = windows
    if incidents is not None and len(incidents):
        normal = remove_incidents(normal, incidents, margin, window=width)
    if events is not None and len(events):
        normal = remove_planned(normal, events, window=width)
    flags = pd.Series(windows.index.isin(normal.index), index=windows.index)
    # Hourly slots: the signature's threshold, block weights and calibration were chosen on
    # hourly deviations (bench_runbooks.py); the model's window slots would need them chosen again.
    # The spreads over every day (not per kind of day) changed those deviations without choosing
    # again: bench_runbooks was rerun and its development seeds checked (RESULTS.md, git log).
    return ServiceFeatures(slot_width="1h").fit(windows, events=events, normal=flags)


def deviations(features: ServiceFeatures, windows: pd.DataFrame, events: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per window and canonical metric, the robust z against the fitted slot baseline.

    Columns are metric names (+ above the usual level, - below); a metric the service does
    not have is absent and a gap is NaN: :func:`signature` turns both into zeros.
    """
    # A metric the baseline knows but the windows lack is a gap, not an error here.
    z = features.transform(windows.reindex(columns=features.metrics_), events=events)
    return pd.DataFrame({m: z[f"{m}_z"] for m in CANONICAL_METRICS if f"{m}_z" in z}, index=windows.index)


def _squash(z: float, threshold: float) -> float:
    return math.copysign(math.log1p(abs(z) / threshold), z)


def _metric_block(span: pd.DataFrame, threshold: float) -> tuple[dict[str, float], list[str]]:
    values = dict.fromkeys(BLOCKS["metrics"], 0.0)
    missing, first = [], {}
    for m in CANONICAL_METRICS:
        z = span[m].dropna() if m in span else pd.Series(dtype=float)
        if z.empty:
            missing.append(m)
            continue
        worst = float(z.iloc[int(np.argmax(np.abs(z.to_numpy())))])
        values[f"{m}_worst"] = _squash(worst, threshold)
        values[f"{m}_mean"] = _squash(float(z.mean()), threshold)
        crossed = z.index[np.abs(z.to_numpy()) >= threshold]
        if len(crossed):
            values[f"{m}_direction"] = math.copysign(1.0, worst)
            first[m] = crossed[0]
    # Dense ranks: metrics that first crossed in the same window moved together.
    order = {t: rank for rank, t in enumerate(sorted(set(first.values())), start=1)}
    for m, t in first.items():
        values[f"{m}_order"] = 1.0 / order[t]
    return values, missing


def _shap_block(top_features) -> tuple[dict[str, float], list[str]]:
    values = dict.fromkeys(BLOCKS["shap"], 0.0)
    if top_features is None or len(top_features) == 0:
        return values, []
    if isinstance(top_features, (str, Mapping)):
        top_features = [top_features]  # one feature given bare
    # Explainer.top gives a list per window; a single list (names or dicts) is one window.
    lists = top_features if all(isinstance(t, (list, tuple)) for t in top_features) else [top_features]
    unknown = []
    for ranked in lists:
        for rank, item in enumerate(ranked, start=1):
            if isinstance(item, Mapping):
                if "feature" not in item:
                    raise DataError(f"a top feature must be a name or a dict with 'feature' (Explainer.top), got {dict(item)!r}")
                item = item["feature"]
            if not isinstance(item, str):
                raise DataError(f"a top feature must be a name or a dict with 'feature' (Explainer.top), got {item!r}")
            if item in SHAP_FEATURES:
                values[f"shap_{item}"] += 1.0 / rank
            elif item not in unknown:
                unknown.append(item)
    peak = max(values.values())
    if peak > 0:
        values = {k: v / peak for k, v in values.items()}
    notes = [f"top feature(s) {unknown} are not model features ({', '.join(SHAP_FEATURES)}); left out"] if unknown else []
    return values, notes


def _check_events(events: pd.DataFrame | None) -> pd.DataFrame | None:
    if events is None or events.empty:
        return None
    absent = [c for c in _EVENT_COLUMNS if c not in events.columns]
    if absent:
        raise DataError(f"events need columns {list(_EVENT_COLUMNS)} (read_events); missing {absent}")
    return events


def _context_block(service: str, start: pd.Timestamp, end: pd.Timestamp, events: pd.DataFrame | None, lookback: pd.Timedelta) -> dict[str, float]:
    hour = (start.hour + start.minute / 60) * 2 * math.pi / 24
    values = {"deploy_before": 0.0, "campaign": 0.0, "maintenance": 0.0, "hour_sin": math.sin(hour), "hour_cos": math.cos(hour)}
    if events is not None:
        mine = events[events["service"].isin([service, "*"])]
        deploys = mine[mine["type"] == "deploy"]
        values["deploy_before"] = float(((deploys["start"] >= start - lookback) & (deploys["start"] <= start)).any())
        for kind in ("campaign", "maintenance"):
            rows = mine[mine["type"] == kind]
            values[kind] = float(((rows["start"] < end) & (rows["end"] > start)).any())
    return values


def _check_params(threshold: float, lookback) -> pd.Timedelta:
    if not (isinstance(threshold, (int, float)) and threshold > 0 and math.isfinite(threshold)):
        raise ParameterError(f"threshold must be a positive number of robust standard deviations, got {threshold!r}")
    try:
        lookback = pd.Timedelta(lookback)
    except (ValueError, TypeError):
        raise ParameterError(f"lookback must be a duration such as '1h', got {lookback!r}") from None
    if lookback < pd.Timedelta(0):
        raise ParameterError(f"lookback must not be negative, got {lookback}")
    return lookback


def signature(
    deviation: pd.DataFrame,
    service: str,
    start,
    end,
    *,
    events: pd.DataFrame | None = None,
    top_features: Sequence | None = None,
    threshold: float = 3.0,
    lookback: str = "1h",
    id: str = "",
) -> Signature:
    """The signature of one span of one service.

    Parameters
    ----------
    deviation
        The service's robust z per window and metric (:func:`deviations`), covering the span.
    service, start, end
        The span: a labelled incident or an episode (``end`` exclusive; UTC).
    events
        The events calendar (:func:`~workbench.labels.incidents.read_events`); ``None``:
        the context flags are 0.
    top_features
        The model's SHAP top features, optional: feature names, best first, or the dicts
        of :meth:`~workbench.detect.explain.Explainer.top` (one list, or one per window).
    threshold
        The |z| (robust standard deviations) at which a metric counts as moved; also the
        scale of the squash.
    lookback
        How long before the start a deploy counts as "just before".
    id
        The incident's or episode's id, carried along (retrieval never returns a query's own id).

    Raises
    ------
    DataError
        ``end`` not after ``start``, no window of ``deviation`` in the span, malformed
        top features or an events frame without its columns.
    ParameterError
        A threshold that is not a positive number, or a lookback that is not a duration.
    """
    lookback = _check_params(threshold, lookback)
    start, end = to_utc(pd.Index([start, end]), what=f"{service} span")
    if end <= start:
        raise DataError(f"{id or service}: end {end} is not after start {start}")
    if not isinstance(deviation, pd.DataFrame) or not isinstance(deviation.index, pd.DatetimeIndex):
        raise DataError("deviation must be a frame of z per metric with a DatetimeIndex (see deviations)")
    width = infer_step(deviation.index, default=pd.Timedelta("15min"))
    span = deviation[(deviation.index + width > start) & (deviation.index < end)]
    if span.empty:
        raise DataError(f"{id or service}: no windows between {start} and {end} in the metrics given")
    values, missing = _metric_block(span, threshold)
    shap, notes = _shap_block(top_features)
    values.update(shap)
    values.update(_context_block(service, start, end, _check_events(events), lookback))
    values["duration"] = math.log2((end - start) / pd.Timedelta(hours=1))
    if missing:
        notes.insert(0, f"no data for {', '.join(missing)} in the span: their columns are zeros")
    vector = pd.Series(values, dtype=float).reindex(list(COLUMNS))
    return Signature(service, start, end, vector, tuple(missing), tuple(notes), id)


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def signature_table(
    incidents: pd.DataFrame,
    deviation: Mapping[str, pd.DataFrame],
    events: pd.DataFrame | None = None,
    *,
    top_features: Mapping[str, Sequence] | None = None,
    threshold: float = 3.0,
    lookback: str = "1h",
) -> pd.DataFrame:
    """Signatures of many spans, one row each: what :class:`~workbench.runbooks.similar.SimilarIncidents` fits on.

    Parameters
    ----------
    incidents
        ``id, service, start, end`` and, for past incidents, ``cause`` and ``resolution``
        (the incident log as :func:`~workbench.labels.incidents.read_incidents` reads it).
    deviation
        Per service, its :func:`deviations`.
    top_features
        Per id, the top features (see :func:`signature`).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``id``: :data:`META_COLUMNS` (``missing``: the metrics without data,
        comma-separated) then :data:`COLUMNS`. A span of a service not in ``deviation``,
        or with no window in it, is left out with a :class:`DataWarning` naming it.
    """
    absent = [c for c in ("id", "service", "start", "end") if c not in incidents.columns]
    if absent:
        raise DataError(f"incidents need columns id, service, start, end; missing {absent}")
    rows, skipped = [], []
    for row in incidents.itertuples(index=False):
        z = deviation.get(row.service)
        if z is not None:
            width = infer_step(z.index, default=pd.Timedelta("15min"))
            start, end = to_utc(pd.Index([row.start, row.end]), what=f"{row.id}")
            covered = ((z.index + width > start) & (z.index < end)).any()
        if z is None or not covered:
            skipped.append(f"{row.id} ({row.service})")
            continue
        top = (top_features or {}).get(row.id)
        sig = signature(z, row.service, row.start, row.end, events=events, top_features=top, threshold=threshold, lookback=lookback, id=row.id)
        meta = {
            "id": row.id,
            "service": row.service,
            "start": sig.start,
            "end": sig.end,
            "cause": _text(getattr(row, "cause", "")),
            "resolution": _text(getattr(row, "resolution", "")),
            "missing": ", ".join(sig.missing),
        }
        rows.append({**meta, **sig.vector.to_dict()})
    if skipped:
        warnings.warn(f"no metrics for incident(s) {', '.join(skipped)}: left out of the signatures", DataWarning, stacklevel=2)
    table = pd.DataFrame(rows, columns=["id", *META_COLUMNS, *COLUMNS])
    return table.set_index("id")
