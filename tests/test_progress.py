"""Progress on a small course: bars, the next hint, and the watch loop that re-runs on save."""

import threading
import time

from fixture_course import make_course

from studyguide.progress import bar, show_progress, watch


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
    assert "1/1" in out and "All visible tests pass." in out
