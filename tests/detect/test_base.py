"""The verdict vocabulary (:mod:`workbench.detect.base`): verdict frames, their checks, a model's
verdicts from its confidence, and score directions.
"""

import numpy as np
import pandas as pd
import pytest

from workbench.detect.base import (
    VERDICT_COLUMNS,
    ScoreDirection,
    VerdictKind,
    check_verdicts,
    model_verdicts,
    verdict_frame,
)
from workbench.errors import DataError, WorkbenchError

INDEX = pd.date_range("2026-01-05T00:00Z", periods=4, freq="15min")


# -- verdict_frame -----------------------------------------------------------------------------


def test_scalars_broadcast_over_the_index():
    frame = verdict_frame(INDEX, VerdictKind.RULE, True, detail="error_burst", first_seen=INDEX[0])
    assert list(frame.columns) == VERDICT_COLUMNS
    assert frame.index.equals(INDEX)
    assert frame["kind"].tolist() == ["rule"] * 4
    assert frame["flag"].tolist() == [True] * 4
    assert frame["confidence"].isna().all()  # the default: no confidence
    assert frame["detail"].tolist() == ["error_burst"] * 4
    assert frame["first_seen"].tolist() == [INDEX[0]] * 4


def test_defaults_and_dtypes():
    frame = verdict_frame(INDEX, "model", [1, 0, 0, 1], confidence=[90, 10, 20, 80])
    assert frame["kind"].tolist() == ["model"] * 4  # a plain string names the kind too
    assert frame["flag"].dtype == bool and frame["flag"].tolist() == [True, False, False, True]
    assert frame["confidence"].dtype == float and frame["confidence"].tolist() == [90.0, 10.0, 20.0, 80.0]
    assert frame["detail"].tolist() == [""] * 4
    assert pd.api.types.is_datetime64_any_dtype(frame["first_seen"]) and frame["first_seen"].isna().all()


def test_per_window_columns_are_kept_in_order():
    first = INDEX + pd.Timedelta("3min")
    frame = verdict_frame(INDEX[[1, 3]], VerdictKind.RULE, True, detail=["a", "a,b"], first_seen=first[[1, 3]])
    assert frame.index.equals(INDEX[[1, 3]])
    assert frame["detail"].tolist() == ["a", "a,b"]
    assert frame["first_seen"].tolist() == [first[1], first[3]]


def test_an_empty_index_gives_an_empty_frame():
    frame = verdict_frame(INDEX[:0], VerdictKind.RULE, True)
    assert frame.empty and list(frame.columns) == VERDICT_COLUMNS


def test_verdict_frame_refuses_an_unknown_kind():
    with pytest.raises(WorkbenchError, match="oracle"):
        verdict_frame(INDEX, "oracle", True)


# -- check_verdicts ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(VerdictKind))
def test_check_returns_the_kind(kind):
    assert check_verdicts(verdict_frame(INDEX, kind, False)) is kind


def test_check_of_an_empty_frame_is_none():
    assert check_verdicts(verdict_frame(INDEX[:0], VerdictKind.MODEL, False)) is None


@pytest.mark.parametrize("column", VERDICT_COLUMNS)
def test_check_names_a_missing_column(column):
    frame = verdict_frame(INDEX, VerdictKind.RULE, True, detail="r").drop(columns=column)
    with pytest.raises(DataError, match=f"missing \\['{column}'\\]"):
        check_verdicts(frame)


def test_check_refuses_mixed_kinds():
    mixed = pd.concat([verdict_frame(INDEX[:2], VerdictKind.RULE, True, detail="r"), verdict_frame(INDEX[2:], VerdictKind.MODEL, True)])
    with pytest.raises(DataError, match=r"one kind of source, got \['model', 'rule'\]"):
        check_verdicts(mixed)


def test_check_refuses_an_unknown_kind():
    frame = verdict_frame(INDEX, VerdictKind.RULE, True, detail="r").assign(kind="oracle")
    with pytest.raises(WorkbenchError, match="oracle"):
        check_verdicts(frame)


# -- model_verdicts ----------------------------------------------------------------------------


def test_model_flags_at_and_above_the_threshold():
    confidence = pd.Series([74.99, 75.0, 99.0, 0.0], index=INDEX)
    frame = model_verdicts(confidence, "15min", threshold=75)
    assert check_verdicts(frame) is VerdictKind.MODEL
    assert frame["flag"].tolist() == [False, True, True, False]
    assert frame["confidence"].tolist() == [74.99, 75.0, 99.0, 0.0]
    assert frame["detail"].tolist() == [""] * 4


def test_no_confidence_is_never_flagged():
    confidence = pd.Series([np.nan, 90.0, np.nan, 100.0], index=INDEX)
    frame = model_verdicts(confidence, "15min", threshold=0)
    assert frame["flag"].tolist() == [False, True, False, True]
    assert frame["confidence"].isna().tolist() == [True, False, True, False]


def test_a_model_verdict_is_seen_when_its_window_closes():
    frame = model_verdicts(pd.Series([10, 90, 10, 90], index=INDEX), "15min", threshold=50)  # ints: cast to float
    assert frame["confidence"].dtype == float
    assert frame["first_seen"].tolist() == list(INDEX + pd.Timedelta("15min"))
    assert model_verdicts(pd.Series([90.0], index=INDEX[:1]), "1h", threshold=50)["first_seen"].iloc[0] == INDEX[0] + pd.Timedelta("1h")


# -- score directions --------------------------------------------------------------------------


def test_score_directions():
    assert ScoreDirection.LOWER_IS_ABNORMAL == "lower_is_abnormal"
    assert ScoreDirection.HIGHER_IS_ABNORMAL == "higher_is_abnormal"
    assert {d.value for d in ScoreDirection} == {"lower_is_abnormal", "higher_is_abnormal"}
    assert ScoreDirection("higher_is_abnormal") is ScoreDirection.HIGHER_IS_ABNORMAL


def test_the_detectors_declare_their_direction():
    from workbench.detect.forest import IsolationForestDetector
    from workbench.detect.series import SeriesDetector

    assert IsolationForestDetector.score_direction is ScoreDirection.LOWER_IS_ABNORMAL
    assert SeriesDetector.score_direction is ScoreDirection.HIGHER_IS_ABNORMAL
