"""A hostile lab 07: its own processes (a migration, gunicorn) run in the grading sandbox.

Lab 07's graders start the student's ``flask db upgrade`` and gunicorn themselves. This lab is
the reference solution plus a probe that runs at gunicorn start-up (``wsgi.py``) and inside the
migration: it tries to read the course (``grading/``, ``solutions/``, the real lab folder,
``.git``), to write outside its scratch folders, to reach a server of the machine, to log in to
PostgreSQL as its superuser, and to see other processes. It prints what it managed; the trusted
side reads that from the command's output and gunicorn's log, and checks that the files stayed
untouched. The real graders that run its migrations and gunicorn then still grade the hostile
lab in the sandbox, and it passes them. Finally, a grader process killed outright takes
gunicorn and its worker with it.
"""

import hashlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studyguide.grading import sandbox
from studyguide.grading.channel import LabSpec, prepare_box
from studyguide.testrun import run_pytest

REPO = Path(__file__).resolve().parents[2]
GRADERS = REPO / "grading" / "07-deployment"
SOLUTION = REPO / "solutions" / "07-deployment"
SECRET = "a-long-random-value-for-the-hostile-test"

PROBE = '''
"""Tries what a sandboxed student process must not manage; prints what it managed."""

import json
import os
import socket
from pathlib import Path

TARGETS = Path(__file__).with_name("targets.json")


def attempt(stage):
    """Read, write, connect and look around as told by targets.json; print one PROBE line."""
    targets = json.loads(TARGETS.read_text())
    found = {"stage": stage, "uid": os.getuid(), "read": [], "wrote": [], "connected": [],
             "superuser": False, "processes": []}
    for path in targets["read"]:
        try:
            if os.path.isdir(path):
                os.listdir(path)
            else:
                with open(path, "rb") as handle:
                    handle.read(1)
            found["read"].append(path)
        except OSError:
            pass
    for path in targets["write"]:
        try:
            with open(path, "a") as handle:
                handle.write("written by the hostile lab")
            found["wrote"].append(path)
        except OSError:
            pass
    for host, port in targets["connect"]:
        try:
            socket.create_connection((host, port), 3).close()
            found["connected"].append([host, port])
        except OSError:
            pass
    try:
        import psycopg

        psycopg.connect(host="127.0.0.1", port=targets["postgres_port"], user="postgres",
                        dbname="postgres", connect_timeout=5).close()
        found["superuser"] = True
    except Exception:
        pass
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\\0", b" ")
            except OSError:
                continue
            found["processes"].append(command.decode(errors="replace").strip())
    print("PROBE " + json.dumps(found), flush=True)
'''

pytestmark = pytest.mark.skipif(
    not sandbox.namespace_prefix(), reason="the sandbox's own file system needs root namespaces"
)


