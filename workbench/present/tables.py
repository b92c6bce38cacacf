"""Tables a leader reads: plain headings, no index column, one timezone, rounded numbers.

A report's reader never sees pandas: a table is shown with :func:`show_table`, which runs
it through :func:`plain_table` first:

* the index becomes ordinary columns (a plain ``RangeIndex`` is dropped);
* times lose their ``+00:00`` (a report states its timezone, UTC, once in its prose) and
  show the minute, or only the day where every time in the column is midnight;
* numbers are rounded as a person would (``86,257``, ``182.6``, ``0.31``) and a column of
  whole numbers shows no decimals;
* an empty cell (``None``, ``NaN``, ``NaT``) shows a dash, a list its items;
* no cell is cut short (the notebook ``repr`` stops at 50 characters; this does not);
* an empty table is a sentence, ``none`` by default, never a bare header row.
"""

from __future__ import annotations

import html
import math
from numbers import Number

import numpy as np
import pandas as pd

__all__ = ["DASH", "plain_number", "plain_table", "show_table", "table_html"]

#: What an empty cell shows.
DASH = "—"


def plain_number(value: float, digits: int = 2) -> str:
    """``value`` rounded as a person would: whole above 100 (with thousands separators),
    one decimal from 10, ``digits`` significant figures below (``0.0042``, ``3.4``)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return DASH if value is None or math.isnan(value) else ("∞" if value > 0 else "−∞")
    magnitude = abs(value)
    if magnitude >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    text = f"{value:.{digits}g}"
    return text if "e" not in text else f"{value:.{digits}e}"


def _is_missing(value) -> bool:
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array: not one missing value
        return False


def _time_format(column: pd.Series) -> str:
    times = pd.to_datetime(column.dropna(), utc=True)
    at_midnight = bool(len(times)) and bool((times == times.dt.normalize()).all())
    return "%Y-%m-%d" if at_midnight else "%Y-%m-%d %H:%M"


def _cell(value, time_format: str | None) -> str:
    if isinstance(value, (list, tuple, set, np.ndarray)):
        items = [_cell(v, time_format) for v in value]
        return ", ".join(items) if items else DASH
    if _is_missing(value):
        return DASH
    if isinstance(value, (pd.Timestamp, np.datetime64)) or hasattr(value, "tzinfo") and hasattr(value, "strftime"):
        stamp = pd.Timestamp(value)
        stamp = stamp.tz_convert("UTC") if stamp.tzinfo is not None else stamp
        return stamp.strftime(time_format or "%Y-%m-%d %H:%M")
    if isinstance(value, (pd.Timedelta, np.timedelta64)):
        return _duration(pd.Timedelta(value))
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, Number):
        return plain_number(float(value)) if not isinstance(value, (int, np.integer)) else f"{int(value):,}"
    return str(value)


def _duration(delta: pd.Timedelta) -> str:
    minutes = delta / pd.Timedelta(minutes=1)
    if abs(minutes) < 120:
        return f"{minutes:.0f} min"
    if abs(minutes) < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"


def plain_table(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as strings a person reads (see the module notes); the input is not changed.

    Column names keep their words; an underscore becomes a space.
    """
    out = frame.copy()
    if not isinstance(out.index, pd.RangeIndex) or any(name is not None for name in out.index.names):
        out = out.reset_index()
    elif out.index.name is None:
        out = out.reset_index(drop=True)
    if isinstance(out.columns, pd.MultiIndex):
        out.columns = [" ".join(str(p) for p in parts if str(p)) for parts in out.columns]
    cells = {}
    for position, name in enumerate(out.columns):
        column = out.iloc[:, position]
        time_format = _time_format(column) if pd.api.types.is_datetime64_any_dtype(column) else None
        if column.dtype == object and column.map(lambda v: isinstance(v, pd.Timestamp)).any():
            time_format = _time_format(column[column.map(lambda v: isinstance(v, pd.Timestamp))])
        if pd.api.types.is_float_dtype(column) and column.dropna().map(float.is_integer).all() and column.notna().any():
            cells[position] = [DASH if pd.isna(v) else f"{int(v):,}" for v in column]
        else:
            cells[position] = [_cell(v, time_format) for v in column]
    names = [str(c).replace("_", " ") for c in out.columns]
    return pd.DataFrame({i: cells[i] for i in range(len(names))}).set_axis(names, axis=1)


def table_html(frame: pd.DataFrame, empty: str = "none", classes: str = "plain") -> str:
    """The HTML of :func:`plain_table` (escaped, no index), or ``empty`` as a paragraph."""
    if frame is None or len(frame) == 0:
        return f"<p class='empty'>{html.escape(empty)}</p>"
    return plain_table(frame).to_html(index=False, border=0, classes=classes, escape=True)


def show_table(frame: pd.DataFrame, empty: str = "none") -> None:
    """Display ``frame`` in a notebook as a plain table (see the module notes)."""
    from IPython.display import HTML, display

    display(HTML(table_html(frame, empty)))
