"""The mutation check: which mutants it makes, and how it classifies them."""

import textwrap

import pytest
from fixture_course import make_course

from studyguide.mutations import (
    FAILED_BY_TIME_LIMIT,
    TIMED_OUT,
    Mutant,
    MutationReport,
    load_equivalents,
    mutant_verdict,
    mutants_of_file,
    run_mutations,
    write_report,
)

VIEW = textwrap.dedent(
    '''\
    """A view with one marked block."""

    from flask import request


    def create(data, limit=3):
        """Create something."""
        # TODO(01-x): do it.
        ### BEGIN SOLUTION
        if data is None or limit < 0:
            return {"error": "no data here"}, 400
        else:
            name = data.get("name", "").strip()
        body = request.get_json(silent=True)
        return {"name": name, "size": limit + 1, "body": body}, 201
        ### END SOLUTION


    def untouched(x):
        """Outside every block: never mutated."""
        return x == 1
    '''
)


def mutants(tmp_path, text=VIEW, **options):
    path = tmp_path / "view.py"
    path.write_text(text)
    return mutants_of_file(path, "view.py", **options)


def changes(found, operator):
    return {(m.original, m.replacement) for m in found if m.operator == operator}


def test_every_mutant_compiles_and_changes_one_block_only(tmp_path):
    found = mutants(tmp_path)
    assert found
    for mutant in found:
        compile(mutant.text, "view.py", "exec")
        assert mutant.text != VIEW
        # The code outside the block is untouched.
        assert mutant.text.endswith(
            '"""Outside every block: never mutated."""\n    return x == 1\n'
        )
        assert mutant.text.startswith('"""A view with one marked block."""\n')
    assert "return x != 1" not in {m.replacement for m in found}


def test_comparisons_and_boolean_operators_are_mutated(tmp_path):
    found = mutants(tmp_path)
    assert changes(found, "compare") == {
        ("data is None", "data is not None"),
        ("limit < 0", "limit <= 0"),
    }
    assert ("data is None or limit < 0", "data is None and limit < 0") in changes(found, "boolean")


def test_numbers_move_by_one_and_status_codes_become_their_neighbours(tmp_path):
    found = changes(mutants(tmp_path), "number")
    assert {("0", "1"), ("0", "-1"), ("1", "2"), ("1", "0")} <= found
    assert ("400", "422") in found and ("201", "200") in found
    assert ("True", "False") in found, "booleans flip"
    assert ("400", "401") not in found, "a status code is not moved by one"


def test_key_like_strings_are_renamed_but_messages_are_not(tmp_path):
    found = changes(mutants(tmp_path), "string")
    assert {("'name'", "'name_x'"), ("'error'", "'error_x'"), ("''", "'x'")} <= found
    assert not [m for m in found if "no data here" in m[0]], "prose is left alone"
    assert not [m for m in found if "Create something" in m[0]], "docstrings are left alone"


def test_keywords_are_dropped_and_calls_removed(tmp_path):
    found = mutants(tmp_path)
    assert ("request.get_json(silent=True)", "request.get_json()") in changes(found, "keyword")
    assert ("data.get('name', '').strip()", "data.get('name', '')") in changes(found, "call")


def test_if_else_branches_are_swapped(tmp_path):
    found = [m for m in mutants(tmp_path) if m.operator == "branch"]
    assert len(found) == 1
    text = found[0].text
    assert text.index("name = data.get") < text.index("'no data here'")
    assert "    if data is None or limit < 0:\n        name = " in text


def test_an_if_without_else_gets_its_condition_negated(tmp_path):
    source = "def f(x):\n    ### BEGIN SOLUTION\n    if x:\n        return 1\n    return 2\n"
    found = mutants(tmp_path, source + "    ### END SOLUTION\n", operators={"branch"})
    assert [m.text.splitlines()[2] for m in found] == ["    if not x:"]


def test_lines_whose_removal_breaks_syntax_become_pass_or_are_skipped(tmp_path):
    source = (
        "def f(x):\n    ### BEGIN SOLUTION\n    if x:\n        return 1\n"
        "    return 2\n    ### END SOLUTION\n"
    )
    found = mutants(tmp_path, source, operators={"delete"})
    # `if x:` cannot go without breaking its body's indentation, so it has no mutant.
    assert [m.line for m in found] == [4, 5]
    assert "    if x:\n        pass\n" in found[0].text, "a lone body line becomes pass"


def test_mutant_ids_name_file_scope_and_change_but_not_the_line(tmp_path):
    found = mutants(tmp_path)
    ids = [m.id for m in found]
    assert len(ids) == len(set(ids)), "ids are unique"
    assert "view.py::create::number: 201 -> 200" in ids
    shifted = mutants(tmp_path, "\n\n\n" + VIEW.replace('"""A view', '# moved\n"""A view'))
    assert {m.id for m in shifted} == set(ids), "ids survive edits elsewhere in the file"


