"""Lab 07's graders against the real production stack: PostgreSQL and gunicorn.

The graders start a throwaway PostgreSQL server and serve the lab under gunicorn on a loopback
port (see ``grading/07-deployment/conftest.py``). On the reference solution every one passes; on
the untouched skeleton every one fails. Both run as grading runs them: on a private copy of the
lab, every student process (migrations, ``flask`` commands, gunicorn and its workers) in the
sandbox (as root with namespaces; limits only elsewhere). A machine without PostgreSQL fails here
with the message saying how to install it (`.ci/run` installs Debian's ``postgresql``).
"""

from pathlib import Path

from studyguide.grading.channel import LabSpec, prepare_box
from studyguide.grading.runner import copy_submission
from studyguide.manifest import load_course
from studyguide.testrun import run_pytest

REPO = Path(__file__).resolve().parent.parent
GRADERS = REPO / "grading" / "07-deployment"


def sandboxed_copy(lab, box):
    """What ``studyguide grade`` copies of ``lab`` (the package and the files the manifest says
    module 07 hands in) in ``box``, and the sandboxed spec grading would use for it."""
    course = load_course(REPO)
    copy_submission(lab, box / "lab", course.package, course.module("07-deployment").handed_in)
    spec = LabSpec(lab=str(box / "lab"), sandboxed=True, box=str(box), test_seconds=60)
    prepare_box(spec)
    return spec


def run_graders(lab, tmp_path):
    """Module 07's graders on a sandboxed copy of one lab folder of the repository."""
    spec = sandboxed_copy(REPO / lab / "07-deployment", tmp_path / "box")
    return run_pytest(spec.lab, [GRADERS], rootdir=REPO / "grading", lab_spec=spec,
                      lab_on_path=False)


def test_every_deployment_grader_passes_on_the_solution(tmp_path):
    assert load_course(REPO).module("07-deployment").available
    run = run_graders("solutions", tmp_path)
    assert run.tests, run.output[-3000:]
    assert run.not_passed == [], run.output[-3000:]


def test_every_deployment_grader_fails_on_the_skeleton(tmp_path):
    run = run_graders("labs", tmp_path)
    assert run.tests, run.output[-3000:]
    assert run.passed == [], run.passed
