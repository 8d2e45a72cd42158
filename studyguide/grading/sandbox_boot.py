"""Start one sandboxed pytest run of the hidden graders; runs inside the sandbox, not imported.

The grading runner starts this file as ``python -I -B sandbox_boot.py [OPTIONS] LAB_DIR
REPORT_FD -- PYTEST_ARGS`` (options: see :func:`parse_args`). Isolated mode ignores
``PYTHONPATH`` and the user site, so this script puts the student's lab folder on ``sys.path``
itself. Before any student code is imported it:

- joins the run's pids cgroup (``--cgroup``) and sets its own resource limits (``--memory-bytes``,
  ``--file-bytes``, ``--nproc``), which every process it starts inherits;
- reads a secret token from stdin (never from argv or the environment) and closes stdin;
- with ``--isolate BOX`` (run as root in fresh mount, pid and network namespaces, see
  :mod:`studyguide.grading.sandbox`): covers every ``--hide`` folder with an empty tmpfs, makes
  every mount read-only except small tmpfs ``--scratch`` folders inside ``BOX``, and drops all
  capabilities, so the student's code can change nothing else, cannot fill the disk and cannot
  see the instructor's course;
- disables ``Flask.run`` and outbound network connections;
- limits every test (setup, call and teardown together) to ``--per-test`` seconds with its own
  ``SIGALRM`` clock (see :class:`TestClock`), and kills whatever a test left running;
- makes ``Flask.test_client`` always build Flask's own client with werkzeug's own response class,
  whatever ``test_client_class`` or ``response_class`` the student's app sets, and checks that
  every ``client`` fixture is such a client (a fake app cannot hand out a fake client);
- snapshots the test machinery (pytest, werkzeug's test client, ``json``, builtins, the grader
  functions and plugins) and marks the report as tampered when any of it was replaced;
- registers a reporter that writes one signed JSON frame to the pipe ``REPORT_FD`` opened by the
  parent. The parent rejects a missing, unsigned, doubled or malformed frame.

This file must stay self-contained: only the standard library, pytest and Flask are importable.
"""

import ctypes
import errno
import hashlib
import hmac
import json
import os
import re
import resource
import signal
import socket
import sys
import time
import traceback
import types

import pytest

NETWORK_DISABLED = "network access is disabled while grading"
RUN_DISABLED = "app.run() starts a server; it is disabled while grading"


def read_token():
    """Read the run's secret token from stdin, then point stdin at /dev/null."""
    token = sys.stdin.readline().strip()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return token


def _refuse_network(*_args, **_kwargs):
    """Stand-in for every call that would reach another machine."""
    raise OSError(errno.ENETUNREACH, NETWORK_DISABLED)


def block_network():
    """Let sockets talk only to local AF_UNIX peers; name lookups and connections fail."""
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_sendto = socket.socket.sendto

    def connect(self, address):
        if self.family == socket.AF_UNIX:
            return original_connect(self, address)
        return _refuse_network()

    def connect_ex(self, address):
        if self.family == socket.AF_UNIX:
            return original_connect_ex(self, address)
        return errno.ENETUNREACH

    def sendto(self, *args):
        if self.family == socket.AF_UNIX:
            return original_sendto(self, *args)
        return _refuse_network()

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.socket.sendto = sendto
    socket.create_connection = _refuse_network
    socket.getaddrinfo = _refuse_network
    socket.gethostbyname = _refuse_network
    socket.gethostbyname_ex = _refuse_network


def harden_flask():
    """Disable ``Flask.run``; make ``test_client`` ignore the app's client and response classes.

    Returns (client class, response class) that a genuine ``client`` fixture has, or None
    when Flask is not installed.
    """
    try:
        import flask
        import flask.testing
        import werkzeug.test
    except ImportError:
        return None
    genuine_client = flask.testing.FlaskClient

    def run(self, *args, **kwargs):
        raise RuntimeError(RUN_DISABLED)

    def test_client(self, use_cookies=True, **kwargs):
        """Flask's own test client with werkzeug's own response (grading build)."""
        return genuine_client(self, None, use_cookies=use_cookies, **kwargs)

    flask.Flask.run = run
    flask.Flask.test_client = test_client
    return genuine_client, werkzeug.test.TestResponse


