"""The reports of a real run, read in a real browser the way a leader reads them.

``workbench report`` runs every numbered notebook once for this module, on a small temporary
project: 42 days of two services, enough for each notebook to show what it shows on the full
sample (07's promotions and replayed comparisons included), in 60 to 90 s on 2 cores. Debian's
Chromium, driven by Playwright, then opens the run's ``index.html`` and every report from
``file://``, and each page is checked for what a reader must never meet:

- **an answer sentence first**: a visible ``p.answer`` holding a sentence (at least six words,
  ending in one full stop) before the first table and the first picture; on the index, one in
  every report's card, before the card's figures. A reader who stops after one line has the
  answer.
- **no code**: no visible input area of a code cell (markdown cells also render inside
  ``.jp-InputArea``, so only code cells' inputs count), no prompt or editor, and no line of
  text that reads as Python (``import x``, ``def f(``, ``wb.show(`` ...).
- **no traceback**: no stderr or error output area, no "Traceback", no ``File "...", line N``
  frame and no ``SomeError:`` / ``SomeWarning:`` line.
- **no pandas index column**: no visible ``th`` heading a row of data cells (how pandas renders
  the index, inside ``tbody``; a header row of ``th`` only that a browser wraps in ``tbody``
  because the table has no ``thead`` is not one) and no header whose first row starts with an
  empty cell above a second header row (the row pandas adds for the index's name).
- **no truncated cell**: no table cell ending in "..." or "…".
- **no raw artefacts**: no "+00:00" anywhere on the page, no cell reading exactly ``None``,
  ``NaN``, ``nan``, ``NaT`` or ``<NA>``.
- **nothing leaves the machine**: every request whose scheme is not ``file`` or ``data`` (a CDN
  script, a font, a web socket) is recorded and aborted; reports are read on machines without
  internet access, and a page must not tell a third party who reads it.

The browser is started once; each page is read into a plain snapshot (its visible text, its
tables, its answers, the requests it made) and closed, so the checks below are plain Python
and each names the page and the offending text. Skips where Chromium or Playwright is missing,
unless WORKBENCH_REQUIRE_SERVERS=1, where that is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import REPO, make_project, need

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]

#: A small project on which every notebook shows all it has to show: 07 needs about six weeks
#: to replay promotions (with 28 days every verdict is "not enough evidence" and its comparison
#: tables stay empty), and 28 days saved only 4 s of a 65 s run.
DAYS, SERVICES = 42, ["checkout", "payments"]
RUN_ID = "browser"
#: The reports the run must write: one per numbered notebook, as ``workbench report`` finds them.
NOTEBOOKS = sorted(p.stem for p in (REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
INDEX = "index"
PAGES = [INDEX, *NOTEBOOKS]

LOCAL_SCHEMES = {"file", "data"}
#: What counts as a picture for "the answer comes first": a plot is a PNG in an img, or an SVG.
PICTURE = "img, .jp-RenderedSVG"
#: A line of visible text that is Python rather than prose.
CODE_LINE = re.compile(
    r"^\s*(?:import [\w.]+|from [\w.]+ import \w|def \w+\(|class \w+\s*[(:]|print\(|(?:wb|workbench|pd|np|plt)\.\w+(?:\.\w+)*\()"
)
EXCEPTION_LINE = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception|Warning):")
FRAME_LINE = re.compile(r'File ".*", line \d+')
RAW_CELLS = {"None", "NaN", "nan", "NaT", "<NA>"}
TRUNCATED = ("...", "…")

#: Read once per page in the browser: everything the checks need, as plain data.
SNAPSHOT_JS = r"""
(picture) => {
  const visible = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
  const words = (el) => (el.innerText || "").replace(/\s+/g, " ").trim();
  const precedes = (a, b) => !b || Boolean(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
  const outermost = (els) => els.filter((el) => !els.some((other) => other !== el && other.contains(el)));
  const label = (table, n) => {
    const head = [...(table.rows[0]?.cells || [])].map(words).filter(Boolean).slice(0, 4).join(", ");
    return `table ${n + 1} (${head || "no header"})`;
  };
  const tables = [...document.querySelectorAll("table")];
  const answersIn = (root) => {
    const table = root.querySelector("table"), image = root.querySelector(picture);
    return [...root.querySelectorAll("p.answer")].filter(visible).map((el) => ({
      text: words(el),
      before_table: precedes(el, table),
      first_table: table ? label(table, tables.indexOf(table)) : null,
      before_picture: precedes(el, image),
    }));
  };
  return {
    text: document.body.innerText,
    answers: answersIn(document),
    cards: [...document.querySelectorAll(".card")].filter((c) => c.querySelector("h2 a")).map((c) => ({
      name: c.querySelector("h2 a").getAttribute("href").replace(/\.html$/, ""),
      answers: answersIn(c),
    })),
    code_inputs: outermost([...document.querySelectorAll(
      ".jp-CodeCell .jp-Cell-inputWrapper, .jp-CodeCell .jp-InputArea, .jp-InputPrompt, .jp-CodeMirrorEditor, .jp-Editor"
    )].filter(visible)).map((el) => words(el).slice(0, 160)),
    stderr: [...document.querySelectorAll(
      '[data-mime-type="application/vnd.jupyter.stderr"], [data-mime-type="application/vnd.jupyter.error"], .jp-OutputArea-output.jp-mod-error'
    )].map((el) => el.textContent.replace(/\s+/g, " ").trim().slice(0, 200)),
    tables: tables.map((t, n) => ({
      label: label(t, n),
      // A th in a row of data cells heads that row: how pandas shows the index (in tbody).
      body_headers: [...t.rows].filter((tr) => tr.querySelector("td"))
        .flatMap((tr) => [...tr.querySelectorAll("th")]).filter(visible).map(words),
      // Rows of th only, in thead or in the tbody a browser adds around a bare header row.
      header_rows: [...t.rows].filter((tr) => visible(tr) && !tr.querySelector("td")).map((tr) => [...tr.cells].map(words)),
      cells: [...t.querySelectorAll("td, th")].filter(visible).map(words),
    })),
  };
}
"""


def page_file(name: str) -> str:
    return f"{name}.html"


# -- the run and the browser, once per module ----------------------------------------------
@pytest.fixture(scope="module", params=["sample", "team"])
def report_run(request, tmp_path_factory) -> dict:
    """``workbench report`` (the real CLI, the whole suite) on a small temporary project: the
    sample's (42 days, two services, labelled), and a team's first day (``workbench init
    --from-csv`` on tests/data/team_metrics.csv: no incident labelled, no capacity sized), where
    every report must still answer first rather than fail or show an empty table."""
    need(CHROMIUM is not None, "Debian's chromium is not installed")
    try:
        import playwright  # noqa: F401
    except ImportError:
        need(False, "the playwright package is not installed")
    if request.param == "sample":
        config = make_project(tmp_path_factory.mktemp("browser-reports") / "project", days=DAYS, services=SERVICES)
    else:
        config = team_project(tmp_path_factory.mktemp("browser-team") / "project")
    root = config.parent
    scratch = tmp_path_factory.mktemp("browser-reports-scratch")
    # The run's own project, whatever the session's scratch copy for nbval's kernels says;
    # its kernels' temporary and connection files in a folder of the test's own.
    env = {
        **os.environ,
        "WORKBENCH_ROOT": str(root),
        "WORKBENCH_CONFIG": str(config),
        "TMPDIR": str(scratch),
        "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "report", "--run-id", RUN_ID],
        cwd=root, env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    folder = root / "reports" / RUN_ID
    if not (folder / "index.html").is_file():
        pytest.fail(f"workbench report wrote no {folder / 'index.html'} (exit {done.returncode}):\n{done.stderr[-4000:]}")
    return {"folder": folder, "returncode": done.returncode, "stderr": done.stderr}


def team_project(root: Path) -> Path:
    """A team's project as the README's "Your own data" makes it: ``workbench init --from-csv``."""
    root.mkdir(parents=True)
    shutil.copytree(REPO / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns(".ipynb_checkpoints", "conftest.py"))
    source = REPO / "tests" / "data" / "team_metrics.csv"
    env = {k: v for k, v in os.environ.items() if k not in ("WORKBENCH_ROOT", "WORKBENCH_CONFIG")}
    done = subprocess.run(
        [sys.executable, "-m", "workbench.cli", "init", "--from-csv", str(source), "--root", str(root)],
        cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"workbench init --from-csv failed (exit {done.returncode}):\n{done.stderr[-4000:]}")
    return root / "workbench.yaml"


@pytest.fixture(scope="module")
def pages(report_run) -> dict[str, dict]:
    """Every page of the run, read in one Chromium: ``{page: snapshot}``; a page the run did not
    write is missing. Each snapshot has ``outside``: the requests that tried to leave the machine."""
    from playwright.sync_api import sync_playwright

    folder: Path = report_run["folder"]
    snapshots = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, service_workers="block")
            for name in PAGES:
                path = folder / page_file(name)
                if not path.is_file():
                    continue
                page = context.new_page()
                try:
                    outside = keep_on_the_machine(page)
                    page.goto(path.as_uri(), wait_until="load", timeout=60_000)
                    page.wait_for_load_state("networkidle", timeout=30_000)  # late imports (MathJax, mermaid) too
                    snapshot = page.evaluate(SNAPSHOT_JS, PICTURE)
                finally:
                    page.close()
                snapshot["outside"] = list(outside)
                snapshots[name] = snapshot
            context.close()
        finally:
            browser.close()
    return snapshots


def keep_on_the_machine(page) -> dict[str, None]:
    """Abort every request of ``page`` that would leave the machine; returns (and keeps
    filling) the URLs tried, in order, once each: routed requests, and any request or web
    socket the route does not see."""
    outside: dict[str, None] = {}

    def note(url: str) -> None:
        if urlsplit(url).scheme not in LOCAL_SCHEMES:
            outside[url] = None

    def route(route) -> None:  # one parameter: Playwright passes the request too to a second
        if urlsplit(route.request.url).scheme in LOCAL_SCHEMES:
            route.continue_()
        else:
            note(route.request.url)
            route.abort()

    page.route("**/*", route)
    page.on("request", lambda request: note(request.url))
    page.on("websocket", lambda socket: note(socket.url))
    return outside


def snapshot_of(pages: dict[str, dict], name: str) -> dict:
    if name not in pages:
        pytest.fail(f"{page_file(name)}: the run wrote no such page")
    return pages[name]


def lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def is_sentence(text: str) -> bool:
    """Prose that ends as a sentence: at least six words and one full stop at the end."""
    return len(text.split()) >= 6 and text.endswith(".") and not text.endswith(TRUNCATED)


def cells(snapshot: dict):
    """``(table label, cell text)`` for every visible cell of every table."""
    for table in snapshot["tables"]:
        for cell in table["cells"]:
            yield table["label"], cell


def shown(found: list[str], limit: int = 8) -> str:
    more = f"\n  ... and {len(found) - limit} more" if len(found) > limit else ""
    return "\n  " + "\n  ".join(found[:limit]) + more


# -- the run --------------------------------------------------------------------------------
def test_the_run_reports_every_notebook(report_run, pages):
    assert report_run["returncode"] == 0, f"workbench report exited {report_run['returncode']}:\n{report_run['stderr'][-4000:]}"
    cards = [card["name"] for card in snapshot_of(pages, INDEX)["cards"]]
    assert cards == NOTEBOOKS, f"index.html links {cards}, expected a report for each of {NOTEBOOKS}"
    missing = [page_file(name) for name in NOTEBOOKS if name not in pages]
    assert not missing, f"the run wrote no {', '.join(missing)}"


# -- each page: one check per rule, listing every offence on the page ----------------------
def answer_problems(answers: list[dict], where: str) -> list[str]:
    """What is wrong with the first visible answer among ``answers`` (found in ``where``)."""
    if not answers:
        return [f"{where}: no visible p.answer"]
    first, problems = answers[0], []
    if not is_sentence(first["text"]):
        problems.append(f"{where}: the answer is not a sentence of six words or more ending in '.': {first['text']!r}")
    if not first["before_table"]:
        problems.append(f"{where}: {first['first_table']} comes before the answer {first['text']!r}")
    if not first["before_picture"]:
        problems.append(f"{where}: a picture comes before the answer {first['text']!r}")
    return problems


@pytest.mark.parametrize("name", PAGES)
def test_an_answer_sentence_comes_first(pages, name):
    snapshot = snapshot_of(pages, name)
    if name == INDEX:
        problems = [problem for card in snapshot["cards"] for problem in answer_problems(card["answers"], f"the card of {card['name']}")]
    else:
        problems = answer_problems(snapshot["answers"], "the page")
        if not snapshot["answers"]:
            problems.append(f"it opens with {lines(snapshot['text'])[:3]}")
    assert not problems, f"{page_file(name)}: the answer must come first, in a sentence:{shown(problems)}"


@pytest.mark.parametrize("name", PAGES)
def test_no_code(pages, name):
    snapshot = snapshot_of(pages, name)
    found = [f"code cell input: {text!r}" for text in snapshot["code_inputs"]]
    found += [f"a line of code: {line!r}" for line in lines(snapshot["text"]) if CODE_LINE.match(line)]
    assert not found, f"{page_file(name)}: code on the page:{shown(found)}"


@pytest.mark.parametrize("name", PAGES)
def test_no_traceback(pages, name):
    snapshot = snapshot_of(pages, name)
    found = [f"stderr or error output: {text!r}" for text in snapshot["stderr"]]
    found += [
        f"in the text: {line[:160]!r}"
        for line in lines(snapshot["text"])
        if "Traceback" in line or EXCEPTION_LINE.search(line) or FRAME_LINE.search(line)
    ]
    assert not found, f"{page_file(name)}: Python errors on the page:{shown(found)}"


@pytest.mark.parametrize("name", PAGES)
def test_no_pandas_index_column(pages, name):
    found = []
    for table in snapshot_of(pages, name)["tables"]:
        if table["body_headers"]:
            found.append(f"{table['label']}: row headers {table['body_headers'][:5]}")
        rows = table["header_rows"]
        if len(rows) >= 2 and rows[0] and rows[0][0] == "":
            found.append(f"{table['label']}: an empty first header cell above a second header row {rows[1][:5]}")
    assert not found, f"{page_file(name)}: a pandas index column:{shown(found)}"


@pytest.mark.parametrize("name", PAGES)
def test_no_truncated_cell(pages, name):
    found = [f"{label}: {text!r}" for label, text in cells(snapshot_of(pages, name)) if text.endswith(TRUNCATED)]
    assert not found, f"{page_file(name)}: truncated cells:{shown(found)}"


@pytest.mark.parametrize("name", PAGES)
def test_no_raw_artefacts(pages, name):
    snapshot = snapshot_of(pages, name)
    offsets = [(label, text) for label, text in cells(snapshot) if "+00:00" in text]
    found = [f"'+00:00' in {label}: {text!r}" for label, text in offsets]
    found += [  # and outside the tables, by line
        f"'+00:00' in the text: {line[:160]!r}"
        for line in lines(snapshot["text"])
        if "+00:00" in line and not any(text in line for _, text in offsets)
    ]
    found += [f"{label}: a cell reading {text!r}" for label, text in cells(snapshot) if text in RAW_CELLS]
    assert not found, f"{page_file(name)}: raw values on the page:{shown(found)}"


@pytest.mark.parametrize("name", PAGES)
def test_no_request_leaves_the_machine(pages, name):
    outside = snapshot_of(pages, name)["outside"]
    assert not outside, f"{page_file(name)}: requests that would leave the machine (aborted):{shown(outside)}"
