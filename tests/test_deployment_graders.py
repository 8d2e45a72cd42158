"""Lab 07's graders against the real production stack: PostgreSQL and gunicorn.

The graders start a throwaway PostgreSQL server and serve the lab under gunicorn on a loopback
port (see ``grading/07-deployment/conftest.py``). On the reference solution every one passes; on
the untouched skeleton every one fails. A machine without PostgreSQL fails here with the message
saying how to install it (`.ci/run` installs Debian's ``postgresql``).
"""

from pathlib import Path

from studyguide.manifest import load_course
from studyguide.testrun import run_pytest

REPO = Path(__file__).resolve().parent.parent
GRADERS = REPO / "grading" / "07-deployment"


def run_graders(lab):
    """Module 07's graders on one lab folder of the repository."""
    return run_pytest(REPO / lab / "07-deployment", [GRADERS], rootdir=REPO / "grading")


def test_every_deployment_grader_passes_on_the_solution():
    assert load_course(REPO).module("07-deployment").available
    run = run_graders("solutions")
    assert run.tests, run.output[-3000:]
    assert run.not_passed == [], run.output[-3000:]


def test_every_deployment_grader_fails_on_the_skeleton():
    run = run_graders("labs")
    assert run.tests, run.output[-3000:]
    assert run.passed == [], run.passed
