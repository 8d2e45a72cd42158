"""Real production parts for the deployment graders: a PostgreSQL server and gunicorn.

Module 07 is about what happens outside the test client, so its graders use the real things:

- ``postgres_server`` (session): a throwaway PostgreSQL server for the whole test run. It is
  initialised in a temporary folder, listens on a free loopback port, and is stopped and
  deleted at the end. ``initdb`` and ``pg_ctl`` refuse to run as root, so as root they run as
  the ``postgres`` user (``runuser -u postgres --``). The graders administer it as ``postgres``
  over its Unix socket only; over TCP a role may only reach the database of its own name, with
  its password. Set ``BOOKSHELF_TEST_POSTGRES_URL`` to a server you started yourself
  (``postgresql://user:password@host:port/postgres``, a user who may create databases and
  roles) to use it instead; when grading in the sandbox its host must be ``127.0.0.1``, the
  address its port is relayed to inside.
- ``postgres_url`` (per test): a new, empty database on that server, owned by a new role of
  the same name that may do nothing else, as the ``postgres://role:password@host:port/name``
  URL Render hands out.
- ``postgres``: runs SQL against a database by URL, from the grader's side (psycopg).
- ``flask_command``: runs ``flask --app bookshelf ...`` in the lab folder, in a new process with
  a minimal environment (the one a Render build or start command gets).
- ``serve``: starts the lab's ``wsgi:app`` under gunicorn, with the given environment, reachable
  on a 127.0.0.1 port, and stops all its processes at the end of the test.
- ``migrated_database`` (session): a new PostgreSQL database after one ``flask db upgrade``.
- ``served_app`` (session): that database served by the lab under gunicorn, as Render runs it.

The student's processes (``flask`` commands, gunicorn and its workers) are started by
:class:`LabProcesses` the way the runner's lab spec says. When grading (a sandboxed spec, as
root) each one runs in the same sandbox as the lab server: a fresh user id, a private read-only
root holding only the Python environment, the lab copy and scratch folders, no capabilities,
limits, killed with the grader. Its network namespace is an empty one the grader owns: the
PostgreSQL server's port is relayed into it, and the grader reaches gunicorn's port inside it
(:class:`studyguide.grading.sandbox.Relay`); nothing else of the machine's network is there.

When PostgreSQL cannot be started a test FAILS and says how to get a server; it never skips.
None of this imports the student's package: the app always runs in its own processes.
"""

import contextlib
import glob
import importlib.util
import itertools
import os
import secrets
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
from types import SimpleNamespace

import pytest

from studyguide.grading import sandbox
from studyguide.grading.channel import BOOT_SCRIPT, SPEC_VARIABLE, LabSpec
from studyguide.grading.processes import kill_group, start_group

EXTERNAL_SERVER_VARIABLE = "BOOKSHELF_TEST_POSTGRES_URL"
HOW_TO_GET_POSTGRES = (
    "The deployment graders need a PostgreSQL server. Install Debian's server "
    "(`apt-get install -y postgresql`; the graders start and stop their own throwaway "
    "instance with its initdb and pg_ctl), or start one yourself and set "
    f"{EXTERNAL_SERVER_VARIABLE}=postgresql://USER:PASSWORD@127.0.0.1:5432/postgres "
    "(a user allowed to create databases and roles)."
)
SERVER_START_SECONDS = 30
COMMAND_SECONDS = 120
SECRET_FOR_TESTS = "a-long-random-value-for-the-deployment-graders"
#: The port gunicorn listens on inside a sandbox's own network namespace (Render's $PORT).
SANDBOX_HTTP_PORT = 10000
#: The sandbox's writable folders, as for the lab server (each a small tmpfs).
SANDBOX_SCRATCH = ("/home", "/tmp", "/data", "/lab/instance")
#: Only the database server may be reached over TCP, by a role with a password, and only the
#: database named like the role; the graders administer it over the Unix socket.
PG_HBA = """\
local all postgres trust
host sameuser all 127.0.0.1/32 scram-sha-256
"""


def free_port():
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def runner_spec():
    """The :class:`LabSpec` of the run (the runner names it in the environment), or None."""
    spec_file = os.environ.get(SPEC_VARIABLE)
    return LabSpec.load(spec_file) if spec_file else None


