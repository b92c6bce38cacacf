"""ServiceFeatures as a scikit-learn estimator: parameters, clone, fitted state, API checks."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import parametrize_with_checks

from workbench.contracts import Side
from workbench.errors import DataError
from workbench.features.service import (
    BAD_SIDE,
    ServiceFeatures,
    bad_deviation,
    pool_reach,
)

FRAME = "works on windows: a DataFrame of named metrics with a DatetimeIndex and a week of history, not arbitrary arrays"
NAN = "a window with a missing metric gets NaN features (a gap is not an error); the check expects an error"
EMPTY = "raises DataError (a ValueError) naming the contract, not sklearn's wording for empty data"
# Every check that fits on plain arrays fails for the FRAME reason; listed so a change shows.
EXPECTED_FAILURES = {
    **dict.fromkeys(
        [
            "check_complex_data",
            "check_dict_unchanged",
            "check_dont_overwrite_parameters",
            "check_dtype_object",
            "check_estimator_sparse_array",
            "check_estimator_sparse_matrix",
            "check_estimator_sparse_tag",
            "check_estimators_dtypes",
            "check_estimators_fit_returns_self",
            "check_estimators_overwrite_params",
            "check_estimators_pickle",
            "check_estimators_pickle(readonly_memmap=True)",
            "check_f_contiguous_array_estimator",
            "check_fit2d_1feature",
            "check_fit2d_1sample",
            "check_fit2d_predict1d",
            "check_fit_check_is_fitted",
            "check_fit_idempotent",
            "check_fit_score_takes_y",
            "check_methods_sample_order_invariance",
            "check_methods_subset_invariance",
            "check_n_features_in",
            "check_n_features_in_after_fitting",
            "check_pipeline_consistency",
            "check_positive_only_tag_during_fit",
            "check_readonly_memmap_input",
            "check_transformer_data_not_an_array",
            "check_transformer_general",
            "check_transformer_general(readonly_memmap=True)",
            "check_transformer_preserve_dtypes",
        ],
        FRAME,
    ),
    "check_estimators_nan_inf": NAN,
    "check_estimators_empty_data_messages": EMPTY,
}


@parametrize_with_checks([ServiceFeatures()], expected_failed_checks=lambda est: EXPECTED_FAILURES)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_params_and_clone():
    features = ServiceFeatures(trend_windows=4, sustain_windows=2, slot_width="1h")
    assert features.get_params() == {"trend_windows": 4, "sustain_windows": 2, "slot_width": "1h"}
    twin = clone(features)
    assert twin is not features and twin.get_params() == features.get_params()


def test_transform_before_fit_is_not_fitted():
    with pytest.raises(NotFittedError):
        ServiceFeatures().transform(pd.DataFrame({"cpu_usage": [1.0]}, index=pd.DatetimeIndex(["2026-01-01"], tz="UTC")))


@pytest.mark.parametrize("bad", [np.ones((700, 6)), pd.DataFrame(np.ones((700, 2)), columns=["cpu_usage", "request_rate"])])
def test_arrays_and_frames_without_time_are_refused(bad):
    with pytest.raises(DataError, match="DataFrame of metrics with a DatetimeIndex"):
        ServiceFeatures().fit(bad)


def _week_of_windows(seed=0):
    index = pd.date_range("2026-09-01", periods=96 * 9, freq="15min", tz="UTC")
    rng = np.random.default_rng(seed)
    metrics = ["request_rate", "error_rate", "latency_p95", "latency_p99", "cpu_usage", "memory_usage"]
    return pd.DataFrame({m: 50 + rng.normal(0, 1, len(index)) for m in metrics}, index=index)


def test_fit_learns_the_window_width_and_transform_flags_deploys_by_it():
    windows = _week_of_windows()
    features = ServiceFeatures().fit(windows)
    assert features.window_ == pd.Timedelta("15min")
    deploy = windows.index[500] + pd.Timedelta("5min")  # mid-window, as rollouts land
    events = pd.DataFrame({"start": [deploy], "end": [deploy], "service": ["*"], "type": ["deploy"], "description": [""]})
    flags = features.transform(windows, events=events)["deploy"]
    # A deploy counts for the window it lands in and the next one.
    assert flags[flags == 1].index.tolist() == [windows.index[500], windows.index[501]]


@pytest.mark.parametrize(
    ("side", "expected"),
    [(Side.BOTH, [2.0, 0.5, 0.0]), (Side.HIGH, [0.0, 0.5, 0.0]), (Side.LOW, [2.0, 0.0, 0.0]), ("high", [0.0, 0.5, 0.0])],
)
def test_bad_deviation_by_side(side, expected):
    assert bad_deviation(pd.Series([-2.0, 0.5, 0.0]), side).tolist() == expected


def test_an_unknown_side_is_an_error():
    with pytest.raises(ValueError, match="hgih"):
        bad_deviation(pd.Series([1.0]), "hgih")


def test_every_feature_has_a_declared_side():
    assert all(isinstance(side, Side) for side in BAD_SIDE.values())


def _evening_decline(days=14, seed=0):
    """Traffic that falls steadily from 18:00 to 21:00 every day (a third lower by the end), with 1 % noise."""
    index = pd.date_range("2026-09-07", periods=96 * days, freq="15min", tz="UTC")
    hours = index.hour + index.minute / 60
    level = np.where((hours >= 18) & (hours < 21), 300 * (1 - (hours - 18) / 9), np.where(hours >= 21, 200.0, 300.0))
    rng = np.random.default_rng(seed)
    windows = pd.DataFrame({m: 50 + rng.normal(0, 1, len(index)) for m in ["error_rate", "cpu_usage", "memory_usage"]}, index=index)
    windows["request_rate"] = level * np.exp(rng.normal(0, 0.01, len(index)))
    return windows


def test_a_level_that_moves_within_the_hour_is_judged_at_its_own_time_of_day():
    windows = _evening_decline()
    features = ServiceFeatures().fit(windows)
    z = features.transform(windows)["request_rate_z"]
    assert z[(z.index.hour >= 18) & (z.index.hour < 21)].abs().max() < 4  # the daily decline itself is normal
    dropped = windows.copy()
    at = dropped.index[-96 + 79]  # the last day, 19:45
    dropped.loc[at, "request_rate"] *= 2 / 3
    # A third of the traffic gone stands out by far. Hourly slots measured the spread across an
    # hour of steady decline (a 10 % fall), so the same drop read under 10 robust sigmas.
    assert features.transform(dropped).loc[at, "request_rate_z"] < -20


def _day_to_day_wander(days=14, seed=0):
    """Memory that wanders from day to day (a level per day, sd 1, every day alike) with little
    noise within a day; the history's four weekend days happened to draw levels close together."""
    index = pd.date_range("2026-09-07", periods=96 * days, freq="15min", tz="UTC")  # a Monday
    rng = np.random.default_rng(seed)
    level = rng.normal(0, 1, days)
    weekend = np.flatnonzero(pd.date_range(index[0], periods=days, freq="D").day_of_week >= 5)
    level[weekend] = [-0.25, 0.1, -0.1, 0.25]  # a lucky draw: four values of sd 1 within 0.25 of 0
    day = np.asarray((index - index[0]).days)
    windows = pd.DataFrame({m: 50 + rng.normal(0, 0.05, len(index)) for m in ["request_rate", "error_rate", "cpu_usage"]}, index=index)
    windows["memory_usage"] = 40 + level[day] + rng.normal(0, 0.05, len(index))
    return windows


