"""Fixtures shared by every hidden grader, whatever lab they run against.

Graders reach the student's app only through four fixtures, never by importing ``bookshelf``:

- ``client``: the Flask test-client calls graders use (``get/post/put/patch/delete/open`` with
  ``json=``, ``data=``, ``headers=``, ``query_string=``, ``follow_redirects=``; cookies kept
  between requests). A response has ``status_code``, ``headers``, ``get_json()``, ``json``,
  ``data``, ``text``, ``mimetype``, ``is_json`` and ``location``.
- ``runner``: ``runner.invoke(args=[...], input=None)`` runs a ``flask`` CLI command of the app
  and returns an object with ``exit_code`` and ``output``.
- ``database``: the lab's SQLite file, opened read-only by the grader itself:
  ``rows(sql, params)``, ``one(sql, params)``, ``scalar(sql, params)``, ``tables()``,
  ``columns(table)``, ``foreign_keys(table)``, ``unique_column_sets(table)``.
- ``call``: ``call("crud.create_author", "Ann Leckie", bio="...")`` calls a function of the
  student's package (the name is relative to the package) inside an app context, with plain
  JSON arguments, and returns plain JSON. A model instance comes back as a dict of its columns
  plus ``"__model__": "Author"``; pass ``model_ref("Author", 3)`` to hand a row to a helper.
  An exception raised by the student's code becomes :class:`StudentError` here.

Each test gets a fresh app and a fresh SQLite file; when the app uses Flask-SQLAlchemy its
tables are created first. ``@pytest.mark.app_config(KEY=value)`` adds to the app's
configuration for one test (for example ``TESTING=False`` to grade the production setup).

This version runs the app in the grader's own process. It is a stand-in for the sandboxed
student process: the API above is the contract, and it does not change when the backend does.
"""

import datetime
import decimal
import sqlite3

import pytest

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


def app_settings(request, tmp_path):
    """The configuration of one test's app: base, database file, then the test's marker."""
    settings = dict(BASE_CONFIG)
    settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'bookshelf.sqlite'}"
    marker = request.node.get_closest_marker("app_config")
    if marker is not None:
        settings.update(marker.kwargs)
    return settings


# --- stand-in backend: the app in this process -------------------------------------------


def to_plain(value):
    """Turn a value returned by student code into plain JSON data."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_plain(v) for v in value]
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    table = getattr(value, "__table__", None)
    if table is not None:
        row = {c.key: to_plain(getattr(value, c.key, None)) for c in table.columns}
        row["__model__"] = type(value).__name__
        return row
    raise TypeError(f"cannot send a {type(value).__name__} back to the grader")


class _Response:
    """The parts of a Flask test response a grader reads."""

    def __init__(self, response):
        self.status_code = response.status_code
        self.headers = response.headers
        self.data = response.get_data()
        self.mimetype = response.mimetype
        self.location = response.location

    @property
    def is_json(self):
        return self.mimetype == "application/json" or (
            self.mimetype.startswith("application/") and self.mimetype.endswith("+json")
        )

    @property
    def text(self):
        return self.data.decode("utf-8", "replace")

    def get_json(self, silent=False):
        import json

        try:
            return json.loads(self.data)
        except ValueError:
            if silent:
                return None
            raise

    @property
    def json(self):
        return self.get_json()


class _Client:
    """Test-client calls, each answered as a :class:`_Response`."""

    def __init__(self, app):
        self._client = app.test_client()

    def open(self, *args, **kwargs):
        return _Response(self._client.open(*args, **kwargs))

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


class _CliResult:
    def __init__(self, exit_code, output):
        self.exit_code = exit_code
        self.output = output


class _Runner:
    def __init__(self, app):
        self._runner = app.test_cli_runner()

    def invoke(self, args=None, input=None):
        result = self._runner.invoke(args=args, input=input)
        return _CliResult(result.exit_code, result.output)


class _LocalLab:
    """The student's app, created in this process (stand-in backend)."""

    def __init__(self, settings):
        import importlib

        self._importlib = importlib
        self.package = importlib.import_module("bookshelf")
        self.app = self.package.create_app(settings)
        self.db = self.app.extensions.get("sqlalchemy")
        if self.db is not None:
            with self.app.app_context():
                self.db.create_all()

    def close(self):
        if self.db is not None:
            with self.app.app_context():
                self.db.session.remove()
                self.db.engine.dispose()

    def _resolve(self, value):
        if isinstance(value, dict) and set(value) == {"__model__", "id"}:
            models = self._importlib.import_module("bookshelf.models")
            return self.db.session.get(getattr(models, value["__model__"]), value["id"])
        if isinstance(value, list):
            return [self._resolve(v) for v in value]
        return value

    def call(self, name, args, kwargs):
        module_name, _, function_name = name.rpartition(".")
        module = self._importlib.import_module(f"bookshelf.{module_name}")
        function = getattr(module, function_name)
        with self.app.app_context():
            args = [self._resolve(a) for a in args]
            kwargs = {k: self._resolve(v) for k, v in kwargs.items()}
            try:
                return to_plain(function(*args, **kwargs))
            except Exception as exc:  # the student's exception, carried back by name
                names = [cls.__name__ for cls in type(exc).__mro__]
                raise StudentError(names, str(exc)) from None


# --- the grader-side database reader -------------------------------------------------------


class Database:
    """The lab's SQLite database, opened read-only: the ground truth of what was stored."""

    def __init__(self, path):
        self.path = path

    def _connect(self):
        connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
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


@pytest.fixture
def lab(request, tmp_path):
    """The student's app with a fresh, empty database (internal: use the fixtures below)."""
    settings = app_settings(request, tmp_path)
    started = _LocalLab(settings)
    started.database_path = tmp_path / "bookshelf.sqlite"
    yield started
    started.close()


@pytest.fixture
def client(lab):
    """A test client for the student's app; cookies persist between its requests."""
    return _Client(lab.app)


@pytest.fixture
def runner(lab):
    """Runs the student's ``flask`` CLI commands: ``runner.invoke(args=[...])``."""
    return _Runner(lab.app)


@pytest.fixture
def database(lab):
    """The lab's database, read-only, queried with the grader's own SQL."""
    return Database(lab.database_path)


@pytest.fixture
def call(lab):
    """Calls a function of the student's package: ``call("crud.get_book", 1)``."""

    def call_function(name, *args, **kwargs):
        return lab.call(name, list(args), kwargs)

    return call_function


@pytest.fixture
def app(lab):
    """The app object itself. Transitional: graders are moving to the four fixtures above."""
    return lab.app


@pytest.fixture(name="model_ref")
def model_ref_fixture():
    """``model_ref("Author", 3)``: a row reference to pass to ``call``."""
    return model_ref


@pytest.fixture(name="student_error")
def student_error_fixture():
    """The exception type ``call`` raises for the student's exceptions, for ``pytest.raises``."""
    return StudentError
