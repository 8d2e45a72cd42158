"""What `studyguide grade` copies of a submission: the package and the files the module hands in."""

import os
from pathlib import Path

import pytest

from studyguide.grading.runner import SubmissionError, copy_submission
from studyguide.manifest import ManifestError, load_course

REPO = Path(__file__).resolve().parents[2]
HANDED_IN = ("wsgi.py", "migrations", "render.yaml", "requirements.txt")


def write(path, text="x = 1\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def deployable_lab(root):
    """A lab shaped like lab 07, with files a grader must never see beside it."""
    for name in ("bookshelf/__init__.py", "bookshelf/static/app.js", "bookshelf/static/style.css",
                 "wsgi.py", "migrations/env.py", "migrations/alembic.ini",
                 "migrations/script.py.mako", "migrations/versions/0001_tables.py",
                 "render.yaml", "requirements.txt",
                 "conftest.py", "tests/test_mine.py", "bookshelf/conftest.py",
                 "migrations/__pycache__/env.cpython-311.pyc", "instance/bookshelf.sqlite"):
        write(root / name)
    os.symlink("/etc/passwd", root / "migrations" / "versions" / "0002_link.py")
    return root


def copied(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_the_package_and_the_handed_in_files_are_copied_and_nothing_else(tmp_path):
    lab = deployable_lab(tmp_path / "submission")
    copy_submission(lab, tmp_path / "copy", "bookshelf", HANDED_IN)
    assert copied(tmp_path / "copy") == [
        "bookshelf/__init__.py",
        "bookshelf/static/app.js",
        "bookshelf/static/style.css",
        "migrations/alembic.ini",
        "migrations/env.py",
        "migrations/script.py.mako",
        "migrations/versions/0001_tables.py",
        "render.yaml",
        "requirements.txt",
        "wsgi.py",
    ]


def test_without_handed_in_files_only_the_package_is_copied(tmp_path):
    lab = deployable_lab(tmp_path / "submission")
    copy_submission(lab, tmp_path / "copy", "bookshelf")
    assert {p.split("/")[0] for p in copied(tmp_path / "copy")} == {"bookshelf"}


def test_a_missing_handed_in_file_is_left_to_the_graders_but_a_missing_package_is_refused(tmp_path):
    lab = tmp_path / "submission"
    write(lab / "bookshelf" / "__init__.py")
    copy_submission(lab, tmp_path / "copy", "bookshelf", HANDED_IN)
    assert copied(tmp_path / "copy") == ["bookshelf/__init__.py"]
    with pytest.raises(SubmissionError, match="no bookshelf/ folder"):
        copy_submission(tmp_path / "nothing", tmp_path / "other", "bookshelf", HANDED_IN)


def test_the_size_caps_count_every_handed_in_file(tmp_path):
    lab = tmp_path / "submission"
    write(lab / "bookshelf" / "__init__.py")
    write(lab / "migrations" / "versions" / "huge.py", "#" * (600 * 1024))
    with pytest.raises(SubmissionError, match="migrations/versions/huge.py is larger"):
        copy_submission(lab, tmp_path / "copy", "bookshelf", HANDED_IN)


def test_the_deployable_modules_hand_in_what_their_graders_run():
    course = load_course(REPO)
    for module_id in ("07-deployment", "08-marshmallow", "09-hateoas"):
        assert set(course.module(module_id).handed_in) == set(HANDED_IN), module_id
    assert course.module("03-crud-api").handed_in == ()


@pytest.mark.parametrize("bad", ["../grading", "/etc/passwd", "a/./b", "", "a\\\\b"])
def test_handed_in_paths_stay_inside_the_lab(tmp_path, bad):
    manifest = (REPO / "course.toml").read_text()
    marker = 'id = "01-routing"\n'
    (tmp_path / "course.toml").write_text(
        manifest.replace(marker, marker + f"handed_in = [{bad!r}]\n".replace("'", '"'), 1)
    )
    with pytest.raises(ManifestError, match="handed_in"):
        load_course(tmp_path)