# The objects that decide whether a test passes; replacing any of them is tampering.
WATCHED_NAMESPACES = (
    ("builtins", None),
    ("json", None),
    ("json.decoder", "JSONDecoder"),
    ("werkzeug.test", None),
    ("werkzeug.test", "Client"),
    ("werkzeug.test", "TestResponse"),
    ("werkzeug.wrappers.response", "Response"),
    ("werkzeug.sansio.response", "Response"),
    ("flask.testing", "FlaskClient"),
    ("flask.app", "Flask"),
    ("pytest", None),
    ("_pytest.runner", None),
    ("_pytest.runner", "CallInfo"),
    ("_pytest.reports", "BaseReport"),
    ("_pytest.reports", "TestReport"),
    ("_pytest.python", None),
    ("_pytest.python", "Function"),
    ("_pytest.fixtures", "FixtureDef"),
    ("_pytest.outcomes", None),
    ("pluggy._callers", None),
    ("pluggy._hooks", "HookCaller"),
    ("pluggy._manager", "PluginManager"),
)


class Integrity:
    """Remembers which objects the test machinery is made of, to notice replacements."""

    def __init__(self):
        self._snapshots = {}

    def watch(self, name, read, *, strict=False):
        """Remember the values ``read()`` returns now; with ``strict``, new keys count too."""
        self._snapshots[name] = (read, dict(read()), strict)

    def watch_namespace(self, name, namespace, *, strict=False):
        """Remember every value of the dict ``namespace`` (a module's or class's ``vars``)."""
        self.watch(name, lambda: namespace, strict=strict)

    def watch_modules(self, watched=WATCHED_NAMESPACES):
        """Watch the module and class namespaces listed in ``watched`` (missing ones skipped)."""
        for module_name, class_name in watched:
            module = sys.modules.get(module_name)
            if module is None:
                try:
                    module = __import__(module_name, fromlist=["_"])
                except ImportError:
                    continue
            owner = getattr(module, class_name) if class_name else module
            # A new attribute on a class overrides an inherited one: classes are strict.
            name = f"{module_name}.{class_name or '*'}"
            self.watch_namespace(name, vars(owner), strict=class_name is not None)

    def changed(self):
        """The names of watched things where a value was replaced, removed or (strict) added."""
        missing = object()
        changed = []
        for name, (read, remembered, strict) in self._snapshots.items():
            current = dict(read())
            replaced = any(current.get(key, missing) is not v for key, v in remembered.items())
            if replaced or (strict and current.keys() - remembered.keys()):
                changed.append(name)
        return changed


# Mount flags and prctl/capset constants from <sys/mount.h>, <linux/prctl.h>, <linux/capability.h>.
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME = 1024, 2048, 1 << 21, 1 << 24
MOUNT_OPTION_FLAGS = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
    "strictatime": MS_STRICTATIME,
}
O_PATH = 0o10000000
# Each writable folder of a run (home, tmp, the Flask instance folder) holds at most this much.
SCRATCH_OPTIONS = "size=128m,mode=1777"
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 38, 47, 4
LINUX_CAPABILITY_VERSION_3 = 0x20080522


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _libc():
    """The C library, for mount(2), prctl(2) and capset(2)."""
    return ctypes.CDLL(None, use_errno=True)


def _encode(value):
    """A C string argument: bytes, or NULL for None."""
    return None if value is None else os.fsencode(value)


def _mount(libc, source, target, fstype, flags, data=None):
    """Call mount(2); raise OSError on failure."""
    arguments = (_encode(source), _encode(target), _encode(fstype))
    if libc.mount(*arguments, ctypes.c_ulong(flags), _encode(data)) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"mount {target}: {os.strerror(number)}")


