"""The headline protocol: a notebook shows its answer first, and the run index reads it back.

:func:`show_headline` displays the answer sentence, what the report covers and the
figures as a plain table for the reader, and attaches them as JSON
(``application/vnd.aiops-workbench.headline+json``), which :func:`read_headline` finds in
the executed notebook. Besides the figures the JSON holds:

* ``scope``: which services and period the report covers, in words;
* ``measures``: the figures worth following from run to run, as numbers with the side
  that is better (:class:`Measure`): the run index colours a measure that got worse than
  in the previous run and charts it over the last runs.

Kept apart from :mod:`workbench.report.runner` so a notebook does not import the runner.
"""

from __future__ import annotations

import html
import math
from dataclasses import asdict, dataclass

import pandas as pd

from workbench.present.tables import table_html

__all__ = ["ANSWER", "HEADLINE_MIME", "SCOPE", "Measure", "read_headline", "scope_words", "show_headline"]

HEADLINE_MIME = "application/vnd.aiops-workbench.headline+json"
#: The figure that holds the report's answer in one plain sentence: shown above the table, and
#: above the figures on the run's index.
ANSWER = "answer"
#: The figure that says which services and period the report covers (shown under the answer).
SCOPE = "covers"
#: Where the measures travel in the headline read back by :func:`read_headline`.
MEASURES = "measures"


@dataclass(frozen=True)
class Measure:
    """A headline figure followed across runs.

    Parameters
    ----------
    name
        Plain words, with the unit where it has one ("alerts per week").
    value
        The number (NaN when the run could not measure it).
    better
        ``"lower"`` or ``"higher"``: which direction is an improvement.
    percent
        True for a share in [0, 1], shown as a percentage.
    """

    name: str
    value: float
    better: str = "lower"
    percent: bool = False

    def __post_init__(self):
        if self.better not in ("lower", "higher"):
            raise ValueError(f"better must be 'lower' or 'higher', got {self.better!r}")


def scope_words(services, start=None, end=None) -> str:
    """"checkout, payments; 2026-09-01 to 2026-10-30 (UTC)": which services and days a report covers.

    ``end`` is the last moment covered, not an exclusive end: pass ``end - 1ns`` for a span
    that stops at midnight.
    """
    names = [str(s) for s in services]
    who = ", ".join(names) if len(names) <= 6 else f"{len(names)} services ({', '.join(names[:3])} ...)"
    if start is None or end is None:
        return who
    first, last = (pd.Timestamp(t) for t in (start, end))
    # The words say UTC, so the dates are UTC's (a zoned time near midnight is another day there).
    first, last = (t.tz_convert("UTC") if t.tzinfo is not None else t for t in (first, last))
    return f"{who}; {first:%Y-%m-%d} to {last:%Y-%m-%d} (UTC)"


def show_headline(summary: dict, table: pd.DataFrame | None = None, *, scope: str | None = None, measures: list[Measure] | None = None) -> None:
    """Show the answer first: the ``answer`` sentence if there is one, what the report covers,
    a one-row table of the other headline figures, then an optional detail table.

    Call it once, in the first output cell. The figures (and ``scope`` and ``measures``)
    are also attached as JSON so that the report runner can put them on the run's index.
    """
    from IPython.display import display

    clean = {str(k): _jsonable(v) for k, v in summary.items()}
    if scope:
        clean[SCOPE] = scope
    figures = {k: v for k, v in clean.items() if k not in (ANSWER, SCOPE)}
    parts = [f"<p class='answer'><b>{html.escape(str(clean[ANSWER]))}</b></p>"] if clean.get(ANSWER) else []
    if scope:
        parts.append(f"<p class='scope'>Covers {html.escape(scope)}.</p>")
    if figures:
        parts.append(table_html(pd.DataFrame([figures]), classes="headline"))
    if table is not None:
        parts.append(table_html(table, classes="headline-detail"))
    payload = {"figures": list(clean.items())}
    if measures:
        payload[MEASURES] = [{**asdict(m), "value": _jsonable(m.value)} for m in measures]
    # A list of pairs, not a mapping: notebook JSON is written with sorted keys,
    # and the reading order of the figures matters.
    display({"text/html": "\n".join(parts), HEADLINE_MIME: payload}, raw=True)


def _jsonable(value):
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def read_headline(nb) -> dict | None:
    """The headline figures of an executed notebook (an ``nbformat`` node), or ``None``.

    The measures, if any, come back as a list of dicts under the ``measures`` key.
    """
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if HEADLINE_MIME in data:
                figures = {str(k): v for k, v in data[HEADLINE_MIME]["figures"]}
                if data[HEADLINE_MIME].get(MEASURES):
                    figures[MEASURES] = list(data[HEADLINE_MIME][MEASURES])
                return figures
    return None
