"""The ``call`` grader fixture reaches a row's methods and attributes (``call.method``,
``call.attribute``), with the real grader fixtures and lab process, on lab 02's solution and
skeleton."""

import shutil
import textwrap
from pathlib import Path

import pytest

from studyguide.testrun import run_pytest

ROOT = Path(__file__).resolve().parents[2]
REAL_CONFTEST = ROOT / "grading" / "conftest.py"

ROW_GRADERS = '''
import pytest


def new_book(call, model_ref):
    """An author, a book of theirs and one review by "sam"; return (author, book) refs."""
    author = model_ref("Author", call("crud.create_author", "Ann", "A bio.")["id"])
    book = model_ref("Book", call("crud.create_book", "Tea", author, 1999)["id"])
    user = model_ref("User", call("crud.create_user", "sam")["id"])
    call("crud.add_review", user, book, 4)
    return author, book


def test_method_of_a_row(call, model_ref):
    author, book = new_book(call, model_ref)
    assert call.method(author, "to_dict") == {"id": author["id"], "name": "Ann", "bio": "A bio."}
    assert call.method(book, "to_dict")["author"] == "Ann"


def test_attribute_of_a_row(call, model_ref):
    author, book = new_book(call, model_ref)
    assert call.attribute(author, "name") == "Ann"
    reviewers = call.attribute(book, "reviewers")
    assert [(u["__model__"], u["username"]) for u in reviewers] == [("User", "sam")]


def test_arguments_reach_the_method(call, model_ref, student_error):
    author, _ = new_book(call, model_ref)
    with pytest.raises(student_error) as raised:
        call.method(author, "to_dict", "unexpected")
    assert raised.value.is_a("TypeError"), raised.value


def test_a_missing_row_is_a_clear_error(call, model_ref, student_error):
    with pytest.raises(student_error) as raised:
        call.method(model_ref("Author", 99), "to_dict")
    assert raised.value.is_a("LookupError") and "Author with id 99" in raised.value.message
'''


@pytest.fixture(scope="module")
def row_graders(tmp_path_factory):
    """A grader folder with the real grader fixtures and the graders above."""
    folder = tmp_path_factory.mktemp("row-graders") / "grading"
    folder.mkdir()
    shutil.copyfile(REAL_CONFTEST, folder / "conftest.py")
    (folder / "test_rows.py").write_text(textwrap.dedent(ROW_GRADERS), encoding="utf-8")
    return folder


def outcomes(run):
    """Each test's outcome by its function name."""
    return {test["nodeid"].rpartition("::")[2]: test["outcome"] for test in run.tests}


def test_row_methods_and_attributes_on_the_solution(row_graders):
    run = run_pytest(ROOT / "solutions" / "02-sqlalchemy", [row_graders], rootdir=row_graders,
                     lab_on_path=False)
    assert outcomes(run) == {
        "test_method_of_a_row": "passed",
        "test_attribute_of_a_row": "passed",
        "test_arguments_reach_the_method": "passed",
        "test_a_missing_row_is_a_clear_error": "passed",
    }, run.output


def test_an_unfinished_method_fails_the_grader_on_the_skeleton(row_graders):
    run = run_pytest(ROOT / "labs" / "02-sqlalchemy", [row_graders], rootdir=row_graders,
                     lab_on_path=False, extra_args=["-k", "method_of_a_row"])
    assert outcomes(run) == {"test_method_of_a_row": "failed"}, run.output
    assert "NotImplementedError" in run.output, run.output
