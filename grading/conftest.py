"""Fixtures shared by every hidden grader, whatever lab they run against.

Graders reach the student's app only through four fixtures, never by importing ``bookshelf``:

- ``client``: the Flask test-client calls graders use (``get/post/put/patch/delete/open`` with
  ``json=``, ``data=``, ``headers=``, ``query_string=``, ``follow_redirects=``,
  ``content_type=``; cookies kept between requests). A response has ``status_code``,
  ``headers``, ``get_json()``, ``json``, ``data``, ``get_data(as_text=)``, ``text``,
  ``mimetype``, ``is_json`` and ``location``.
- ``runner``: ``runner.invoke(args=[...], input=None)`` runs a ``flask`` CLI command of the app
  and returns an object with ``exit_code``, ``output`` and ``exception`` (text, or None).
- ``database``: the lab's SQLite file, opened read-only by the grader itself:
  ``rows(sql, params)``, ``one(sql, params)``, ``scalar(sql, params)``, ``tables()``,
  ``columns(table)``, ``foreign_keys(table)``, ``unique_column_sets(table)``.
- ``call``: ``call("crud.create_author", "Ann Leckie", bio="...")`` calls a function of the
  student's package (the name is relative to the package) inside an app context, with plain
  JSON arguments, and returns plain JSON. A model instance comes back as a dict of its columns
  plus ``"__model__": "Author"``; pass ``model_ref("Author", 3)`` to hand a row to a helper.
  An exception raised by the student's code becomes :class:`StudentError` here.
  A row's own methods and attributes are reached the same way, through a reference:
  ``call.method(model_ref("Author", 1), "to_dict")`` calls ``author.to_dict()`` (more
  arguments are passed on) and ``call.attribute(model_ref("Book", 2), "reviewers")`` reads
  ``book.reviewers`` (a list of rows comes back as a list of dicts). A reference to a row that
  does not exist raises :class:`StudentError` (``is_a("LookupError")``).

Each test gets a fresh app and a fresh SQLite file; when the app uses Flask-SQLAlchemy its
tables are created first. ``@pytest.mark.app_config(KEY=value)`` adds to the app's
configuration for one test (for example ``TESTING=False`` to grade the production setup);
``@pytest.mark.timeout(seconds)`` gives one test more (or less) than the default 10 s.

How it works: this file runs in the trusted grader process, which never imports the student's
package. The app lives in a separate student process (``studyguide/grading/lab_server.py``,
sandboxed when grading students) that this file starts and talks to over a narrow channel
(:mod:`studyguide.grading.channel`). The runner names the lab in the ``STUDYGUIDE_LAB_SPEC``
environment variable. A test that makes the student's process time out or end fails with the
reason, and the next test gets a new process. Without the variable (a grader run by hand with
plain ``pytest``), the lab is the current folder, run as a plain subprocess.
"""

import base64
import json
import os
import sqlite3
import stat
import tempfile
import time
from pathlib import Path

import pytest
from werkzeug.datastructures import Headers
from werkzeug.http import parse_options_header

from studyguide.grading.channel import (
    IMPORT_SECONDS,
    SPEC_VARIABLE,
    LabProcess,
    LabSpec,
    StudentCrash,
)
from studyguide.grading.lab_batch import WARM_LAB_PROCESS

BASE_CONFIG = {"TESTING": True, "SECRET_KEY": "grading"}


class StudentError(Exception):
    """An exception raised by the student's code, carried back as its type names and message."""

    def __init__(self, type_names, message):
        super().__init__(f"{type_names[0]}: {message}")
        self.type_names = list(type_names)
        self.type = type_names[0]
        self.message = message

    def is_a(self, name):
        """Whether the student's exception was an instance of a class called ``name``."""
        return name in self.type_names


def model_ref(model, row_id):
    """A reference to one row, to pass to ``call``: the helper receives the model instance."""
    return {"__model__": model, "id": row_id}