def test_a_weekend_is_judged_by_how_far_any_day_strays_not_by_four_lucky_days():
    windows = _day_to_day_wander()
    features = ServiceFeatures().fit(windows)
    per_day = features.slots_per_day_
    # The spread is learnt per time of day over every day: a weekend slot's is its weekday twin's.
    pd.testing.assert_frame_equal(features.spread_.iloc[per_day:], features.spread_.iloc[:per_day].set_axis(features.spread_.index[per_day:]))
    # An ordinary day-to-day wander (one sigma up) on the next Saturday reads 2.7 sigmas. With a
    # spread from the history's four lucky weekend days alone it read 4.0.
    saturday = pd.date_range("2026-09-26", periods=96, freq="15min", tz="UTC")
    new = pd.DataFrame({c: windows[c].iloc[:96].to_numpy() for c in windows}, index=saturday)
    new["memory_usage"] = 41.0
    assert features.transform(new)["memory_usage_z"].median() < 3.3


def test_a_model_saved_with_hourly_slots_still_transforms():
    windows = _evening_decline()
    hourly = ServiceFeatures(slot_width="1h").fit(windows)
    # What a model pickled before window slots holds: hourly slots, none of these attributes.
    state = {k: v for k, v in hourly.__getstate__().items() if k not in ("slot_width", "slot_width_", "slots_per_day_")}
    old = ServiceFeatures.__new__(ServiceFeatures)
    old.__setstate__(state)
    pd.testing.assert_frame_equal(old.transform(windows), hourly.transform(windows))
    assert old.get_params()["slot_width"] == "1h" and "ServiceFeatures" in repr(old) and clone(old).get_params() == old.get_params()


