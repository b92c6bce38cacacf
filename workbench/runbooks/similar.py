"""Similar past incidents: exact nearest neighbours of a signature among labelled incidents,
and the honest answer "no similar past incident" when none is close enough.

Similarity is ``1 - cosine distance`` between signature vectors (see
:mod:`workbench.runbooks.signature`): 1 = the same pattern, 0 = nothing in common, below 0
= opposite moves (traffic up against traffic down). Higher = more similar. The search is
exact (scikit-learn ``NearestNeighbors``, brute force): at these sizes an approximate index
buys nothing and would make "the closest past incident" depend on luck.

The abstention threshold is calibrated by leave-one-out on the history itself (see
:mod:`workbench.runbooks.calibrate`): the similarity that best separates pairs of past
incidents of the same kind from pairs of different kinds. A query whose nearest neighbour is
below it gets "no similar past incident": about a quarter of real incidents have causes
never seen before, and a confident wrong match costs an on-call engineer more than none.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_is_fitted

from workbench.errors import DataError, ParameterError
from workbench.runbooks.calibrate import TIE, Calibration, calibrate
from workbench.runbooks.signature import BLOCKS, COLUMNS, Signature

__all__ = ["Match", "Retrieval", "SimilarIncidents", "cause_kind"]

#: Default block weights: context is a nudge (two incidents alike in their metrics are told
#: apart by a deploy or the hour) but never makes two incidents similar by itself. Chosen on
#: sample seeds 11-29 (benchmarks/bench_runbooks.py), not on the reported seed 7.
DEFAULT_WEIGHTS = {"metrics": 1.0, "shap": 1.0, "context": 0.25, "span": 1.0}


def cause_kind(cause: str) -> str:
    """The kind of an incident from its cause: the text before the first ``:``, lower case.

    ``"night_cpu_saturation: runaway batch job"`` is ``"night_cpu_saturation"``; a cause
    without ``:`` is its own kind; an empty cause has kind ``""`` (unknown).
    """
    if not isinstance(cause, str):
        return ""
    return cause.split(":", 1)[0].strip().lower()


@dataclass(frozen=True)
class Match:
    """One past incident found similar: ``similarity`` is 1 - cosine distance (higher = closer)."""

    id: str
    service: str
    similarity: float
    cause: str
    resolution: str
    kind: str

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Retrieval:
    """The answer for one query.

    Attributes
    ----------
    matches
        The neighbours at or above the threshold, best first; empty when it abstains.
    nearest
        The ``n_neighbors`` nearest whatever their similarity (to show what was closest).
    abstained
        True: "no similar past incident" (the nearest is below ``threshold``).
    message
        The answer in one sentence.
    """

    id: str
    service: str
    matches: tuple[Match, ...]
    nearest: tuple[Match, ...]
    threshold: float
    abstained: bool
    message: str

    def as_dict(self) -> dict:
        out = asdict(self)
        out["threshold"] = self.threshold if math.isfinite(self.threshold) else None
        return out


def _vectors(X, what: str) -> tuple[np.ndarray, list[str], list[str]]:
    """Vectors, ids and services of ``X``: a signature table, one Signature or Series, or an array."""
    if isinstance(X, Signature):
        X = pd.DataFrame([X.vector], index=[X.id]).assign(service=X.service)
    elif isinstance(X, pd.Series):
        X = X.to_frame().T
    if isinstance(X, pd.DataFrame):
        absent = [c for c in COLUMNS if c not in X.columns]
        if absent:
            raise DataError(f"{what} is not a signature table: missing columns {absent[:5]}{' ...' if len(absent) > 5 else ''}")
        values = X[list(COLUMNS)].to_numpy(dtype=float)
        ids = [str(i) for i in X.index]
        services = [str(s) for s in X["service"]] if "service" in X else [""] * len(X)
    else:
        values = np.asarray(X, dtype=float)
        if values.ndim == 1:
            values = values[None, :]
        if values.ndim != 2 or values.shape[1] != len(COLUMNS):
            raise DataError(f"{what}: vectors of length {values.shape[-1]}, a signature has {len(COLUMNS)} (see signature.COLUMNS)")
        ids, services = [""] * len(values), [""] * len(values)
    if len(values) == 0:
        raise DataError(f"{what} is empty")
    if not np.isfinite(values).all():
        raise DataError(f"{what} holds NaN or infinite values; signatures never do (build them with signature_table)")
    return values, ids, services


class SimilarIncidents(BaseEstimator):
    """Nearest past incidents by cosine similarity of their signatures, with calibrated abstention.

    Parameters
    ----------
    n_neighbors : int
        How many neighbours a query returns.
    threshold : float or None
        Abstain when the nearest is less similar than this; ``None`` (default): calibrate
        it by leave-one-out on the history in ``fit``.
    kind : callable
        Maps a ``cause`` to its kind, for the calibration; :func:`cause_kind` by default
        (the text before ``:``). A team with free-text causes passes its own.
    weights : dict or None
        Weight per block of :data:`~workbench.runbooks.signature.BLOCKS` (``metrics``,
        ``shap``, ``context``, ``span``) over :data:`DEFAULT_WEIGHTS`; 0 leaves a block out.
    calibration : {"novel", "nearest"}
        How the leave-one-out pairs for the threshold are formed (:class:`~workbench.runbooks.calibrate.Calibration`).

    Attributes
    ----------
    threshold_ : float
        The similarity below which a query abstains (``inf``: always, too little history).
    calibration_ : dict
        How the threshold was chosen: the pairs used, how many shared their kind, the
        balanced accuracy, or why there was nothing to calibrate on.
    columns_ : list of str
        The signature columns compared: a block that is zero in every past incident (no
        SHAP for labelled incidents, typically) is left out.
    """

    def __init__(
        self,
        n_neighbors: int = 5,
        threshold: float | None = None,
        kind: Callable[[str], str] = cause_kind,
        weights: Mapping[str, float] | None = None,
        calibration: str = "novel",
    ) -> None:
        self.n_neighbors = n_neighbors
        self.threshold = threshold
        self.kind = kind
        self.weights = weights
        self.calibration = calibration

    def fit(self, history: pd.DataFrame, y=None) -> SimilarIncidents:
        """Index the past incidents' signatures and calibrate the threshold.

        Parameters
        ----------
        history
            A :func:`~workbench.runbooks.signature.signature_table` of labelled incidents:
            indexed by id, with ``service``, ``cause``, ``resolution`` and the vector columns.
        y
            Ignored; the kinds come from ``cause`` through ``kind``.

        Raises
        ------
        DataError
            An empty history, one that is not a signature table, NaN vectors, repeated ids.
        ParameterError
            A bad ``n_neighbors``, ``threshold``, ``weights`` or ``calibration``.
        """
        if not isinstance(self.n_neighbors, (int, np.integer)) or isinstance(self.n_neighbors, bool) or self.n_neighbors < 1:
            raise ParameterError(f"n_neighbors must be a positive integer, got {self.n_neighbors!r}")
        if self.threshold is not None and not (isinstance(self.threshold, (int, float)) and -1 <= self.threshold <= 1):
            raise ParameterError(f"threshold must be a similarity in [-1, 1] or None (calibrate), got {self.threshold!r}")
        try:
            how = Calibration(self.calibration)
        except ValueError:
            raise ParameterError(f"calibration must be one of {[c.value for c in Calibration]}, got {self.calibration!r}") from None
        if not callable(self.kind):
            raise ParameterError(f"kind must be a function from a cause to its kind, got {self.kind!r}")
        if not isinstance(history, pd.DataFrame):
            raise DataError(f"history must be a signature table (signature_table), got {type(history).__name__}")
        if history.empty:
            raise DataError("no past incidents to compare with: label incidents first (the history is empty)")
        absent = [c for c in ("service", "cause", "resolution") if c not in history.columns]
        if absent:
            raise DataError(f"history needs columns service, cause and resolution; missing {absent}")
        values, ids, services = _vectors(history, "history")
        if len(set(ids)) != len(ids):
            raise DataError(f"history has repeated ids: {sorted({i for i in ids if ids.count(i) > 1})[:5]}")
        weights = DEFAULT_WEIGHTS | dict(self.weights or {})
        if set(weights) - set(BLOCKS) or any(isinstance(w, bool) or not (isinstance(w, (int, float)) and w >= 0) for w in weights.values()):
            raise ParameterError(f"weights: a number >= 0 for any of the blocks {list(BLOCKS)}, got {dict(self.weights)!r}")
        # A block every past incident has as zeros (SHAP, when labelled incidents carry none)
        # cannot make anything more similar; kept, it would only shrink every query's
        # similarity and push it below the threshold calibrated without it. Whole blocks only:
        # dropping single columns would hide a metric the history never saw move.
        keep = [
            c
            for block, cols in BLOCKS.items()
            if weights[block] > 0 and np.abs(values[:, [COLUMNS.index(c) for c in cols]]).sum() > 0
            for c in cols
        ]
        if not keep:
            raise DataError("every past incident's signature is all zeros: nothing to compare")
        self.columns_ = keep
        self.scale_ = np.array([weights[b] for b, cols in BLOCKS.items() for c in cols if c in keep])
        self.ids_ = np.array(ids, dtype=object)
        self.services_ = np.array(services, dtype=object)
        self.causes_ = history["cause"].fillna("").astype(str).to_numpy()
        self.resolutions_ = history["resolution"].fillna("").astype(str).to_numpy()
        self.kinds_ = np.array([str(self.kind(c) or "") for c in self.causes_], dtype=object)
        self.vectors_ = self._prepare(values)
        self.nn_ = NearestNeighbors(metric="cosine", algorithm="brute").fit(self.vectors_)
        if self.threshold is None:
            self.threshold_, self.calibration_ = calibrate(self.vectors_, self.kinds_, self.services_, self.ids_, how)
        else:
            self.threshold_, self.calibration_ = float(self.threshold), {"threshold": float(self.threshold), "how": "given"}
        return self

    def _prepare(self, values: np.ndarray) -> np.ndarray:
        return values[:, [COLUMNS.index(c) for c in self.columns_]] * self.scale_

    def _ranked(self, X: np.ndarray, ids: list[str], services: list[str], k: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per (prepared) query, the ``k`` nearest (similarities, history rows), itself left out, ties on the same service first."""
        total = len(self.ids_)
        out = []
        for x, qid, service in zip(X, ids, services):
            n = min(total, k + 2)
            while True:
                distance, index = self.nn_.kneighbors(x[None, :], n_neighbors=n)
                sim, index = 1.0 - distance[0], index[0]
                mine = self.ids_[index] != qid if qid else np.ones(len(index), dtype=bool)
                sim, index = sim[mine], index[mine]
                # Complete when nothing beyond the fetched ones can tie with the k-th.
                if n == total or (len(sim) > k and sim[-1] < sim[k - 1] - TIE):
                    break
                n = min(total, 2 * n)
            order = np.lexsort((self.ids_[index].astype(str), self.services_[index] != service, -np.round(sim / TIE) * TIE))
            out.append((sim[order][:k], index[order][:k]))
        return out

    def kneighbors(self, X, n_neighbors: int | None = None) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The nearest past incidents of each row of ``X``, best first.

        A row whose id is a past incident's never gets that incident back. Equal
        similarities put the query's own service first, then ids in order.

        Returns
        -------
        similarity, indices : lists of arrays, one per row
            Similarity (1 - cosine distance; higher = closer) and rows of the history.
        """
        check_is_fitted(self, "nn_")
        k = self.n_neighbors if n_neighbors is None else n_neighbors
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 1:
            raise ParameterError(f"n_neighbors must be a positive integer, got {n_neighbors!r}")
        values, ids, services = _vectors(X, "query")
        ranked = self._ranked(self._prepare(values), ids, services, k)
        return [s for s, _ in ranked], [i for _, i in ranked]

    def _match(self, row: int, sim: float) -> Match:
        return Match(str(self.ids_[row]), str(self.services_[row]), round(float(sim), 4), self.causes_[row], self.resolutions_[row], self.kinds_[row])

    def retrieve(self, X) -> list[Retrieval]:
        """Similar past incidents for each row of ``X`` (a signature table, or one Signature), or the abstention."""
        check_is_fitted(self, "nn_")
        values, ids, services = _vectors(X, "query")
        answers = []
        for qid, service, (sims, rows) in zip(ids, services, self._ranked(self._prepare(values), ids, services, self.n_neighbors)):
            nearest = tuple(self._match(r, s) for s, r in zip(sims, rows))
            matches = tuple(m for m, s in zip(nearest, sims) if s >= self.threshold_ - TIE)
            abstained = not matches
            answers.append(Retrieval(qid, service, matches, nearest, self.threshold_, abstained, self._message(nearest, abstained)))
        return answers

    def query(self, signature: Signature) -> Retrieval:
        """:meth:`retrieve` for one signature."""
        return self.retrieve(signature)[0]

    def _message(self, nearest: tuple[Match, ...], abstained: bool) -> str:
        if not nearest:
            return "no similar past incident: the history holds no other incident"
        best = nearest[0]
        closest = f"{best.id} ({best.service}, {best.cause or 'no cause recorded'}), {best.similarity:.2f} similar"
        if abstained:
            why = f"below the threshold {self.threshold_:.2f}" if math.isfinite(self.threshold_) else self.calibration_["reason"]
            return f"no similar past incident: the closest is {closest}, {why}"
        return f"the closest past incident is {closest}"
