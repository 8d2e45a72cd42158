"""The checker passes a sound course and fails, with the fixing command, each way it can break."""

import shutil

import pytest
from fixture_course import make_course

from studyguide.check import (
    check_labs_fresh,
    check_manifest,
    check_pages,
    check_skeleton,
    check_solution,
    run_checks,
)
from studyguide.manifest import ManifestError, load_course


@pytest.fixture
def course(tmp_path):
    """A fresh copy of the tiny two-module course."""
    return make_course(tmp_path / "course")


def edit(path, old, new):
    """Replace ``old`` by ``new`` in a file, failing loudly if ``old`` is absent."""
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def test_sound_course_passes_every_check(course):
    results = run_checks(course.root, notebooks=False, release=False)
    assert [r.name for r in results if not r.ok] == [], [r.problems for r in results]
    assert len(results) == 7


def test_lab_edited_by_hand_is_stale(course):
    lab_file = course.root / "labs" / "01-hello" / "bookshelf" / "__init__.py"
    edit(lab_file, "raise NotImplementedError", "return {}  # raise NotImplementedError")
    problems = check_labs_fresh(course)
    assert any("labs/01-hello/bookshelf/__init__.py differs" in p for p in problems), problems
    assert all("studyguide generate" in p for p in problems)


def test_missing_and_extra_lab_files_are_reported(course):
    (course.root / "labs" / "01-hello" / "README.md").unlink()
    (course.root / "labs" / "01-hello" / "notes.txt").write_text("mine")
    problems = check_labs_fresh(course)
    assert any("README.md is missing" in p for p in problems), problems
    assert any("notes.txt has no source" in p for p in problems), problems


def test_solution_line_copied_into_a_lab_is_a_leak(course):
    lab_file = course.root / "labs" / "01-hello" / "bookshelf" / "extra.py"
    lab_file.write_text('        return {"greeting": f"Hello, {name}!"}\n')
    problems = check_labs_fresh(course)
    assert any("extra.py:1 holds a solution" in p for p in problems), problems


def test_marker_left_in_a_lab_is_a_leak(course):
    (course.root / "labs" / "01-hello" / "bookshelf" / "x.py").write_text("### END SOLUTION\n")
    assert any("holds a marker" in p for p in check_labs_fresh(course))


def test_malformed_marker_in_a_solution_names_file_and_line(course):
    path = course.root / "solutions" / "01-hello" / "bookshelf" / "__init__.py"
    edit(path, "        ### END SOLUTION\n", "")
    problems = check_labs_fresh(course)
    assert any(
        "solutions/01-hello/bookshelf/__init__.py:20: BEGIN SOLUTION is never closed" in p
        for p in problems
    ), problems


def test_deleting_a_line_from_a_solution_block_fails_the_solution(course):
    path = course.root / "solutions" / "01-hello" / "bookshelf" / "__init__.py"
    edit(path, '        return {"greeting": f"Hello, {name}!"}\n', "")
    problems = check_solution(course, course.module("01-hello"))
    assert any("test_hello_names_the_visitor does not pass" in p for p in problems), problems
    assert any("test_hello does not pass" in p for p in problems), "visible tests fail too"


def test_broken_solution_fails(course):
    path = course.root / "solutions" / "02-goodbye" / "bookshelf" / "__init__.py"
    edit(path, 'f"Goodbye, {name}!"', 'f"Bye, {name}."')
    problems = check_solution(course, course.module("02-goodbye"))
    assert any("test_goodbye_names_the_visitor does not pass" in p for p in problems), problems


def test_grader_that_passes_on_the_skeleton_is_free_points(course):
    graders = course.root / "grading" / "01-hello" / "test_hello_graders.py"
    graders.write_text(
        graders.read_text() + '\n\n@pytest.mark.grade(points=1, hint="The index names the app.")\n'
        "def test_index_names_the_app(client):\n"
        '    assert client.get("/").get_json() == {"name": "tiny"}\n'
    )
    problems = check_skeleton(course, course.module("01-hello"))
    assert any(
        "test_index_names_the_app passes on the skeleton (free points)" in p for p in problems
    )
    assert check_solution(course, course.module("01-hello")) == []


