"""One grader process for a batch of students: every lab scores exactly as when graded alone.

The batch runs the fixture course's lab 02 graders once per student in one trusted pytest
session (:mod:`studyguide.grading.lab_batch`), each student in their own sandbox with fresh
fixtures. Hostile students sit between honest ones: what one does must not reach the next.
"""

import pytest
from test_runner_hostile import CHEAT_HOOK, EXITS_AT_IMPORT, FAST, views_file

from studyguide.grading import Limits, grade_lab, runner
from studyguide.grading.runner import grade_labs

pytestmark = pytest.mark.timeout(600)

MODULE = "02-tally"


def summary(result):
    """Everything a student sees of a LabResult, without timings."""
    return (result.score, result.max_score, result.error, result.isolation,
            [(t.nodeid, t.outcome, t.points, t.max_points, t.hint, t.message)
             for t in result.tests])


@pytest.fixture
def class_of_labs(make_lab):
    """Honest and hostile submissions, in the order a batch grades them."""
    return [
        make_lab("solution"),
        make_lab("solution", {"bookshelf/__init__.py": "import os\nos._exit(0)\n"}),
        make_lab("solution", views_file("ping", "import os\nos._exit(0)")),
        make_lab("skeleton", {"conftest.py": CHEAT_HOOK}),
        make_lab("solution", {"bookshelf/__init__.py": "import sys\n\nsys.exit(0)\n"}),
        make_lab("solution", {"bookshelf/views.py": "def broken(:\n"}),
        make_lab("skeleton"),
        make_lab("solution", views_file("lookup", "raise RuntimeError('no')")),
        make_lab("solution"),
    ]


def test_a_batch_scores_every_student_exactly_as_grading_them_alone(
    course, class_of_labs, monkeypatch
):
    grader_processes = []
    run_pytest = runner.run_pytest

    def counted(*args, **kwargs):
        if "--collect-only" not in kwargs.get("extra_args", ()):  # the graders' collection
            grader_processes.append(kwargs.get("extra_args"))
        return run_pytest(*args, **kwargs)

    monkeypatch.setattr(runner, "run_pytest", counted)
    batch = grade_labs(course, MODULE, class_of_labs, limits=FAST)
    assert len(grader_processes) == 1, "one grader process serves the whole batch"

    assert [r.score for r in batch] == [4.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 3.0, 4.0]
    assert batch[1].error == EXITS_AT_IMPORT
    assert batch[4].error.endswith("SystemExit: 0")
    assert batch[5].error.startswith("bookshelf/views.py does not compile: SyntaxError")
    alone = [grade_lab(course, MODULE, lab, limits=FAST) for lab in class_of_labs]
    assert [summary(r) for r in batch] == [summary(r) for r in alone]


def test_a_student_past_the_wall_clock_stops_and_the_next_is_graded_in_full(course, make_lab):
    # Two views loop until their test's 6 s are up: 12 s in all, past the 10 s wall clock.
    limits = Limits(per_test_seconds=6, wall_seconds=10, memory_mb=256, processes=32,
                    import_seconds=20)
    loops = make_lab("solution", {**views_file("ping", "while True:\n    pass"),
                                  **_lookup_loops()})
    honest = make_lab("solution")
    stopped, graded = grade_labs(course, MODULE, [loops, honest], limits=limits)
    assert (stopped.score, stopped.error) == (0.0, "the test run did not finish within 10 s")
    assert (graded.score, graded.error) == (4.0, None)


def _lookup_loops():
    """The views file of ``views_file("ping", loop)`` with ``lookup`` looping as well."""
    text = views_file("ping", "while True:\n    pass")["bookshelf/views.py"]
    return {"bookshelf/views.py": text.replace('    return {"ok": True}\n',
                                               "    while True:\n        pass\n")}
