"""A student opens the course in a real JupyterLab, in a real browser, and checks progress.

Needs Chromium (Debian's ``chromium`` package; `.ci/run` installs it) and Playwright's Python
package (the ``dev`` extra). Playwright drives the system Chromium; it downloads no browser.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="needs the dev extra (playwright)")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install chromium)"),
]
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TOKEN = "studyguide-test-token"


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def progress_notebook():
    """A one-cell notebook that shows a lab's progress, as a student would write it."""
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "id": "progress",
        "metadata": {},
        "outputs": [],
        "source": 'from studyguide.progress import show_progress\nshow_progress("01-routing")',
    }
    return {
        "cells": [cell],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def start_jupyterlab(root, env, *extra):
    """Start a real JupyterLab server on ``root``; return (process, url) once it answers."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={TOKEN}",
            "--allow-root",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.open_browser=False",
            *extra,
        ],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            return server, url
        except OSError:
            time.sleep(0.5)
    server.kill()
    server.wait(timeout=20)
    pytest.fail("JupyterLab did not start within 90 s")


def stop(server):
    """Stop a JupyterLab server started by ``start_jupyterlab``."""
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def jupyterlab(tmp_path_factory):
    """A real JupyterLab server on the repository's student view (labs and notebooks)."""
    root = tmp_path_factory.mktemp("student")
    for name in ("course.toml", "labs", "notebooks", "modules"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    (root / "progress.ipynb").write_text(json.dumps(progress_notebook()))
    server, url = start_jupyterlab(root, {"JUPYTER_CONFIG_DIR": str(root / ".jupyter-config")})
    yield url
    stop(server)


@pytest.fixture(scope="module")
def student_edition_jupyterlab(tmp_path_factory, built_student_edition):
    """JupyterLab as a student starts it: the built student edition after `studyguide setup`.

    This environment has nbgrader installed (instructors need it), so its instructor interface
    would show unless the edition's settings turn it off.
    """
    from studyguide.cli import main

    base = tmp_path_factory.mktemp("edition")
    edition = built_student_edition[0]
    settings = base / "venv-etc-jupyter"
    assert main(["--root", str(edition), "setup", "--config-dir", str(settings)]) == 0
    env = {"JUPYTER_CONFIG_PATH": str(settings), "JUPYTER_CONFIG_DIR": str(base / "user")}
    server, url = start_jupyterlab(edition, env, "--LabApp.expose_app_in_browser=True")
    yield url
    stop(server)


@pytest.fixture
def page(jupyterlab):
    """A fresh headless Chromium page."""
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser.new_page()
        browser.close()


def test_lesson_notebook_opens_in_jupyterlab(jupyterlab, page):
    page.goto(f"{jupyterlab}/lab/tree/notebooks/01-routing.ipynb?token={TOKEN}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    first_cell = json.loads((REPO / "notebooks" / "01-routing.ipynb").read_text())["cells"][0]
    heading = "".join(first_cell["source"]).splitlines()[0].lstrip("# ").strip()
    page.locator(".jp-Notebook .jp-MarkdownOutput", has_text=heading).first.wait_for(timeout=60_000)
    assert heading in page.locator(".jp-Notebook").inner_text()


def test_progress_runs_from_a_notebook_cell_in_jupyterlab(jupyterlab, page):
    page.goto(f"{jupyterlab}/lab/tree/progress.ipynb?token={TOKEN}")
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=60_000)
    # the kernel must be up before the cell runs: the status bar says so
    page.get_by_text("(ipykernel) | Idle").first.wait_for(timeout=90_000)
    page.locator(".jp-Notebook .jp-CodeCell .cm-content").first.click()
    page.keyboard.press("Shift+Enter")
    output = page.locator(".jp-OutputArea-output").first
    output.wait_for(timeout=120_000)
    page.wait_for_function(
        "() => document.querySelector('.jp-OutputArea-output').innerText.includes('Hint:')",
        timeout=120_000,
    )
    text = output.inner_text()
    assert "01-routing" in text and "FAIL" in text and "Hint:" in text


INSTRUCTOR_PLUGINS = [
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:menu",
]
NEWS_PLUGIN = "@jupyterlab/apputils-extension:announcements"
VALIDATE_PLUGIN = "@jupyter/nbgrader:validate-assignment"


def test_student_edition_jupyterlab_has_no_instructor_interface_and_no_news(
    student_edition_jupyterlab,
):
    url = student_edition_jupyterlab
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.goto(f"{url}/lab/tree/notebooks/01-routing.ipynb?token={TOKEN}")
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
        page.wait_for_function("() => window.jupyterapp !== undefined", timeout=60_000)
        plugins = {
            plugin: page.evaluate("id => window.jupyterapp.hasPlugin(id)", plugin)
            for plugin in [*INSTRUCTOR_PLUGINS, NEWS_PLUGIN, VALIDATE_PLUGIN]
        }
        # nbgrader's extension is installed and loaded (its student-side Validate stays) ...
        assert plugins.pop(VALIDATE_PLUGIN) is True
        # ... but none of its instructor plugins, and not the news announcements.
        assert plugins == dict.fromkeys([*INSTRUCTOR_PLUGINS, NEWS_PLUGIN], False)
        page.wait_for_timeout(3000)  # time for a pop-up to appear, were there one
        menus = page.locator("#jp-menu-panel").inner_text()
        assert "Nbgrader" not in menus and "Formgrader" not in menus
        body = page.locator("body").inner_text()
        assert "Create Assignment" not in body
        assert "news" not in body.lower(), "no pop-up asks about Jupyter news"
        browser.close()
    try:
        urllib.request.urlopen(f"{url}/formgrader?token={TOKEN}", timeout=10)
        reached_formgrader = True
    except urllib.error.HTTPError as error:
        reached_formgrader = error.code != 404
    assert not reached_formgrader, "the formgrader server extension is off"
