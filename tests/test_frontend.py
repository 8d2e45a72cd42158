"""The reader's page of the deployable Bookshelf, in a real Chromium, served by gunicorn.

The solution of lab 07 is migrated, seeded and served exactly as in production (gunicorn,
``DATABASE_URL`` and ``SECRET_KEY`` from the environment, debug off, secure cookies). A headless
Chromium opens ``/app/``, sees the books, logs a reader in and adds a review through the API.

Needs Chromium (Debian's ``chromium`` package; `.ci/run` installs it) and Playwright's Python
package (the ``dev`` extra). Playwright drives the system Chromium; it downloads no browser.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
APP = REPO / "solutions" / "07-deployment"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="needs the dev extra (playwright)")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (apt-get install chromium)"),
]
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
READER, PASSWORD = "page-reader", "a long enough password"


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flask(env, *args):
    """Run ``flask --app bookshelf ...`` in the solution folder; fail with its output."""
    proc = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "bookshelf", *args],
        cwd=APP, env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, f"flask {' '.join(args)}:\n{proc.stdout}{proc.stderr}"


@pytest.fixture(scope="module")
def bookshelf(tmp_path_factory):
    """The solution of lab 07 under gunicorn on a migrated, seeded SQLite database."""
    folder = tmp_path_factory.mktemp("frontend")
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
        "HOME": str(folder),
        "PYTHONDONTWRITEBYTECODE": "1",
        "DATABASE_URL": f"sqlite:///{folder / 'bookshelf.sqlite'}",
        "SECRET_KEY": "a-secret-for-the-frontend-test",
    }
    flask(env, "db", "upgrade")
    flask(env, "seed")
    flask(env, "create-user", READER, "--password", PASSWORD)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--no-control-socket", "wsgi:app"],
        cwd=APP, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=2)
            break
        except OSError:
            time.sleep(0.3)
    else:
        os.killpg(server.pid, signal.SIGKILL)
        pytest.fail("gunicorn did not serve the Bookshelf within 60 s")
    yield url
    os.killpg(server.pid, signal.SIGINT)
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)


@pytest.fixture
def page(bookshelf):
    """A fresh headless Chromium page."""
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield browser.new_page()
        browser.close()


def reviews_of(bookshelf, book_id):
    """The reviews of one book, read through the API."""
    with urllib.request.urlopen(f"{bookshelf}/reviews?book_id={book_id}", timeout=10) as answer:
        return json.loads(answer.read())


def test_page_lists_the_books(bookshelf, page):
    page.goto(f"{bookshelf}/app/")
    page.locator("#books .book .title", has_text="Kindred").wait_for(timeout=30_000)
    titles = page.locator("#books .book .title").all_inner_texts()
    assert "A Wizard of Earthsea" in titles and "Piranesi" in titles, titles
    assert page.locator("#login-form").is_visible(), "an anonymous visitor sees the login form"
    assert not page.locator(".review-form").first.is_visible(), "no review form before login"


def test_logged_in_reader_adds_a_review(bookshelf, page):
    page.goto(f"{bookshelf}/app/")
    page.locator("#books .book .title", has_text="A Wizard of Earthsea").wait_for(timeout=30_000)
    page.fill("#login-form input[name=username]", READER)
    page.fill("#login-form input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.get_by_text(f"Logged in as {READER}.").wait_for(timeout=30_000)
    book = page.locator("#books .book", has=page.locator(".title", has_text="A Wizard of Earthsea"))
    book.locator("select[name=rating]").select_option("4")
    book.locator("input[name=body]").fill("Read it in one sitting.")
    book.locator("button[type=submit]").click()
    page.get_by_text("Your review of A Wizard of Earthsea is saved.").wait_for(timeout=30_000)
    book.locator(".reviews li", has_text=f"4/5 by {READER}").wait_for(timeout=30_000)
    book_id = int(book.get_attribute("data-book-id"))
    stored = [r for r in reviews_of(bookshelf, book_id) if r["username"] == READER]
    assert stored and stored[0]["rating"] == 4, stored
    assert stored[0]["body"] == "Read it in one sitting."
