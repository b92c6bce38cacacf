"""``workbench nab``'s workflow: read NAB files and their label windows, run a detector over
every file (causally, in file order), and score the corpus with :mod:`workbench.evaluate.nab`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import DataError
from workbench.evaluate.nab import PROFILES, CorpusScore, NabFile, score_corpus

__all__ = ["detect_frame", "load_corpus", "read_nab_csv", "score_detector"]


def read_nab_csv(path: str | Path) -> pd.DataFrame:
    """Read a NAB file (``timestamp,value``); clear errors for anything else."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"NAB file not found: {path}")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)  # keep "n/a" as written, for the message
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"{path}: not a readable CSV ({exc})") from exc
    if list(frame.columns[:2]) != ["timestamp", "value"]:
        raise DataError(f"{path}: expected columns timestamp,value; got {list(frame.columns)}")
    if frame.empty:
        raise DataError(f"{path}: no rows")
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], format="mixed", errors="coerce")
    if frame["timestamp"].isna().any():
        raise DataError(f"{path}: unparseable timestamps on rows {frame.index[frame['timestamp'].isna()][:5].tolist()}")
    values = pd.to_numeric(frame["value"], errors="coerce")
    bad = ~np.isfinite(values.to_numpy(dtype=float))
    if bad.any():
        shown = [f"line {k + 2} ({frame['value'].iloc[k]!r})" for k in np.flatnonzero(bad)[:5]]
        raise DataError(f"{path}: value is not a finite number on {bad.sum()} rows: {', '.join(shown)}; nothing was scored")
    frame["value"] = values
    return frame[["timestamp", "value"]]


def _window_rows(timestamps: pd.Series, windows: list[list[str]]) -> list[tuple[int, int]]:
    out = []
    ts = timestamps.to_numpy()
    for start, end in windows:
        left = int(np.searchsorted(ts, np.datetime64(pd.Timestamp(start)), side="left"))
        right = int(np.searchsorted(ts, np.datetime64(pd.Timestamp(end)), side="right")) - 1
        if right >= left:
            out.append((left, right))
    return out


def load_corpus(data_dir: str | Path, labels_file: str | Path) -> list[NabFile]:
    """Every labelled CSV under ``data_dir`` with its windows from ``labels_file``.

    Raises
    ------
    DataError
        Missing folder or labels, or a label key without a file.
    """
    data_dir, labels_file = Path(data_dir), Path(labels_file)
    if not data_dir.is_dir():
        raise DataError(f"NAB data folder not found: {data_dir}")
    if not labels_file.is_file():
        raise DataError(f"NAB labels not found: {labels_file}")
    labels = json.loads(labels_file.read_text())
    files = []
    for key in sorted(labels):
        path = data_dir / key
        if not path.is_file():
            raise DataError(f"labels name {key}, which is not in {data_dir}")
        frame = read_nab_csv(path)
        files.append(NabFile(key, frame, _window_rows(frame["timestamp"], labels[key])))
    if not files:
        raise DataError(f"{labels_file}: no labelled files")
    return files


def detect_frame(frame: pd.DataFrame, detector=None) -> pd.DataFrame:
    """``timestamp, value, anomaly_score`` for every row of a NAB frame, in order (causal)."""
    from workbench.detect.series import SeriesDetector

    detector = detector if detector is not None else SeriesDetector()
    out = frame[["timestamp", "value"]].copy()
    X = frame[["value"]].to_numpy(dtype=float)
    # Scored as a stream, in file order (higher = more anomalous, in [0, 1]).
    out["anomaly_score"] = np.clip(detector.fit(X).score_samples(X, timestamps=frame["timestamp"]), 0.0, 1.0)
    return out


def score_detector(files: list[NabFile], detector=None, jobs: int = 1) -> dict[str, CorpusScore]:
    """Run ``detector`` over every file (``jobs`` processes) and score all three profiles."""
    from joblib import Parallel, delayed

    frames = Parallel(n_jobs=jobs)(delayed(detect_frame)(f.frame, detector) for f in files)
    scores = {f.name: out["anomaly_score"].to_numpy() for f, out in zip(files, frames)}
    return {name: score_corpus(scores, files, name) for name in PROFILES}