def _unescape(field):
    """Decode the octal escapes (``\\040`` for a space) of a mountinfo path."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def current_mounts():
    """(mount point, per-mount flags) of every mount in this namespace, outermost first."""
    mounts = []
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            fields = line.split()
            flags = 0
            for option in fields[5].split(","):
                flags |= MOUNT_OPTION_FLAGS.get(option, 0)
            mounts.append((_unescape(fields[4]), flags))
    return mounts


def _inside(path, folder):
    """True when ``path`` is ``folder`` or below it."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def hide_and_freeze(box, hidden, readonly, scratch):
    """Cover ``hidden`` folders with empty tmpfs and make every mount read-only but ``scratch``.

    ``readonly`` folders inside ``box`` (normally ``box`` itself) get their own read-only mount;
    each ``scratch`` folder inside it gets a small writable tmpfs, so a run can neither change
    its graders nor fill the disk. Returns the mount points that could not be made read-only.
    """
    libc = _libc()
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)  # nothing done here leaks out
    box_fd = os.open(box, O_PATH | os.O_DIRECTORY)
    for folder in hidden:
        _mount(libc, "tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
    os.makedirs(box, exist_ok=True)
    _mount(libc, f"/proc/self/fd/{box_fd}", box, None, MS_BIND | MS_REC)
    os.close(box_fd)
    for folder in readonly:
        _mount(libc, folder, folder, None, MS_BIND | MS_REC)
    for folder in scratch:
        _mount(libc, "tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, SCRATCH_OPTIONS)
    failed = []
    for mount_point, flags in current_mounts():
        if mount_point in scratch or (_inside(mount_point, box) and mount_point not in readonly):
            continue
        try:
            _mount(libc, None, mount_point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | flags)
        except OSError:
            failed.append(mount_point)
    return failed


def drop_capabilities():
    """Drop every capability, for good: what remains is a plain process that owns its files."""
    libc = _libc()
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    for capability in range(64):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            break
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    header = CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
    data = (CapData * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"capset: {os.strerror(number)}")


def isolate(box, hidden, readonly, scratch):
    """Freeze the filesystem around ``box`` and drop capabilities; warn about what did not hold."""
    failed = hide_and_freeze(box, hidden, readonly, scratch)
    drop_capabilities()
    if failed:
        print(f"sandbox: could not make read-only: {', '.join(failed)}", file=sys.stderr)


def _function_parts(function):
    """The parts of a grader function that decide what it does."""
    return {
        "function": function,
        "code": function.__code__,
        "defaults": function.__defaults__,
        "kwdefaults": function.__kwdefaults__,
        "closure": function.__closure__,
    }


class MemoryGuard:
    """A pytest plugin that lets a run report a test which ran out of memory.

    A test that fails with ``MemoryError`` still holds its memory through the traceback (pytest
    keeps it in ``sys.last_traceback``), so pytest itself would fail next. The guard clears the
    traceback's frames, and gives back a reserve allocated at start for pytest's own work.
    """

    RESERVE_BYTES = 16 * 1024 * 1024

    def __init__(self):
        self.reserve = bytearray(self.RESERVE_BYTES)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item):
        return (yield from self._guarded())

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        return (yield from self._guarded())

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item, nextitem):
        return (yield from self._guarded())

    def _guarded(self):
        """Run one phase; after a MemoryError free what the failed test was holding."""
        __tracebackhide__ = True
        try:
            return (yield)
        except MemoryError as exc:
            self.reserve = None
            traceback.clear_frames(exc.__traceback__)
            for name in ("last_type", "last_value", "last_traceback"):
                if hasattr(sys, name):
                    delattr(sys, name)
            try:
                self.reserve = bytearray(self.RESERVE_BYTES)
            except MemoryError:
                pass
            raise


def end_stray_processes(rounds=1000):
    """Kill and reap every other process in the run's pid namespace (only as its init).

    A test that forks (a fork bomb, a server started in the background) leaves nothing behind
    to slow down or disturb the next test. Killing repeats until no process is left, because a
    bomb keeps forking while it is being killed.
    """
    if os.getpid() != 1:
        return
    for _ in range(rounds):
        try:
            os.kill(-1, 9)
        except ProcessLookupError:
            return
        _reap_children()


