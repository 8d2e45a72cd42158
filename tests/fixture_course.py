"""Build a tiny course on disk, in the real layout, for the checker's own tests.

Two available modules: ``01-hello`` adds a greeting route, ``02-goodbye`` a farewell route on
top of it. Tests copy this course and break one thing at a time.
"""

import shutil
import textwrap
from pathlib import Path

from studyguide.generate import write_lab
from studyguide.manifest import load_course

REPO = Path(__file__).resolve().parent.parent

MODULE_IDS = ["01-hello", "02-goodbye"] + [f"{n:02d}-later-{n}" for n in range(3, 10)]

APP_01 = '''\
"""A tiny app used to test the course checker."""

from flask import Flask


def create_app(test_config=None):
    """Create the app."""
    app = Flask(__name__)
    app.config.from_mapping(test_config or {})

    @app.get("/")
    def index():
        """Name the app."""
        return {"name": "tiny"}

    @app.get("/hello/<name>")
    def hello(name):
        """Greet a visitor."""
        # TODO(01-hello): greet the visitor by name.
        ### BEGIN SOLUTION
        return {"greeting": f"Hello, {name}!"}
        ### END SOLUTION

    return app
'''

GRADERS_01 = """\
import pytest


@pytest.mark.grade(points=2, hint="Answer with a greeting that names the visitor.")
def test_hello_names_the_visitor(client):
    assert client.get("/hello/ada").get_json() == {"greeting": "Hello, ada!"}


@pytest.mark.grade(points=1, hint="Any name works.")
def test_hello_works_for_any_name(client):
    assert client.get("/hello/bob").status_code == 200
"""

GRADERS_02 = """\
import pytest


@pytest.mark.grade(points=2, hint="Say goodbye by name.")
def test_goodbye_names_the_visitor(client):
    assert client.get("/goodbye/ada").get_json() == {"farewell": "Goodbye, ada!"}
"""

VISIBLE_01 = """\
import pytest


@pytest.mark.grade(points=1, hint="Greet by name.")
def test_hello(client):
    assert client.get("/hello/x").status_code == 200
"""

VISIBLE_02 = """\
import pytest


@pytest.mark.grade(points=1, hint="Say goodbye.")
def test_goodbye(client):
    assert client.get("/goodbye/x").status_code == 200
"""

CONFTEST = """\
import pytest

from bookshelf import create_app


@pytest.fixture
def app():
    return create_app({"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()
"""

# Lab 02 starts where lab 01 ended: the greeting is given, the farewell is the new work.
APP_02 = (
    (
        APP_01.replace("        # TODO(01-hello): greet the visitor by name.\n", "")
        .replace(
            '        ### BEGIN SOLUTION\n        return {"greeting"', '        return {"greeting"'
        )
        .replace('!"}\n        ### END SOLUTION\n\n    return app\n', '!"}\n')
    )
    + '''
    @app.get("/goodbye/<name>")
    def goodbye(name):
        """Say goodbye."""
        # TODO(02-goodbye): say goodbye by name.
        ### BEGIN SOLUTION
        return {"farewell": f"Goodbye, {name}!"}
        ### END SOLUTION

    return app
'''
)


def manifest():
    """course.toml with two available modules and seven unavailable ones."""
    tables = []
    for index, module_id in enumerate(MODULE_IDS):
        tables.append(
            textwrap.dedent(
                f"""\
                [[modules]]
                id = "{module_id}"
                title = "Module {module_id}"
                goal = "Learn {module_id}."
                topics = ["topic of {module_id}"]
                lab = "Build {module_id}."
                available = {"true" if index < 2 else "false"}
                hints = ["a hint for {module_id}"]
                """
            )
        )
    return '[course]\ntitle = "Tiny course"\npackage = "bookshelf"\n\n' + "\n".join(tables)


def write(path, text):
    """Write ``text`` to ``path``, creating folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def make_course(root):
    """Write the tiny course under ``root`` (labs generated) and return it loaded."""
    root = Path(root)
    write(root / "course.toml", manifest())
    (root / "grading").mkdir(parents=True)
    shutil.copy(REPO / "grading" / "conftest.py", root / "grading" / "conftest.py")
    for module_id, app, visible, graders in (
        ("01-hello", APP_01, VISIBLE_01, GRADERS_01),
        ("02-goodbye", APP_02, VISIBLE_02, GRADERS_02),
    ):
        solution = root / "solutions" / module_id
        write(solution / "bookshelf" / "__init__.py", app)
        write(solution / "tests" / "conftest.py", CONFTEST)
        write(solution / "tests" / f"test_{module_id[3:]}.py", visible)
        write(solution / "pytest.ini", "[pytest]\npythonpath = .\n")
        write(solution / "README.md", f"# Lab {module_id}\n\nBuild the route.\n")
        write(root / "grading" / module_id / f"test_{module_id[3:]}_graders.py", graders)
        write(root / "modules" / module_id / "README.md", f"# {module_id}\n\nRead this.\n")
        write(root / "notebooks" / f"{module_id}.ipynb", "{}\n")
    course = load_course(root)
    for module in course.available:
        write_lab(course, module)
    return course