def deployment_fixtures():
    """grading/07-deployment/conftest.py as a module (the graders' own machinery)."""
    spec = importlib.util.spec_from_file_location("deployment_fixtures", GRADERS / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def digest(folder):
    """A hash of every file's path and bytes under ``folder`` (caches and instance left out)."""
    hashed = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and not {"__pycache__", "instance"} & set(path.parts):
            hashed.update(path.relative_to(folder).as_posix().encode() + b"\0")
            hashed.update(path.read_bytes() + b"\0")
    return hashed.hexdigest()


def probe_lines(text, stage):
    """The probe's reports of ``stage`` found in ``text``."""
    reports = [json.loads(line.split("PROBE ", 1)[1]) for line in text.splitlines()
               if line.startswith("PROBE ")]
    return [r for r in reports if r["stage"] == stage]


@pytest.fixture
def machine_server():
    """A TCP server on the machine's loopback that the sandbox must not reach."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


@pytest.fixture
def hostile_lab(tmp_path):
    """The solution with the probe in wsgi.py and in the migration, in a sandboxed box."""
    box = tmp_path / "box"
    lab = box / "lab"
    shutil.copytree(SOLUTION, lab, ignore=shutil.ignore_patterns("__pycache__", "instance"))
    (lab / "bookshelf" / "probe.py").write_text(PROBE, encoding="utf-8")
    wsgi = lab / "wsgi.py"
    wsgi.write_text('from bookshelf.probe import attempt\n\nattempt("gunicorn")\n'
                    + wsgi.read_text(encoding="utf-8"), encoding="utf-8")
    [migration] = (lab / "migrations" / "versions").glob("*.py")
    text = migration.read_text(encoding="utf-8")
    migration.write_text(text.replace("def upgrade():\n", 'def upgrade():\n    from bookshelf.probe'
                                      ' import attempt\n\n    attempt("migration")\n', 1),
                         encoding="utf-8")
    assert 'attempt("migration")' in migration.read_text(encoding="utf-8")
    spec = LabSpec(lab=str(lab), sandboxed=True, box=str(box), test_seconds=60)
    prepare_box(spec)
    return spec


def write_targets(spec, tmp_path, server_port, postgres_port):
    """What the probe tries: the course, the lab's real folder, outside its scratch."""
    lab = Path(spec.lab)
    outside = tmp_path / "outside"
    outside.mkdir()
    targets = {
        "read": [str(p) for p in (
            REPO / "grading", REPO / "grading" / "conftest.py", GRADERS / "conftest.py",
            REPO / "solutions", SOLUTION / "wsgi.py", REPO / "labs" / "07-deployment" / "wsgi.py",
            REPO / ".git", REPO / "course.toml", lab / "wsgi.py", tmp_path, Path("/etc/passwd"),
            Path("/root/.bashrc"), Path("/root/.gitconfig"),
        )],
        "write": ["/tmp/allowed.txt", "/lab/wsgi.py", "/lab/bookshelf/probe.py",
                  "/lab/pwned.txt", "/pwned.txt", "/usr/pwned.txt",
                  str(SOLUTION / "pwned.txt"), str(GRADERS / "pwned.txt"),
                  str(lab / "pwned.txt"), str(outside / "pwned.txt")],
        "connect": [["127.0.0.1", server_port]],
        "postgres_port": postgres_port,
    }
    (lab / "bookshelf" / "targets.json").write_text(json.dumps(targets), encoding="utf-8")
    return outside


def assert_contained(report):
    """Nothing outside the sandbox was read, written, reached or seen; scratch was writable."""
    assert report["uid"] != 0, report
    assert report["read"] == [], report["read"]
    assert report["wrote"] == ["/tmp/allowed.txt"], report["wrote"]
    assert report["connected"] == [], report["connected"]
    assert report["superuser"] is False
    assert 1 <= len(report["processes"]) <= 3, report["processes"]
    for command in report["processes"]:
        assert "pytest" not in command and "postgres" not in command, report["processes"]


def test_hostile_migration_and_gunicorn_start_up_stay_in_the_sandbox(
    hostile_lab, tmp_path, machine_server
):
    fixtures = deployment_fixtures()
    course_before = {name: digest(REPO / name) for name in ("grading", "solutions")}
    with fixtures.throwaway_postgres() as server:
        outside = write_targets(hostile_lab, tmp_path, machine_server, server.port)
        lab_before = digest(hostile_lab.lab)
        processes = fixtures.LabProcesses(hostile_lab.lab, hostile_lab)
        assert processes.namespaced
        processes.allow(server.host, server.port)
        url = server.create_database()
        variables = {"DATABASE_URL": url, "SECRET_KEY": SECRET}

        upgrade = processes.run(fixtures.flask_args(["db", "upgrade"]), variables)
        assert upgrade.returncode == 0, upgrade
        [report] = probe_lines(upgrade.output, "migration")
        assert_contained(report)
        with server.connect(url) as connection:  # the migration still built the schema
            tables = {name for (name,) in connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")}
        assert {"authors", "books", "users", "reviews"} <= tables

        logs = tmp_path / "logs"
        logs.mkdir()
        served, failure = fixtures.start_gunicorn(processes, variables, logs / "gunicorn.log")
        assert served is not None, failure
        try:
            status, _headers, body = served.get("/healthz")
            assert status == 200, body
            [report] = probe_lines(served.stdout(), "gunicorn")
            assert_contained(report)
        finally:
            served.stop()
        server.drop_database(url)

    assert digest(hostile_lab.lab) == lab_before, "the hostile lab changed its own copy"
    assert not (outside / "pwned.txt").exists()
    assert course_before == {name: digest(REPO / name) for name in ("grading", "solutions")}


def test_graders_still_grade_the_hostile_lab_in_the_sandbox(hostile_lab, tmp_path,
                                                            machine_server):
    # The graders' own PostgreSQL port is unknown here: the probe's superuser attempt misses,
    # the first test covers it. What it writes would land in the course, the lab copy or here.
    outside = write_targets(hostile_lab, tmp_path, machine_server, 1)
    course_before = {name: digest(REPO / name) for name in ("grading", "solutions")}
    lab_before = digest(hostile_lab.lab)
    graders = [GRADERS / "test_deployment_migrations.py", GRADERS / "test_deployment_serving.py"]
    run = run_pytest(hostile_lab.lab, graders, rootdir=REPO / "grading", lab_spec=hostile_lab,
                     lab_on_path=False)
    assert run.tests, run.output[-3000:]
    assert run.not_passed == [], run.output[-3000:]
    assert course_before == {name: digest(REPO / name) for name in ("grading", "solutions")}
    assert digest(hostile_lab.lab) == lab_before, "the hostile lab changed its own copy"
    assert not (outside / "pwned.txt").exists()


KILLED_GRADER = '''
import importlib.util
import sys
import time
from pathlib import Path

from studyguide.grading.channel import LabSpec

spec_file, conftest, logs = sys.argv[1:]
loader = importlib.util.spec_from_file_location("deployment_fixtures", conftest)
fixtures = importlib.util.module_from_spec(loader)
loader.loader.exec_module(fixtures)
spec = LabSpec.load(spec_file)
processes = fixtures.LabProcesses(spec.lab, spec)
variables = {"DATABASE_URL": "sqlite:////tmp/app.sqlite", "SECRET_KEY": "killed-grader"}
served, failure = fixtures.start_gunicorn(processes, variables, Path(logs) / "gunicorn.log")
print("started" if served else failure, flush=True)
time.sleep(600)
'''


def test_gunicorn_and_its_workers_die_with_a_killed_grader_process(tmp_path):
    box = tmp_path / "box"
    shutil.copytree(SOLUTION, box / "lab", ignore=shutil.ignore_patterns("__pycache__", "instance"))
    tag = f"killed-{os.getpid()}-{time.monotonic_ns()}-"
    spec = LabSpec(lab=str(box / "lab"), sandboxed=True, box=str(box), cgroup_tag=tag)
    prepare_box(spec)
    grader = subprocess.Popen(
        [sys.executable, "-c", KILLED_GRADER, str(spec.save(tmp_path / "spec.json")),
         str(GRADERS / "conftest.py"), str(tmp_path)],
        stdout=subprocess.PIPE, text=True, cwd=REPO,
    )
    assert grader.stdout.readline().strip() == "started"
    [cgroup] = Path("/sys/fs/cgroup").rglob(f"{sandbox.CGROUP_PREFIX}{tag}*")
    deadline = time.monotonic() + 20  # gunicorn listens first, then starts its worker
    while time.monotonic() < deadline and len((cgroup / "cgroup.procs").read_text().split()) < 2:
        time.sleep(0.2)
    assert len((cgroup / "cgroup.procs").read_text().split()) >= 2  # master and worker
    os.kill(grader.pid, signal.SIGKILL)
    grader.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (cgroup / "cgroup.procs").read_text().split():
        time.sleep(0.2)
    left = (cgroup / "cgroup.procs").read_text().split()
    sandbox.remove_cgroups(tag)  # what the runner does after a grader process ended
    assert left == []
    assert not cgroup.exists()
