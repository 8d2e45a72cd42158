"""The Gradescope autograder bundle: built by the command line, run in a folder shaped like
Gradescope's ``/autograder`` (``source/``, ``submission/``, ``results/``) with the real
sandboxed runner.

Expected points come from the graders' ``grade`` markers (read here with ``ast``), and the
slow test compares every score with what ``studyguide grade`` gives the same submissions.
"""

import ast
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import jsonschema
import pytest

from studyguide import cli
from studyguide.gradescope import find_lab, results_json, system_packages
from studyguide.grading.exports import GRADESCOPE_SCHEMA
from studyguide.grading.results import ItemResult, PartResult
from studyguide.grading.runner import SubmissionError
from studyguide.manifest import ManifestError, load_course

REPO = Path(__file__).resolve().parent.parent
MODULE = "01-routing"  # the run tests grade lab 01: its graders need no earlier module


def marker_points(module_id):
    """{test name: (points, hint)} of a module's graders, read from their ``grade`` markers."""
    found = {}
    for path in sorted((REPO / "grading" / module_id).glob("test_*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
                continue
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call) and ast.unparse(decorator.func).endswith(
                    "mark.grade"
                ):
                    kwargs = {k.arg: ast.literal_eval(k.value) for k in decorator.keywords}
                    found[node.name] = (kwargs["points"], kwargs["hint"])
    return found


def build(module_id, out):
    """Run ``studyguide gradescope MODULE --out OUT``; return what it printed."""
    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        status = cli.main(["--root", str(REPO), "gradescope", module_id, "--out", str(out)])
    assert status == 0, said.getvalue()
    return said.getvalue()


def gradescope_root(base, bundle):
    """A folder shaped like Gradescope's ``/autograder``, the bundle unpacked in source/."""
    root = base / "autograder"
    root.mkdir(parents=True)
    with zipfile.ZipFile(bundle.parent / f"{bundle.name}.zip") as archive:
        archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):
        (root / "source" / script).chmod(0o755)
    (root / "submission").mkdir()
    (root / "results").mkdir()
    return root


def run_autograder(root, python=sys.executable):
    """Run ``run_autograder`` as Gradescope does (copied to the root); return results.json."""
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root)}
    env.pop("GRADING_PYTHON", None)
    if python:
        env["GRADING_PYTHON"] = str(python)
    finished = subprocess.run([str(root / "run_autograder")], cwd=root, env=env,
                              capture_output=True, text=True, timeout=900)
    results = root / "results" / "results.json"
    assert results.is_file(), finished.stdout + finished.stderr
    data = json.loads(results.read_text(encoding="utf-8"))
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    return data


