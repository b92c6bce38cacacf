"""End to end in a real browser: label an incident in JupyterLab, find it in the incident log.

Starts JupyterLab on 127.0.0.1 (token, temporary HOME and settings, the news pop-up
off) over a temporary project, opens notebooks/02_label_incidents.ipynb in Debian's
Chromium driven by Playwright, runs all cells, types a cause, clicks "Add incident",
and checks the incident log. Skips where Chromium or Playwright is missing, unless
WORKBENCH_REQUIRE_SERVERS=1 (set by .ci/run), where that is a failure.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import make_project, need

from workbench.testing.process import free_port

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture()
def lab(tmp_path):
    """JupyterLab serving a fresh 14-day project; yields (url, token, project folder)."""
    need(CHROMIUM is not None, "Debian's chromium is not installed")
    try:
        import playwright  # noqa: F401
    except ImportError:
        need(False, "the playwright package is not installed")
    from workbench.config import load_config
    from workbench.sources.sample import ensure_sample

    config_path = make_project(tmp_path / "project", days=21, services=["checkout"])
    ensure_sample(load_config(config_path))
    (config_path.parent / "data" / "sample-labels" / "incidents.csv").write_text("id,service,start,end,severity,cause,resolution,labelled_by\n")
    home = tmp_path / "home"
    settings = home / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    token, port = secrets.token_hex(16), free_port()
    env = {
        **os.environ,
        "HOME": str(home),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "lab-settings"),
        "JUPYTER_CONFIG_DIR": str(home / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "MPLCONFIGDIR": str(home / "mpl"),
        "WORKBENCH_ROOT": str(config_path.parent),
    }
    env.pop("WORKBENCH_HEADLESS", None)
    server = subprocess.Popen(
        [
            sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={port}",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={config_path.parent}",
            "--ServerApp.disable_check_xsrf=False", "--LabApp.news_url=None",
            # Lets the test ask the page whether the kernel is really connected and idle.
            "--LabApp.expose_app_in_browser=True",
        ],
        env=env, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "lab.log", "w"),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not start: {(tmp_path / 'lab.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield url, token, config_path.parent
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def test_label_an_incident_in_jupyterlab(lab, tmp_path):
    from playwright.sync_api import sync_playwright

    url, token, project = lab
    log = project / "data" / "sample-labels" / "incidents.csv"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/lab/tree/notebooks/02_label_incidents.ipynb?token={token}", timeout=60_000)
            page.wait_for_selector(".jp-Notebook", timeout=60_000)
            # The toolbar says "idle" before the kernel's connection is complete; a click on
            # Run All then does nothing. Wait for the session's kernel itself, as a user waits.
            page.wait_for_function(
                "() => window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel?.connectionStatus === 'connected'"
                " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
                timeout=90_000,
            )
            for _attempt in range(3):
                page.get_by_role("menuitem", name="Run", exact=True).click()
                page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
                try:  # a prompt like [1]: or [*]: shows the cells were sent to the kernel
                    page.wait_for_selector(".jp-InputPrompt:has-text('[1]'), .jp-InputPrompt:has-text('[*]')", timeout=20_000)
                    break
                except Exception:
                    continue
            add = page.get_by_role("button", name="Add incident")
            try:
                add.wait_for(timeout=120_000)
            except Exception:
                page.screenshot(path=str(tmp_path / "failed.png"))
                raise
            page.get_by_placeholder("what broke, in a few words").fill("partial_outage: labelled in the browser test")
            add.click()
            page.get_by_text("added INC-0001").wait_for(timeout=30_000)
            page.screenshot(path=str(tmp_path / "labeller.png"))
        finally:
            browser.close()
    rows = log.read_text().splitlines()
    assert len(rows) == 2 and rows[1].startswith("INC-0001,checkout,")
    assert rows[1].split(",")[5] == "partial_outage: labelled in the browser test"
