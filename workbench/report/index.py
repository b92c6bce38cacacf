"""The HTML a report run leaves behind: each notebook without code, the run's
``index.html`` (run id, time, source, commit, each report's status and headline figures)
and the index of all runs.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict
from pathlib import Path

import nbformat
import pandas as pd
from nbconvert import HTMLExporter

from workbench._util import atomic_write_text
from workbench.contracts import NotebookStatus
from workbench.report.results import RunResult

__all__ = ["render_html", "write_run", "write_runs_index"]


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:72rem;color:#222;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem} .meta{color:#666;font-size:.9rem;margin-bottom:1.5rem}
table{border-collapse:collapse;margin:.5rem 0 1.5rem} th,td{padding:.3rem .7rem;border-bottom:1px solid #ddd;text-align:left;font-size:.9rem}
.ok{color:#1a7f37;font-weight:600} .failed{color:#cf222e;font-weight:600} .error{color:#cf222e;font-family:monospace;font-size:.85rem}
.card{border:1px solid #ddd;border-radius:6px;padding:.8rem 1rem;margin-bottom:1rem}
"""


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>"
    )


def _status(ok: bool) -> NotebookStatus:
    # The CSS classes are named after the statuses.
    return NotebookStatus.OK if ok else NotebookStatus.FAILED


def write_run(result: RunResult) -> None:
    data = asdict(result)
    data["folder"] = str(result.folder)
    data["ok"] = result.ok
    atomic_write_text(result.folder / "run.json", json.dumps(data, indent=2, default=str))
    cards = []
    for nb in result.notebooks:
        link = f"<a href='{html.escape(nb.html)}'>{html.escape(nb.name)}</a>" if nb.html else html.escape(nb.name)
        status = f"<span class='{nb.status}'>{nb.status}</span> in {nb.seconds:.1f}s"
        detail = ""
        if nb.error:
            detail += f"<p class='error'>{html.escape(nb.error)}</p>"
        if nb.headline:
            detail += pd.DataFrame([nb.headline]).to_html(index=False, border=0, na_rep="–", escape=True)
        cards.append(f"<div class='card'><h2>{link}</h2><p>{status}</p>{detail}</div>")
    overall = "all reports succeeded" if result.ok else "some reports failed"
    params = ", ".join(f"{k}={v}" for k, v in result.parameters.items()) or "defaults"
    meta = (
        f"<div class='meta'>run {html.escape(result.run_id)} · started {html.escape(result.started)} · "
        f"source <b>{html.escape(result.source)}</b> · commit {html.escape(result.commit)} · "
        f"parameters: {html.escape(params)} · <span class='{_status(result.ok)}'>{overall}</span></div>"
    )
    body = f"<h1>aiops-workbench report</h1>{meta}{''.join(cards)}<p><a href='../index.html'>all runs</a></p>"
    atomic_write_text(result.folder / "index.html", _page(f"report {result.run_id}", body))


def write_runs_index(reports: Path) -> None:
    rows = []
    for run_file in sorted(reports.glob("*/run.json"), reverse=True):
        if run_file.parent.is_symlink():
            continue
        try:
            run = json.loads(run_file.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        status = _status(bool(run.get("ok")))
        names = ", ".join(nb["name"] for nb in run.get("notebooks", []))
        rows.append(
            f"<tr><td><a href='{html.escape(run['run_id'])}/index.html'>{html.escape(run['run_id'])}</a></td>"
            f"<td>{html.escape(run.get('started', ''))}</td><td>{html.escape(run.get('source', ''))}</td>"
            f"<td class='{status}'>{status}</td><td>{html.escape(names)}</td></tr>"
        )
    table = "<table><tr><th>run</th><th>started</th><th>source</th><th>status</th><th>notebooks</th></tr>" + "".join(rows) + "</table>"
    body = "<h1>aiops-workbench runs</h1><p class='meta'><a href='latest/index.html'>latest good run</a></p>" + table
    atomic_write_text(reports / "index.html", _page("aiops-workbench runs", body))


def render_html(nb: nbformat.NotebookNode, title: str) -> str:
    exporter = HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    nb.metadata.setdefault("title", title)
    body, _ = exporter.from_notebook_node(nb)
    return body