def submit(root, files):
    """Put ``files`` ({relative path: text or bytes} or a folder to copy) in submission/."""
    submission = root / "submission"
    shutil.rmtree(submission)
    if isinstance(files, Path):
        shutil.copytree(files, submission,
                        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        return submission
    submission.mkdir()
    for name, content in files.items():
        path = submission / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return submission


def lab_tests(data):
    """{test name: test entry} of a results.json."""
    return {test["name"].split(": ", 1)[1]: test for test in data["tests"]}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """The bundle of lab 01, built once by the command line."""
    out = tmp_path_factory.mktemp("bundle") / "gradescope-01"
    said = build(MODULE, out)
    return out, said


@pytest.fixture(scope="module")
def graded(bundle, tmp_path_factory):
    """results.json of a solved lab (uploaded as the lab folder's contents) and an untouched
    lab (uploaded as a folder holding it), graded by the bundle's run_autograder."""
    results = {}
    for kind, source, shape in (("solved", "solutions", "."), ("untouched", "labs", MODULE)):
        root = gradescope_root(tmp_path_factory.mktemp(kind), bundle[0])
        (root / "submission").rmdir()
        shutil.copytree(REPO / source / MODULE, root / "submission" / shape,
                        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
        results[kind] = run_autograder(root)
    return results


# ---------------------------------------------------------------------------------- the bundle


def test_bundle_holds_the_scripts_the_graders_the_tool_and_a_zip(bundle):
    out, said = bundle
    points = marker_points(MODULE)
    assert f"{len(points)} tests, {sum(p for p, _ in points.values()):g} points" in said
    for script in ("setup.sh", "run_autograder"):
        assert os.access(out / script, os.X_OK)
        checked = subprocess.run(["bash", "-n", str(out / script)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
    graders = sorted(p.name for p in (out / "course" / "grading" / MODULE).glob("test_*.py"))
    assert graders == sorted(p.name for p in (REPO / "grading" / MODULE).glob("test_*.py"))
    assert (out / "course" / "grading" / "conftest.py").read_bytes() == (
        REPO / "grading" / "conftest.py").read_bytes()
    assert (out / "tool" / "pyproject.toml").is_file()
    assert (out / "tool" / "studyguide" / "gradescope.py").is_file()
    requirements = (out / "requirements.txt").read_text().split()
    assert any(r.startswith("flask==") for r in requirements)
    assert not any(r.lower().startswith(("nbgrader", "jupyterlab")) for r in requirements)
    with zipfile.ZipFile(out.parent / f"{out.name}.zip") as archive:
        names = archive.namelist()
        assert {"setup.sh", "run_autograder", "course/course.toml"} <= set(names)
        mode = archive.getinfo("run_autograder").external_attr >> 16
        assert mode & 0o111, "run_autograder must stay executable in the zip"
    assert not any(name.startswith(("solutions/", "labs/")) or "__pycache__" in name
                   for name in names)


def test_a_later_module_bundles_earlier_graders_and_nothing_after_it(tmp_path):
    out = tmp_path / "gradescope-02"
    said = build("02", out)
    assert "graders of 01-routing, 02-sqlalchemy" in said
    assert sorted(p.name for p in (out / "course" / "grading").iterdir()) == [
        "01-routing", "02-sqlalchemy", "conftest.py"]
    bundled = load_course(out / "course")
    original = load_course(REPO)
    assert [m.id for m in bundled.available] == ["01-routing", "02-sqlalchemy"]
    assert [(m.id, m.retires, m.earlier_graders_config) for m in bundled.modules] == [
        (m.id, m.retires, m.earlier_graders_config) for m in original.modules]
    assert "02-sqlalchemy" in (out / "run_autograder").read_text()


def test_setup_installs_the_system_packages_the_bundled_graders_ask_for():
    grading = REPO / "grading"
    assert system_packages([grading, grading / MODULE]) == []
    deployment = grading / "07-deployment"
    if not deployment.is_dir():
        pytest.skip("the course has no deployment graders yet")
    assert system_packages([grading, grading / MODULE, deployment]) == ["postgresql"]


def test_building_twice_needs_force_and_an_unknown_module_is_a_clear_error(bundle, capsys):
    out, _ = bundle
    assert cli.main(["--root", str(REPO), "gradescope", MODULE, "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert cli.main(["--root", str(REPO), "gradescope", "42-nothing", "--out", str(out)]) == 2
    assert "unknown module" in capsys.readouterr().err


# ---------------------------------------------------------------------------------- grading


def test_solved_lab_gets_every_point_of_the_graders(graded):
    points = marker_points(MODULE)
    data = graded["solved"]
    assert data["score"] == sum(p for p, _ in points.values())
    tests = lab_tests(data)
    assert set(tests) == set(points)
    for name, (max_points, _) in points.items():
        assert (tests[name]["score"], tests[name]["max_score"]) == (max_points, max_points)
        assert tests[name]["status"] == "passed"
    course = load_course(REPO)
    assert data["visibility"] == course.gradescope_visibility
    assert data["stdout_visibility"] == course.gradescope_stdout_visibility
    assert data["execution_time"] > 0


def test_untouched_lab_scores_zero_with_every_hint(graded):
    points = marker_points(MODULE)
    data = graded["untouched"]
    assert data["score"] == 0
    tests = lab_tests(data)
    for name, (max_points, hint) in points.items():
        assert (tests[name]["score"], tests[name]["max_score"]) == (0, max_points)
        assert f"Hint: {hint}" in tests[name]["output"]
    assert f"{len(points)} of {len(points)} checks failed" in data["output"]


BROKEN = {
    "nothing": ({}, "nothing was submitted"),
    "no lab": ({"notes.txt": "my answers are in my head"}, "no lab found"),
    "syntax error": ({"bookshelf/__init__.py": "def create_app(:\n"}, "does not compile"),
    "import error": ({"bookshelf/__init__.py": "import bookshelf_helpers_missing\n"},
                     "bookshelf_helpers_missing"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_submission_scores_zero_with_the_reason(bundle, tmp_path, case):
    files, reason = BROKEN[case]
    root = gradescope_root(tmp_path, bundle[0])
    submit(root, files)
    data = run_autograder(root)
    assert data["score"] == 0
    assert reason in data["output"]
    points = marker_points(MODULE)
    assert {name: t["max_score"] for name, t in lab_tests(data).items()} == {
        name: p for name, (p, _) in points.items()}


def test_a_missing_python_still_writes_results(bundle, tmp_path):
    root = gradescope_root(tmp_path, bundle[0])
    submit(root, REPO / "solutions" / MODULE)
    data = run_autograder(root, python=tmp_path / "no-such-python")
    assert data["score"] == 0
    assert "could not grade" in data["output"]


# ---------------------------------------------------------------------------------- the upload


def lab_files(base):
    """A minimal lab under ``base``: the package folder is what find_lab looks for."""
    (base / "bookshelf").mkdir(parents=True)
    (base / "bookshelf" / "__init__.py").write_text("", encoding="utf-8")
    return base


def test_the_lab_is_found_in_every_upload_shape(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    itself = lab_files(tmp_path / "itself")
    assert find_lab(itself, MODULE, scratch) == itself
    wrapped = tmp_path / "wrapped"
    lab_files(wrapped / "my-lab")
    assert find_lab(wrapped, MODULE, scratch) == wrapped / "my-lab"
    release = tmp_path / "release"
    lab_files(release / "labs" / "02-sqlalchemy")
    lab_files(release / "labs" / MODULE)
    assert find_lab(release, MODULE, scratch) == release / "labs" / MODULE
    zipped = tmp_path / "zipped"
    zipped.mkdir()
    with zipfile.ZipFile(zipped / "upload.zip", "w") as archive:
        archive.writestr("01-routing/bookshelf/__init__.py", "")
        archive.writestr("__MACOSX/01-routing/._x", "")
    found = find_lab(zipped, MODULE, scratch)
    assert found.name == MODULE and scratch in found.parents


def test_uploads_that_are_ambiguous_or_linked_are_refused(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    several = tmp_path / "several"
    lab_files(several / "first")
    lab_files(several / "second")
    with pytest.raises(SubmissionError, match="several labs"):
        find_lab(several, MODULE, scratch)
    several_zipped = tmp_path / "several-zipped"
    several_zipped.mkdir()
    with zipfile.ZipFile(several_zipped / "upload.zip", "w") as archive:
        archive.writestr("first/bookshelf/__init__.py", "")
        archive.writestr("second/bookshelf/__init__.py", "")
    with pytest.raises(SubmissionError, match=r"several labs were uploaded \(first, second\)"):
        find_lab(several_zipped, MODULE, scratch)
    linked = lab_files(tmp_path / "linked")
    (linked / "bookshelf" / "answers.py").symlink_to(REPO / "solutions" / MODULE / "README.md")
    with pytest.raises(SubmissionError, match="symbolic link"):
        find_lab(linked, MODULE, scratch)
    escaping = tmp_path / "escaping"
    escaping.mkdir()
    with zipfile.ZipFile(escaping / "upload.zip", "w") as archive:
        archive.writestr("../bookshelf/__init__.py", "")
    with pytest.raises(SubmissionError, match="escapes"):
        find_lab(escaping, MODULE, scratch)


# ---------------------------------------------------------------------------------- visibility


def course_with(tmp_path, table):
    """A copy of the course manifest with ``table`` as its [gradescope] table."""
    text = (REPO / "course.toml").read_text(encoding="utf-8")
    start = text.index("[gradescope]")
    end = text.index("[[modules]]", start)
    (tmp_path / "course.toml").write_text(text[:start] + table + "\n" + text[end:],
                                          encoding="utf-8")
    return tmp_path


def test_visibility_comes_from_the_course(tmp_path):
    manifest = tomllib.loads((REPO / "course.toml").read_text(encoding="utf-8"))
    assert load_course(REPO).gradescope_visibility == manifest["gradescope"]["visibility"]
    course = load_course(course_with(tmp_path, '[gradescope]\nvisibility = "after_due_date"\n'))
    assert (course.gradescope_visibility, course.gradescope_stdout_visibility) == (
        "after_due_date", "hidden")
    part = PartResult("lab", "submission", MODULE, score=0, max_score=2, items=[
        ItemResult(nodeid=f"{MODULE}/test_x.py::test_x", outcome="failed", points=0,
                   max_points=2, hint="Answer 404 for a missing book.")])
    data = results_json(course, part, 1.5)
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    assert data["visibility"] == data["tests"][0]["visibility"] == "after_due_date"
    assert "Hint: Answer 404 for a missing book." in data["tests"][0]["output"]


@pytest.mark.parametrize("table, message", [
    ('[gradescope]\nvisibility = "students"\n', "visibility must be one of"),
    ('[gradescope]\nvisible = "hidden"\n', "not visible"),
])
def test_a_wrong_gradescope_setting_is_a_clear_error(tmp_path, table, message):
    with pytest.raises(ManifestError, match=message):
        load_course(course_with(tmp_path, table))


# ---------------------------------------------------------------------------------- slow


@pytest.mark.slow
def test_scores_equal_what_studyguide_grade_gives_the_same_submissions(graded, tmp_path):
    submissions = tmp_path / "submissions"
    for student, source in (("solved", "solutions"), ("untouched", "labs")):
        shutil.copytree(REPO / source / MODULE, submissions / student / "labs" / MODULE,
                        ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    out = tmp_path / "graded"
    with contextlib.redirect_stdout(io.StringIO()):
        assert cli.main(["--root", str(REPO), "grade", str(submissions), MODULE,
                         "--out", str(out), "--no-cache", "--quiet"]) == 0
    for student in ("solved", "untouched"):
        by_grade = json.loads((out / "gradescope" / student / "results.json").read_text())
        lab = {name: t for name, t in lab_tests(by_grade).items()
               if t["name"].startswith(f"{MODULE} lab: ")}
        bundle_tests = lab_tests(graded[student])
        assert {n: (t["score"], t["max_score"]) for n, t in bundle_tests.items()} == {
            n: (t["score"], t["max_score"]) for n, t in lab.items()}, student
        assert graded[student]["score"] == sum(t["score"] for t in lab.values())


@pytest.mark.slow
def test_setup_sh_installs_into_a_fresh_venv_that_grades_like_the_course(
        bundle, graded, tmp_path):
    root = gradescope_root(tmp_path, bundle[0])
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "GRADING_PYTHON": str(venv / "bin/python")}
    env.pop("PYTHONPATH", None)
    setup = subprocess.run(["bash", str(root / "source" / "setup.sh")], cwd=root, env=env,
                           capture_output=True, text=True, timeout=1800)
    assert setup.returncode == 0, setup.stdout[-3000:] + setup.stderr[-3000:]
    assert f"graders of {MODULE} ready" in setup.stdout
    assert (root / "source" / "grading-python").read_text().strip() == str(venv / "bin/python")
    submit(root, REPO / "solutions" / MODULE)
    data = run_autograder(root, python=None)  # the Python setup.sh recorded
    assert data["score"] == graded["solved"]["score"] > 0