def pytest_configure(config):
    """Register the markers graders use."""
    config.addinivalue_line("markers", "grade(points, hint): points and hint of a graded test")
    config.addinivalue_line("markers", "app_config(**settings): extra app configuration")
    config.addinivalue_line("markers", "timeout(seconds): time limit of one test")
    # The channel enforces a test's time limit and then stops the student's process. The
    # pytest-timeout plugin reads the same marker and would interrupt the grader first,
    # leaving the process running with a request unanswered: only the channel keeps time here.
    timeout_plugin = config.pluginmanager.get_plugin("timeout")
    if timeout_plugin is not None:
        config.pluginmanager.unregister(timeout_plugin)


def app_settings(request, spec, database_file):
    """One test's app configuration: base, database file, the course's setting for graders of
    this module on a later lab (``earlier_graders_config`` in course.toml), the test's marker."""
    settings = dict(BASE_CONFIG)
    settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{database_file}"
    settings.update(spec.module_configs.get(Path(request.node.path).parent.name, {}))
    marker = request.node.get_closest_marker("app_config")
    if marker is not None:
        settings.update(marker.kwargs)
    return settings


# --- the channel to the student's process --------------------------------------------------


def _wire(value):
    """Request values as JSON: bytes travel as ``{"__bytes__": base64}``."""
    if isinstance(value, bytes | bytearray):
        return {"__bytes__": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict):
        return {str(k): _wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_wire(v) for v in value]
    return value


class _Response:
    """The parts of a Flask test response a grader reads."""

    def __init__(self, reply):
        self.status_code = reply["status"]
        self.headers = Headers([(str(k), str(v)) for k, v in reply["headers"]])
        self.data = base64.b64decode(reply["body"])
        content_type = self.headers.get("Content-Type")
        self.mimetype = parse_options_header(content_type)[0].lower() if content_type else ""
        self.location = self.headers.get("Location")

    @property
    def status(self):
        return str(self.status_code)

    @property
    def is_json(self):
        return self.mimetype == "application/json" or (
            self.mimetype.startswith("application/") and self.mimetype.endswith("+json")
        )

    @property
    def text(self):
        return self.data.decode("utf-8", "replace")

    def get_data(self, as_text=False):
        """The body, as bytes or (``as_text=True``) as text."""
        return self.text if as_text else self.data

    def get_json(self, silent=False):
        try:
            return json.loads(self.data)
        except ValueError:
            if silent:
                return None
            raise

    @property
    def json(self):
        return self.get_json()


class _CliResult:
    def __init__(self, reply):
        self.exit_code = reply["exit_code"]
        self.output = reply["output"]
        self.exception = reply.get("exception")


class _Lab:
    """The student's process for the whole grader run, restarted after a crash."""

    def __init__(self, spec, scratch):
        self.spec = spec
        self.scratch = Path(scratch)
        self.process = None
        self.deadline = None
        self.tests = 0

    def _ensure_running(self):
        if self.process is not None and self.process.alive:
            return
        self.process = LabProcess(self.spec, self.scratch)
        self.process.limit_seconds = IMPORT_SECONDS
        self.process.start()
        try:
            reply = self.process.ask({"op": "import"}, time.monotonic() + IMPORT_SECONDS,
                                     "importing the lab's package")
            self._check(reply, "importing the lab's package failed")
        except StudentCrash as exc:
            self.process = None
            pytest.fail(f"the lab could not start: {exc}", pytrace=False)

    def begin(self, request, seconds):
        """A fresh app for one test; return its database file as the grader reads it."""
        self._ensure_running()
        self.deadline = time.monotonic() + seconds
        self.process.limit_seconds = seconds
        self.tests += 1
        inner = f"{self.process.data_folder}/test-{self.tests}.sqlite"
        settings = app_settings(request, self.spec, inner)
        self.settings = settings
        reply = self.ask({"op": "start", "config": settings})
        self._check(reply, "create_app failed")
        return self.process.host_path(inner)

    def ask(self, message):
        """Send one request to the student's process within the test's time."""
        try:
            return self.process.ask(message, self.deadline)
        except StudentCrash as exc:
            self.process = None
            pytest.fail(str(exc), pytrace=False)

    @staticmethod
    def _check(reply, what):
        if not reply["ok"]:
            error = reply["error"]
            pytest.fail(f"{what}: {error['traceback'] or error['message']}", pytrace=False)

    def call(self, name, args, kwargs):
        return self._value(self.ask({"op": "call", "name": name, "args": _wire(args),
                                     "kwargs": _wire(kwargs)}))

    def row(self, row, attribute, invoke=False, args=(), kwargs=None):
        """Read an attribute of a referenced row, or (``invoke``) call it with the arguments."""
        return self._value(self.ask({"op": "row", "row": row, "attribute": attribute,
                                     "invoke": invoke, "args": _wire(list(args)),
                                     "kwargs": _wire(kwargs or {})}))

    @staticmethod
    def _value(reply):
        """The value of a ``call`` or ``row`` reply; the student's exception as StudentError."""
        if not reply["ok"]:
            error = reply["error"]
            raise StudentError(error["type_names"] or ["Exception"], error["message"])
        return reply["value"]

    def close(self):
        if self.process is not None:
            self.process.close()
            self.process = None


