"""Real production parts for the deployment graders: a PostgreSQL server and gunicorn.

Module 07 is about what happens outside the test client, so its graders use the real things:

- ``postgres_server`` (session): a throwaway PostgreSQL server for the whole test run. It is
  initialised in a temporary folder, listens on a free loopback port, and is stopped and
  deleted at the end. ``initdb`` and ``pg_ctl`` refuse to run as root, so as root they run as
  the ``postgres`` user (``runuser -u postgres --``). Set ``BOOKSHELF_TEST_POSTGRES_URL`` to a
  server you started yourself (``postgresql://user:password@host:port/postgres``, a user who
  may create databases) to use it instead.
- ``postgres_url`` (per test): a new, empty database on that server, as the
  ``postgres://user@host:port/name`` URL Render hands out.
- ``postgres``: runs SQL against a database by URL, from the grader's side (psycopg).
- ``flask_command``: runs ``flask --app bookshelf ...`` in the lab folder, in a new process with
  a minimal environment (the one a Render build or start command gets).
- ``serve``: starts the lab's ``wsgi:app`` under gunicorn on a free 127.0.0.1 port, with the
  given environment, and stops its whole process group at the end of the test.
- ``migrated_database`` (session): a new PostgreSQL database after one ``flask db upgrade``.
- ``served_app`` (session): that database served by the lab under gunicorn, as Render runs it.

When PostgreSQL cannot be started a test FAILS and says how to get a server; it never skips.
None of this imports the student's package: the app always runs in its own processes.
"""

import contextlib
import glob
import importlib.util
import itertools
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from studyguide.grading.channel import SPEC_VARIABLE, LabSpec

EXTERNAL_SERVER_VARIABLE = "BOOKSHELF_TEST_POSTGRES_URL"
HOW_TO_GET_POSTGRES = (
    "The deployment graders need a PostgreSQL server. Install Debian's server "
    "(`apt-get install -y postgresql`; the graders start and stop their own throwaway "
    "instance with its initdb and pg_ctl), or start one yourself and set "
    f"{EXTERNAL_SERVER_VARIABLE}=postgresql://USER:PASSWORD@127.0.0.1:5432/postgres "
    "(a user allowed to create databases)."
)
SERVER_START_SECONDS = 30
COMMAND_SECONDS = 120
SECRET_FOR_TESTS = "a-long-random-value-for-the-deployment-graders"


def free_port():
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lab_folder():
    """The folder holding the lab's ``bookshelf`` package, found without importing it: the lab
    the run grades (the runner's spec file), else the package on the path."""
    spec_file = os.environ.get(SPEC_VARIABLE)
    if spec_file:
        return Path(LabSpec.load(spec_file).lab).resolve()
    spec = importlib.util.find_spec("bookshelf")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("No `bookshelf` package on the path: run the graders from a lab folder.")
    return Path(next(iter(spec.submodule_search_locations))).resolve().parent