def test_slot_width_sets_the_slots():
    windows = _week_of_windows()
    assert len(ServiceFeatures().fit(windows).median_) == 2 * 96
    hourly = ServiceFeatures(slot_width="1h").fit(windows)
    assert len(hourly.median_) == 2 * 24 and hourly.slot_width_ == pd.Timedelta("1h")
    # Never narrower than the windows themselves.
    assert ServiceFeatures(slot_width="5min").fit(windows).slot_width_ == pd.Timedelta("15min")


@pytest.mark.parametrize("bad", ["soon", "0min", "2D", "60", 60])
def test_a_bad_slot_width_is_refused(bad):
    with pytest.raises(ValueError, match="slot_width"):
        ServiceFeatures(slot_width=bad).fit(_week_of_windows())


@pytest.mark.parametrize(
    ("width", "reach"), [("1min", 30), ("5min", 6), ("10min", 3), ("15min", 2), ("20min", 1), ("30min", 1), ("45min", 1), ("1h", 0), ("2h", 0)]
)
def test_a_slot_pools_about_an_hour(width, reach):
    assert pool_reach(pd.Timedelta(width)) == reach


def test_slots_cover_a_day_that_the_width_does_not_divide():
    index = pd.date_range("2026-09-07", periods=8 * 206, freq="7min", tz="UTC")
    features = ServiceFeatures().fit(pd.DataFrame({"cpu_usage": 50 + np.sin(np.arange(len(index)))}, index=index))
    slots = features._slot(index)
    assert features.slots_per_day_ == 206 and slots.min() >= 0 and slots.max() < 2 * 206


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/Santiago"])
def test_slots_follow_the_wall_clock_across_daylight_saving(zone):
    # Berlin falls back on Sunday 2026-10-25 (a 25-hour day); in Santiago clocks jump at local
    # midnight on 2026-09-06, so that midnight does not exist.
    index = pd.date_range("2026-08-25", "2026-11-05", freq="15min", tz="UTC").tz_convert(zone)
    rng = np.random.default_rng(0)
    windows = pd.DataFrame({"cpu_usage": 50 + rng.normal(0, 1, len(index))}, index=index)
    features = ServiceFeatures().fit(windows)
    slots = features._slot(index)
    local = index.tz_localize(None)
    expected = (local.day_of_week >= 5) * 96 + local.hour * 4 + local.minute // 15
    assert (slots == np.asarray(expected)).all()
    assert features.transform(windows)["cpu_usage_z"].notna().all()


def test_a_slot_pools_across_midnight_within_its_kind_of_day():
    index = _week_of_windows().index
    clock = index.hour * 60 + index.minute
    high = pd.DataFrame({"x": np.isin(clock, [23 * 60 + 30, 23 * 60 + 45, 0]).astype(float)}, index=index)
    features = ServiceFeatures().fit(_week_of_windows())
    pooled = features._pooled(features._pools(features._slot(index)), high)["x"]
    # Weekday 00:00 pools weekday 23:30 and 23:45 with 00:00-00:30: three of five slots high.
    # Without the wrap it would pool three slots with one high, and its median would be 0.
    assert pooled.loc[0] == 1.0 and pooled.loc[1] == 0.0
    # The weekend's midnight pools the weekend's own late evening, high too on these days.
    assert pooled.loc[96] == 1.0 and pooled.loc[96 + 48] == 0.0


def test_a_model_from_the_first_window_slots_keeps_its_width():
    windows = _week_of_windows()
    fitted = ServiceFeatures().fit(windows)
    # The first window-slot models had slots_per_day_ but neither slot_width nor slot_width_.
    state = {k: v for k, v in fitted.__getstate__().items() if k not in ("slot_width", "slot_width_")}
    old = ServiceFeatures.__new__(ServiceFeatures)
    old.__setstate__(state)
    assert old.slot_width is None and old.slot_width_ == pd.Timedelta("15min")
    pd.testing.assert_frame_equal(old.transform(windows), fitted.transform(windows))
