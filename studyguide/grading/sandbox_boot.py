"""Start one sandboxed pytest run of the hidden graders; runs inside the sandbox, not imported.

The grading runner starts this file as ``python -I -B sandbox_boot.py LAB_DIR REPORT_FD --
PYTEST_ARGS``. Isolated mode ignores ``PYTHONPATH`` and the user site, so this script puts the
student's lab folder on ``sys.path`` itself. Before any student code is imported it:

- reads a secret token from stdin (never from argv or the environment) and closes stdin;
- disables ``Flask.run`` and outbound network connections;
- registers a reporter that writes one signed JSON frame to the pipe ``REPORT_FD`` opened by the
  parent. The parent rejects a missing, unsigned, doubled or malformed frame.

This file must stay self-contained: only the standard library, pytest and Flask are importable.
"""

import errno
import hashlib
import hmac
import json
import os
import socket
import sys

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


def disable_flask_run():
    """Make ``Flask.run`` raise instead of starting a server that never returns."""
    try:
        import flask
    except ImportError:
        return

    def run(self, *args, **kwargs):
        raise RuntimeError(RUN_DISABLED)

    flask.Flask.run = run


def grade_of(item):
    """Return (points, hint, visible) from an item's ``grade`` marker."""
    marker = item.get_closest_marker("grade")
    if marker is None:
        return None, None, False
    points = marker.kwargs.get("points", marker.args[0] if marker.args else None)
    hint = marker.kwargs.get("hint", marker.args[1] if len(marker.args) > 1 else None)
    return points, hint, bool(marker.kwargs.get("visible", False))


def short_message(report):
    """The last lines of a failure: enough to show expected against actual."""
    text = getattr(report, "longreprtext", "") or ""
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-12:])[-2000:]


class Reporter:
    """A pytest plugin collecting outcomes and writing one signed frame at the end."""

    def __init__(self, fd, token):
        self._fd = fd
        self._token = token.encode()
        self.tests = {}
        self.collect_errors = []

    def pytest_collection_modifyitems(self, items):
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

    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_errors.append({"nodeid": report.nodeid, "message": short_message(report)})

    def pytest_runtest_logreport(self, report):
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


def main(argv):
    """Boot the sandbox and run pytest; exit with pytest's status without running atexit code."""
    lab_dir, report_fd, separator, *pytest_args = argv
    if separator != "--":
        raise SystemExit("usage: sandbox_boot.py LAB_DIR REPORT_FD -- PYTEST_ARGS")
    reporter = Reporter(int(report_fd), read_token())
    sys.path.insert(0, lab_dir)
    sys.dont_write_bytecode = True
    block_network()
    disable_flask_run()
    import pytest

    exitstatus = pytest.main(pytest_args, plugins=[reporter])
    reporter.write(exitstatus)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(exitstatus))


if __name__ == "__main__":
    main(sys.argv[1:])
