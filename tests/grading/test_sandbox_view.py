"""What the student's process can see and do from inside the sandbox, asked from inside it.

A probe package (``bookshelf/probe.py``) is served by the real lab server in the real sandbox;
the test calls its functions over the real channel. From inside, the instructor's course (with
its ``.git``, graders and solutions), the uploads, the outputs and another running sandbox must
not exist, the process must not be root, and only its scratch folders may be written.
"""

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from studyguide.grading import sandbox
from studyguide.grading.channel import LabProcess, LabSpec, prepare_box

REPO = Path(__file__).resolve().parents[2]

APP = '''
from flask import Flask


def create_app(test_config=None):
    app = Flask(__name__)
    app.config.from_mapping(test_config or {})
    return app
'''

PROBE = '''
import os


def readable(paths):
    """The paths this process can list or read."""
    found = []
    for path in paths:
        try:
            if os.path.isdir(path):
                os.listdir(path)
            else:
                with open(path, "rb") as handle:
                    handle.read(1)
            found.append(path)
        except OSError:
            pass
    return found


def writable(paths):
    """The folders this process can create a file in."""
    found = []
    for folder in paths:
        try:
            with open(os.path.join(folder, "probe.txt"), "w") as handle:
                handle.write("x")
            found.append(folder)
        except OSError:
            pass
    return found


def identity():
    """User, group, supplementary groups and pid as this process sees them."""
    return {"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups(),
            "pid": os.getpid(), "root": sorted(os.listdir("/"))}


def listing(path):
    """The names in a folder, or None when it cannot be listed."""
    try:
        return sorted(os.listdir(path))
    except OSError:
        return None


def processes():
    """The pids this process can see in /proc."""
    return sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
'''

pytestmark = pytest.mark.skipif(
    not sandbox.namespace_prefix(), reason="the sandbox's own file system needs root namespaces"
)


def start_probe(tmp_path, name):
    """A sandboxed lab server on a probe lab; returns the running LabProcess."""
    box = tmp_path / name / "box"
    package = box / "lab" / "bookshelf"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(APP, encoding="utf-8")
    (package / "probe.py").write_text(PROBE, encoding="utf-8")
    spec = LabSpec(lab=str(box / "lab"), sandboxed=True, box=str(box), test_seconds=20)
    prepare_box(spec)
    process = LabProcess(spec, tmp_path / name / "scratch")
    process.start()
    deadline = time.monotonic() + 30
    assert process.ask({"op": "start", "config": {"TESTING": True}}, deadline)["ok"]
    return process


def call(process, name, *args):
    """Call a probe function inside the sandbox; return its value."""
    reply = process.ask({"op": "call", "name": f"probe.{name}", "args": list(args),
                         "kwargs": {}}, time.monotonic() + 30)
    assert reply["ok"], reply
    return reply["value"]


@pytest.fixture
def probes(tmp_path):
    """Two sandboxes running side by side, like two students graded at once."""
    started = [start_probe(tmp_path, "ann"), start_probe(tmp_path, "bob")]
    yield started
    for process in started:
        process.close()


def test_the_course_uploads_outputs_and_other_sandboxes_do_not_exist_inside(probes, tmp_path):
    ann, bob = probes
    uploads = tmp_path / "graded" / "extracted" / "carol" / "labs"
    uploads.mkdir(parents=True)
    (uploads / "solution.py").write_text("secret")
    outputs = tmp_path / "graded" / "grades.csv"
    outputs.write_text("carol,10")
    git = REPO / ".git"
    targets = [
        str(git),
        str(REPO / "course.toml"),
        str(REPO / "grading"),
        str(REPO / "grading" / "conftest.py"),
        str(REPO / "solutions"),
        str(REPO / "studyguide"),
        str(uploads / "solution.py"),
        str(outputs),
        str(tmp_path),
        bob.spec.lab,
        str(Path(bob.spec.lab) / "bookshelf" / "probe.py"),
        bob.spec.box,
        "/root/.bashrc",
        "/home/" + os.environ.get("USER", "root"),
        "/etc/passwd",
        "/sys/fs/cgroup",
        "/tmp/" + tmp_path.name,
    ]
    assert call(ann, "readable", targets) == []
    # Folders above the Python environment (a venv inside the course, say) exist only as
    # empty steps on the way to it: nothing else of them is there.
    on_the_way = {p for f in sandbox.python_folders(ann.spec.python)
                  for p in (Path(f), *Path(f).parents)}
    for folder in (REPO, Path("/root")):
        seen = call(ann, "listing", str(folder)) or []
        assert all(folder / name in on_the_way for name in seen), seen
    assert call(ann, "readable", ["/lab/bookshelf/probe.py", "/lab/bookshelf/__init__.py"]) == [
        "/lab/bookshelf/probe.py", "/lab/bookshelf/__init__.py"
    ]


