"""The HTML a report run leaves behind: each notebook without code, the run's
``index.html`` (run id, time, source, commit, how far the run got, each report's status
and headline figures) and the index of all runs.

These pages are for readers who never open a notebook, so everything on them, and in
``run.json``, has its credentials masked (:func:`workbench._secrets.redact`), and a run
that is not known to have finished well is never shown in green.
"""

from __future__ import annotations

import html
import json
import logging
from dataclasses import asdict
from pathlib import Path

import nbformat
import pandas as pd
from nbconvert import HTMLExporter

from workbench._secrets import redact, redact_tree
from workbench._util import atomic_write_text
from workbench.present.headline import ANSWER, MEASURES, SCOPE
from workbench.present.tables import table_html
from workbench.report import front
from workbench.report.results import RunResult, RunState
from workbench.report.runs import run_records

__all__ = ["failure_page", "render_html", "write_run", "write_runs_index"]


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:72rem;color:#222;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem} .meta{color:#666;font-size:.9rem;margin-bottom:1.5rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem} th,td{padding:.3rem .7rem;border-bottom:1px solid #ddd;text-align:left;font-size:.9rem}
.ok{color:#1a7f37;font-weight:600} .failed{color:#cf222e;font-weight:600} .error{color:#cf222e;font-family:monospace;font-size:.85rem}
.running{color:#9a6700;font-weight:600} .pending{color:#666;font-weight:600}
.card{border:1px solid #ddd;border-radius:6px;padding:.8rem 1rem;margin-bottom:1rem}
"""

#: What a run that says ``running`` is called on a page: a static page cannot tell a run in
#: progress from one killed outright, which never got to say so.
RUNNING_OR_KILLED = "running or killed"

#: Where the report's nbconvert template lives (``offline``: lab without CDN scripts).
TEMPLATES = Path(__file__).with_name("templates")


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}{front.css()}</style></head><body>{body}</body></html>"
    )


def _run_status(run: dict) -> tuple[str, str]:
    """The CSS class and the words for a run's overall status, from its ``run.json`` data."""
    state = run.get("state", RunState.COMPLETE)  # runs recorded before states existed
    done, planned = len(run.get("notebooks", [])), len(run.get("planned") or run.get("notebooks", []))
    progress = f"{done} of {planned} notebooks done"
    if state == RunState.RUNNING:
        return "running", f"{RUNNING_OR_KILLED}: {progress}"
    if state == RunState.INTERRUPTED:
        return "failed", f"{run.get('reason') or 'interrupted'}: {progress}"  # "interrupted by SIGTERM: ..."
    if state == RunState.FAILED:
        return "failed", f"run failed ({run.get('reason') or 'unknown error'}): {progress}"
    if run.get("ok"):
        return "ok", "all reports succeeded"
    return "failed", "some reports failed"


def _short_status(run: dict) -> tuple[str, str]:
    """The CSS class and one or two words for the runs index."""
    css, _ = _run_status(run)
    words = {RunState.RUNNING: RUNNING_OR_KILLED, RunState.INTERRUPTED: "interrupted", RunState.FAILED: "run failed"}
    return css, words.get(run.get("state"), "ok" if css == "ok" else "failed")


def _card(nb: dict, previous: dict | None = None) -> str:
    """One report on the front page: its title, status, answer, what it covers, its figures,
    and the followed figures against ``previous`` (the previous good run's record)."""
    title = html.escape(nb.get("title") or nb["name"])
    heading = f"<a href='{html.escape(nb['html'])}'>{title}</a>" if nb.get("html") else title
    if nb.get("title"):
        heading += f" <span class='title-name'>{html.escape(nb['name'])}</span>"
    status = f"<span class='{nb['status']}'>{nb['status']}</span> in {nb['seconds']:.1f}s"
    detail = ""
    if nb.get("error"):
        log = f" <a href='{html.escape(nb['executed'])}'>executed notebook (log)</a>" if nb.get("executed") else ""
        detail += f"<p class='error'>{html.escape(nb['error'])}</p><p>For engineers:{log or ' no executed notebook was kept'}</p>"
    figures = dict(nb.get("headline") or {})
    answer = figures.pop(ANSWER, None)
    scope = figures.pop(SCOPE, None)
    measures = figures.pop(MEASURES, None) or []
    if answer:
        detail += f"<p class='answer'>{html.escape(str(answer))}</p>"  # the report's answer, in words, first
    if scope:
        detail += f"<p class='scope'>Covers {html.escape(str(scope))}.</p>"
    if figures:
        detail += table_html(pd.DataFrame([figures]))
    detail += front.measure_rows(nb["name"], measures, previous)
    return f"<div class='card'><h2>{heading}</h2><p>{status}</p>{detail}</div>"


def _unfinished_card(name: str, run: dict) -> str:
    if name == run.get("current"):  # the notebook that was running when the record was last written
        state = run.get("state")
        css, words = ("running", RUNNING_OR_KILLED) if state == RunState.RUNNING else ("failed", "interrupted" if state == RunState.INTERRUPTED else "stopped")
    else:
        css, words = "pending", "not run"
    return f"<div class='card'><h2>{html.escape(name)}</h2><p><span class='{css}'>{words}</span></p></div>"


def _parameter(name: str, value, scope: dict) -> str:
    """``name=value``, and the notebooks it reached when only some of them declare it."""
    reached = scope.get(name)
    return f"{name}={value}" + (f" (only {', '.join(reached)})" if reached is not None else "")


def write_run(result: RunResult) -> None:
    """Write the run's ``run.json`` and ``index.html`` (both redacted) from ``result`` as it stands.

    Called when the run starts, after each notebook and when it ends, so the pages always
    show how far it got, and list the planned notebooks that have not run.
    """
    data = asdict(result)
    data.update(folder=str(result.folder), ok=result.ok, not_run=result.not_run)
    data = redact_tree(data)
    atomic_write_text(result.folder / "run.json", json.dumps(data, indent=2, default=str))
    # Earlier runs (this one left out): the yardstick for red and amber, and the trend chart.
    records = [r for r in run_records(result.folder.parent) if r["run_id"] != data["run_id"]]
    earlier = front.good_full_runs(records, before=data["started"])
    previous = earlier[0] if earlier else None
    cards = [_card(nb, previous) for nb in data["notebooks"]] + [_unfinished_card(name, data) for name in data["not_run"]]
    css, overall = _run_status(data)
    params = ", ".join(_parameter(k, v, data.get("parameter_scope") or {}) for k, v in data["parameters"].items()) or "defaults"
    scope = f" · partial run of {', '.join(data['planned'])}: never latest" if data.get("partial") else ""
    meta = (
        f"<div class='meta'>run {html.escape(data['run_id'])} · started {html.escape(data['started'])} · "
        f"source <b>{html.escape(data['source'])}</b> · commit {html.escape(data['commit'])} · "
        f"config {html.escape(data['config'])} · parameters: {html.escape(params)}{html.escape(scope)} · "
        f"<span class='{css}'>{html.escape(overall)}</span></div>"
    )
    compared = f"<p class='meta'>Figures marked worse are compared with the previous good run, {html.escape(previous['run_id'])}.</p>" if previous else ""
    trend = front.trend_section(records, data) if data["state"] != RunState.RUNNING else ""
    body = f"<h1>aiops-workbench report</h1>{meta}{trend}{compared}{''.join(cards)}<p><a href='../index.html'>all runs</a></p>"
    atomic_write_text(result.folder / "index.html", _page(f"report {data['run_id']}", body))


def write_runs_index(reports: Path) -> None:
    """Write ``reports/index.html``: every run, newest first by start time, with how far it got.

    A partial run (a subset of the notebooks) says so before its notebooks.
    """
    rows = []
    for run in map(redact_tree, run_records(reports)):
        css, status = _short_status(run)
        names = ", ".join(nb["name"] for nb in run.get("notebooks", []))
        unfinished = [name for name in run.get("planned", []) if name not in {nb["name"] for nb in run.get("notebooks", [])}]
        if unfinished:
            names = ", ".join(filter(None, [names, f"not run: {', '.join(unfinished)}"]))
        if run.get("partial"):
            names = f"partial run: {names}"
        rows.append(
            f"<tr><td><a href='{html.escape(run['run_id'])}/index.html'>{html.escape(run['run_id'])}</a></td>"
            f"<td>{html.escape(run.get('started', ''))}</td><td>{html.escape(run.get('source', ''))}</td>"
            f"<td class='{css}'>{status}</td><td>{html.escape(names)}</td></tr>"
        )
    table = "<table><tr><th>run</th><th>started</th><th>source</th><th>status</th><th>notebooks</th></tr>" + "".join(rows) + "</table>"
    body = "<h1>aiops-workbench runs</h1><p class='meta'><a href='latest/index.html'>latest good run</a></p>" + table
    atomic_write_text(reports / "index.html", _page("aiops-workbench runs", body))


def render_html(nb: nbformat.NotebookNode, title: str) -> str:
    """A notebook's outputs as one HTML page, without code cells or prompts, and without
    scripts fetched from anywhere (the page works offline and never calls out)."""
    exporter = HTMLExporter(
        extra_template_basedirs=[str(TEMPLATES)],
        template_name="offline",  # the lab template without its CDN scripts: reports work offline
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    # nbconvert warns "Alternative text is missing on N image(s)" for every plot, on every run,
    # and gives them a generic alt text itself: a line per notebook that reads like a failure
    # to whoever runs the report. (Real descriptions for the plots are still to come.)
    exporter.log.setLevel(logging.ERROR)
    nb.metadata.setdefault("title", title)
    body, _ = exporter.from_notebook_node(nb)
    return body


def failure_page(name: str, error: str, executed: str | None) -> str:
    """The page for a notebook that failed: its name, the failing cell and a one-line error.

    The traceback names machine paths and servers, so it stays in the executed notebook
    (``executed``, relative to the run folder) for whoever debugs it.
    """
    error = redact(error)
    kept = f"<p class='meta'>The executed notebook is kept for engineers: {html.escape(executed)}</p>" if executed else ""
    body = (
        f"<h1>{html.escape(name)}</h1><div class='card'><p><span class='failed'>failed</span></p>"
        f"<p class='error'>{html.escape(error)}</p></div>{kept}<p><a href='index.html'>this run</a></p>"
    )
    return _page(f"{name} (failed)", body)
