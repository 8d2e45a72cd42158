"""Run pytest on one lab in its own process and read back the JSON report.

Every lab ships the same package name (``bookshelf``), so each (lab, target) pair gets its own
interpreter. This is the trusted-code runner used by the checker and the progress view; grading
untrusted submissions goes through :mod:`studyguide.grading`, which adds a sandbox around it.
"""

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class TestRun:
    """The outcome of one pytest process."""

    returncode: int
    tests: list[dict] = field(default_factory=list)
    collect_errors: list[dict] = field(default_factory=list)
    output: str = ""
    finished: bool = False

    def by_outcome(self, outcome):
        """Return the node ids of tests with this outcome."""
        return [t["nodeid"] for t in self.tests if t["outcome"] == outcome]

    @property
    def passed(self):
        return self.by_outcome("passed")

    @property
    def not_passed(self):
        return [t["nodeid"] for t in self.tests if t["outcome"] != "passed"]


def run_pytest(lab_dir, test_paths, *, rootdir=None, extra_args=(), timeout=300, deselect=()):
    """Run pytest with ``lab_dir`` importable and ``test_paths`` as the tests.

    ``lab_dir`` is the folder holding the ``bookshelf`` package. Only the configuration given
    here is used (``-c`` points at an empty ini file), so the lab's own ``pytest.ini`` does not
    change how the graders run. Node ids are relative to ``rootdir`` (default: ``lab_dir``).
    """
    lab_dir = Path(lab_dir).resolve()
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
            "-q",
            "-o",
            "console_output_style=classic",
        ]
        for nodeid in deselect:
            cmd += ["--deselect", nodeid]
        cmd += [*extra_args, *[str(Path(p).resolve()) for p in test_paths]]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(lab_dir), str(Path(__file__).resolve().parent.parent), env.get("PYTHONPATH", "")]
        )
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        try:
            proc = subprocess.run(
                cmd, cwd=lab_dir, env=env, capture_output=True, text=True, timeout=timeout
            )
            returncode, output = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as exc:
            returncode, output = -1, f"pytest did not finish within {timeout} s\n{exc.stdout or ''}"
        run = TestRun(returncode=returncode, output=output)
        if report.exists():
            data = json.loads(report.read_text(encoding="utf-8"))
            run.tests = data["tests"]
            run.collect_errors = data["collect_errors"]
            run.finished = data.get("finished", False)
        return run