def test_the_root_holds_only_the_lab_the_server_python_and_scratch(probes):
    ann, _bob = probes
    seen = call(ann, "identity")
    # The first step of each folder the Python environment needs (/usr, /opt, or wherever
    # the course and its venv were cloned) is there; nothing else of the machine is.
    python_tops = {Path(f).parts[1] for f in sandbox.python_folders(ann.spec.python)}
    allowed = {"lab", "srv", "home", "tmp", "data", "dev", "proc", "usr", "bin", "sbin", "lib",
               "lib32", "lib64", "root"} | python_tops
    assert set(seen["root"]) <= allowed, seen["root"]
    # Only what Python needs lies under /root or the course folder: the environment (a venv
    # inside the course is mounted alone), never the course itself.
    course = [REPO / name for name in ("course.toml", "grading", "solutions", "labs", ".git")]
    assert call(ann, "readable", ["/root/.bashrc", "/root/.ssh", *map(str, course)]) == []


def test_the_student_is_not_root_and_sees_no_other_process(probes):
    ann, bob = probes
    seen, other = call(ann, "identity"), call(bob, "identity")
    assert seen["uid"] != 0 and seen["gid"] != 0 and seen["groups"] == []
    assert seen["uid"] != other["uid"]  # two students never share a user
    assert seen["pid"] == 1
    assert call(ann, "processes") == [1]


def test_only_scratch_folders_are_writable(probes):
    ann, _bob = probes
    folders = ["/", "/lab", "/lab/bookshelf", "/srv", "/usr", "/home", "/tmp", "/data",
               "/lab/instance", "/dev"]
    assert call(ann, "writable", folders) == ["/home", "/tmp", "/data", "/lab/instance"]


def test_the_grader_reads_the_database_the_student_wrote(probes):
    ann, _bob = probes
    reply = ann.ask({"op": "call", "name": "probe.writable", "args": [["/data"]], "kwargs": {}},
                    time.monotonic() + 30)
    assert reply["value"] == ["/data"]
    assert Path(ann.host_path("/data/probe.txt")).read_text() == "x"
    assert json.loads(json.dumps(reply))  # plain JSON all the way


def test_nothing_is_left_running_after_close(tmp_path):
    process = start_probe(tmp_path, "dan")
    box = process.spec.box
    process.close()
    assert process.proc.poll() is not None
    shutil.rmtree(box)


ORPHAN_SCRIPT = '''
import sys, time
from studyguide.grading.channel import LabProcess, LabSpec
spec = LabSpec.load(sys.argv[1])
process = LabProcess(spec, sys.argv[2])
process.start()
process.ask({"op": "start", "config": {"TESTING": True}}, time.monotonic() + 30)
print("started", flush=True)
process.ask({"op": "call", "name": "probe.forever", "args": [], "kwargs": {}},
            time.monotonic() + 600)
'''


def test_a_killed_grader_process_takes_its_student_process_with_it(tmp_path):
    import signal
    import subprocess
    import sys

    box = tmp_path / "eve" / "box"
    name = f"orphan_{os.getpid()}_{time.monotonic_ns()}"  # names the student process
    package = box / "lab" / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(APP, encoding="utf-8")
    (package / "probe.py").write_text("def forever():\n    while True:\n        pass\n")
    spec = LabSpec(lab=str(box / "lab"), package=name, sandboxed=True, box=str(box),
                   test_seconds=600, cgroup_tag=f"{name}-")
    prepare_box(spec)
    grader = subprocess.Popen(
        [sys.executable, "-c", ORPHAN_SCRIPT, str(spec.save(tmp_path / "spec.json")),
         str(tmp_path / "scratch")],
        stdout=subprocess.PIPE, text=True, cwd=REPO,
    )
    assert grader.stdout.readline().strip() == "started"
    os.kill(grader.pid, signal.SIGKILL)
    grader.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _running(name):
        time.sleep(0.2)
    left = _running(name)
    for pid in left:  # do not leave a spinning process behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert left == []
    # The killed grader could not remove its cgroup; the runner's clean-up does.
    sandbox.remove_cgroups(spec.cgroup_tag)
    assert list(Path("/sys/fs/cgroup/pids").glob(f"*{name}*")) == []


def _running(word):
    """Pids of processes whose command line holds ``word``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if word.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found
