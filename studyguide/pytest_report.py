"""A small pytest plugin that writes one JSON report of a test run.

Load it with ``-p studyguide.pytest_report --studyguide-report=PATH``. The report lists every
collected test with its ``grade`` marker (points, hint), its outcome and a short failure message,
plus collection errors. The course tool reads this file instead of parsing pytest's output.
"""

import json
import os


def pytest_addoption(parser):
    """Register the option naming the report file."""
    parser.addoption("--studyguide-report", default=None, help="write a JSON test report here")


def pytest_configure(config):
    """Register the `grade` marker and start a report when a path is given."""
    config.addinivalue_line("markers", "grade(points, hint): points and hint of a graded test")
    config.addinivalue_line("markers", "timeout(seconds): time limit of one grader test")
    path = config.getoption("--studyguide-report")
    if path:
        config._studyguide_report = _Report(path)
        config.pluginmanager.register(config._studyguide_report, "studyguide-report-writer")


def grade_of(item):
    """Return (points, hint, visible) from an item's `grade` marker; (None, None, False) without."""
    marker = item.get_closest_marker("grade")
    if marker is None:
        return None, None, False
    points = marker.kwargs.get("points", marker.args[0] if marker.args else None)
    hint = marker.kwargs.get("hint", marker.args[1] if len(marker.args) > 1 else None)
    if isinstance(points, bool) or not isinstance(points, int | float):
        points = None
    return points, hint if isinstance(hint, str) else None, bool(marker.kwargs.get("visible"))


def _short_message(report):
    """Expected against actual: the ``E`` lines of a failure and where it happened."""
    text = getattr(report, "longreprtext", "") or ""
    lines = [line for line in text.splitlines() if line.strip()]
    explanation = [line for line in lines if line.startswith("E ")]
    chosen = explanation[-12:] + lines[-1:] if explanation else lines[-12:]
    return "\n".join(chosen)[-2000:]


class _Report:
    """Collects outcomes during the run and writes them at the end."""

    def __init__(self, path):
        self.path = path
        self.tests = {}
        self.collect_errors = []
        self.finished = False

    def pytest_collection_finish(self, session):
        # session.items is the final list, after deselection and -k filtering.
        for item in session.items:
            points, hint, visible = grade_of(item)
            self.tests[item.nodeid] = {
                "nodeid": item.nodeid,
                "points": points,
                "hint": hint,
                "visible": visible,
                "outcome": "not run",
                "message": "",
                "duration": 0.0,
            }

    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_errors.append({"nodeid": report.nodeid, "message": _short_message(report)})

    def pytest_runtest_logreport(self, report):
        test = self.tests.get(report.nodeid)
        if test is None:
            return
        test["duration"] += report.duration
        if report.when == "call" or report.failed or report.skipped:
            if report.failed:
                outcome = "failed" if report.when == "call" else "error"
                test["message"] = _short_message(report)
            elif report.skipped:
                outcome = "skipped"
            else:
                outcome = "passed"
            # A teardown error after a pass still fails the test.
            if test["outcome"] in ("not run", "passed"):
                test["outcome"] = outcome

    def pytest_sessionfinish(self, session, exitstatus):
        self.finished = True
        data = {
            "exitstatus": int(exitstatus),
            "finished": True,
            "tests": list(self.tests.values()),
            "collect_errors": self.collect_errors,
        }
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1)
        os.replace(tmp, self.path)
