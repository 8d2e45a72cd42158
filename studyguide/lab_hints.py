"""Hints in plain ``pytest`` inside a lab, and which visible tests belong to which module.

Every lab's ``pytest.ini`` loads this plugin (``addopts = -p studyguide.lab_hints``). It adds,
under each failing check, a ``Hint:`` line from the test's ``grade`` marker, and for a stub that
is still in place the task it stands for. At the end it counts this module's checks apart from
the earlier modules' checks the lab carries along.

Lab NN starts from the finished lab NN-1, so its ``tests/`` also hold the visible tests of
earlier modules. The lab's ``pytest.ini`` names those files::

    earlier_module_tests =
        tests/test_books.py

Every other visible test is a check of the lab's own module: those make its progress bar, as
only the module's own graders make its grade.
"""

import configparser
import re
from pathlib import Path

import pytest

EARLIER_TESTS_KEY = "earlier_module_tests"
TODO_MESSAGE = re.compile(r"TODO\((?P<module>[^)]*)\):\s*(?P<task>.+)")


def pytest_addoption(parser):
    """Declare the ini key that names the earlier modules' test files."""
    parser.addini(
        EARLIER_TESTS_KEY,
        type="linelist",
        default=[],
        help="test files (or folders) holding earlier modules' checks",
    )


def pytest_configure(config):
    """Register the ``grade`` marker every visible test uses."""
    config.addinivalue_line("markers", "grade(points, hint): points and hint of a graded test")


# --- which module a visible test belongs to -----------------------------------------------------


def earlier_module_tests(lab_dir):
    """The paths listed under ``earlier_module_tests`` in ``lab_dir/pytest.ini`` (may be empty)."""
    ini = Path(lab_dir) / "pytest.ini"
    if not ini.is_file():
        return []
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(ini, encoding="utf-8")
    except configparser.Error:
        return []
    value = parser.get("pytest", EARLIER_TESTS_KEY, fallback="")
    return [line.strip().rstrip("/") for line in value.splitlines() if line.strip()]


def is_earlier_check(nodeid, earlier_paths):
    """True when the test ``nodeid`` (``tests/test_x.py::name``) is in one of ``earlier_paths``."""
    path = nodeid.split("::", 1)[0]
    return any(path == entry or path.startswith(entry + "/") for entry in earlier_paths)


# --- a Hint: line under each failure ------------------------------------------------------------


def hint_of(item):
    """The hint of the test's ``grade`` marker, or None."""
    marker = item.get_closest_marker("grade")
    if marker is None:
        return None
    return marker.kwargs.get("hint", marker.args[1] if len(marker.args) > 1 else None)


def todo_of(excinfo):
    """The task of a ``raise NotImplementedError("TODO(id): ...")`` stub that was reached."""
    if excinfo is None or not excinfo.errisinstance(NotImplementedError):
        return None
    match = TODO_MESSAGE.search(str(excinfo.value))
    return f"TODO({match['module']}): {match['task']}" if match else None


class FailureWithHint:
    """A failure's report followed by its hint lines; everything else is the original's."""

    def __init__(self, longrepr, lines):
        self.longrepr = longrepr
        self.lines = lines

    def toterminal(self, out):
        """Write the original failure, then the hint lines."""
        if hasattr(self.longrepr, "toterminal"):
            self.longrepr.toterminal(out)
        else:
            out.line(str(self.longrepr))
        for line in self.lines:
            out.line(line, yellow=True, bold=True)

    def __getattr__(self, name):
        return getattr(self.longrepr, name)

    def __str__(self):
        return "\n".join([str(self.longrepr), *self.lines])


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Put the hint (and the open TODO, when a stub was reached) under a failing check."""
    report = yield
    if report.failed and report.longrepr is not None:
        lines = []
        todo = todo_of(call.excinfo)
        if todo:
            lines.append(f"Still to write: {todo}")
        hint = hint_of(item)
        if hint:
            lines.append(f"Hint: {hint}")
        if lines:
            report.longrepr = FailureWithHint(report.longrepr, lines)
    return report


# --- this module's checks apart from the earlier modules' ---------------------------------------


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Say how many of this module's checks pass, and how many earlier checks still pass."""
    earlier = [p.rstrip("/") for p in config.getini(EARLIER_TESTS_KEY)]
    outcomes = {}
    for key in ("passed", "failed", "error"):
        for report in terminalreporter.stats.get(key, []):
            nodeid = getattr(report, "nodeid", "")
            if not nodeid:
                continue
            passed = key == "passed" and outcomes.get(nodeid, True)
            outcomes[nodeid] = passed
    if not outcomes:
        return
    own = {n: ok for n, ok in outcomes.items() if not is_earlier_check(n, earlier)}
    old = {n: ok for n, ok in outcomes.items() if is_earlier_check(n, earlier)}
    name = Path(str(config.rootpath)).name
    write = terminalreporter.write_line
    terminalreporter.section("progress")
    write(f"{name}: {sum(own.values())} of {len(own)} checks of this module pass")
    if old:
        write(f"earlier modules: {sum(old.values())} of {len(old)} checks still passing")
    if sum(own.values()) < len(own) or sum(old.values()) < len(old):
        write("Each failure above ends with a hint. `studyguide progress` shows every lab.")