def test_a_file_without_blocks_has_no_mutants(tmp_path):
    assert mutants(tmp_path, "def f():\n    return 1 + 1\n") == []


def test_equivalents_are_read_with_their_reasons(tmp_path):
    course = make_course(tmp_path / "course")
    module = course.module("01-hello")
    path = course.path("grading", module) / "equivalent_mutants.toml"
    path.write_text('[[mutant]]\nid = "a.py::f::number: 1 -> 2"\nreason = "same"\n')
    assert load_equivalents(course, module) == {"a.py::f::number: 1 -> 2": "same"}
    path.write_text('[[mutant]]\nid = "a.py::f::number: 1 -> 2"\n')
    with pytest.raises(ValueError, match="reason"):
        load_equivalents(course, module)


def test_the_report_keeps_other_modules_rows_when_one_module_is_redone(tmp_path):
    found = mutants(tmp_path)
    first = MutationReport("01-x", total=3, caught=found[:2], survived=found[2:3], seconds=60)
    second = MutationReport("02-y", total=2, caught=found[:1], equivalent=[(found[1], "same")])
    path = tmp_path / "report.md"
    write_report(path, [first, second], "studyguide mutate")
    text = path.read_text()
    path.write_text(text.replace("How the runs above were made, and what their survivors mean.",
                                 "01-x ran on a busy machine.\n\n### By hand\n\nKept too."))
    redone = MutationReport("01-x", total=3, caught=found[:3], seconds=120)
    write_report(path, [redone], "studyguide mutate 01-x")
    text = path.read_text()
    assert "| 01-x | 3 | 3 | 0 | 0 | 100.0% | 2.0 min |" in text
    assert "| 02-y | 2 | 1 | 1 | 0 | 100.0% | 0.0 min |" in text
    assert f"- `{found[1].id}`: same" in text
    assert "Surviving" not in text, "the redone module's old survivors are gone"
    assert "## Notes\n\n01-x ran on a busy machine.\n\n### By hand\n\nKept too.\n" in text
    assert text.count("## Notes") == 1


# The test below runs pytest once per mutant, plus once on the solution itself.


@pytest.mark.slow
def test_survivors_are_reported_and_equivalents_are_not_counted(tmp_path):
    course = make_course(tmp_path / "course")
    module = course.module("01-hello")
    path = course.root / "solutions" / "01-hello" / "bookshelf" / "__init__.py"
    path.write_text(
        path.read_text().replace(
            "        ### BEGIN SOLUTION\n",
            "        ### BEGIN SOLUTION\n        name = name.strip()\n",
        )
    )
    equivalent = "bookshelf/__init__.py::create_app.hello::call: name.strip() -> name"
    (course.path("grading", module) / "equivalent_mutants.toml").write_text(
        f'[[mutant]]\nid = "{equivalent}"\nreason = "the graders send no spaces"\n'
    )
    report = run_mutations(course, module, workers=2, operators={"delete", "call"})
    assert report.total == 3, [m.id for m in report.caught]
    assert [m.id for m in report.caught] == [
        "bookshelf/__init__.py::create_app.hello::delete: "
        'return {"greeting": f"Hello, {name}!"} -> nothing'
    ]
    assert [(m.id, reason) for m, reason in report.equivalent] == [
        (equivalent, "the graders send no spaces")
    ]
    assert [m.id for m in report.survived] == [
        "bookshelf/__init__.py::create_app.hello::delete: name = name.strip() -> nothing"
    ]
    assert report.score == 0.5


def test_a_run_stopped_at_its_time_limit_is_undecided_not_caught(tmp_path):
    course = make_course(tmp_path / "course")
    module = course.module("01-hello")
    relpath = "bookshelf/__init__.py"
    original = (course.root / "solutions" / "01-hello" / relpath).read_text()
    slow = Mutant(relpath, 1, "create_app", "call", "x", "y",
                  text="import time\n\ntime.sleep(30)\n" + original)
    assert mutant_verdict(course, module, slow, timeout=4) == TIMED_OUT


def test_a_mutant_caught_only_by_a_graders_time_limit_is_named_so(tmp_path):
    """The grader's own timeout marker is kept by the channel (not by pytest-timeout, which
    would interrupt the grader and leave the app running), so the failure says why."""
    course = make_course(tmp_path / "course")
    module = course.module("01-hello")
    graders = course.path("grading", module) / "test_hello_graders.py"
    graders.write_text(graders.read_text() + "\npytestmark = pytest.mark.timeout(2)\n")
    relpath = "bookshelf/__init__.py"
    original = (course.root / "solutions" / "01-hello" / relpath).read_text()
    block = "        ### BEGIN SOLUTION\n"
    hanging = original.replace(block, block + "        while True:\n            pass\n")
    mutant = Mutant(relpath, 1, "create_app.hello", "call", "x", "y", text=hanging)
    assert mutant_verdict(course, module, mutant, timeout=60) == FAILED_BY_TIME_LIMIT
