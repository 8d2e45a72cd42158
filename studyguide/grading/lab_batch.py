"""Grade a batch of students' labs of one module in one trusted pytest session.

Loaded by the runner (:func:`studyguide.grading.runner.grade_labs`) as
``-p studyguide.grading.lab_batch --studyguide-batch=JOBS.json``. The graders are collected
once; then, for each student in turn, this plugin:

1. starts the student's sandboxed lab server (:class:`~studyguide.grading.channel.LabProcess`)
   and asks it to import the package: a lab that cannot start scores 0 with the reason,
   exactly as a lab graded alone;
2. runs every grader test against that student's lab with fresh fixtures (the session's
   fixtures are torn down after the student's last test, so nothing of one student reaches the
   next): the grader fixtures read the student's :class:`LabSpec` when the session fixture is
   set up, and the process of step 1, already warm, answers the first test (the batch leaves
   it in ``config.stash[WARM_LAB_PROCESS]``, where the session fixture takes it);
3. writes the student's report with the one report plugin (:mod:`studyguide.pytest_report`),
   kills whatever is left of the student's processes and cgroups, and goes on.

This process is the trusted grader process of every student of the batch; it never imports
student code (each student's code runs only in that student's own sandbox). What it saves is
start-up: Python, pytest and the graders are loaded once per batch instead of once per student.
A student whose tests run past the run's wall clock stops there, and the runner reports it as a
run that did not finish. A report that is missing (the batch ended early) makes the runner
grade that student again alone.
"""

import json
import os
import time
from pathlib import Path

import pytest

from studyguide.grading import sandbox
from studyguide.grading.channel import SPEC_VARIABLE, LabSpec
from studyguide.grading.runner import start_lab
from studyguide.pytest_report import _Report

#: Where the batch leaves the student's lab server, started and imported, for the grader
#: fixtures (``config.stash``): their session fixture takes it instead of starting another.
WARM_LAB_PROCESS = pytest.StashKey()


def pytest_addoption(parser):
    """Register the option naming the batch's jobs file."""
    parser.addoption("--studyguide-batch", default=None, help="grade the labs listed here")


def pytest_configure(config):
    """Take over the test loop when a batch is given."""
    path = config.getoption("--studyguide-batch")
    if path:
        config.pluginmanager.register(BatchLoop(path), "studyguide-lab-batch")


class BatchLoop:
    """The test loop of a batch: every grader test once per student (see the module)."""

    def __init__(self, path):
        self.jobs = json.loads(Path(path).read_text(encoding="utf-8"))
        self.collect_reports = []
        self.report = None  # the report of the student being graded

    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_reports.append(report)

    def pytest_runtest_logreport(self, report):
        if self.report is not None:
            self.report.pytest_runtest_logreport(report)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session):
        if session.testsfailed and not session.config.option.continue_on_collection_errors:
            return None  # pytest's own loop stops the run; the runner grades each alone
        if session.config.option.collectonly:
            return None
        for job in self.jobs:
            self.grade_student(session, job)
        return True

    def _new_report(self, session, job):
        report = _Report(job["report"])
        report.pytest_collection_finish(session)
        for collect_report in self.collect_reports:
            report.pytest_collectreport(collect_report)
        return report

    def grade_student(self, session, job):
        """Run every collected test against one student's lab; write the student's report."""
        spec = LabSpec.load(job["spec"])
        os.environ[SPEC_VARIABLE] = job["spec"]
        report = self._new_report(session, job)
        status = {"preflight": None, "timed_out": False}
        started = time.monotonic()
        stash = session.config.stash
        try:
            if job["preflight"]:
                stash[WARM_LAB_PROCESS], status["preflight"] = start_lab(
                    spec, job["scratch"], job["import_seconds"])
            if status["preflight"] is None:
                self.report = report
                status["timed_out"] = self._run_items(session, job["wall_seconds"])
        finally:
            self.report = None
            unused = stash.get(WARM_LAB_PROCESS, None)
            if unused is not None:
                unused.close()
            stash[WARM_LAB_PROCESS] = None
            sandbox.remove_cgroups(spec.cgroup_tag)
        failed = any(t["outcome"] in ("failed", "error") for t in report.tests.values())
        report.pytest_sessionfinish(session, 1 if failed else (0 if report.tests else 5))
        status["seconds"] = time.monotonic() - started
        self._add_status(job["report"], status)

    @staticmethod
    def _run_items(session, wall_seconds):
        """Run the session's items once; True when the wall clock stopped them early."""
        started = time.monotonic()
        items = session.items
        for index, item in enumerate(items):
            if time.monotonic() - started > wall_seconds:
                session._setupstate.teardown_exact(None)
                return True
            nextitem = items[index + 1] if index + 1 < len(items) else None
            item.config.hook.pytest_runtest_protocol(item=item, nextitem=nextitem)
        return time.monotonic() - started > wall_seconds

    def _add_status(self, path, status):
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        data.update(status)
        Path(path).write_text(json.dumps(data), encoding="utf-8")
