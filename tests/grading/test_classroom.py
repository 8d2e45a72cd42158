"""Grading a whole class: submissions, cache, one nbgrader gradebook, exports and feedback.

The slow tests grade a real class built from the repository's solutions, skeletons and lesson
notebooks with the real sandboxed runner and the real ``nbgrader autograde``/``export``.
Expected scores come straight from the graders' ``grade`` markers and the notebooks' nbgrader
metadata, never from the code under test.
"""

import ast
import csv
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

from studyguide.grading import cache as cache_mod
from studyguide.grading import exports, feedback, gradebook
from studyguide.grading.classroom import (
    ClassReport,
    ItemResult,
    ModuleResult,
    PartResult,
    ProgressBar,
    SubmissionError,
    ZipLimits,
    _lab_batches,
    discover_students,
    ensure_nbgrader_course,
    grade_class,
    prepare_notebook_course,
    safe_extract,
)

ROOT = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------- helpers


def write_zip(path, entries):
    """A zip holding ``entries`` (name -> bytes)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def item(name, points, max_points, *, visible=False, message="", hint="Do the thing."):
    """A graded item, passed when it earned all its points."""
    outcome = "passed" if points == max_points else "failed"
    return ItemResult(
        name=name,
        nodeid=f"01-x/test_x.py::{name}",
        points=points,
        max_points=max_points,
        outcome=outcome,
        hint=hint,
        visible=visible,
        message=message,
    )


def small_report(students=("ann", "ben")):
    """A report of two students on one module, built by hand (no grading)."""
    rows = []
    for index, student in enumerate(students):
        lab_items = [item("test_one", 2.0 * index, 2.0), item("test_two", 1.0, 1.0)]
        lab = PartResult(
            "lab",
            student,
            "01-x",
            score=sum(i.points for i in lab_items),
            max_score=3.0,
            items=lab_items,
        )
        nb_items = [item("cell-a", 1.0, 1.0)]
        notebook = PartResult("notebook", student, "01-x", score=1.0, max_score=1.0, items=nb_items)
        rows.append(ModuleResult(student, "01-x", lab, notebook))
    return ClassReport(students=list(students), module_ids=["01-x"], results=rows, problems={})


# --------------------------------------------------------------------------- zips


def test_zip_with_wrapping_folder_extracts_to_the_submission_root(tmp_path):
    archive = write_zip(tmp_path / "ann.zip", {"ann/labs/01-x/bookshelf/__init__.py": b"x = 1\n"})
    root = safe_extract(archive, tmp_path / "out")
    assert (root / "labs" / "01-x" / "bookshelf" / "__init__.py").read_bytes() == b"x = 1\n"


@pytest.mark.parametrize(
    "name", ["../evil.py", "/abs/evil.py", "labs/../../evil.py", "C:/evil.py", "..\\evil.py"]
)
def test_zip_entry_escaping_the_folder_is_refused(tmp_path, name):
    archive = write_zip(tmp_path / "ann.zip", {name: b"boom", "labs/ok.py": b""})
    with pytest.raises(SubmissionError, match="escapes"):
        safe_extract(archive, tmp_path / "out" / "ann")
    assert not (tmp_path / "evil.py").exists() and not (tmp_path / "out" / "ann").exists()


def test_zip_symlink_is_refused(tmp_path):
    path = tmp_path / "ann.zip"
    with zipfile.ZipFile(path, "w") as archive:
        link = zipfile.ZipInfo("labs/link")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(SubmissionError, match="symbolic link"):
        safe_extract(path, tmp_path / "out")


def test_zip_over_the_size_and_entry_caps_is_refused(tmp_path):
    bomb = write_zip(tmp_path / "bomb.zip", {"a.txt": b"0" * 5000})
    with pytest.raises(SubmissionError, match="larger than"):
        safe_extract(bomb, tmp_path / "o1", ZipLimits(max_file_bytes=1000))
    with pytest.raises(SubmissionError, match="more than"):
        safe_extract(bomb, tmp_path / "o2", ZipLimits(max_total_bytes=1000))
    many = write_zip(tmp_path / "many.zip", {f"f{i}.txt": b"" for i in range(20)})
    with pytest.raises(SubmissionError, match="entries"):
        safe_extract(many, tmp_path / "o3", ZipLimits(max_entries=10))


def test_students_are_folders_and_zips_and_a_corrupt_zip_is_reported(tmp_path):
    subs = tmp_path / "subs"
    (subs / "ann" / "labs").mkdir(parents=True)
    write_zip(subs / "ben.zip", {"labs/01-x/bookshelf/__init__.py": b""})
    (subs / "cat.zip").write_bytes(b"PK\x03\x04 not really a zip")
    (subs / "notes.txt").write_text("not a student")
    (subs / ".hidden").mkdir()
    students, skipped = discover_students(subs, tmp_path / "extracted")
    by_id = {s.id: s for s in students}
    assert sorted(by_id) == ["ann", "ben", "cat"]
    assert by_id["ben"].lab("01-x") is not None and by_id["ann"].lab("01-x") is None
    assert by_id["cat"].root is None and "corrupt zip" in by_id["cat"].problem
    assert sorted(skipped) == [".hidden", "notes.txt"]


# --------------------------------------------------------------------------- cache


def test_digest_depends_on_content_and_names_not_on_timestamps(tmp_path):
    folder = tmp_path / "lab"
    (folder / "bookshelf" / "__pycache__").mkdir(parents=True)
    (folder / "bookshelf" / "__init__.py").write_text("x = 1\n")
    (folder / "bookshelf" / "__pycache__" / "x.pyc").write_bytes(b"junk")
    first = cache_mod.digest(cache_mod.folder_entries(folder, "lab"), "v1")
    os.utime(folder / "bookshelf" / "__init__.py", (1, 1))
    (folder / "bookshelf" / "__pycache__" / "x.pyc").write_bytes(b"other junk")
    assert cache_mod.digest(cache_mod.folder_entries(folder, "lab"), "v1") == first
    assert cache_mod.digest(cache_mod.folder_entries(folder, "lab"), "v2") != first
    (folder / "bookshelf" / "__init__.py").write_text("x = 2\n")
    assert cache_mod.digest(cache_mod.folder_entries(folder, "lab"), "v1") != first


def test_result_cache_round_trip_and_disabled_lookups(tmp_path):
    store = cache_mod.ResultCache(tmp_path / "c")
    assert store.get("ab" * 32) is None
    store.put("ab" * 32, {"score": 3})
    assert store.get("ab" * 32) == {"score": 3} and (store.hits, store.misses) == (1, 1)
    assert cache_mod.ResultCache(tmp_path / "c", enabled=False).get("ab" * 32) is None


# --------------------------------------------------------------------------- exports, feedback


def test_gradescope_results_validate_against_the_documented_format(tmp_path):
    report = small_report()
    report.problems["ben"] = "late"
    paths = exports.write_gradescope(report, tmp_path / "gs")
    for student in report.students:
        data = json.loads(paths[student].read_text())
        jsonschema.validate(data, exports.GRADESCOPE_SCHEMA)
        assert data["score"] == sum(t["score"] for t in data["tests"])
    ann = json.loads(paths["ann"].read_text())
    assert ann["score"] == 2 and len(ann["tests"]) == 3
    assert ann["tests"][0]["output"].startswith("Failed.\nHint: Do the thing.")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**ann, "visibility": "everyone"}, exports.GRADESCOPE_SCHEMA)


def test_gradescope_results_follow_the_course_visibility(tmp_path):
    report = small_report()
    paths = exports.write_gradescope(report, tmp_path / "gs", hidden_visibility="after_published",
                                     stdout_visibility="visible")
    ann = json.loads(paths["ann"].read_text())
    jsonschema.validate(ann, exports.GRADESCOPE_SCHEMA)
    assert (ann["visibility"], ann["stdout_visibility"]) == ("after_published", "visible")
    hidden = {t["visibility"] for t in ann["tests"] if "not graded" not in t["name"]}
    assert "after_published" in hidden


def test_lab_batches_start_with_the_latest_module_and_keep_every_job_once():
    jobs = [(student, module, Path(student) / module, f"{student}-{module}")
            for module in ("01-x", "03-z", "02-y") for student in ("ann", "ben", "cy")]
    batches = list(_lab_batches(jobs, workers=2))
    assert [module for module, _ in batches] == ["03-z", "03-z", "02-y", "02-y", "01-x", "01-x"]
    assert sorted(job for _, batch in batches for job in batch) == sorted(jobs)
    assert all({job[1] for job in batch} == {module} for module, batch in batches)


def test_csv_has_one_row_per_student_and_module(tmp_path):
    path = exports.write_csv(small_report(), tmp_path / "grades.csv")
    rows = list(csv.DictReader(path.open()))
    assert [r["student"] for r in rows] == ["ann", "ben"]
    assert rows[0] == {
        "student": "ann",
        "module": "01-x",
        "lab_score": "1",
        "lab_max": "3",
        "notebook_score": "1",
        "notebook_max": "1",
        "total": "2",
        "total_max": "4",
        "notes": "",
    }


def test_feedback_escapes_text_and_shows_messages_of_visible_tests_only():
    lab = PartResult(
        "lab",
        "ann",
        "01-x",
        score=0,
        max_score=2,
        items=[
            item(
                "test_visible",
                0,
                1,
                visible=True,
                message="expected <b>201</b> got 500",
                hint="Answer 201 & echo",
            ),
            item("test_hidden", 0, 1, visible=False, message="assert secret_grader_line()"),
        ],
        error="<script>alert(1)</script>",
    )
    row = ModuleResult("ann", "01-x", lab, PartResult("notebook", "ann", "01-x"))
    page = feedback.render_html(row)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "expected &lt;b&gt;201&lt;/b&gt; got 500" in page and "Answer 201 &amp; echo" in page
    assert "secret_grader_line" not in page
    text = feedback.render_text(row)
    assert "FAIL test_visible" in text and "expected <b>201</b>" in text
    assert "secret_grader_line" not in text


def test_progress_bar_shows_count_and_eta(tmp_path):
    out = tmp_path / "bar.txt"
    with open(out, "w") as stream:
        bar = ProgressBar(4, stream=stream)
        for _ in range(4):
            bar.advance(1, "work")
        bar.close()
    text = out.read_text()
    assert "4/4" in text and "ETA" in text and "100%" in text


# --------------------------------------------------------------------------- gradebook


def nbgrader_export(course_dir, db=None):
    """Run the real ``nbgrader export`` in ``course_dir``; return its rows."""
    dest = Path(course_dir) / "export.csv"
    args = [sys.executable, "-m", "nbgrader", "export", f"--to={dest}"]
    if db:
        args.append(f"--CourseDirectory.db_url=sqlite:///{db}")
    proc = subprocess.run(args, cwd=course_dir, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return list(csv.DictReader(dest.open()))


def test_lab_scores_land_in_an_nbgrader_gradebook_that_nbgrader_exports(tmp_path):
    report = small_report()
    key = PartResult(
        "lab",
        "solution",
        "01-x",
        max_score=3.0,
        items=[item("test_one", 0, 2.0), item("test_two", 0, 1.0)],
    )
    gradebook.record_class(tmp_path, report, {"01-x": key}, {})
    assert gradebook.lab_scores(tmp_path, "01-x") == {"ann": 1.0, "ben": 3.0}
    rows = nbgrader_export(tmp_path, tmp_path / "gradebook.db")
    labs = {r["student_id"]: r for r in rows if r["assignment"] == "lab-01-x"}
    assert {s: float(r["score"]) for s, r in labs.items()} == {"ann": 1.0, "ben": 3.0}
    assert {float(r["max_score"]) for r in labs.values()} == {3.0}
    # Graders gained a test: the assignment is rebuilt with the new cells.
    key.items.append(item("test_three", 0, 5.0))
    gradebook.record_class(tmp_path, report, {"01-x": key}, {})
    rows = nbgrader_export(tmp_path, tmp_path / "gradebook.db")
    assert {float(r["max_score"]) for r in rows if r["assignment"] == "lab-01-x"} == {8.0}


def test_a_module_whose_notebook_cannot_be_released_is_reported_not_fatal(tmp_path):
    (tmp_path / "course" / "notebooks").mkdir(parents=True)
    course_dir, broken = prepare_notebook_course(tmp_path / "course", tmp_path / "nb", ["01-x"])
    assert course_dir == tmp_path / "nb" and "no such notebook" in broken["01-x"]


# --------------------------------------------------------------------------- a real class


# A class of five over every module would take the better part of an hour on two cores; the
# first three modules already use every grader fixture (client, runner, database, call).
CLASS_MODULES = 3


def ready_modules():
    """The first available modules whose solution, lab, graders and notebook are in the repo."""
    manifest = tomllib.loads((ROOT / "course.toml").read_text())
    ready = []
    for m in manifest["modules"]:
        if not m.get("available"):
            continue
        if all((ROOT / kind / m["id"]).is_dir() for kind in ("solutions", "labs", "grading")) and (
            ROOT / "notebooks" / f"{m['id']}.ipynb"
        ).is_file():
            ready.append(m["id"])
    return ready[:CLASS_MODULES]


def grader_points(module_id):
    """{node id: points} of every grader test a lab runs, read from the ``grade`` markers."""
    manifest = tomllib.loads((ROOT / "course.toml").read_text())
    ids = [m["id"] for m in manifest["modules"]]
    chosen = [m for m in manifest["modules"][: ids.index(module_id) + 1] if m.get("available")]
    retired = {r for m in chosen for r in m.get("retires", [])}
    points = {}
    for module in chosen:
        for path in sorted((ROOT / "grading" / module["id"]).glob("test_*.py")):
            for node in ast.parse(path.read_text()).body:
                if not (isinstance(node, ast.FunctionDef) and node.name.startswith("test_")):
                    continue
                for deco in node.decorator_list:
                    if isinstance(deco, ast.Call) and ast.unparse(deco.func).endswith("mark.grade"):
                        kwargs = {k.arg: ast.literal_eval(k.value) for k in deco.keywords}
                        nodeid = f"{module['id']}/{path.name}::{node.name}"
                        if nodeid not in retired and f"{module['id']}/{path.name}" not in retired:
                            points[nodeid] = float(kwargs["points"])
    return points


def notebook_points(module_id):
    """(points of autograded test cells, points of every graded cell) of a lesson notebook."""
    cells = json.loads((ROOT / "notebooks" / f"{module_id}.ipynb").read_text())["cells"]
    graded = [
        c["metadata"]["nbgrader"]
        for c in cells
        if c.get("metadata", {}).get("nbgrader", {}).get("grade")
    ]
    auto = sum(m["points"] for m in graded if not m.get("solution"))
    return float(auto), float(sum(m["points"] for m in graded))


def copy_student(dest, modules, lab_kind, notebook_source):
    """A student folder shaped like the release: labs/<id>/ and notebooks/<id>.ipynb."""
    for module_id in modules:
        shutil.copytree(
            ROOT / lab_kind / module_id,
            dest / "labs" / module_id,
            ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"),
        )
        if notebook_source:
            (dest / "notebooks").mkdir(parents=True, exist_ok=True)
            shutil.copyfile(notebook_source(module_id), dest / "notebooks" / f"{module_id}.ipynb")
    return dest


def zip_folder(folder, archive):
    """Zip ``folder`` with its name as the wrapping top folder, then remove it."""
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out.write(path, f"{folder.name}/{path.relative_to(folder).as_posix()}")
    shutil.rmtree(folder)


@pytest.fixture(scope="module")
def real_class(tmp_path_factory):
    """Five students: full solution, skeleton, zipped, corrupt zip, missing notebooks."""
    modules = ready_modules()
    if not modules:
        pytest.skip("no module has its solution, lab, graders and notebook yet")
    base = tmp_path_factory.mktemp("class")
    out = base / "out"
    # The instructor's course grade_class uses; built once, its release is the skeleton.
    release = ensure_nbgrader_course(ROOT, out / "nbgrader", modules)

    def released(m):
        return release / "release" / m / f"{m}.ipynb"

    def solved(m):
        return ROOT / "notebooks" / f"{m}.ipynb"

    subs = base / "submissions"
    copy_student(subs / "alice", modules, "solutions", solved)
    copy_student(subs / "bob", modules, "labs", released)
    zip_folder(copy_student(subs / "carol", modules, "solutions", released), subs / "carol.zip")
    (subs / "dave.zip").write_bytes(b"PK\x03\x04 truncated upload")
    copy_student(subs / "erin", modules, "solutions", None)
    report = grade_class(ROOT, subs, out, workers=2, module_ids=modules, progress=False)
    return modules, subs, out, report


@pytest.mark.slow
def test_class_scores_match_the_graders_points(real_class):
    modules, _, _, report = real_class
    assert report.students == ["alice", "bob", "carol", "dave", "erin"]
    assert report.work_done == 4 * len(modules) + 3 * len(modules)  # 4 labs, 3 notebooks each
    for module_id in modules:
        points = grader_points(module_id)
        # Earlier modules' graders run as regression checks worth no points in this lab.
        lab_max = sum(p for n, p in points.items() if n.startswith(module_id))
        nb_auto, nb_max = notebook_points(module_id)
        expected = {  # student: (lab, notebook)
            "alice": (lab_max, nb_auto),
            "bob": (0.0, 0.0),
            "carol": (lab_max, 0.0),
            "dave": (0.0, 0.0),
            "erin": (lab_max, 0.0),
        }
        for student, (lab, notebook) in expected.items():
            row = report.result(student, module_id)
            assert (row.lab.score, row.lab.max_score) == (lab, lab_max), (student, row.lab)
            assert (row.notebook.score, row.notebook.max_score) == (notebook, nb_max), (
                student,
                row.notebook,
            )
        assert "corrupt zip" in report.result("dave", module_id).lab.error
        assert "missing notebook" in report.result("erin", module_id).notebook.error
        assert report.result("alice", module_id).lab.error is None


@pytest.mark.slow
def test_nbgrader_export_lists_labs_and_notebooks_for_every_student(real_class):
    modules, _, out, report = real_class
    rows = nbgrader_export(out / "nbgrader")
    table = {(r["assignment"], r["student_id"]): float(r["score"]) for r in rows}
    for module_id in modules:
        for student in report.students:
            row = report.result(student, module_id)
            assert table[(module_id, student)] == row.notebook.score
            assert table[(f"lab-{module_id}", student)] == row.lab.score
    graded = out / "nbgrader" / "autograded" / "alice" / modules[0] / f"{modules[0]}.ipynb"
    assert graded.is_file(), "the formgrader needs the autograded notebook"


@pytest.mark.slow
def test_formgrader_api_lists_labs_beside_notebooks(real_class):
    from nbgrader.apps.api import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    modules, _, out, report = real_class
    course = out / "nbgrader"
    api = NbGraderAPI(
        coursedir=CourseDirectory(
            root=str(course),
            db_url=f"sqlite:///{course / 'gradebook.db'}",
            course_id="flask-study-guide",
        )
    )
    assert {a["name"] for a in api.get_assignments()} >= {*modules, *(f"lab-{m}" for m in modules)}
    scores = {s["name"]: s["score"] for s in api.get_student_submissions("alice")}
    for module_id in modules:
        assert scores[f"lab-{module_id}"] == report.result("alice", module_id).lab.score
        assert scores[module_id] == report.result("alice", module_id).notebook.score


@pytest.mark.slow
def test_results_json_csv_and_feedback_are_written_for_every_student(real_class):
    modules, _, out, report = real_class
    for student in report.students:
        data = json.loads((out / "gradescope" / student / "results.json").read_text())
        jsonschema.validate(data, exports.GRADESCOPE_SCHEMA)
        total = sum(report.result(student, m).total for m in modules)
        assert data["score"] == pytest.approx(total)
        for module_id in modules:
            assert (out / "feedback" / student / f"{module_id}.html").is_file()
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert len(rows) == len(report.students) * len(modules)
    page = (out / "feedback" / "bob" / f"{modules[0]}.html").read_text()
    assert "fail" in page and "Hint:" in page


@pytest.mark.slow
def test_regrading_uses_the_cache_and_redoes_only_changed_work(real_class):
    modules, subs, out, first = real_class
    again = grade_class(ROOT, subs, out, workers=2, module_ids=modules, progress=False)
    assert again.work_done == 0 and again.cache_hits >= first.work_done
    assert [r.total for r in again.results] == [r.total for r in first.results]
    # carol and erin hand in the same lab: one cache entry, each keeps their own id.
    assert all(r.lab.student == r.notebook.student == r.student for r in again.results)
    assert gradebook.lab_scores(out / "nbgrader", modules[0]) == {
        r.student: r.lab.score
        for r in again.results
        if r.module_id == modules[0] and r.lab.submitted
    }

    init = subs / "alice" / "labs" / modules[0] / "bookshelf" / "__init__.py"
    init.write_text(init.read_text() + "\n# a comment changes the content, not the grade\n")
    third = grade_class(ROOT, subs, out, workers=2, module_ids=modules, progress=False)
    assert (third.labs_graded, third.notebooks_graded) == (1, 0)
    fresh = [
        (r.student, r.module_id) for r in third.results if not r.lab.cached and r.lab.submitted
    ]
    assert fresh == [("alice", modules[0])]
    assert [r.total for r in third.results] == [r.total for r in first.results]


# --------------------------------------------------------------------------- the command


def test_grade_command_parses_its_options_and_refuses_a_missing_folder(tmp_path, capsys):
    import argparse

    from studyguide.grading.cli import add_grade_command, run_grade

    parser = argparse.ArgumentParser()
    add_grade_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        [
            "grade",
            str(tmp_path / "nowhere"),
            "--out",
            str(tmp_path / "o"),
            "--workers",
            "3",
            "--module",
            "01-routing",
            "--no-cache",
        ]
    )
    assert (args.workers, args.modules, args.no_cache, args.func) == (
        3,
        ["01-routing"],
        True,
        run_grade,
    )
    args.root = str(ROOT)
    assert run_grade(args) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_grade_in_a_student_edition_stops_with_what_is_missing(tmp_path, capsys):
    import argparse

    from studyguide.grading.cli import add_grade_command, run_grade

    edition = tmp_path / "edition"
    shutil.copytree(ROOT, edition, ignore=shutil.ignore_patterns(
        "grading", "solutions", ".git", ".venv", "__pycache__", "node_modules"))
    submissions = tmp_path / "submissions"
    (submissions / "ann" / "labs" / "01-routing").mkdir(parents=True)
    parser = argparse.ArgumentParser()
    add_grade_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["grade", str(submissions), "--out", str(tmp_path / "out")])
    args.root = str(edition)
    assert run_grade(args) == 2
    error = capsys.readouterr().err
    assert "the hidden graders are missing in " + str(edition / "grading") in error
    assert "not from a student edition" in error
    assert not (tmp_path / "out" / "grades.csv").exists()


def test_a_student_folder_holding_a_symlink_is_refused(tmp_path):
    submissions = tmp_path / "submissions"
    lab = submissions / "mallory" / "labs" / "01-routing"
    lab.mkdir(parents=True)
    (lab / "bookshelf").symlink_to(ROOT / "solutions" / "01-routing" / "bookshelf")
    (submissions / "ann" / "labs").mkdir(parents=True)
    students, skipped = discover_students(submissions, tmp_path / "extracted")
    by_id = {s.id: s for s in students}
    assert skipped == []
    assert by_id["mallory"].root is None
    assert by_id["mallory"].problem == (
        "mallory/labs/01-routing/bookshelf is a symbolic link; symbolic links are refused"
    )
    assert by_id["ann"].problem is None
