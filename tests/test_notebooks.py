"""The lesson notebooks and the machinery that checks them (invariant 5).

The fast tests break a copy of a real notebook in one way each and look for the problem in
``check_source_notebook``. The slow ones run real kernels and the real nbgrader commands.
"""

import json
import re
import tomllib
from pathlib import Path

import nbformat
import pytest

from studyguide.notebooks import (
    NbgraderError,
    check_notebooks,
    check_source_notebook,
    is_graded_test,
    nbgrader_course,
    nbgrader_meta,
)

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = tomllib.loads((ROOT / "course.toml").read_text())
AVAILABLE = [m["id"] for m in MANIFEST["modules"] if m.get("available")]
LESSON = "01-routing"


def load(module_id=LESSON):
    """A fresh in-memory copy of a real lesson notebook."""
    return nbformat.read(ROOT / "notebooks" / f"{module_id}.ipynb", as_version=4)


def save(nb, folder, module_id=LESSON):
    """Write ``nb`` as ``folder/notebooks/<id>.ipynb`` (a tiny course) and return its path."""
    path = folder / "notebooks" / f"{module_id}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def cells_where(nb, predicate):
    """Indexes of the cells matching ``predicate``."""
    return [i for i, cell in enumerate(nb.cells) if predicate(cell)]


def answers(nb):
    """Indexes of the autograded answer cells."""
    return cells_where(nb, lambda c: nbgrader_meta(c).get("solution"))


def graded_tests(nb):
    """Indexes of the graded test cells."""
    return cells_where(nb, is_graded_test)


def label(nb, index):
    """How messages name a cell."""
    return f"cell {index} (grade_id {nbgrader_meta(nb.cells[index])['grade_id']!r})"


def unstub(source):
    """Move the solution out of its markers, leaving an empty block: the release keeps it."""
    indent = re.search(r"^( *)### BEGIN SOLUTION", source, re.M).group(1)
    body = "\n".join(line for line in source.splitlines() if "SOLUTION" not in line)
    return f"{body}\n{indent}### BEGIN SOLUTION\n{indent}pass\n{indent}### END SOLUTION"


# --- the real notebooks ----------------------------------------------------------------------


@pytest.mark.parametrize("module_id", AVAILABLE)
def test_source_notebook_is_well_formed(module_id):
    path = ROOT / "notebooks" / f"{module_id}.ipynb"
    assert check_source_notebook(path) == []


@pytest.mark.parametrize("module_id", AVAILABLE)
def test_notebook_has_three_exercises_with_hidden_tests(module_id):
    nb = load(module_id)
    assert len(answers(nb)) >= 3
    for index in graded_tests(nb):
        source = nb.cells[index].source
        assert "assert" in source.split("### BEGIN HIDDEN TESTS")[0], f"cell {index}"
        assert "### BEGIN HIDDEN TESTS" in source, f"cell {index} has no hidden tests"


@pytest.mark.parametrize("module_id", AVAILABLE)
def test_notebook_never_starts_a_server(module_id):
    code = "\n".join(c.source for c in load(module_id).cells if c.cell_type == "code")
    assert not re.search(r"\bapp\.run\(", code)


def split_hidden(nb):
    """(lines inside hidden-test sections, lines outside them) of a notebook, stripped."""
    hidden, shown = set(), []
    for cell in nb.cells:
        inside = False
        for line in cell.source.splitlines():
            if "BEGIN HIDDEN TESTS" in line or "END HIDDEN TESTS" in line:
                inside = "BEGIN" in line
            elif line.strip():
                (hidden.add if inside else shown.append)(line.strip())
    return hidden, shown