def minimal_environment(**variables):
    """The environment of a process started for the lab: PATH, HOME, locale, and ``variables``.

    Nothing of the grader's own environment leaks in (no FLASK_*, no DATABASE_URL), so the
    app sees only what a Render service would be given.
    """
    python_bin = str(Path(sys.executable).parent)
    env = {
        "PATH": os.pathsep.join([python_bin, "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": tempfile.gettempdir(),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    env.update({k: str(v) for k, v in variables.items() if v is not None})
    return env


# --- PostgreSQL ----------------------------------------------------------------------------


def postgres_bin_dir():
    """The folder of ``initdb`` and ``pg_ctl``: on PATH, or Debian's newest versioned folder."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found = [d for d in found if d.parent.name.isdigit()]
    return max(found, key=lambda d: int(d.parent.name)) if found else None


def as_server_user(args):
    """``args`` run as the ``postgres`` user when we are root (initdb and pg_ctl refuse root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


class PostgresServer:
    """A PostgreSQL server the graders may create databases on."""

    def __init__(self, admin_url):
        self.admin_url = admin_url  # postgresql://user@host:port/postgres
        self._names = itertools.count(1)

    def connect(self, url=None):
        """A psycopg connection (autocommit) to ``url``, by default the admin database."""
        import psycopg

        return psycopg.connect(to_libpq_url(url or self.admin_url), autocommit=True)

    def create_database(self):
        """Create a new, empty database; return its URL as Render writes it (postgres://)."""
        name = f"bookshelf_{os.getpid()}_{next(self._names)}"
        with self.connect() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
            connection.execute(f'CREATE DATABASE "{name}"')
        base = self.admin_url.rsplit("/", 1)[0]
        return "postgres://" + base.split("://", 1)[1] + "/" + name

    def drop_database(self, url):
        """Drop a database made by :meth:`create_database` (its connections are ended first)."""
        name = url.rsplit("/", 1)[1]
        with self.connect() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def to_libpq_url(url):
    """``postgres://`` and ``postgresql+driver://`` URLs as libpq (psycopg) accepts them."""
    scheme, rest = url.split("://", 1)
    return "postgresql://" + rest if scheme.startswith("postgres") else url


@contextlib.contextmanager
def throwaway_postgres():
    """Initialise, start, yield and finally stop and delete a PostgreSQL server in a temp dir."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.fail(f"initdb was not found. {HOW_TO_GET_POSTGRES}", pytrace=False)
    root = Path(tempfile.mkdtemp(prefix="bookshelf-postgres-"))
    data, sockets, log = root / "data", root / "sockets", root / "server.log"
    sockets.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(sockets, "postgres", "postgres")
    port = free_port()
    started = False
    try:
        run_server_tool(
            [bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
             "--no-sync", "--no-instructions"],
            "initdb",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={sockets}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        run_server_tool(
            [bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", log, "-w",
             "-t", str(SERVER_START_SECONDS), "start"],
            "pg_ctl start",
            log=log,
        )
        started = True
        yield PostgresServer(f"postgresql://postgres@127.0.0.1:{port}/postgres")
    finally:
        if started:
            subprocess.run(
                as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                                "-w", "stop"]),
                capture_output=True,
                timeout=COMMAND_SECONDS,
            )
        shutil.rmtree(root, ignore_errors=True)


def run_server_tool(args, label, log=None):
    """Run initdb or pg_ctl; a failure fails the test with its output and the way out."""
    args = as_server_user([str(a) for a in args])
    proc = subprocess.run(args, capture_output=True, text=True, timeout=COMMAND_SECONDS)
    if proc.returncode != 0:
        server_log = Path(log).read_text(errors="replace")[-2000:] if log and log.exists() else ""
        pytest.fail(
            f"{label} failed (exit {proc.returncode}):\n{proc.stdout}{proc.stderr}{server_log}\n"
            f"{HOW_TO_GET_POSTGRES}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server for the whole run: yours (BOOKSHELF_TEST_POSTGRES_URL) or throwaway."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail("psycopg is not installed: pip install 'psycopg[binary]'", pytrace=False)
    external = os.environ.get(EXTERNAL_SERVER_VARIABLE)
    if external:
        server = PostgresServer(external)
        try:
            server.connect().close()
        except Exception as error:
            pytest.fail(
                f"{EXTERNAL_SERVER_VARIABLE}={external}: {error}\n{HOW_TO_GET_POSTGRES}",
                pytrace=False,
            )
        yield server
        return
    with throwaway_postgres() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server):
    """A new, empty database for one test, as Render's ``postgres://`` connection string."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


class Postgres:
    """Grader-side SQL on a database given by URL: the ground truth of what the app stored."""

    def __init__(self, server):
        self.server = server

    def rows(self, url, sql, params=()):
        """Every row of a query, as tuples."""
        with self.server.connect(url) as connection:
            return connection.execute(sql, params).fetchall()

    def tables(self, url):
        """The names of the tables in the ``public`` schema."""
        found = self.rows(
            url, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        return {name for (name,) in found}


@pytest.fixture
def postgres(postgres_server):
    """``postgres.tables(url)`` and ``postgres.rows(url, sql)`` against the real server."""
    return Postgres(postgres_server)


# --- the lab's own processes ------------------------------------------------------------------


class CommandResult:
    """What a finished command printed, and how it ended."""

    def __init__(self, args, returncode, output):
        self.args = args
        self.returncode = returncode
        self.output = output

    def __repr__(self):
        return f"$ {' '.join(self.args)}\n(exit {self.returncode})\n{self.output}"


def run_flask(lab_dir, args, env):
    """``flask --app bookshelf <args>`` in ``lab_dir``; stdout and stderr together."""
    cmd = [sys.executable, "-m", "flask", "--app", "bookshelf", *args]
    try:
        proc = subprocess.run(
            cmd,
            cwd=lab_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=COMMAND_SECONDS,
        )
    except subprocess.TimeoutExpired as exc:
        return CommandResult(cmd[2:], -1, f"did not finish in {COMMAND_SECONDS} s\n{exc.output}")
    return CommandResult(cmd[2:], proc.returncode, proc.stdout)


@pytest.fixture(scope="session")
def lab_dir():
    """The lab folder (the one that holds ``bookshelf/``, ``wsgi.py`` and ``render.yaml``)."""
    return lab_folder()


@pytest.fixture
def flask_command(lab_dir):
    """``flask_command(["db", "upgrade"], DATABASE_URL=..., SECRET_KEY=...)``: a CommandResult."""

    def run(args, **variables):
        return run_flask(lab_dir, args, minimal_environment(**variables))

    return run


class ServedApp:
    """The lab under gunicorn: ``url``, ``get(path, headers)``, and what it logged so far."""

    def __init__(self, process, url, log_path):
        self.process = process
        self.url = url
        self.log_path = log_path

    def stdout(self):
        """What gunicorn and the app wrote to standard output so far."""
        return self.log_path.with_suffix(".out").read_text(errors="replace")

    def stderr(self):
        """What gunicorn and the app wrote to standard error so far."""
        return self.log_path.with_suffix(".err").read_text(errors="replace")

    def output(self):
        """Both streams, for messages."""
        return f"--- standard output\n{self.stdout()}--- standard error\n{self.stderr()}"

    def get(self, path, headers=None, timeout=10):
        """A real HTTP GET; returns (status, headers, body text). Redirects are not followed."""
        request = urllib.request.Request(self.url + path, headers=headers or {})
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=timeout) as response:
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def stop(self):
        """Stop gunicorn and every process of its group (its workers)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # SIGINT: gunicorn's quick shutdown
                os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand redirects back to the caller, who wants to read their Location."""

    def redirect_request(self, *args, **kwargs):
        return None


def start_gunicorn(lab_dir, env, log_path, wait=SERVER_START_SECONDS):
    """Start ``gunicorn wsgi:app`` in ``lab_dir``; return (ServedApp, None) or (None, output).

    The second value is the output of a gunicorn that exited or never listened, for messages.
    """
    port = free_port()
    cmd = [
        sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
        "--timeout", "30", "--graceful-timeout", "2", "--access-logfile", "-",
        # --preload: the app is created before gunicorn listens, so a start-up error ends
        # gunicorn at once instead of leaving a master whose workers keep failing.
        "--preload", "--no-control-socket", "wsgi:app",
    ]
    out_path, err_path = log_path.with_suffix(".out"), log_path.with_suffix(".err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        # A new session: gunicorn and its workers form one process group, stopped together.
        process = subprocess.Popen(
            cmd, cwd=lab_dir, env=env, stdout=out, stderr=err, start_new_session=True
        )
    served = ServedApp(process, f"http://127.0.0.1:{port}", log_path)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return None, f"gunicorn exited with code {process.returncode}:\n{served.output()}"
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return served, None
        time.sleep(0.1)
    served.stop()
    return None, f"gunicorn did not listen within {wait} s:\n{served.output()}"


@pytest.fixture
def serve(lab_dir, tmp_path):
    """``serve(DATABASE_URL=..., SECRET_KEY=...)`` -> (ServedApp or None, failure output)."""
    started = []

    def start(**variables):
        log_path = tmp_path / f"gunicorn-{len(started)}.log"
        served, failure = start_gunicorn(lab_dir, minimal_environment(**variables), log_path)
        if served is not None:
            started.append(served)
        return served, failure

    yield start
    for served in started:
        served.stop()


class MigratedDatabase:
    """A new PostgreSQL database after one ``flask db upgrade``: ``url`` and ``upgrade``."""

    def __init__(self, url, upgrade):
        self.url = url
        self.upgrade = upgrade

    def require_upgrade(self):
        """Fail the test, showing the command's output, unless the upgrade succeeded."""
        if self.upgrade.returncode != 0:
            pytest.fail(f"`flask db upgrade` failed on PostgreSQL:\n{self.upgrade!r}")


@pytest.fixture(scope="session")
def migrated_database(lab_dir, postgres_server):
    """One database migrated once, as a Render build does, shared by the tests that only read."""
    url = postgres_server.create_database()
    env = minimal_environment(DATABASE_URL=url, SECRET_KEY=SECRET_FOR_TESTS)
    yield MigratedDatabase(url, run_flask(lab_dir, ["db", "upgrade"], env))
    postgres_server.drop_database(url)


@pytest.fixture(scope="session")
def served_app(lab_dir, migrated_database, tmp_path_factory):
    """The lab as Render runs it: gunicorn on the migrated PostgreSQL database, with only
    ``DATABASE_URL`` (postgres://) and ``SECRET_KEY`` in its environment."""
    migrated_database.require_upgrade()
    env = minimal_environment(DATABASE_URL=migrated_database.url, SECRET_KEY=SECRET_FOR_TESTS)
    log_path = tmp_path_factory.mktemp("served") / "gunicorn.log"
    served, failure = start_gunicorn(lab_dir, env, log_path)
    if served is None:
        pytest.fail(f"The app could not be served by gunicorn (wsgi:app):\n{failure}")
    served.database_url = migrated_database.url
    yield served
    served.stop()
