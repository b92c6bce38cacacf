"""The headline protocol: a notebook shows its answer first, and the run index reads it back.

:func:`show_headline` displays the figures as a table for the reader and also
attaches them as JSON (``application/vnd.aiops-workbench.headline+json``), which
:func:`read_headline` finds in the executed notebook. Kept apart from
:mod:`workbench.report.runner` so a notebook does not import the report runner.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["ANSWER", "HEADLINE_MIME", "read_headline", "show_headline"]

HEADLINE_MIME = "application/vnd.aiops-workbench.headline+json"
#: The figure that holds the report's answer in one plain sentence: shown above the table, and
#: above the figures on the run's index.
ANSWER = "answer"


def show_headline(summary: dict, table: pd.DataFrame | None = None) -> None:
    """Show the answer first: the ``answer`` sentence if there is one, a one-row table of the
    other headline figures, then an optional detail table.

    Call it once, in the first output cell. The figures are also attached as JSON
    so that :func:`run_report` can put them on the run's index page.
    """
    import html

    from IPython.display import display

    clean = {str(k): _jsonable(v) for k, v in summary.items()}
    figures = {k: v for k, v in clean.items() if k != ANSWER}
    parts = [f"<p class='answer'><b>{html.escape(str(clean[ANSWER]))}</b></p>"] if clean.get(ANSWER) else []
    if figures:
        parts.append(pd.DataFrame([figures]).to_html(index=False, border=0, classes="headline"))
    if table is not None:
        parts.append(table.to_html(border=0, classes="headline-detail"))
    # A list of pairs, not a mapping: notebook JSON is written with sorted keys,
    # and the reading order of the figures matters.
    display({"text/html": "\n".join(parts), HEADLINE_MIME: {"figures": list(clean.items())}}, raw=True)


def _jsonable(value):
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def read_headline(nb) -> dict | None:
    """The headline figures of an executed notebook (an ``nbformat`` node), or ``None``."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if HEADLINE_MIME in data:
                return {str(k): v for k, v in data[HEADLINE_MIME]["figures"]}
    return None