def test_every_notebook_has_hidden_lines_the_release_check_can_look_for():
    # The release check looks for hidden lines that no lesson shows anywhere (a line shown
    # somewhere is no secret): each notebook keeps some, or its hidden tests go unguarded.
    from studyguide.manifest import load_course
    from studyguide.release import hidden_test_lines, notebook_test_lines

    course = load_course(ROOT)
    secrets = hidden_test_lines(course)
    for module in course.available:
        hidden, _shown = notebook_test_lines(course.notebook(module))
        assert hidden & secrets, f"{module.id}: no hidden test line is distinctive"


# That every available notebook passes check_notebooks is part of the whole-course check,
# tests/test_course.py::test_the_course_passes_every_invariant, so it is not repeated here.


# --- broken copies: the source checks --------------------------------------------------------


def test_output_cell_is_reported(tmp_path):
    nb = load()
    index = cells_where(nb, lambda c: c.cell_type == "code")[0]
    nb.cells[index].outputs = [nbformat.v4.new_output("stream", name="stdout", text="hi\n")]
    nb.cells[index].execution_count = 3
    problems = check_source_notebook(save(nb, tmp_path))
    assert any(f"cell {index}" in p and "outputs" in p for p in problems), problems
    assert any(f"cell {index}" in p and "execution_count is 3" in p for p in problems), problems


def test_unbalanced_solution_markers_are_reported_with_cell(tmp_path):
    nb = load()
    index = answers(nb)[0]
    nb.cells[index].source = nb.cells[index].source.replace("### END SOLUTION", "")
    problems = check_source_notebook(save(nb, tmp_path))
    assert problems == [
        f"{tmp_path / 'notebooks' / f'{LESSON}.ipynb'}: {label(nb, index)}: "
        "'BEGIN SOLUTION' without 'END SOLUTION'"
    ]


def test_end_without_begin_and_nested_markers_are_reported(tmp_path):
    nb = load()
    first, second = graded_tests(nb)[:2]
    nb.cells[first].source = nb.cells[first].source.replace("### BEGIN HIDDEN TESTS", "")
    nb.cells[second].source = nb.cells[second].source.replace(
        "### END HIDDEN TESTS", "### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS"
    )
    problems = "\n".join(check_source_notebook(save(nb, tmp_path)))
    assert f"{label(nb, first)}: line" in problems and "'END HIDDEN TESTS' without" in problems
    assert f"{label(nb, second)}: line" in problems and "markers never nest" in problems


def test_marker_outside_its_kind_of_cell_is_reported(tmp_path):
    nb = load()
    index = cells_where(nb, lambda c: c.cell_type == "code" and not nbgrader_meta(c))[0]
    nb.cells[index].source += "\n### BEGIN SOLUTION\nx = 1\n### END SOLUTION"
    problems = check_source_notebook(save(nb, tmp_path))
    assert any(f"cell {index}:" in p and "not a solution cell" in p for p in problems), problems


def test_solution_cell_without_markers_is_reported(tmp_path):
    nb = load()
    index = answers(nb)[0]
    nb.cells[index].source = "\n".join(
        line for line in nb.cells[index].source.splitlines() if "SOLUTION" not in line
    )
    problems = check_source_notebook(save(nb, tmp_path))
    assert any(label(nb, index) in p and "without '### BEGIN SOLUTION'" in p for p in problems)


def test_grade_id_and_points_problems_are_reported(tmp_path):
    nb = load()
    first, second, third = graded_tests(nb)[:3]
    del nb.cells[first].metadata.nbgrader["points"]
    nb.cells[second].metadata.nbgrader["grade_id"] = nbgrader_meta(nb.cells[third])["grade_id"]
    del nb.cells[answers(nb)[0]].metadata.nbgrader["grade_id"]
    problems = "\n".join(check_source_notebook(save(nb, tmp_path)))
    assert f"{label(nb, first)}: graded cell without positive points" in problems
    assert f"{label(nb, third)}: duplicate grade_id (also cell {second})" in problems
    assert f"cell {answers(nb)[0]}: nbgrader cell without a grade_id" in problems


