"""The README's scheduling examples, run as written: the cron line mails nothing for a good run
and every timestamped line for a failed one, a same-day rerun gets its own run id, and the
systemd units pass ``systemd-analyze verify``.
"""

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from builders import write_notebook
from conftest import REPO, make_project

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")


def scheduling_section() -> str:
    text = (REPO / "README.md").read_text()
    return text[text.index("## Scheduled runs\n") : text.index("\n## ", text.index("## Scheduled runs\n") + 1)]


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", scheduling_section(), flags=re.DOTALL)


def report_cron_command() -> str:
    """The report's crontab command as cron hands it to /bin/sh (``\\%`` becomes ``%``)."""
    line = next(line for block in blocks("cron") for line in block.splitlines() if "workbench report" in line)
    command = line.split(None, 5)[5]  # after the five time fields
    assert "%" not in command.replace("\\%", ""), "an unescaped % ends a cron command"
    return command.replace("\\%", "%")


def run_as_cron(root: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    command = report_cron_command().replace("/srv/aiops-workbench", str(root)).replace(".venv/bin/workbench", str(Path(sys.executable).parent / "workbench"))
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    # cron's own environment: nearly nothing.
    env = {"HOME": str(home), "LOGNAME": "cron", "SHELL": "/bin/sh", "PATH": "/usr/bin:/bin"}
    return subprocess.run(["/bin/sh", "-c", command], env=env, capture_output=True, text=True, timeout=300, check=False)


def project(tmp_path: Path, *cells: str) -> Path:
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    for n, cell in enumerate(cells, 1):
        write_notebook(notebooks / f"0{n}_step.ipynb", cell)
    return make_project(tmp_path / "p", notebooks=notebooks, labels=False).parent


def test_the_cron_line_is_quiet_for_a_good_run_and_a_same_day_rerun_gets_its_own_id(tmp_path):
    root = project(tmp_path, "print('fine')")
    today = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d")
    first = run_as_cron(root, tmp_path)
    assert (first.returncode, first.stdout, first.stderr) == (0, "", "")  # cron mails nothing
    second = run_as_cron(root, tmp_path)
    assert (second.returncode, second.stdout, second.stderr) == (0, "", "")
    runs = sorted(p.name for p in (root / "reports").iterdir() if p.name.startswith("nightly-"))
    if runs != [f"nightly-{today}", f"nightly-{today}-2"]:  # the day may have turned between the runs
        assert len(runs) == 2 and all(r.startswith("nightly-") for r in runs), runs
    assert os.readlink(root / "reports" / "latest") in runs


def test_the_cron_line_prints_every_timestamped_line_of_a_failed_run(tmp_path):
    root = project(tmp_path, "print('fine')", "raise RuntimeError('the store is down')")
    done = run_as_cron(root, tmp_path)
    assert done.returncode == 0 and done.stderr == ""  # all of it on stdout, which cron mails
    lines = done.stdout.splitlines()
    assert lines[-1].startswith("reports/nightly-") and lines[-1].endswith("/index.html")  # the index path, unstamped
    assert lines[:-1] and all(STAMP.match(line) for line in lines[:-1]), lines
    assert any("FAILED 02_step: cell 1: RuntimeError: the store is down" in line for line in lines)


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_the_systemd_units_verify(tmp_path):
    units = {}
    for block in blocks("ini"):
        name = block.splitlines()[0].removeprefix("# ").split()[0]
        units[name] = block
    assert set(units) == {"aiops-report.service", "aiops-report.timer", "notify-oncall@.service"}
    assert "OnFailure=notify-oncall@%n.service" in units["aiops-report.service"]
    folder = tmp_path / "units"
    folder.mkdir()
    for name, text in units.items():
        # The example's paths, pointed at this checkout so that ExecStart names a real program.
        (folder / name).write_text(text.replace("/srv/aiops-workbench", str(REPO)))
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(str(folder / name) for name in sorted(units))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and done.stderr.strip() == "", done.stderr
