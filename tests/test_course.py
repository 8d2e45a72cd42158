"""The repository's own course passes every invariant, and its learner tools work on it."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from studyguide.check import run_checks
from studyguide.manifest import load_course
from studyguide.progress import course_progress, format_detail, format_summary
from studyguide.release import build_release, release_leaks

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def course():
    return load_course(REPO)


@pytest.mark.slow
def test_the_course_passes_every_invariant():
    results = run_checks(REPO)
    failures = {r.name: r.problems for r in results if not r.ok}
    assert failures == {}
    names = " ".join(r.name for r in results)
    for expected in ("manifest", "fresh", "pages", "notebooks", "release", "skeleton"):
        assert expected in names


def readme_module_status():
    """The README's module table: id -> status (``available`` or ``not yet available``)."""
    status = {}
    for line in (REPO / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`0"):
            status[cells[0].strip("`")] = cells[2]
    return status


def test_manifest_lists_nine_modules_and_the_readme_agrees_on_which_are_available(course):
    assert [m.id for m in course.modules] == [
        "01-routing",
        "02-sqlalchemy",
        "03-crud-api",
        "04-restful",
        "05-validations",
        "06-auth",
        "07-deployment",
        "08-marshmallow",
        "09-hateoas",
    ]
    expected = {m.id: "available" if m.available else "not yet available" for m in course.modules}
    assert readme_module_status() == expected, "update the README's module table"


SAMPLE_LABS = ["01-routing", "09-hateoas"]  # the first and the last (every lab: pytest -m slow)


@pytest.fixture(scope="module")
def skeleton_progress(course):
    """Progress of the sample skeletons, measured once for the tests below."""
    return course_progress(course, REPO / "labs", SAMPLE_LABS)


@pytest.fixture(scope="module")
def solution_progress(course):
    """Progress of the sample solutions, measured once for the tests below (that every solution
    passes its visible tests is part of the whole-course check)."""
    return course_progress(course, REPO / "solutions", SAMPLE_LABS)


def test_progress_of_the_skeletons_is_zero_like_their_grade(skeleton_progress):
    assert_untouched_labs_show_zero(skeleton_progress)


@pytest.mark.slow
def test_progress_of_every_skeleton_is_zero_like_its_grade(course):
    assert_untouched_labs_show_zero(course_progress(course, REPO / "labs"))


def assert_untouched_labs_show_zero(progress):
    """Each untouched lab shows 0 points, a hint for its next failure, earlier checks passing."""
    for lab in progress:
        if lab.available:
            # The bar counts the module's own checks: an untouched lab is at 0, as its grade.
            assert lab.max_points > 0 and lab.points == 0, (lab.module_id, lab.tests)
            assert lab.first_failure["hint"], "the next failing check comes with a hint"
            # Checks carried over from earlier labs pass: each lab starts where the last ended.
            assert lab.earlier_passing == len(lab.earlier_tests), (lab.module_id, lab.problem)
            if lab.module_id != "01-routing":
                assert lab.earlier_tests, f"{lab.module_id} names its earlier modules' tests"


def test_progress_of_the_solutions_is_full(solution_progress):
    for lab in solution_progress:
        if lab.available:
            assert lab.points == lab.max_points > 0, (lab.module_id, lab.problem)
            assert lab.earlier_passing == len(lab.earlier_tests)


def test_progress_of_one_lab_shows_the_next_failure_with_its_hint(skeleton_progress):
    lab = next(p for p in skeleton_progress if p.module_id == "01-routing")
    text = format_detail(lab)
    assert "Next: " + lab.first_failure["nodeid"].split("::")[-1] in text
    assert "Hint: " + lab.first_failure["hint"] in text
    assert "FAIL" in text and "PASS" not in text


def test_progress_summary_marks_finished_labs_done(solution_progress):
    text = format_summary(solution_progress)
    assert text.count("points  done") == len(solution_progress) == len(SAMPLE_LABS)


def test_cli_progress_runs_as_a_console_script_from_a_lab_folder():
    lab = REPO / "labs" / "01-routing"
    proc = subprocess.run(
        [sys.executable, "-m", "studyguide.cli", "progress", "01-routing"],
        cwd=lab,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Hint:" in proc.stdout


def test_pytest_inside_a_lab_runs_its_visible_tests():
    for kind, expected_exit in (("solutions", 0), ("labs", 1)):
        folder = REPO / kind / "03-crud-api"
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == expected_exit, proc.stdout[-2000:]


@pytest.mark.slow
def test_student_release_has_no_solutions_graders_or_markers(course, tmp_path):
    out = build_release(course, tmp_path / "student")
    assert release_leaks(course, out) == []
    assert not (out / "solutions").exists() and not (out / "grading").exists()
    for module in course.available:
        assert (out / "labs" / module.id / "bookshelf" / "__init__.py").is_file()
        assert (out / "notebooks" / f"{module.id}.ipynb").is_file()
        assert (out / "modules" / module.id / "README.md").is_file()
    # a solution block copied into the release is caught
    leaked = out / "labs" / "01-routing" / "bookshelf" / "books.py"
    solution = (REPO / "solutions" / "01-routing" / "bookshelf" / "books.py").read_text()
    leaked.write_text(solution)
    assert any("holds a marker" in p for p in release_leaks(course, out))
    # an earlier release may be replaced, anything else is refused
    build_release(course, out, ["01-routing"], force=True)
    assert not (out / "labs" / "02-sqlalchemy").exists()
    assert "available = false" in (out / "course.toml").read_text()
    # the release carries its own course tool: progress works inside it
    proc = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            "import sys; sys.path.insert(0, '.');"
            "from studyguide.cli import main; sys.exit(main(['progress']))",
        ],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "01-routing" in proc.stdout and proc.stdout.count("not yet available") == 8, proc
    with pytest.raises(FileExistsError):
        build_release(course, tmp_path, force=True)
    shutil.rmtree(out)


def test_every_lab_names_the_tests_it_carries_from_earlier_modules(course):
    """Progress counts a lab's own checks apart from those carried over (see lab_hints)."""
    from studyguide.lab_hints import earlier_module_tests

    previous = None
    for module in course.available:
        solution = course.path("solutions", module)
        assert "-p studyguide.lab_hints" in (solution / "pytest.ini").read_text(), module.id
        declared = set(earlier_module_tests(solution))
        assert all((solution / path).exists() for path in declared), (module.id, declared)
        files = {f"tests/{p.name}" for p in (solution / "tests").glob("test_*.py")}
        if previous is not None:
            earlier_files = course.path("solutions", previous) / "tests"
            carried = {f"tests/{p.name}" for p in earlier_files.glob("test_*.py")} & files
            assert carried <= declared, f"{module.id}: add {carried - declared} to pytest.ini"
        assert files - declared, f"{module.id} has visible checks of its own"
        previous = module
