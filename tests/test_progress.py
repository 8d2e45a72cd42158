"""Progress on a small course: bars, the next hint, and the watch loop that re-runs on save."""

import subprocess
import sys
import threading
import time

from fixture_course import make_course

from studyguide.progress import (
    LabProgress,
    bar,
    format_detail,
    format_summary,
    lab_progress,
    show_progress,
    watch,
)


def test_bar_fills_in_proportion():
    assert bar(0, 4, width=8) == "[--------]"
    assert bar(2, 4, width=8) == "[####----]"
    assert bar(4, 4, width=8) == "[########]"
    assert bar(0, 0, width=4) == "[----]"


def test_summary_shows_every_module_and_marks_unavailable_ones(tmp_path, capsys):
    course = make_course(tmp_path / "course")
    assert show_progress(root=course.root) is False
    out = capsys.readouterr().out
    assert "01-hello" in out and "0/1" in out
    assert out.count("not yet available") == 7


def test_watch_reruns_when_a_lab_file_is_saved(tmp_path, capsys):
    course = make_course(tmp_path / "course")
    lab_file = course.root / "labs" / "01-hello" / "bookshelf" / "__init__.py"
    worker = threading.Thread(
        target=watch, args=("01-hello", course.root), kwargs={"interval": 0.1, "runs": 2}
    )
    worker.start()
    deadline = time.monotonic() + 60
    while "Watching" not in capsys.readouterr().out and time.monotonic() < deadline:
        time.sleep(0.1)
    solved = lab_file.read_text().replace(
        "raise NotImplementedError('TODO(01-hello): greet the visitor by name.')",
        'return {"greeting": f"Hello, {name}!"}',
    )
    lab_file.write_text(solved)
    worker.join(timeout=60)
    assert not worker.is_alive()
    out = capsys.readouterr().out
    assert "1/1" in out
    assert out.count("Every visible test passes.") == 1, "one success line, not two"


def carry_lab_01_tests_into_lab_02(course):
    """Give lab 02 the visible tests of lab 01 and name them as earlier checks."""
    from fixture_course import VISIBLE_01

    from studyguide.generate import write_lab

    solution = course.root / "solutions" / "02-goodbye"
    (solution / "tests" / "test_hello.py").write_text(VISIBLE_01)
    (solution / "pytest.ini").write_text(
        "[pytest]\npythonpath = .\naddopts = -p studyguide.lab_hints\n"
        "earlier_module_tests =\n    tests/test_hello.py\n"
    )
    write_lab(course, course.module("02-goodbye"))


def test_a_lab_counts_its_own_module_and_shows_earlier_checks_beside_it(tmp_path):
    course = make_course(tmp_path / "course")
    carry_lab_01_tests_into_lab_02(course)
    lab = lab_progress(course, course.module("02-goodbye"), course.root / "labs")
    assert [t["nodeid"] for t in lab.tests] == ["tests/test_goodbye.py::test_goodbye"]
    assert [t["nodeid"] for t in lab.earlier_tests] == ["tests/test_hello.py::test_hello"]
    assert (lab.points, lab.max_points) == (0, 1), "the untouched lab is at 0, as its grade"
    assert lab.earlier_passing == 1
    summary = format_summary([lab])
    assert "0/1 points" in summary and "still passing 1/1" in summary
    detail = format_detail(lab)
    assert "Checks of earlier modules (still passing 1/1)" in detail
    assert "Next: test_goodbye" in detail and "Hint: Say goodbye." in detail


def test_a_broken_earlier_check_is_the_next_thing_to_fix(tmp_path):
    course = make_course(tmp_path / "course")
    carry_lab_01_tests_into_lab_02(course)
    app = course.root / "labs" / "02-goodbye" / "bookshelf" / "__init__.py"
    app.write_text(app.read_text().replace('f"Hello, {name}!"', "1 / 0"))
    lab = lab_progress(course, course.module("02-goodbye"), course.root / "labs")
    assert lab.earlier_passing == 0
    assert "still passing 0/1" in format_summary([lab])
    assert lab.first_failure["nodeid"] == "tests/test_hello.py::test_hello"


def test_titles_are_shown_whole():
    title = "Building a GET API and a POST/PATCH/DELETE API, then some more words"
    lab = LabProgress("03-crud-api", title, True, [])
    assert title in format_summary([lab])
    assert title in format_detail(lab)


def test_plain_pytest_in_a_lab_prints_a_hint_under_each_failure(tmp_path):
    course = make_course(tmp_path / "course")
    carry_lab_01_tests_into_lab_02(course)
    lab = course.root / "labs" / "02-goodbye"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
        cwd=lab,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = proc.stdout
    assert proc.returncode == 1, out + proc.stderr
    failure = out[out.index("_ test_goodbye _") :]
    assert "Still to write: TODO(02-goodbye): say goodbye by name." in failure
    assert "Hint: Say goodbye." in failure
    assert "02-goodbye: 0 of 1 checks of this module pass" in out
    assert "earlier modules: 1 of 1 checks still passing" in out
