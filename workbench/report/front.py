"""The run index as a front page: each report's figures against the previous run, and a
small chart of the headline figures over the last runs.

A notebook names the figures worth following (:class:`workbench.present.headline.Measure`:
a value and the side that is better). Against the previous *good run of the whole suite*
(ad-hoc subsets and failed runs measure something else, so they are never the yardstick):

* **red**: worse by 10 % or more of the previous value (5 points or more for a share), or
  worse from a previous value of zero (a first missed incident is never small);
* **amber**: worse, by less than that;
* no colour: the same or better, or nothing to compare with.

The chart draws each measure over the last :data:`TREND_RUNS` good runs as an inline SVG
line (no script, no image file: the page works offline).
"""

from __future__ import annotations

import html
import math

from workbench.present.tables import plain_number
from workbench.present.words import share

__all__ = ["TREND_RUNS", "change_level", "css", "good_full_runs", "measure_rows", "trend_section"]

#: How many good runs the trend chart covers.
TREND_RUNS = 12
#: Relative worsening (of the previous value) from which a measure is red, and the same in
#: percentage points for shares.
RED_RELATIVE, RED_POINTS = 0.10, 5.0

_CSS = """
.worse-red{color:#cf222e;font-weight:600} .worse-amber{color:#9a6700;font-weight:600}
.trend{display:flex;flex-wrap:wrap;gap:1rem;margin:0 0 1.5rem} .trend figure{margin:0;border:1px solid #ddd;border-radius:6px;padding:.4rem .6rem}
.trend figcaption{font-size:.8rem;color:#444} .scope{color:#555;font-size:.9rem} .title-name{color:#888;font-size:.8rem;font-weight:400}
"""


def change_level(previous: float | None, current: float | None, better: str, percent: bool = False) -> str | None:
    """``"red"``, ``"amber"`` or ``None`` (same, better or not comparable); see the module notes."""
    if previous is None or current is None or not (math.isfinite(previous) and math.isfinite(current)):
        return None
    delta = current - previous
    worse = delta > 0 if better == "lower" else delta < 0
    if not worse or abs(delta) < 1e-12:
        return None
    if percent:
        return "red" if round(abs(delta) * 100, 9) >= RED_POINTS else "amber"
    if previous == 0 or abs(delta) / abs(previous) >= RED_RELATIVE:
        return "red"
    return "amber"


def good_full_runs(records: list[dict], before: str | None = None) -> list[dict]:
    """The complete, all-ok runs of the whole suite, newest first, started before ``before``
    (a ``run.json`` ``started`` text; ``None``: all). ``records`` come newest first."""
    runs = [r for r in records if r.get("ok") and not r.get("partial") and r.get("state", "complete") == "complete"]
    if before is not None:
        runs = [r for r in runs if r.get("started", "") < before]
    return runs


def _measures(run: dict) -> dict[tuple[str, str], dict]:
    """``{(notebook, measure name): measure}`` of one run record."""
    out = {}
    for nb in run.get("notebooks", []):
        for m in (nb.get("headline") or {}).get("measures") or []:
            out[(nb["name"], m["name"])] = m
    return out


def _text(value: float, percent: bool) -> str:
    """A followed figure as the page shows it: a share as "23 %" (never rounded into "all" or
    "none"), anything else rounded as a person would."""
    return share(value) if percent else plain_number(value)


def _shown(m: dict) -> str:
    value = m.get("value")
    return "—" if value is None else _text(value, bool(m.get("percent")))


def measure_rows(notebook: str, measures: list[dict], previous: dict | None) -> str:
    """A small table: each measure now, in the previous good run, and red/amber where worse."""
    if not measures:
        return ""
    before = _measures(previous) if previous else {}
    rows = []
    for m in measures:
        old = before.get((notebook, m["name"]))
        level = change_level(old.get("value") if old else None, m.get("value"), m.get("better", "lower"), m.get("percent", False))
        mark = f" <span class='worse-{level}'>worse</span>" if level else ""
        css = f" class='worse-{level}'" if level else ""
        rows.append(
            f"<tr><td>{html.escape(m['name'])}</td><td{css}>{_shown(m)}{mark}</td>"
            f"<td>{_shown(old) if old else 'no earlier run'}</td></tr>"
        )
    head = "<tr><th>followed figure</th><th>this run</th><th>previous good run</th></tr>"
    return f"<table class='measures'>{head}{''.join(rows)}</table>"


def _svg(values: list[float | None], percent: bool) -> str:
    """An inline line chart of ``values`` (oldest first), 180 by 48 pixels."""
    width, height, pad = 180, 48, 4
    points = [(i, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if not points:
        return ""
    low, high = min(v for _, v in points), max(v for _, v in points)
    span = (high - low) or 1.0
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    xy = [(pad + i * step, height - pad - (v - low) / span * (height - 2 * pad)) for i, v in points]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    last_x, last_y = xy[-1]
    first, last = points[0][1], points[-1][1]
    label = html.escape(
        f"from {_text(first, percent)} to {_text(last, percent)} over {len(values)} runs; lowest {_text(low, percent)}, highest {_text(high, percent)}"
    )
    return (
        f"<svg role='img' aria-label='{label}' width='{width}' height='{height}' viewBox='0 0 {width} {height}'>"
        f"<title>{label}</title><polyline fill='none' stroke='#0969da' stroke-width='2' points='{line}'/>"
        f"<circle cx='{last_x:.1f}' cy='{last_y:.1f}' r='3' fill='#0969da'/></svg>"
    )


def trend_section(records: list[dict], current: dict) -> str:
    """The chart of every followed figure over the last good runs, ending with ``current``.

    ``current`` is this run's record; it is drawn as the last point when it is itself a good
    run of the whole suite. Empty when fewer than two runs have figures to draw.
    """
    runs = good_full_runs(records, before=current.get("started"))[: TREND_RUNS - 1][::-1]
    if current.get("ok") and not current.get("partial"):
        runs.append(current)
    series: dict[tuple[str, str], list] = {}
    kinds: dict[tuple[str, str], bool] = {}
    for i, run in enumerate(runs):
        for key, m in _measures(run).items():
            series.setdefault(key, [None] * len(runs))[i] = m.get("value")
            kinds[key] = bool(m.get("percent"))
    figures = []
    for (notebook, name), values in series.items():
        if sum(v is not None for v in values) < 2:
            continue
        figures.append(f"<figure>{_svg(values, kinds[(notebook, name)])}<figcaption>{html.escape(name)} ({html.escape(notebook)})</figcaption></figure>")
    if not figures:
        return ""
    return f"<h2>Over the last {len(runs)} good runs</h2><div class='trend'>{''.join(figures)}</div>"


def css() -> str:
    """The front page's extra style rules."""
    return _CSS