def lab_folder():
    """The folder holding the lab's ``bookshelf`` package, found without importing it: the lab
    the run grades (the runner's spec file), else the package on the path."""
    spec = runner_spec()
    if spec is not None:
        return Path(spec.lab).resolve()
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
    """A PostgreSQL server the graders may create databases and roles on."""

    def __init__(self, admin_url, host, port):
        self.admin_url = admin_url  # how the graders connect as the administrator
        self.host, self.port = host, port  # where the app connects, over TCP
        self._names = itertools.count(1)

    def connect(self, url=None):
        """A psycopg connection (autocommit) to ``url``, by default the admin database."""
        import psycopg

        return psycopg.connect(to_libpq_url(url or self.admin_url), autocommit=True)

    def create_database(self):
        """Create a new, empty database owned by a new role of the same name (a login with a
        random password and no other right); return its URL as Render writes it."""
        from psycopg import sql

        name = f"bookshelf_{os.getpid()}_{next(self._names)}"
        password = secrets.token_hex(16)
        with self.connect() as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
            connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
            connection.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(name), sql.Literal(password)))
            connection.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(name), sql.Identifier(name)))
            connection.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(
                sql.Identifier(name)))
        return f"postgres://{name}:{password}@{self.host}:{self.port}/{name}"

    def drop_database(self, url):
        """Drop a database made by :meth:`create_database` and its role (connections ended)."""
        from psycopg import sql

        name = url.rsplit("/", 1)[1]
        with self.connect() as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))
            connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


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
            [bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth-local=trust",
             "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync", "--no-instructions"],
            "initdb",
        )
        (data / "pg_hba.conf").write_text(PG_HBA)
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
        yield PostgresServer(f"postgresql://postgres@/postgres?host={sockets}&port={port}",
                             "127.0.0.1", port)
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
def postgres_server(lab_processes):
    """A PostgreSQL server for the whole run: yours (BOOKSHELF_TEST_POSTGRES_URL) or throwaway.
    The lab's processes may reach its port (and no other)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.fail("psycopg is not installed: pip install 'psycopg[binary]'", pytrace=False)
    external = os.environ.get(EXTERNAL_SERVER_VARIABLE)
    if external:
        from psycopg.conninfo import conninfo_to_dict

        where = conninfo_to_dict(to_libpq_url(external))
        server = PostgresServer(external, where.get("host", "127.0.0.1"),
                                int(where.get("port", 5432)))
        try:
            server.connect().close()
        except Exception as error:
            pytest.fail(
                f"{EXTERNAL_SERVER_VARIABLE}={external}: {error}\n{HOW_TO_GET_POSTGRES}",
                pytrace=False,
            )
        lab_processes.allow(server.host, server.port)
        yield server
        return
    with throwaway_postgres() as server:
        lab_processes.allow(server.host, server.port)
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


class LabProcesses:
    """Starts the lab's own processes (``flask``, gunicorn) as the run's lab spec says.

    - no spec, or a plain one (``studyguide check`` on the course's own labs): a subprocess in
      the lab folder with a minimal environment;
    - sandboxed, with namespaces (grading students, as root): every process in its own sandbox
      (``sandbox_boot.py``): a private read-only root with the Python environment, the lab copy
      at ``/lab`` and scratch folders, a fresh user id (one per grader run) with no
      capabilities, the run's limits and pids cgroup, its own mount, pid, ipc and uts
      namespaces; and, instead of an empty network namespace, a :class:`NetworkNamespace` of
      its own into which only the :meth:`allow`-ed servers are relayed;
    - sandboxed without namespaces (no root): the same limits, the machine's network.
    """

    def __init__(self, lab_dir, spec=None):
        self.lab_dir = Path(lab_dir)
        self.spec = spec
        self.sandboxed = spec is not None and spec.sandboxed
        self.namespaced = self.sandboxed and bool(sandbox.namespace_prefix_joining_network())
        self.uid = sandbox.sandbox_uid() if self.namespaced else None
        python = spec.python if self.sandboxed else sys.executable
        self.python = str(Path(shutil.which(python) or python).absolute())
        self.services = []  # (host, port) the student's processes may connect to

    def allow(self, host, port):
        """Let the student's processes connect to ``host:port`` (the PostgreSQL server)."""
        self.services.append((host, int(port)))

    def share(self, folder):
        """Let the student's processes write in ``folder`` (a test's own temporary folder,
        mounted at the same path inside the sandbox)."""
        if self.uid is not None:
            os.chown(folder, self.uid, self.uid)
        return Path(folder)

    def environment(self, variables):
        """The environment of a student process: :func:`minimal_environment`, sandbox paths."""
        env = minimal_environment(**variables)
        env["PATH"] = os.pathsep.join([str(Path(self.python).parent), "/usr/bin", "/bin"])
        if self.namespaced:
            env.update(HOME="/home", TMPDIR="/tmp")
        elif self.sandboxed:
            box = Path(self.spec.box)
            env.update(HOME=str(box / "home"), TMPDIR=str(box / "tmp"))
        return env

    def start(self, module_args, variables, shared=(), **popen_kwargs):
        """Start ``python -m MODULE_ARGS...`` in the lab folder; return a StudentProcess."""
        env = self.environment(variables)
        command = [self.python, "-B", "-m", *module_args]
        if not self.sandboxed:
            process = start_group(command, cwd=self.lab_dir, env=env, **popen_kwargs)
            return StudentProcess(process)
        limits = SimpleNamespace(memory_mb=self.spec.memory_mb, processes=self.spec.processes)
        jail = sandbox.ProcessJail(limits, self.spec.cgroup_tag).__enter__()
        boot, prefix, namespace, relays, pass_fds = [*jail.boot_args()], [], None, [], ()
        try:
            if self.namespaced:
                namespace = sandbox.NetworkNamespace()
                for host, port in self.services:
                    relays.append(sandbox.Relay(namespace.listen(("127.0.0.1", port)),
                                                lambda address=(host, port): connect(address)))
                boot += self._sandbox_options(namespace, shared)
                prefix = sandbox.namespace_prefix_joining_network()
                pass_fds = (namespace.descriptor,)
            else:
                boot += ["--chdir", str(self.lab_dir)]
            for key, value in env.items():
                boot += ["--env", f"{key}={value}"]
            process = start_group(
                [*sandbox.parent_death_prefix(), *prefix, self.python, "-I", "-B",
                 str(BOOT_SCRIPT), *boot, "--", *command],
                cwd=self.spec.box, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                pass_fds=pass_fds, **popen_kwargs,
            )
        except BaseException:
            StudentProcess(None, jail, namespace, relays).kill()
            raise
        return StudentProcess(process, jail, namespace, relays)

    def _sandbox_options(self, namespace, shared):
        """The boot script's options for a namespaced sandbox (see the class docstring)."""
        options = ["--netns", str(namespace.descriptor)]
        for folder in sandbox.python_folders(self.python):
            options += ["--bind", f"{folder}:{folder}"]
        options += ["--bind", f"{self.lab_dir}:/lab"]
        for folder in shared:
            options += ["--bind-rw", f"{folder}:{folder}"]
        options += ["--root", str(Path(self.spec.box) / "newroot")]
        for folder in SANDBOX_SCRATCH:
            options += ["--scratch", folder]
        return options + ["--user", str(self.uid), "--chdir", "/lab"]

    def run(self, module_args, variables, shared=()):
        """Run a command to its end (or :data:`COMMAND_SECONDS`); a :class:`CommandResult`."""
        student = self.start(module_args, variables, shared, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             errors="replace")
        try:
            output, _ = student.process.communicate(timeout=COMMAND_SECONDS)
            returncode = student.process.returncode
        except subprocess.TimeoutExpired:
            student.kill()
            output, returncode = f"did not finish in {COMMAND_SECONDS} s\n", -1
        finally:
            student.kill()
        return CommandResult(module_args, returncode, output)


class StudentProcess:
    """One started student process: its ``process``, sandbox jail, network namespace, relays."""

    def __init__(self, process, jail=None, namespace=None, relays=()):
        self.process = process
        self.jail = jail
        self.namespace = namespace
        self.relays = list(relays)

    def connect(self, port, timeout=5):
        """A TCP connection to ``port`` on the student's loopback (inside its namespace)."""
        if self.namespace is not None:
            return self.namespace.connect(("127.0.0.1", port), timeout)
        return socket.create_connection(("127.0.0.1", port), timeout)

    def publish(self, port):
        """The URL on the machine's loopback at which the grader reaches the student's ``port``."""
        if self.namespace is None:
            return f"http://127.0.0.1:{port}"
        listener = socket.create_server(("127.0.0.1", 0))
        relay = sandbox.Relay(listener, lambda: self.connect(port, 10))
        self.relays.append(relay)
        return f"http://127.0.0.1:{relay.address[1]}"

    def interrupt(self, grace=10):
        """SIGINT to the whole group (gunicorn's quick shutdown), then :meth:`kill`."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=grace)
        self.kill()

    def kill(self):
        """Kill every process it started (group and cgroup); close its relays and namespace."""
        if self.process is not None:
            kill_group(self.process)
        if self.jail is not None:
            if self.process is not None:
                self.jail.kill_all(self.process)
            self.jail.__exit__(None, None, None)
            self.jail = None
        for relay in self.relays:
            relay.close()
        self.relays = []
        if self.namespace is not None:
            self.namespace.close()
            self.namespace = None


def connect(address, timeout=10):
    """A TCP connection to ``address`` on the machine, blocking once made (for a relay)."""
    sock = socket.create_connection(address, timeout)
    sock.settimeout(None)
    return sock


def flask_args(args):
    """``flask --app bookshelf ARGS`` as module arguments for :meth:`LabProcesses.start`."""
    return ["flask", "--app", "bookshelf", *args]


@pytest.fixture(scope="session")
def lab_dir():
    """The lab folder (the one that holds ``bookshelf/``, ``wsgi.py`` and ``render.yaml``)."""
    return lab_folder()


@pytest.fixture(scope="session")
def lab_processes(lab_dir):
    """The :class:`LabProcesses` of this run (sandboxed when the runner's spec says so)."""
    return LabProcesses(lab_dir, runner_spec())


@pytest.fixture
def flask_command(lab_processes, tmp_path):
    """``flask_command(["db", "upgrade"], DATABASE_URL=..., SECRET_KEY=...)``: a CommandResult.

    The command may write in the test's ``tmp_path`` (a SQLite file there), nowhere else."""
    shared = lab_processes.share(tmp_path)

    def run(args, **variables):
        return lab_processes.run(flask_args(args), variables, shared=[shared])

    return run


class ServedApp:
    """The lab under gunicorn: ``url``, ``get(path, headers)``, and what it logged so far."""

    def __init__(self, student, url, log_path):
        self.student = student
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
        """Stop gunicorn and every process it started (its workers)."""
        self.student.interrupt()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand redirects back to the caller, who wants to read their Location."""

    def redirect_request(self, *args, **kwargs):
        return None


def start_gunicorn(lab_processes, variables, log_path, shared=(), wait=SERVER_START_SECONDS):
    """Start ``gunicorn wsgi:app`` in the lab; return (ServedApp, None) or (None, output).

    The second value is the output of a gunicorn that exited or never listened, for messages.
    ``log_path`` names the log files (``.out``, ``.err``): keep them where the student's
    processes cannot write.
    """
    port = SANDBOX_HTTP_PORT if lab_processes.namespaced else free_port()
    args = [
        "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
        "--timeout", "30", "--graceful-timeout", "2", "--access-logfile", "-",
        # --preload: the app is created before gunicorn listens, so a start-up error ends
        # gunicorn at once instead of leaving a master whose workers keep failing.
        "--preload", "--no-control-socket", "wsgi:app",
    ]
    out_path, err_path = log_path.with_suffix(".out"), log_path.with_suffix(".err")
    with open(out_path, "w") as out, open(err_path, "w") as err:
        student = lab_processes.start(args, variables, shared, stdin=subprocess.DEVNULL,
                                      stdout=out, stderr=err)
    served = ServedApp(student, None, log_path)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if student.process.poll() is not None:
            served.stop()
            return None, f"gunicorn exited with code {student.process.returncode}:\n" + (
                served.output())
        with contextlib.suppress(OSError):
            student.connect(port, 0.2).close()
            served.url = student.publish(port)
            return served, None
        time.sleep(0.1)
    served.stop()
    return None, f"gunicorn did not listen within {wait} s:\n{served.output()}"


@pytest.fixture
def serve(lab_processes, tmp_path, tmp_path_factory):
    """``serve(DATABASE_URL=..., SECRET_KEY=...)`` -> (ServedApp or None, failure output).

    The app may write in the test's ``tmp_path`` (a SQLite file there); its logs are kept
    elsewhere, out of its reach."""
    started = []
    shared = lab_processes.share(tmp_path)
    logs = tmp_path_factory.mktemp("gunicorn-logs")

    def start(**variables):
        log_path = logs / f"gunicorn-{len(started)}.log"
        served, failure = start_gunicorn(lab_processes, variables, log_path, [shared])
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
def migrated_database(lab_processes, postgres_server):
    """One database migrated once, as a Render build does, shared by the tests that only read."""
    url = postgres_server.create_database()
    variables = {"DATABASE_URL": url, "SECRET_KEY": SECRET_FOR_TESTS}
    yield MigratedDatabase(url, lab_processes.run(flask_args(["db", "upgrade"]), variables))
    postgres_server.drop_database(url)


@pytest.fixture(scope="session")
def served_app(lab_processes, migrated_database, tmp_path_factory):
    """The lab as Render runs it: gunicorn on the migrated PostgreSQL database, with only
    ``DATABASE_URL`` (postgres://) and ``SECRET_KEY`` in its environment."""
    migrated_database.require_upgrade()
    variables = {"DATABASE_URL": migrated_database.url, "SECRET_KEY": SECRET_FOR_TESTS}
    log_path = tmp_path_factory.mktemp("served") / "gunicorn.log"
    served, failure = start_gunicorn(lab_processes, variables, log_path)
    if served is None:
        pytest.fail(f"The app could not be served by gunicorn (wsgi:app):\n{failure}")
    served.database_url = migrated_database.url
    yield served
    served.stop()
