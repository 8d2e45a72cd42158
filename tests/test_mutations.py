"""The mutation check finds solution lines that no grader needs."""

from fixture_course import make_course

from studyguide.mutations import check_mutations, mutants_of_file


def test_every_line_of_a_sound_block_is_needed(tmp_path):
    course = make_course(tmp_path / "course")
    problems, count = check_mutations(course, course.module("01-hello"), workers=2)
    assert (problems, count) == ([], 1)


def test_a_line_no_grader_needs_survives_and_is_named(tmp_path):
    course = make_course(tmp_path / "course")
    path = course.root / "solutions" / "01-hello" / "bookshelf" / "__init__.py"
    text = path.read_text()
    path.write_text(
        text.replace(
            "        ### BEGIN SOLUTION\n",
            "        ### BEGIN SOLUTION\n        name = name.strip()\n",
        )
    )
    problems, count = check_mutations(course, course.module("01-hello"), workers=2)
    assert count == 2
    assert problems == [
        "solutions/01-hello/bookshelf/__init__.py:21: without `name = name.strip()` every "
        "grader still passes; fix: add a grader that needs this line, or remove the line"
    ]


def test_lines_whose_removal_breaks_syntax_become_pass_or_are_skipped(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(
        "def f(x):\n    ### BEGIN SOLUTION\n    if x:\n        return 1\n"
        "    return 2\n    ### END SOLUTION\n"
    )
    mutants = list(mutants_of_file(path, "m.py"))
    # `if x:` cannot go without breaking its body's indentation, so it has no mutant.
    assert [m.line for m in mutants] == [4, 5]
    assert "    if x:\n        pass\n" in mutants[0].text, "a lone body line becomes pass"
    for mutant in mutants:
        compile(mutant.text, "m.py", "exec")