def _reap_children():
    """Collect the exit status of every finished child (zombies still count as processes)."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


class TestClock:
    """A pytest plugin failing a test that runs longer than its time limit.

    Like pytest-timeout's signal method, plus what a fork bomb needs: when time is up it kills
    every other process of the run, makes ``os.fork`` raise the timeout, and repeats every quarter
    second until the test gives up. A single alarm is not enough: while a process forks, Python
    runs its at-fork callbacks, and an exception raised in one of them is swallowed.
    """

    REPEAT_SECONDS = 0.25

    def __init__(self, seconds):
        self.seconds = seconds
        self.deadline = None
        self._fork = os.fork

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        marker = item.get_closest_marker("timeout")
        seconds = float(marker.args[0]) if marker is not None and marker.args else self.seconds
        self.deadline = time.monotonic() + seconds
        try:
            return (yield)
        finally:
            self.deadline = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item):
        return (yield from self._timed())

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        return (yield from self._timed())

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item, nextitem):
        return (yield from self._timed())

    def _timed(self):
        """Run one phase of a test under the alarm; always disarm it afterwards."""
        __tracebackhide__ = True
        remaining = max((self.deadline or time.monotonic()) - time.monotonic(), 0.01)
        previous = signal.signal(signal.SIGALRM, self._time_is_up)
        signal.setitimer(signal.ITIMER_REAL, remaining, self.REPEAT_SECONDS)
        try:
            return (yield)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            os.fork = self._fork

    def _time_is_up(self, signum, frame):
        """Kill the test's other processes; fail the test unless pytest itself is running.

        Raising inside pytest's or pluggy's own code would break the run, so the alarm waits
        for its next repeat when it lands there.
        """
        __tracebackhide__ = True
        end_stray_processes()
        os.fork = self._fail
        if not _in_test_machinery(frame):
            self._fail()

    def _fail(self, *args, **kwargs):
        """Fail the running test for taking too long."""
        __tracebackhide__ = True
        pytest.fail(f"Timeout: the test took longer than {self.seconds:g} s", pytrace=False)


MACHINERY_FOLDERS = tuple(
    os.path.dirname(module.__file__) + os.sep for module in (pytest, __import__("_pytest"))
) + (os.path.dirname(__import__("pluggy").__file__) + os.sep, os.path.abspath(__file__))


def _in_test_machinery(frame):
    """True when ``frame`` runs code of pytest, pluggy or this script."""
    return frame is not None and frame.f_code.co_filename.startswith(MACHINERY_FOLDERS)


def _code_objects(namespace):
    """The functions, classes and modules of a namespace (data values may change legitimately)."""
    kinds = (types.FunctionType, types.ModuleType, type, types.BuiltinFunctionType)
    return {key: value for key, value in namespace.items() if isinstance(value, kinds)}


def grade_of(item):
    """Return (points, hint, visible) from an item's ``grade`` marker."""
    marker = item.get_closest_marker("grade")
    if marker is None:
        return None, None, False
    points = marker.kwargs.get("points", marker.args[0] if marker.args else None)
    hint = marker.kwargs.get("hint", marker.args[1] if len(marker.args) > 1 else None)
    return points, hint, bool(marker.kwargs.get("visible", False))


def short_message(report):
    """Expected against actual: the ``E`` lines of a failure and where it happened."""
    text = getattr(report, "longreprtext", "") or ""
    lines = [line for line in text.splitlines() if line.strip()]
    explanation = [line for line in lines if line.startswith("E ")]
    chosen = explanation[-12:] + lines[-1:] if explanation else lines[-12:]
    return "\n".join(chosen)[-2000:]