class _Client:
    """Test-client calls, answered by Flask's test client inside the student's process."""

    def __init__(self, lab):
        self._lab = lab

    def open(self, path="/", method="GET", **kwargs):
        message = {"op": "request", "method": method.upper(), "path": path}
        for key in ("json", "data", "headers", "query_string", "follow_redirects",
                    "content_type"):
            if key in kwargs:
                value = kwargs.pop(key)
                if key == "headers" and hasattr(value, "items"):
                    value = list(value.items())
                message[key] = _wire(value)
        if kwargs:
            raise TypeError(f"the grading client does not take {', '.join(kwargs)}")
        reply = self._lab.ask(message)
        if not reply["ok"]:
            error = reply["error"]
            pytest.fail(f"the request raised: {error['traceback'] or error['message']}",
                        pytrace=False)
        return _Response(reply)

    def get(self, *args, **kwargs):
        return self.open(*args, method="GET", **kwargs)

    def post(self, *args, **kwargs):
        return self.open(*args, method="POST", **kwargs)

    def put(self, *args, **kwargs):
        return self.open(*args, method="PUT", **kwargs)

    def patch(self, *args, **kwargs):
        return self.open(*args, method="PATCH", **kwargs)

    def delete(self, *args, **kwargs):
        return self.open(*args, method="DELETE", **kwargs)


class _Runner:
    def __init__(self, lab):
        self._lab = lab

    def invoke(self, args=None, input=None):
        reply = self._lab.ask({"op": "cli", "args": list(args or []), "input": input})
        if not reply["ok"]:
            error = reply["error"]
            pytest.fail(f"the command raised: {error['message']}", pytrace=False)
        return _CliResult(reply)


# --- the grader-side database reader -------------------------------------------------------


MAX_DATABASE_BYTES = 64 * 1024 * 1024


def _read_database_file(path):
    """The bytes of the database file at ``path``: a regular file, not a link, within the cap."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise sqlite3.OperationalError(f"unable to open database file {path}: {exc}") from None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise sqlite3.OperationalError(f"{path} is not a regular file")
        image = handle.read(MAX_DATABASE_BYTES + 1)
    if len(image) > MAX_DATABASE_BYTES:
        raise sqlite3.OperationalError(f"{path} is larger than {MAX_DATABASE_BYTES} bytes")
    return image


class Database:
    """The lab's SQLite database, opened read-only: the ground truth of what was stored."""

    def __init__(self, path):
        self.path = path

    def _connect(self):
        """An in-memory copy of the database as it is now.

        The grader reads the file itself and hands SQLite the bytes: SQLite resolves the links
        in a path on its own, and ``/proc/<pid>/root/...`` (the sandbox's view) would lead it to
        the machine's own folders instead. The last step is never a link the student left.
        """
        connection = sqlite3.connect(":memory:")
        image = _read_database_file(self.path)
        if image:
            connection.deserialize(image)
        connection.row_factory = sqlite3.Row
        return connection

    def rows(self, sql, params=()):
        """Every row of a query, as dicts."""
        connection = self._connect()
        try:
            return [dict(row) for row in connection.execute(sql, params)]
        finally:
            connection.close()

    def one(self, sql, params=()):
        """The first row of a query as a dict, or None."""
        found = self.rows(sql, params)
        return found[0] if found else None

    def scalar(self, sql, params=()):
        """The first column of the first row, or None."""
        row = self.one(sql, params)
        return None if row is None else next(iter(row.values()))

    def tables(self):
        """The names of the tables, without SQLite's own."""
        found = self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {r["name"] for r in found if not r["name"].startswith("sqlite_")}

    def columns(self, table):
        """``PRAGMA table_info`` of a table: name, type, notnull, dflt_value, pk."""
        return self.rows(f'PRAGMA table_info("{table}")')

    def foreign_keys(self, table):
        """``PRAGMA foreign_key_list`` of a table: table, from, to, on_delete..."""
        return self.rows(f'PRAGMA foreign_key_list("{table}")')

    def unique_column_sets(self, table):
        """The sets of columns a unique index or constraint covers (primary key excluded)."""
        found = []
        for index in self.rows(f'PRAGMA index_list("{table}")'):
            if index["unique"] and index["origin"] != "pk":
                cols = self.rows(f'PRAGMA index_info("{index["name"]}")')
                found.append(frozenset(c["name"] for c in cols))
        return found