def test_fewer_than_three_graded_tests_is_reported(tmp_path):
    nb = load()
    for index in graded_tests(nb)[1:]:
        nb.cells[index].metadata.nbgrader.update(grade=False, locked=False)
        nb.cells[index].metadata.nbgrader.pop("points")
    problems = "\n".join(check_source_notebook(save(nb, tmp_path)))
    assert "1 graded test cell(s), at least 3 needed" in problems


def test_invalid_notebooks_are_reported(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{not json")
    assert "cannot read the notebook" in check_source_notebook(path)[0]
    nb = load()
    del nb.cells[0]["id"]
    nb.cells[1]["bogus"] = 1
    path.write_text(json.dumps(nb))  # raw: nbformat's writer would repair the missing id
    problems = "\n".join(check_source_notebook(path))
    assert "invalid nbformat" in problems and "cell 0: the cell has no id" in problems


# --- broken copies through the real nbgrader -------------------------------------------------


@pytest.mark.slow
def test_check_notebooks_reports_free_points_outputs_and_crashes(tmp_path):
    nb = load()
    # 1: the solution is left outside its markers, so the release still solves exercise 1.
    answer = answers(nb)[0]
    nb.cells[answer].source = unstub(nb.cells[answer].source)
    # 2: a test cell that asserts nothing passes on the release too.
    empty_test = graded_tests(nb)[1]
    nb.cells[empty_test].source = (
        "print('nothing checked')\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS"
    )
    # 3: an output left in, and 4: a lesson cell that crashes.
    first_code = cells_where(nb, lambda c: c.cell_type == "code")[0]
    nb.cells[first_code].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x\n")]
    nb.cells.append(nbformat.v4.new_code_cell("raise ValueError('boom')"))
    course = tmp_path / "course"
    save(nb, course)

    problems = check_notebooks(course, [LESSON], workdir=tmp_path / "work")

    rel = f"notebooks/{LESSON}.ipynb"
    output = [p for p in problems if f"cell {first_code}" in p and "has outputs" in p]
    assert output and output[0].endswith(f"`jupyter nbconvert --clear-output --inplace {rel}`")
    crash = [p for p in problems if "ValueError: boom" in p]
    assert crash and f"cell {len(nb.cells) - 1}" in crash[0]
    assert crash[0].endswith("> /dev/null`"), crash
    free = [p for p in problems if "free points" in p]
    assert len(free) == 1, problems
    assert "print('nothing checked')" in free[0]
    first_lines = [nb.cells[i].source.splitlines()[0] for i in graded_tests(nb)]
    assert first_lines[0] in free[0]
    # the third test is not named (its first line may be the first test's, e.g. `try:`)
    assert free[0].count(first_lines[2]) == first_lines[:2].count(first_lines[2])
    assert free[0].endswith(f"release/{LESSON}/{LESSON}.ipynb`")
    assert len(problems) == 3, problems


@pytest.mark.slow
def test_nbgrader_course_raises_with_nbgraders_output(tmp_path):
    nb = load()
    first, second = graded_tests(nb)[:2]
    nb.cells[second].metadata.nbgrader["grade_id"] = nbgrader_meta(nb.cells[first])["grade_id"]
    save(nb, tmp_path / "course")
    with pytest.raises(NbgraderError, match="generate_assignment") as raised:
        nbgrader_course(tmp_path / "course", tmp_path / "nbgrader", [LESSON])
    assert "[GenerateAssignmentApp" in str(raised.value)
    assert (tmp_path / "nbgrader" / "nbgrader_config.py").is_file()


def test_nbgrader_course_refuses_a_missing_notebook(tmp_path):
    (tmp_path / "notebooks").mkdir()
    with pytest.raises(NbgraderError, match="no such notebook"):
        nbgrader_course(tmp_path, tmp_path / "out", ["09-hateoas"])
    assert (tmp_path / "out" / "nbgrader_config.py").is_file()