class Reporter:
    """A pytest plugin collecting outcomes and writing one signed frame at the end."""

    def __init__(self, fd, token, genuine_client=None):
        self._fd = fd
        self._token = token.encode()
        self._genuine_client = genuine_client
        self.integrity = Integrity()
        self.tests = {}
        self.collect_errors = []
        self.fake_clients = []

    def pytest_collection_finish(self, session):
        """Record the final test list (after deselection) and watch the machinery from now on."""
        items = session.items
        manager = session.config.pluginmanager
        self.integrity.watch_modules()
        self.integrity.watch(
            "plugins", lambda: {id(p): p for p in manager.get_plugins()}, strict=True
        )
        for item in items:
            self._watch_grader(item)
        for item in items:
            points, hint, visible = grade_of(item)
            if isinstance(points, bool) or not isinstance(points, (int, float)):
                points = None
            self.tests[item.nodeid] = {
                "nodeid": item.nodeid,
                "points": points,
                "hint": hint if isinstance(hint, str) else None,
                "visible": visible,
                "outcome": "not run",
                "message": "",
            }

    def _watch_grader(self, item):
        """Watch a grader test's function and the functions, classes and modules it can call."""
        function = getattr(item, "function", None)
        if function is None:
            return
        names = list(_code_objects(function.__globals__))
        self.integrity.watch(f"{item.nodeid} function", lambda: _function_parts(function))
        self.integrity.watch(
            f"{item.nodeid} globals", lambda: {n: function.__globals__.get(n) for n in names}
        )

    @pytest.hookimpl(wrapper=True)
    def pytest_fixture_setup(self, fixturedef, request):
        """Refuse a ``client`` fixture that is not Flask's genuine test client."""
        __tracebackhide__ = True
        value = yield
        if fixturedef.argname == "client" and self._genuine_client is not None:
            client_class, response_class = self._genuine_client
            genuine = type(value) is client_class and value.response_wrapper is response_class
            if not genuine:
                self.fake_clients.append(request.node.nodeid)
                raise TypeError("the client fixture is not Flask's test client")
        return value

    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_errors.append({"nodeid": report.nodeid, "message": short_message(report)})

    def pytest_runtest_logreport(self, report):
        if report.when == "teardown":
            end_stray_processes()
        test = self.tests.get(report.nodeid)
        if test is None:
            return
        if report.when == "call" or report.failed or report.skipped:
            if report.failed:
                outcome = "failed" if report.when == "call" else "error"
                test["message"] = short_message(report)
            else:
                outcome = "skipped" if report.skipped else "passed"
            # A teardown error after a pass still fails the test.
            if test["outcome"] in ("not run", "passed"):
                test["outcome"] = outcome

    def write(self, exitstatus):
        """Write the signed report frame to the parent's pipe and close it."""
        data = {
            "exitstatus": int(exitstatus),
            "finished": True,
            "tampered": self.integrity.changed() + [f"fake client: {n}" for n in self.fake_clients],
            "tests": list(self.tests.values()),
            "collect_errors": self.collect_errors,
        }
        body = json.dumps(data).encode()
        signature = hmac.new(self._token, body, hashlib.sha256).hexdigest().encode()
        frame = signature + b"\n" + body
        while frame:
            written = os.write(self._fd, frame)
            frame = frame[written:]
        os.close(self._fd)


VALUE_OPTIONS = ("--isolate", "--per-test", "--memory-bytes", "--file-bytes", "--cgroup", "--nproc")
LIST_OPTIONS = ("--hide", "--readonly", "--scratch")


def parse_args(argv):
    """Split the command line into ({option: value or list}, lab, report fd, pytest args)."""
    options = {name: None for name in VALUE_OPTIONS} | {name: [] for name in LIST_OPTIONS}
    while argv and argv[0] in options:
        option, value, *argv = argv
        if option in LIST_OPTIONS:
            options[option].append(value)
        else:
            options[option] = value
    lab_dir, report_fd, separator, *pytest_args = argv
    if separator != "--":
        raise SystemExit("usage: sandbox_boot.py [OPTIONS] LAB REPORT_FD -- PYTEST_ARGS")
    return options, lab_dir, int(report_fd), pytest_args


def limit_self(options):
    """Join the run's pids cgroup and set this process's resource limits (children inherit)."""
    if options["--cgroup"]:
        with open(os.path.join(options["--cgroup"], "cgroup.procs"), "w") as procs:
            procs.write("0")
    limits = [
        (resource.RLIMIT_AS, options["--memory-bytes"]),
        (resource.RLIMIT_FSIZE, options["--file-bytes"]),
        (resource.RLIMIT_NPROC, options["--nproc"]),
        (resource.RLIMIT_CORE, "0"),
    ]
    for kind, value in limits:
        if value is not None:
            resource.setrlimit(kind, (int(value), int(value)))


def main(argv):
    """Boot the sandbox and run pytest; exit with pytest's status without running atexit code."""
    options, lab_dir, report_fd, pytest_args = parse_args(argv)
    limit_self(options)
    token = read_token()
    box = options["--isolate"]
    if box is not None:
        isolate(box, options["--hide"], options["--readonly"], options["--scratch"])
        os.chdir(os.environ.get("HOME", box))  # the old working folder is on a frozen mount
    sys.path.insert(0, lab_dir)
    sys.dont_write_bytecode = True
    block_network()
    reporter = Reporter(report_fd, token, harden_flask())
    plugins = [reporter, MemoryGuard()]
    if options["--per-test"] is not None:
        plugins.append(TestClock(float(options["--per-test"])))
    exitstatus = pytest.main(pytest_args, plugins=plugins)
    reporter.write(exitstatus)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(exitstatus))


if __name__ == "__main__":
    main(sys.argv[1:])
