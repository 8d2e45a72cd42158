"""``pytest`` at the root of a course: every lab's visible tests, each lab in its own process.

All labs share one package name (``bookshelf``), so no two labs can be imported into one
interpreter. This plugin, loaded by the course root's ``conftest.py``, takes over each
``labs/<id>/`` folder: it runs that lab's tests in a separate pytest process (the same runner
``studyguide progress`` uses) and reports every test of the lab as one check here, a failure
with its message and hint. Inside ``labs/<id>/``, plain ``pytest`` runs that one lab directly.
"""

import os
from pathlib import Path

import pytest

from .lab_hints import earlier_module_tests, is_earlier_check
from .manifest import MANIFEST_NAME, MODULE_ID
from .testrun import run_pytest

LAB_TIMEOUT = 300
# Set while a lab's own process runs: that process loads this plugin too (the course root's
# conftest.py is above the lab) and must collect the lab's tests itself, not start another.
INSIDE_A_LAB = "STUDYGUIDE_INSIDE_A_LAB"
LAB_CHECKS = pytest.StashKey[list]()


def _is_lab(path, rootpath):
    """True for ``<course>/labs/<id>/`` folders with visible tests, below pytest's rootdir."""
    return (
        rootpath in path.parents
        and path.parent.name == "labs"
        and MODULE_ID.match(path.name) is not None
        and (path / "tests").is_dir()
        and (path.parent.parent / MANIFEST_NAME).is_file()
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path, parent):
    """Collect a lab folder as one :class:`LabTests` instead of importing its package here."""
    if os.environ.get(INSIDE_A_LAB):
        return None
    if _is_lab(Path(path), parent.config.rootpath):
        return LabTests.from_parent(parent, path=Path(path))
    return None


class LabTests(pytest.Directory):
    """One lab: its visible tests, run in their own pytest process at collection."""

    def collect(self):
        """Run the lab's tests in a separate process and yield one check per test."""
        extra = ["--collect-only"] if self.config.option.collectonly else []
        os.environ[INSIDE_A_LAB] = "1"
        try:
            run = run_pytest(
                self.path, [self.path / "tests"], extra_args=extra, timeout=LAB_TIMEOUT
            )
        finally:
            del os.environ[INSIDE_A_LAB]
        earlier = earlier_module_tests(self.path)
        for error in run.collect_errors:
            yield LabProblem.from_parent(
                self, name=f"{error['nodeid'] or 'tests'} cannot start", message=error["message"]
            )
        if not run.finished and not run.collect_errors:
            message = run.output.strip().splitlines()[-20:] or ["(no output)"]
            yield LabProblem.from_parent(
                self,
                name="the tests stopped early",
                message=f"exit status {run.returncode}\n" + "\n".join(message),
            )
        for test in run.tests:
            yield LabCheck.from_parent(
                self,
                name=test["nodeid"],
                test=test,
                earlier=is_earlier_check(test["nodeid"], earlier),
            )


class LabCheckFailed(Exception):
    """A test of a lab did not pass in the lab's own process."""


class LabCheck(pytest.Item):
    """One visible test of a lab, already run in the lab's process; reports its outcome."""

    def __init__(self, *, test, earlier, **kwargs):
        super().__init__(**kwargs)
        self.test = test
        self.earlier = earlier

    def runtest(self):
        """Pass, skip or fail as the test did in the lab's process."""
        outcome = self.test["outcome"]
        if outcome == "passed":
            return
        if outcome == "skipped":
            pytest.skip(self.test["message"] or "skipped in the lab")
        if outcome == "not run" and self.config.option.collectonly:
            return
        raise LabCheckFailed(outcome)

    def repr_failure(self, excinfo):
        """The lab's failure message, then the hint of the check."""
        if not isinstance(excinfo.value, LabCheckFailed):
            return super().repr_failure(excinfo)
        lines = [self.test["message"] or f"the test {self.test['outcome']}"]
        if self.earlier:
            lines.append("(a check of an earlier module: this used to work)")
        if self.test["hint"]:
            lines.append(f"Hint: {self.test['hint']}")
        return "\n".join(lines)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}: {self.name}"


class LabProblem(pytest.Item):
    """A lab whose tests cannot run at all (a syntax error, an import error, a hang)."""

    def __init__(self, *, message, **kwargs):
        super().__init__(**kwargs)
        self.message = message

    def runtest(self):
        raise LabCheckFailed(self.message)

    def repr_failure(self, excinfo):
        return f"{self.message}\nHint: run `pytest` inside {self.path.name} to see the whole error."

    def reportinfo(self):
        return self.path, None, f"{self.path.name}: {self.name}"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """Per lab: how many of its own module's checks pass, and the earlier ones still passing."""
    outcomes = {}
    for key in ("passed", "failed", "error", "skipped"):
        for report in terminalreporter.stats.get(key, []):
            if report.when in ("call", "setup") and "::" in getattr(report, "nodeid", ""):
                outcomes[report.nodeid] = outcomes.get(report.nodeid, True) and key == "passed"
    labs = {}
    for item in config.stash.get(LAB_CHECKS, []):
        if item.nodeid in outcomes:
            own, old = labs.setdefault(item.path.name, ([], []))
            (old if item.earlier else own).append(outcomes[item.nodeid])
    if not labs:
        return
    terminalreporter.section("progress")
    for name, (own, old) in sorted(labs.items()):
        line = f"{name}: {sum(own)} of {len(own)} checks of this module pass"
        if old:
            line += f"; earlier modules' checks: still passing {sum(old)}/{len(old)}"
        terminalreporter.write_line(line)


def pytest_collection_finish(session):
    """Remember the lab checks, for the summary at the end."""
    session.config.stash[LAB_CHECKS] = [i for i in session.items if isinstance(i, LabCheck)]