# --- fixtures ------------------------------------------------------------------------------


def _spec():
    """The lab this run grades: from the runner's spec file, else the current folder."""
    path = os.environ.get(SPEC_VARIABLE)
    if path:
        return LabSpec.load(path)
    return LabSpec(lab=os.getcwd())


@pytest.fixture(scope="session")
def _student_lab(pytestconfig):
    """The student's process, shared by the run's tests (internal). A batch of students
    (:mod:`studyguide.grading.lab_batch`) hands over the process it already started."""
    with tempfile.TemporaryDirectory(prefix="studyguide-lab-") as scratch:
        lab = _Lab(_spec(), scratch)
        lab.process = pytestconfig.stash.get(WARM_LAB_PROCESS, None)
        pytestconfig.stash[WARM_LAB_PROCESS] = None
        try:
            yield lab
        finally:
            lab.close()


@pytest.fixture
def lab(request, _student_lab):
    """A fresh app in the student's process for this test (internal: use the fixtures below)."""
    marker = request.node.get_closest_marker("timeout")
    seconds = float(marker.args[0]) if marker and marker.args else _student_lab.spec.test_seconds
    _student_lab.database_path = _student_lab.begin(request, seconds)
    return _student_lab


@pytest.fixture
def client(lab):
    """A test client for the student's app; cookies persist between its requests."""
    return _Client(lab)


@pytest.fixture
def runner(lab):
    """Runs the student's ``flask`` CLI commands: ``runner.invoke(args=[...])``."""
    return _Runner(lab)


@pytest.fixture
def database(lab):
    """The lab's database, read-only, queried with the grader's own SQL."""
    return Database(lab.database_path)


class _Call:
    """``call(name, ...)`` for a function; ``call.method`` / ``call.attribute`` for a row."""

    def __init__(self, lab):
        self._lab = lab

    def __call__(self, name, /, *args, **kwargs):
        """Call the package's function ``name`` (``"crud.get_book"``) and return its result."""
        return self._lab.call(name, list(args), kwargs)

    def method(self, row, name, /, *args, **kwargs):
        """Call the method ``name`` of the row ``row`` (a ``model_ref``) and return its result."""
        return self._lab.row(row, name, invoke=True, args=args, kwargs=kwargs)

    def attribute(self, row, name, /):
        """Read the attribute ``name`` of the row ``row`` (a ``model_ref``)."""
        return self._lab.row(row, name)


@pytest.fixture
def call(lab):
    """Calls the student's code: ``call("crud.get_book", 1)``,
    ``call.method(model_ref("Book", 1), "to_dict")``, ``call.attribute(ref, "reviewers")``."""
    return _Call(lab)


@pytest.fixture(name="model_ref")
def model_ref_fixture():
    """``model_ref("Author", 3)``: a row reference to pass to ``call``."""
    return model_ref


@pytest.fixture(name="student_error")
def student_error_fixture():
    """The exception type ``call`` raises for the student's exceptions, for ``pytest.raises``."""
    return StudentError
