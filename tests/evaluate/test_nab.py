"""NAB scoring on small hand-computed cases, then the real corpus when it is present."""

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.errors import DataError
from workbench.evaluate.nab import (
    NabFile,
    label_rows,
    probation_rows,
    scaled_sigmoid,
    score_corpus,
)
from workbench.workflows.nab import load_corpus, read_nab_csv

NAB = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "nab"


def one_file(scores_at: dict[int, float], n=100, window=(50, 59)):
    frame = pd.DataFrame({"timestamp": pd.date_range("2026-01-01", periods=n, freq="5min"), "value": 0.0})
    f = NabFile("f.csv", frame, [window])
    s = np.zeros(n)
    for row, value in scores_at.items():
        s[row] = value
    return {"f.csv": s}, [f]


def sigma(y):
    return 2 / (1 + math.exp(5 * y)) - 1


def test_scaled_sigmoid_points():
    assert scaled_sigmoid(-1.0) == pytest.approx(sigma(-1))
    assert scaled_sigmoid(0.0) == pytest.approx(0.0)
    assert scaled_sigmoid(3.5) == -1.0


def test_probation():
    assert probation_rows(100) == 15
    assert probation_rows(10_000) == 750


CASES = [
    # (detections {row: score}, profile, expected normalised score), window rows 50..59 of 100
    ({50: 1.0}, "standard", 100.0),  # left edge: a perfect detection
    ({59: 1.0}, "standard", 100 * (sigma(-0.1) / sigma(-1) + 1) / 2),  # right edge: worth little
    ({20: 1.0, 50: 1.0}, "standard", 100 * (1 - 0.11 + 1) / 2),  # a false positive before the window
    ({61: 1.0, 50: 1.0}, "standard", 100 * (1 + 0.11 * sigma(2 / 9) + 1) / 2),  # just after: cheap
    ({20: 1.0, 50: 0.9}, "standard", 100 * (1 - 0.11 + 1) / 2),  # best threshold is 0.9, taking both
    ({20: 1.0, 50: 1.0}, "reward_low_FP_rate", 100 * (1 - 0.22 + 1) / 2),
    ({50: 1.0}, "reward_low_FN_rate", 100.0),
    ({59: 1.0}, "reward_low_FN_rate", 100 * (sigma(-0.1) / sigma(-1) + 2) / 3),
    ({10: 1.0}, "standard", 0.0),  # inside probation: not scored, so same as never detecting
    ({}, "standard", 0.0),
    ({55: 1.0, 50: 1.0}, "standard", 100.0),  # only the earliest detection in a window counts
]


@pytest.mark.parametrize("detections, profile, expected", CASES)
def test_hand_computed(detections, profile, expected):
    scores, files = one_file(detections)
    assert score_corpus(scores, files, profile).score == pytest.approx(expected, abs=1e-9)


def test_many_false_positives_lose_to_never_detecting():
    scores, files = one_file({**{r: 1.0 for r in range(16, 40)}, 50: 0.5})
    result = score_corpus(scores, files)
    # 24 FPs at 1.0 cost 2.64; the optimiser keeps the threshold above them... it cannot: the
    # window's detection has a lower score, so the best is to detect nothing or everything.
    assert result.score == pytest.approx(max(0.0, 100 * (1 - 24 * 0.11 + 1) / 2))


def test_label_rows_marks_windows_and_distances():
    window_id, unweighted = label_rows(20, [(5, 9)])
    assert window_id.tolist() == [-1] * 5 + [0] * 5 + [-1] * 10
    assert unweighted[5] == pytest.approx(1.0) and unweighted[9] == pytest.approx(sigma(-0.2) / sigma(-1))
    assert unweighted[0] == -1.0
    assert unweighted[10] == pytest.approx(sigma(1 / 4))


def test_scores_must_match_rows():
    scores, files = one_file({})
    with pytest.raises(DataError, match="scores for 100 rows"):
        score_corpus({"f.csv": np.zeros(3)}, files)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"time,val\n1,2\n", "expected columns"),
        (b"timestamp,value\nnot-a-time,1\n", "unparseable"),
        (b"", "not a readable CSV"),
        (b"timestamp,value\n2026-01-01 00:00,1\n2026-01-01 00:05,n/a\n", "not a finite number on 1 rows: line 3 \\('n/a'\\)"),
        (b"timestamp,value\n2026-01-01 00:00,inf\n2026-01-01 00:05,\n", "not a finite number on 2 rows: line 2"),
    ],
)
def test_bad_nab_files(tmp_path, content, message):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        read_nab_csv(path)


def test_corpus_errors(tmp_path):
    with pytest.raises(DataError, match="data folder not found"):
        load_corpus(tmp_path / "none", tmp_path / "labels.json")
    (tmp_path / "labels.json").write_text(json.dumps({"a/b.csv": []}))
    with pytest.raises(DataError, match="not in"):
        load_corpus(tmp_path, tmp_path / "labels.json")


@pytest.mark.skipif(not NAB.is_dir(), reason="../shared/benchmarks/nab is absent (the team's shared folder)")
def test_real_corpus_null_and_perfect():
    files = load_corpus(NAB / "data", NAB / "labels" / "combined_windows.json")
    assert len(files) == 23 and sum(len(f.windows) for f in files) == 50
    null = {f.name: np.zeros(len(f.frame)) for f in files}
    perfect = {f.name: np.isin(np.arange(len(f.frame)), [w[0] for w in f.windows]).astype(float) for f in files}
    assert score_corpus(null, files).score == 0.0
    assert score_corpus(perfect, files).score == pytest.approx(100.0)
