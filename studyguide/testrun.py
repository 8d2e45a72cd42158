"""Run pytest on one lab in its own process and read back the JSON report.

Every lab ships the same package name (``bookshelf``), so each (lab, target) pair gets its own
interpreter. Hidden graders reach the lab only through the fixtures of ``grading/conftest.py``,
which talk to a separate lab process; :func:`run_pytest` tells them which lab through a
:class:`~studyguide.grading.channel.LabSpec` (a plain subprocess by default; grading untrusted
submissions passes a sandboxed one, see :mod:`studyguide.grading.runner`).
"""

import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from studyguide.grading.channel import SPEC_VARIABLE, LabSpec
from studyguide.grading.processes import run_group

OUTCOMES = ("passed", "failed", "error", "skipped", "not run")


@dataclass
class TestOutcome:
    """The outcome of one test or graded item: the one type check, progress and grading use.

    ``points`` is what the item earned when graded (or the marker's points in a plain test
    report), ``max_points`` what it is worth; ``message`` is shown only for visible items.
    """

    __test__ = False  # not a pytest test class

    nodeid: str = ""
    outcome: str = "not run"  # one of OUTCOMES
    points: float | None = None
    max_points: float | None = None
    hint: str | None = None
    message: str = ""
    visible: bool = False
    duration: float = 0.0
    name: str = ""  # default: the test's function name
    module_id: str = ""  # default: the grader folder of the node id

    def __post_init__(self):
        if not self.name and self.nodeid:
            self.name = self.nodeid.split("::")[-1]
        if not self.module_id and "/" in self.nodeid:
            self.module_id = self.nodeid.partition("/")[0]

    @property
    def passed(self):
        return self.outcome == "passed"

    @classmethod
    def from_report(cls, entry):
        """Build one from an entry of the JSON report (:mod:`studyguide.pytest_report`)."""
        return cls(**{k: entry[k] for k in cls.__dataclass_fields__ if k in entry})


@dataclass
class TestRun:
    """The outcome of one pytest process."""

    __test__ = False  # not a pytest test class

    returncode: int
    tests: list[dict] = field(default_factory=list)
    collect_errors: list[dict] = field(default_factory=list)
    output: str = ""
    finished: bool = False
    exitstatus: int | None = None  # pytest's own exit status, from the report
    timed_out: bool = False  # killed at the run's time limit

    @property
    def outcomes(self):
        """The tests as :class:`TestOutcome` objects."""
        return [TestOutcome.from_report(t) for t in self.tests]

    def by_outcome(self, outcome):
        """Return the node ids of tests with this outcome."""
        return [t["nodeid"] for t in self.tests if t["outcome"] == outcome]

    @property
    def passed(self):
        return self.by_outcome("passed")

    @property
    def not_passed(self):
        return [t["nodeid"] for t in self.tests if t["outcome"] != "passed"]


def run_pytest(lab_dir, test_paths, *, rootdir=None, extra_args=(), timeout=300, deselect=(),
               lab_spec=None, lab_on_path=True):
    """Run pytest with ``test_paths`` as the tests, against the lab in ``lab_dir``.

    ``lab_dir`` is the folder holding the ``bookshelf`` package. With ``lab_on_path`` it is
    importable (the lab's visible tests import it); hidden graders never need it, they use the
    lab process named by ``lab_spec`` (default: a plain subprocess on ``lab_dir``). Only the
    configuration given here is used (``-c`` points at an empty ini file), so the lab's own
    ``pytest.ini`` does not change how the tests run, and only the plugins named here are
    loaded (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``): a plugin installed in the environment neither
    changes a run nor slows its start (some take seconds to import). Node ids are relative to
    ``rootdir`` (default: ``lab_dir``). The whole process group is killed after ``timeout`` seconds.
    """
    lab_dir = Path(lab_dir).resolve()
    spec = lab_spec or LabSpec(lab=str(lab_dir))
    with tempfile.TemporaryDirectory(prefix="studyguide-run-") as tmp:
        report = Path(tmp) / "report.json"
        ini = Path(tmp) / "pytest.ini"
        ini.write_text("[pytest]\n", encoding="utf-8")
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ini),
            "--rootdir",
            str(Path(rootdir or lab_dir).resolve()),
            "-p",
            "studyguide.pytest_report",
            f"--studyguide-report={report}",
            "-p",
            "no:cacheprovider",
            "--import-mode=importlib",
            f"--basetemp={Path(tmp) / 'basetemp'}",
            "-q",
            "-o",
            "console_output_style=classic",
        ]
        for nodeid in deselect:
            cmd += ["--deselect", nodeid]
        cmd += [*extra_args, *[str(Path(p).resolve()) for p in test_paths]]
        env = dict(os.environ)
        source = str(Path(__file__).resolve().parent.parent)
        path = [str(lab_dir), source] if lab_on_path else [source]
        env["PYTHONPATH"] = os.pathsep.join([*path, env.get("PYTHONPATH", "")])
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
        env[SPEC_VARIABLE] = str(spec.save(Path(tmp) / "lab-spec.json"))
        finished = run_group(cmd, timeout=timeout, cwd=lab_dir if lab_on_path else tmp, env=env)
        output = finished.output
        if finished.timed_out:
            output = f"pytest did not finish within {timeout} s\n{output}"
        run = TestRun(returncode=finished.returncode, output=output,
                      timed_out=finished.timed_out)
        if report.exists():
            data = json.loads(report.read_text(encoding="utf-8"))
            run.tests = data["tests"]
            run.collect_errors = data["collect_errors"]
            run.finished = data.get("finished", False)
            run.exitstatus = data.get("exitstatus")
        return run