def test_grader_without_points_or_hint_is_reported(course):
    graders = course.root / "grading" / "01-hello" / "test_hello_graders.py"
    edit(graders, '@pytest.mark.grade(points=1, hint="Any name works.")\n', "")
    problems = check_solution(course, course.module("01-hello"))
    assert any("test_hello_works_for_any_name: no positive points" in p for p in problems)
    assert any("test_hello_works_for_any_name: no hint" in p for p in problems)


def test_marking_earlier_work_breaks_where_the_lab_starts(course):
    path = course.root / "solutions" / "02-goodbye" / "bookshelf" / "__init__.py"
    edit(
        path,
        '        return {"greeting": f"Hello, {name}!"}\n',
        '        ### BEGIN SOLUTION\n        return {"greeting": f"Hello, {name}!"}\n'
        "        ### END SOLUTION\n",
    )
    course_again = load_course(course.root)
    from studyguide.generate import write_lab

    write_lab(course_again, course_again.module("02-goodbye"))
    problems = check_skeleton(course_again, course_again.module("02-goodbye"))
    assert any("does not start where the previous lab ended" in p for p in problems), problems


def test_retired_grader_is_not_required(course):
    manifest = course.root / "course.toml"
    edit(
        manifest,
        'id = "02-goodbye"\n',
        'id = "02-goodbye"\n'
        'retires = ["01-hello/test_hello_graders.py::test_hello_names_the_visitor"]\n',
    )
    path = course.root / "solutions" / "02-goodbye" / "bookshelf" / "__init__.py"
    edit(path, 'f"Hello, {name}!"', 'f"Hi, {name}!"')
    course_again = load_course(course.root)
    assert check_solution(course_again, course_again.module("02-goodbye")) == []


def test_missing_part_of_an_available_module_is_reported(course):
    shutil.rmtree(course.root / "grading" / "02-goodbye")
    problems = check_manifest(course)
    assert problems == [
        "02-goodbye: the graders grading/02-goodbye is missing; fix: create grading/02-goodbye"
    ]


def test_page_holding_a_solution_line_is_a_leak(course):
    page = course.root / "modules" / "01-hello" / "README.md"
    page.write_text(page.read_text() + '\n    return {"greeting": f"Hello, {name}!"}\n')
    problems = check_pages(course)
    assert any("modules/01-hello/README.md:5 holds a solution" in p for p in problems), problems


def test_page_including_a_solution_block_is_a_leak(course):
    page = course.root / "modules" / "01-hello" / "README.md"
    page.write_text(
        "# Page\n<!-- include: solutions/01-hello/bookshelf/__init__.py::create_app -->\n"
    )
    problems = check_pages(course)
    assert any("overlaps a solution block" in p for p in problems), problems


def test_stale_included_code_is_reported(course):
    page = course.root / "modules" / "01-hello" / "README.md"
    page.write_text(
        "# Page\n<!-- include: solutions/01-hello/tests/conftest.py::client -->\n"
        "```python\nold code\n```\n"
    )
    assert any("stale" in p and "studyguide generate" in p for p in check_pages(course))


def test_manifest_must_list_nine_modules(course):
    manifest = course.root / "course.toml"
    text = manifest.read_text()
    manifest.write_text(text[: text.index('[[modules]]\nid = "09')])
    with pytest.raises(ManifestError, match="lists 8 modules"):
        load_course(course.root)
    results = run_checks(course.root)
    assert not results[0].ok and "edit course.toml" in results[0].problems[0]


def test_manifest_hints_must_not_be_empty(course):
    edit(course.root / "course.toml", 'hints = ["a hint for 01-hello"]', "hints = []")
    with pytest.raises(ManifestError, match="hints must be a non-empty list"):
        load_course(course.root)


def test_earlier_graders_config_is_read_as_a_table_and_checked(course):
    manifest = course.root / "course.toml"
    edit(manifest, 'id = "02-', 'earlier_graders_config = { LOGIN_DISABLED = true }\nid = "02-')
    module = load_course(course.root).modules[1]
    assert module.earlier_graders_config == {"LOGIN_DISABLED": True}
    assert load_course(course.root).modules[0].earlier_graders_config == {}
    edit(manifest, "{ LOGIN_DISABLED = true }", "3")
    with pytest.raises(ManifestError, match="earlier_graders_config must be a table"):
        load_course(course.root)
