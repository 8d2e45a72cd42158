"""The grading runner against honest and hostile submissions.

Every case builds a submission of the fixture course's lab 02 (worth 4 points: the 01 grader it
still runs is a regression check worth 0 here) and asserts the exact score and reason. The
graders run in the trusted grader process; the student's app in the sandboxed lab server. A few
cases run against the real course's lab 01 as well.
"""

import os
import shutil
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from studyguide.grading import GraderError, Limits, grade_lab, grader_paths, sandbox
from studyguide.grading.runner import ExpectedTest, score_run
from studyguide.testrun import TestRun

pytestmark = pytest.mark.timeout(120)

REPO = Path(__file__).resolve().parents[2]
# Small limits keep hostile runs short: a hung test costs 2 s, a hung import 5 s.
FAST = Limits(per_test_seconds=2, wall_seconds=60, memory_mb=256, processes=32,
              import_seconds=5)

HELLO = "01-hello/test_hello_graders.py::"
TALLY = "02-tally/test_tally_graders.py::"
ALL_TESTS = [
    HELLO + "test_hello_greets_by_name",
    TALLY + "test_tally_counts_posts",
    TALLY + "test_ping_answers_pong",
    TALLY + "test_lookup_answers_ok",
]
EXITS_AT_IMPORT = "importing the lab's package stopped (exit status 0)"
CANNOT_IMPORT = "the lab's package cannot be imported:\n"

HONEST_VIEWS = Path(__file__).parent / "hostile/course/solutions/02-tally/bookshelf/views.py"
RETURNS = {"ping": '    return {"pong": True}\n', "lookup": '    return {"ok": True}\n'}
# The fixture app factory as a module of its own, so a hostile __init__.py can re-export it.
APP_MODULE = """\
from flask import Flask


def create_app(test_config=None):
    app = Flask("bookshelf")
    app.config.from_mapping(test_config or {})
    from bookshelf import views

    app.register_blueprint(views.bp)
    return app
"""


def grade(course, lab, limits=FAST):
    """Grade lab 02 of the fixture course."""
    return grade_lab(course, "02-tally", lab, limits=limits)


def outcomes(result):
    """{node id: outcome} of a LabResult."""
    return {t.nodeid: t.outcome for t in result.tests}


def views_file(view, body):
    """A ``files`` mapping: the honest views with the body of ``ping`` or ``lookup`` replaced."""
    source = HONEST_VIEWS.read_text(encoding="utf-8")
    hostile = "".join(f"    {line}\n" for line in textwrap.dedent(body).strip().splitlines())
    assert RETURNS[view] in source
    return {"bookshelf/views.py": source.replace(RETURNS[view], hostile)}


# ---------------------------------------------------------------------------------------------
# Which graders run


def test_grader_paths_are_cumulative_and_follow_the_manifest(course):
    assert grader_paths(course, "01-hello") == [course / "grading/01-hello/test_hello_graders.py"]
    assert grader_paths(course, "02-tally") == [
        course / "grading/01-hello/test_hello_graders.py",
        course / "grading/02-tally/test_tally_graders.py",
    ]
    with pytest.raises(GraderError, match="unknown module"):
        grader_paths(course, "09-nothing")


def test_retired_tests_neither_run_nor_count(course, make_lab):
    result = grade(course, make_lab("solution"))
    assert [t.nodeid for t in result.tests] == ALL_TESTS
    assert result.max_score == 4.0


# ---------------------------------------------------------------------------------------------
# Honest submissions


def test_honest_solution_gets_full_marks(course, make_lab):
    result = grade(course, make_lab("solution"))
    assert (result.score, result.max_score, result.error) == (4.0, 4.0, None)
    assert set(outcomes(result).values()) == {"passed"}
    assert all(t.points == t.max_points for t in result.tests)


def test_skeleton_gets_no_points_though_earlier_graders_pass(course, make_lab):
    result = grade(course, make_lab("skeleton"))
    assert (result.score, result.error) == (0.0, None)
    assert outcomes(result) == dict(
        zip(ALL_TESTS, ["passed", "failed", "failed", "failed"], strict=True)
    )


def test_messages_only_for_visible_tests(course, make_lab):
    result = grade(course, make_lab("skeleton"))
    by_name = {t.name: t for t in result.tests}
    visible = by_name["test_tally_counts_posts"]
    assert visible.visible and "NotImplementedError" in visible.message
    hidden = [t for t in result.tests if not t.visible]
    assert hidden and all(t.message == "" for t in hidden)
    assert by_name["test_ping_answers_pong"].hint == "GET /ping answers pong."


def test_lab_01_of_the_fixture_course_is_graded_alone(course):
    result = grade_lab(course, "01-hello", course / "solutions/01-hello", limits=FAST)
    assert (result.score, result.max_score, result.error) == (3.0, 3.0, None)


# ---------------------------------------------------------------------------------------------
# The student's own pytest configuration is never used

CHEAT_HOOK = """
    import pytest

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(item, call):
        outcome = yield
        report = outcome.get_result()
        report.outcome = "passed"
        report.longrepr = None
"""


def test_student_conftest_rewriting_outcomes_is_ignored(course, make_lab):
    lab = make_lab(
        "skeleton",
        {
            "conftest.py": CHEAT_HOOK,
            "tests/conftest.py": CHEAT_HOOK,
            "bookshelf/conftest.py": CHEAT_HOOK,
        },
    )
    result = grade(course, lab)
    assert (result.score, result.error) == (0.0, None)


def test_student_pytest_configuration_and_startup_files_are_ignored(course, make_lab):
    plugin_option = "addopts = -p bookshelf.cheat -p cheat\n"
    files = {
        "bookshelf/cheat.py": CHEAT_HOOK,
        "cheat.py": CHEAT_HOOK,
        "pytest.ini": "[pytest]\n" + plugin_option,
        "tox.ini": "[pytest]\n" + plugin_option,
        "setup.cfg": "[tool:pytest]\n" + plugin_option,
        "pyproject.toml": '[tool.pytest.ini_options]\naddopts = "-p bookshelf.cheat"\n',
        "sitecustomize.py": "import os\nos._exit(0)\n",
        "usercustomize.py": "import os\nos._exit(0)\n",
        "bookshelf/sitecustomize.py": "import os\nos._exit(0)\n",
        "bookshelf/cheat.pth": "import os; os._exit(0)\n",
        "cheat.pth": "import os; os._exit(0)\n",
    }
    result = grade(course, make_lab("skeleton", files))
    assert (result.score, result.error) == (0.0, None)


def test_plugin_registered_from_student_code_finds_no_plugin_manager(course, make_lab):
    # The grader's pytest is another process: the student's interpreter holds no plugin manager.
    init = """
        import gc

        from _pytest.config import PytestPluginManager


        class Cheat:
            def pytest_runtest_logreport(self, report):
                report.outcome = "passed"


        FOUND = 0
        for thing in gc.get_objects():
            if isinstance(thing, PytestPluginManager):
                thing.register(Cheat(), "cheat")
                FOUND += 1

        from .app import create_app  # noqa: E402,F401
    """
    lab = make_lab("skeleton", {"bookshelf/app.py": APP_MODULE, "bookshelf/__init__.py": init})
    result = grade(course, lab)
    assert (result.score, result.error) == (0.0, None)
    assert outcomes(result) == dict(
        zip(ALL_TESTS, ["passed", "failed", "failed", "failed"], strict=True)
    )


def test_report_forged_through_memory_and_frames_changes_nothing(course, make_lab):
    # Everything a report could be in this interpreter (dicts with an outcome, objects with a
    # token, frames of running code) is rewritten: none of it is the grader's report.
    init = """
        import gc
        import sys

        def forge():
            for thing in gc.get_objects():
                if isinstance(thing, dict) and "outcome" in thing:
                    thing["outcome"] = "passed"
                for name in ("outcome", "passed", "token", "_token"):
                    try:
                        setattr(thing, name, "passed")
                    except Exception:
                        pass
            for frame in sys._current_frames().values():
                while frame is not None:
                    frame.f_locals.setdefault("outcome", "passed")
                    frame = frame.f_back

        forge()

        from .app import create_app  # noqa: E402,F401
    """
    lab = make_lab("skeleton", {"bookshelf/app.py": APP_MODULE, "bookshelf/__init__.py": init})
    result = grade(course, lab)
    assert (result.score, result.error) == (0.0, None)


def test_thread_flipping_outcomes_changes_nothing(course, make_lab):
    init = """
        import gc
        import threading

        def flip():
            while True:
                for thing in gc.get_objects():
                    if isinstance(thing, dict) and thing.get("outcome") == "failed":
                        thing["outcome"] = "passed"

        threading.Thread(target=flip, daemon=True).start()

        from .app import create_app  # noqa: E402,F401
    """
    lab = make_lab("skeleton", {"bookshelf/app.py": APP_MODULE, "bookshelf/__init__.py": init})
    result = grade(course, lab)
    assert (result.score, result.error) == (0.0, None)


def test_patch_and_restore_of_the_test_client_only_changes_the_students_own_answers(
    course, make_lab
):
    # Patching Flask's test client inside the student's process is the student's app
    # answering differently: the grader still checks status and body it receives as JSON.
    init = """
        import flask.testing

        ORIGINAL = flask.testing.FlaskClient.open

        def always_200(self, *args, **kwargs):
            flask.testing.FlaskClient.open = ORIGINAL
            try:
                response = ORIGINAL(self, *args, **kwargs)
            finally:
                flask.testing.FlaskClient.open = always_200
            response.status_code = 200
            return response

        flask.testing.FlaskClient.open = always_200

        from .app import create_app  # noqa: E402,F401
    """
    lab = make_lab("skeleton", {"bookshelf/app.py": APP_MODULE, "bookshelf/__init__.py": init})
    result = grade(course, lab)
    assert (result.score, result.error) == (0.0, None)


# ---------------------------------------------------------------------------------------------
# Ending the run early


def test_os_exit_at_import_scores_zero_with_a_reason(course, make_lab):
    lab = make_lab("solution", {"bookshelf/__init__.py": "import os\n\nos._exit(0)\n"})
    result = grade(course, lab)
    assert (result.score, result.error) == (0.0, EXITS_AT_IMPORT)
    assert set(outcomes(result).values()) == {"not run"}


def test_os_exit_inside_a_view_fails_that_test_and_the_next_test_gets_a_new_process(
    course, make_lab
):
    lab = make_lab("solution", views_file("ping", "import os\nos._exit(0)"))
    result = grade(course, lab)
    assert (result.score, result.error) == (3.0, None)
    assert outcomes(result)[TALLY + "test_ping_answers_pong"] == "failed"
    assert outcomes(result)[TALLY + "test_lookup_answers_ok"] == "passed"


def test_sys_exit_at_import_scores_zero_with_the_traceback(course, make_lab):
    lab = make_lab("solution", {"bookshelf/__init__.py": "import sys\n\nsys.exit(0)\n"})
    result = grade(course, lab)
    assert result.score == 0.0
    assert result.error.startswith(CANNOT_IMPORT)
    assert result.error.endswith("SystemExit: 0")


def test_app_run_is_disabled_and_never_hangs(course, make_lab):
    init = """
        from flask import Flask


        def create_app(test_config=None):
            app = Flask(__name__)
            app.run(port=5000)
            return app


        create_app().run()
    """
    started = time.monotonic()
    result = grade(course, make_lab("solution", {"bookshelf/__init__.py": init}))
    assert result.score == 0.0
    assert result.error.startswith(CANNOT_IMPORT)
    assert result.error.endswith("RuntimeError: app.run() starts a server; it is disabled "
                                 "while grading")
    assert time.monotonic() - started < FAST.import_seconds + 10


def test_infinite_loop_at_import_scores_zero_after_the_import_limit(course, make_lab):
    lab = make_lab("solution", {"bookshelf/__init__.py": "while True:\n    pass\n"})
    result = grade(course, lab)
    assert (result.score, result.error) == (
        0.0, "importing the lab's package did not answer within 5 s; its process was stopped"
    )


def test_loop_that_ignores_signals_is_killed_at_the_test_limit(course, make_lab):
    stubborn = """
        import signal
        for number in (signal.SIGALRM, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(number, signal.SIG_IGN)
        while True:
            try:
                while True:
                    pass
            except BaseException:
                pass
    """
    started = time.monotonic()
    result = grade(course, make_lab("solution", views_file("ping", stubborn)))
    assert (result.score, result.error) == (3.0, None)
    assert outcomes(result)[TALLY + "test_ping_answers_pong"] == "failed"
    assert time.monotonic() - started < 30


def test_infinite_loop_in_one_view_fails_only_that_test(course, make_lab):
    result = grade(course, make_lab("solution", views_file("ping", "while True:\n    pass")))
    assert (result.score, result.error) == (3.0, None)
    assert outcomes(result)[TALLY + "test_ping_answers_pong"] == "failed"


def test_timeout_message_of_a_visible_test_names_the_limit(course, make_lab):
    views = HONEST_VIEWS.read_text(encoding="utf-8").replace(
        "def count():\n", "def count():\n    while True:\n        pass\n"
    )
    result = grade(course, make_lab("solution", {"bookshelf/views.py": views}))
    visible = next(t for t in result.tests if t.visible)
    assert visible.outcome == "failed"
    assert "the app did not answer within 2 s; its process was stopped" in visible.message


# ---------------------------------------------------------------------------------------------
# Resources


def test_memory_bomb_fails_only_that_test(course, make_lab):
    bomb = "hog = []\nwhile True:\n    hog.append(bytearray(16 * 1024 * 1024))"
    result = grade(course, make_lab("solution", views_file("ping", bomb)))
    assert (result.score, result.error) == (3.0, None)
    assert outcomes(result)[TALLY + "test_ping_answers_pong"] == "failed"


def _descendants(pid):
    """Every living process whose chain of parents leads to ``pid``."""
    parents = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit():
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return sorted(found)


def test_fork_bomb_is_bounded_and_cleaned_up(course, make_lab, monkeypatch):
    cgroups = []
    enter = sandbox.ProcessJail.__enter__

    def remembering_enter(jail):
        enter(jail)
        cgroups.append(jail.cgroup)
        return jail

    monkeypatch.setattr(sandbox.ProcessJail, "__enter__", remembering_enter)
    with sandbox.ProcessJail(FAST) as jail:
        if not jail.holds_fork_bomb:
            pytest.skip("no pids cgroup and RLIMIT_NPROC does not hold for root here")
    bomb = """
        import os
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """
    result = grade(course, make_lab("solution", views_file("ping", bomb)))
    assert (result.score, result.error) == (3.0, None)
    assert outcomes(result)[TALLY + "test_ping_answers_pong"] == "failed"
    assert _descendants(os.getpid()) == []
    assert [c for c in cgroups if c is not None and c.exists()] == []


def test_filling_the_disk_is_bounded(course, make_lab):
    if not sandbox.namespace_prefix():
        pytest.skip("size-capped scratch folders need mount namespaces")
    # The view answers pong only if no folder took all of the 64 files of 4 MB it tried to write.
    fill = """
        import os
        written = []
        for folder in (os.environ["HOME"], os.environ["TMPDIR"], "/tmp", "/data", "."):
            size = 0
            try:
                for number in range(64):
                    with open(os.path.join(folder, f"filler-{number}"), "wb") as handle:
                        handle.write(bytes(4 * 1024 * 1024))
                    size += 4 * 1024 * 1024
            except OSError:
                pass
            written.append(size)
        return {"pong": max(written) < 256 * 1024 * 1024}
    """
    # Writing a few hundred megabytes takes a while on a busy machine: a longer test limit.
    roomy = Limits(per_test_seconds=30, wall_seconds=120, memory_mb=256, processes=32,
                   import_seconds=10)
    result = grade(course, make_lab("solution", views_file("ping", fill)), roomy)
    assert (result.score, result.error) == (4.0, None)


def test_network_is_blocked(course, make_lab):
    reach_out = """
        import socket
        import urllib.request
        try:
            urllib.request.urlopen("http://example.com", timeout=3)
        except OSError:
            import _socket
            _socket.socket().connect(("1.1.1.1", 80))
        return {"ok": True}
    """
    result = grade(course, make_lab("solution", views_file("lookup", reach_out)))
    assert (result.score, result.error) == (3.0, None)
    assert outcomes(result)[TALLY + "test_lookup_answers_ok"] == "failed"


# ---------------------------------------------------------------------------------------------
# Broken submissions


def test_syntax_error_scores_zero_with_a_reason(course, make_lab):
    broken = '"""Views."""\n\ndef count(:\n    return 1\n'
    result = grade(course, make_lab("solution", {"bookshelf/views.py": broken}))
    assert result.score == 0.0
    assert result.error == (
        "bookshelf/views.py does not compile: SyntaxError at line 3: invalid syntax"
    )
    assert set(outcomes(result).values()) == {"not run"}


def test_missing_package_file_scores_zero_with_a_reason(course, make_lab):
    result = grade(course, make_lab("solution", remove=["bookshelf/__init__.py"]))
    assert (result.score, result.error) == (0.0, "bookshelf/__init__.py is missing")
    result = grade(course, make_lab("solution", remove=["bookshelf"]))
    assert (result.score, result.error) == (0.0, "the lab has no bookshelf/ folder")


# ---------------------------------------------------------------------------------------------
# Symbolic links


def test_symlinked_package_file_is_refused(course, make_lab, tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("raise SystemExit('followed a symlink')\n", encoding="utf-8")
    lab = make_lab("solution")
    (lab / "bookshelf/views.py").unlink()
    (lab / "bookshelf/views.py").symlink_to(outside)
    result = grade(course, lab)
    assert (result.score, result.error) == (
        0.0, "02-tally/bookshelf/views.py is a symbolic link; symbolic links are refused"
    )


def test_lab_folder_symlinked_to_the_solution_is_refused(course, tmp_path):
    lab = tmp_path / "mallory" / "labs" / "02-tally"
    lab.parent.mkdir(parents=True)
    lab.symlink_to(course / "solutions" / "02-tally")
    result = grade(course, lab)
    assert (result.score, result.error) == (
        0.0, "02-tally/ is a symbolic link; symbolic links are refused"
    )


def test_lab_folder_symlinked_to_a_classmates_lab_is_refused(course, make_lab, tmp_path):
    classmate = make_lab("solution")
    lab = tmp_path / "mallory" / "labs" / "02-tally"
    lab.parent.mkdir(parents=True)
    lab.symlink_to(classmate)
    assert grade(course, lab).error == "02-tally/ is a symbolic link; symbolic links are refused"
    assert grade(course, classmate).score == 4.0


def test_symlink_anywhere_in_the_lab_is_refused(course, make_lab):
    lab = make_lab("solution")
    (lab / "notes").symlink_to("/etc")
    result = grade(course, lab)
    assert (result.score, result.error) == (
        0.0, "02-tally/notes is a symbolic link; symbolic links are refused"
    )


# ---------------------------------------------------------------------------------------------
# Faking results in the student's process


ALWAYS_EQUAL = """
    class AlwaysEqual:
        def __eq__(self, other):
            return True

        def __ne__(self, other):
            return False
"""


def test_always_equal_objects_cannot_fake_responses(course, make_lab):
    # Flask's own test client wraps responses in a subclass of app.response_class, so this
    # class would make every status code and JSON body "equal" to what a grader expects.
    init = (
        ALWAYS_EQUAL
        + """
    from flask import Flask
    from flask.testing import FlaskClient
    from werkzeug.test import TestResponse
    from werkzeug.wrappers import Response

    REAL_STATUS = Response.status_code


    class EqualResponse(Response):
        @property
        def status_code(self):
            if isinstance(self, TestResponse):
                return AlwaysEqual()
            return REAL_STATUS.fget(self)

        @status_code.setter
        def status_code(self, value):
            REAL_STATUS.fset(self, value)

        def get_json(self, *args, **kwargs):
            return AlwaysEqual()


    class EqualClient(FlaskClient):
        def open(self, *args, **kwargs):
            response = super().open(*args, **kwargs)
            return response


    def create_app(test_config=None):
        app = Flask(__name__)
        app.response_class = EqualResponse
        app.test_client_class = EqualClient
        app.config.from_mapping(test_config or {})

        @app.get("/hello/<name>")
        def hello(name):
            return {"greeting": f"Hello, {name}!"}

        @app.route("/<path:anything>", methods=["GET", "POST"])
        def anything(anything):
            return "nothing here", 200

        return app
    """
    )
    lab = make_lab("skeleton", {"bookshelf/__init__.py": init})
    result = grade(course, lab)
    # What comes back is JSON: an always-equal status cannot even be sent.
    assert (result.score, result.error) == (0.0, None)
    assert set(outcomes(result).values()) == {"failed"}


def test_a_fake_app_cannot_hand_out_a_fake_client(course, make_lab):
    init = (
        ALWAYS_EQUAL
        + """

    class FakeResponse:
        status_code = AlwaysEqual()

        def get_json(self):
            return AlwaysEqual()

        def get_data(self, as_text=False):
            return ""


    class FakeClient:
        def get(self, *args, **kwargs):
            return FakeResponse()

        post = get


    class FakeApp:
        def test_client(self):
            return FakeClient()


    def create_app(test_config=None):
        return FakeApp()
    """
    )
    result = grade(course, make_lab("skeleton", {"bookshelf/__init__.py": init}))
    # A fake app is not a Flask app: creating it for a test fails, so every test errors.
    assert (result.score, result.error) == (0.0, None)
    assert set(outcomes(result).values()) == {"error"}


def test_patching_json_in_the_students_process_changes_nothing(course, make_lab):
    init = (
        ALWAYS_EQUAL
        + """

    import json

    import werkzeug.test

    werkzeug.test.TestResponse.get_json = lambda self, *args, **kwargs: AlwaysEqual()
    json.loads = lambda *args, **kwargs: AlwaysEqual()

    from .app import create_app  # noqa: E402,F401
    """
    )
    lab = make_lab("skeleton", {"bookshelf/__init__.py": init, "bookshelf/app.py": APP_MODULE})
    result = grade(course, lab)
    assert (result.score, result.error) == (0.0, None)


def test_rewriting_grader_functions_finds_none_in_the_students_process(course, make_lab):
    init = """
        import gc
        import types

        for thing in gc.get_objects():
            if isinstance(thing, types.FunctionType) and thing.__name__.startswith("test_"):
                thing.__code__ = (lambda client: None).__code__

        from .app import create_app  # noqa: E402,F401
    """
    lab = make_lab("skeleton", {"bookshelf/__init__.py": init, "bookshelf/app.py": APP_MODULE})
    result = grade(course, lab)
    assert (result.score, result.error) == (0.0, None)
    assert outcomes(result)[TALLY + "test_tally_counts_posts"] == "failed"


# ---------------------------------------------------------------------------------------------
# Reading the hidden graders and forging the report


def grader_lines(course):
    """Lines of the fixture course's grader files that are specific enough to recognise."""
    lines = set()
    for path in (course / "grading").rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if len(line.strip()) >= 12:
                lines.add(line.strip())
    return lines


def test_grader_source_never_reaches_feedback(course, make_lab):
    steal = """
        REPO = "{repo}"
        import os
        import sys
        from pathlib import Path

        STOLEN = []
        for top in (str(Path(__file__).resolve().parents[1]), REPO, "{course}"):
            for folder, _dirs, names in os.walk(top):
                for name in names:
                    if name.startswith("test_") and name.endswith("_graders.py"):
                        STOLEN.append(Path(folder, name).read_text())
        SOURCE = "\\n".join(STOLEN)
        print(SOURCE)
        print(SOURCE, file=sys.stderr)

        from .app import create_app  # noqa: E402,F401
    """
    views = """
        from flask import Blueprint

        from . import SOURCE

        bp = Blueprint("views", __name__)


        @bp.route("/hello/<name>", methods=["GET", "POST"])
        def hello(name):
            return {"greeting": f"Hello, {name}!"}


        @bp.route("/tally", methods=["GET", "POST"])
        def tally():
            return SOURCE or "nothing found", 200


        @bp.get("/ping")
        def ping():
            raise AssertionError(SOURCE)
    """
    files = {
        "bookshelf/__init__.py": steal.replace("{repo}", str(REPO)).replace(
            "{course}", str(course)
        ),
        "bookshelf/views.py": views,
        "bookshelf/app.py": APP_MODULE,
    }
    result = grade(course, make_lab("skeleton", files))
    assert (result.score, result.error) == (0.0, None)
    visible = next(t for t in result.tests if t.visible)
    assert visible.outcome == "failed" and visible.message
    secrets = grader_lines(course)
    for test in result.tests:
        leaked = [line for line in secrets if line in test.message or line in test.hint]
        assert leaked == [], test.nodeid


def test_forged_report_files_and_pipes_change_nothing(course, make_lab):
    forge = """
        import json
        import os

        forged = {"exitstatus": 0, "finished": True, "collect_errors": [],
                  "tests": [{"nodeid": "x", "outcome": "passed"}]}
        frame = json.dumps({"ok": True, "status": 200, "headers": [], "body": ""}) + "\\n"
        for name in os.listdir("/proc/self/fd"):
            if int(name) > 2:
                try:
                    os.write(int(name), frame.encode() * 3)
                except OSError:
                    pass
        for folder, _dirs, _names in os.walk("/"):
            try:
                with open(os.path.join(folder, "report.json"), "w") as handle:
                    json.dump(forged, handle)
            except OSError:
                pass

        from .app import create_app  # noqa: E402,F401
    """
    files = {"bookshelf/__init__.py": forge, "bookshelf/app.py": APP_MODULE}
    result = grade(course, make_lab("skeleton", files))
    assert (result.score, result.error) == (0.0, None)


# ---------------------------------------------------------------------------------------------
# The run changes nothing outside its sandbox


def test_submission_cannot_touch_the_course_or_other_students(course, make_lab, tree_digest):
    if not sandbox.namespace_prefix():
        pytest.skip("mount namespaces need root and unshare")
    victim = make_lab("solution")
    victim_before = tree_digest(victim.parents[1])
    targets = [
        str(course / "grading/conftest.py"),
        str(victim / "bookshelf/views.py"),
        str(REPO / "grading" / "pwned.txt"),
        "/tmp/pwned-by-student.txt",
    ]
    attack = f"""
        import os

        REACHED = []
        for target in {targets!r}:
            try:
                with open(target, "a") as handle:
                    handle.write("pwned")
                REACHED.append(target)
            except OSError:
                pass
        try:
            os.kill(-1, 9)  # every process it may signal: none outside its own namespace
        except OSError:
            pass

        from .app import create_app  # noqa: E402,F401
    """
    attacker = make_lab(
        "solution", {"bookshelf/__init__.py": attack, "bookshelf/app.py": APP_MODULE}
    )
    attacker_before = tree_digest(attacker)
    result = grade(course, attacker)
    assert (result.score, result.error) == (4.0, None)
    assert tree_digest(victim.parents[1]) == victim_before
    assert tree_digest(attacker) == attacker_before
    assert not (REPO / "grading" / "pwned.txt").exists()
    assert not Path("/tmp/pwned-by-student.txt").exists()


def test_sandbox_is_deleted_after_grading(course, make_lab, tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    grade(course, make_lab("solution"))
    assert os.listdir(tmp_path / "tmp") == []


def test_breaking_an_earlier_labs_behaviour_shows_as_a_regression_without_points(
    course, make_lab
):
    source = HONEST_VIEWS.read_text(encoding="utf-8")
    broken = source.replace('f"Hello, {name}!"', 'f"Hi, {name}."')
    result = grade(course, make_lab("solution", {"bookshelf/views.py": broken}))
    assert (result.score, result.max_score, result.error) == (4.0, 4.0, None)
    regression = result.tests[0]
    assert (regression.module_id, regression.outcome) == ("01-hello", "failed")
    assert (regression.points, regression.max_points) == (0.0, 0.0)


def test_without_namespaces_the_verdict_still_comes_from_the_grader_process(
    course, make_lab, monkeypatch
):
    # Machines where the runner is not root get no namespaces: the rest still holds.
    monkeypatch.setattr(sandbox, "namespace_prefix", lambda: [])
    honest = grade(course, make_lab("solution"))
    assert (honest.score, honest.error) == (4.0, None)
    assert honest.isolation.startswith("process limits only")
    exits = grade(
        course, make_lab("solution", {"bookshelf/__init__.py": "import os\nos._exit(0)\n"})
    )
    assert (exits.score, exits.error) == (0.0, EXITS_AT_IMPORT)
    cheat = grade(course, make_lab("skeleton", {"conftest.py": CHEAT_HOOK}))
    assert (cheat.score, cheat.error) == (0.0, None)
    loop = grade(course, make_lab("solution", views_file("ping", "while True:\n    pass")))
    assert (loop.score, loop.error) == (3.0, None)


def test_isolation_is_reported(course, make_lab):
    if not sandbox.namespace_prefix():
        pytest.skip("namespaces need root and unshare")
    assert grade(course, make_lab("solution")).isolation.startswith("namespaces")


# ---------------------------------------------------------------------------------------------
# A class: one hostile student never changes another's score


def test_class_of_hostile_and_honest_students(course, make_lab):
    students = [
        ("honest", make_lab("solution"), 4.0),
        ("exits", make_lab("solution", {"bookshelf/__init__.py": "import os\nos._exit(0)\n"}), 0.0),
        ("conftest", make_lab("skeleton", {"conftest.py": CHEAT_HOOK}), 0.0),
        ("loops", make_lab("solution", views_file("ping", "while True:\n    pass")), 3.0),
        ("skeleton", make_lab("skeleton"), 0.0),
        ("honest again", make_lab("solution"), 4.0),
    ]
    scores = {name: grade(course, lab).score for name, lab, _expected in students}
    assert scores == {name: expected for name, _lab, expected in students}


def test_concurrent_grading_keeps_scores_apart(course, make_lab):
    students = [
        (make_lab("solution"), 4.0),
        (make_lab("solution", {"bookshelf/__init__.py": "import os\nos._exit(0)\n"}), 0.0),
        (make_lab("skeleton", {"conftest.py": CHEAT_HOOK}), 0.0),
        (make_lab("solution", views_file("lookup", "raise RuntimeError('no')")), 3.0),
        (make_lab("skeleton"), 0.0),
        (make_lab("solution"), 4.0),
    ]
    with ThreadPoolExecutor(max_workers=3) as pool:
        scores = list(pool.map(lambda student: grade(course, student[0]).score, students))
    assert scores == [expected for _lab, expected in students]


# ---------------------------------------------------------------------------------------------
# Fail closed on a report that is not complete


EXPECTED = [ExpectedTest(ALL_TESTS[0], 2.0, "h", False), ExpectedTest(ALL_TESTS[1], 2.0, "h", True)]


def grader_run(tests, *, exitstatus=1, returncode=1, collect_errors=(), finished=True):
    """A TestRun of the grader process with these report entries."""
    run = TestRun(returncode=returncode, tests=tests, collect_errors=list(collect_errors),
                  finished=finished)
    run.exitstatus = exitstatus
    return run


def entry(nodeid, outcome="passed", points=2.0):
    """One report entry."""
    return {"nodeid": nodeid, "outcome": outcome, "points": points, "message": "m"}


@pytest.mark.parametrize(
    ("run", "reason"),
    [
        (grader_run([entry(ALL_TESTS[0])]),
         f"the report is partial: 1 tests missing, e.g. {ALL_TESTS[1]}"),
        (grader_run([], returncode=-1, finished=False),
         "the test run did not finish within 60 s"),
        (grader_run([], returncode=-9, finished=False),
         "the test run ended before reporting: exit code -9"),
        (grader_run([entry(ALL_TESTS[0]), entry(ALL_TESTS[1])], exitstatus=3),
         "pytest stopped with an internal error"),
    ],
)
def test_incomplete_reports_score_zero(run, reason):
    result = score_run("02-tally", EXPECTED, run, FAST, 0.0, set())
    assert (result.score, result.error) == (0.0, reason)


def test_tests_of_a_grader_file_that_failed_to_import_count_as_errors():
    run = grader_run(
        [entry(ALL_TESTS[0])],
        collect_errors=[{"nodeid": ALL_TESTS[1].split("::")[0], "message": "ImportError"}],
    )
    result = score_run("02-tally", EXPECTED, run, FAST, 0.0, set())
    assert (result.score, result.error) == (2.0, None)
    assert outcomes(result) == {ALL_TESTS[0]: "passed", ALL_TESTS[1]: "error"}


def test_points_come_from_the_graders_collection():
    run = grader_run([entry(ALL_TESTS[0], points=20.0), entry(ALL_TESTS[1], "failed")])
    result = score_run("02-tally", EXPECTED, run, FAST, 0.0, set())
    assert (result.score, result.max_score, result.error) == (2.0, 4.0, None)
    assert [t.message for t in result.tests] == ["", "m"]


def test_python_folders_mount_a_virtual_environment_alone(tmp_path):
    python = Path(os.environ.get("VIRTUAL_ENV", "")) / "bin" / "python"
    if not python.is_file():
        import sys

        python = Path(sys.executable)
    folders = sandbox.python_folders(str(python))
    assert str(REPO) not in folders
    assert all(Path(f) not in REPO.parents for f in folders)
    assert "/usr" in folders


# ---------------------------------------------------------------------------------------------
# The real course


REAL_SOLUTION = REPO / "solutions" / "01-routing"
REAL_SKELETON = REPO / "labs" / "01-routing"


@pytest.fixture
def real_lab(tmp_path):
    """A copy of the real lab 01 solution, or skip when the course does not have it yet."""
    if not (REAL_SOLUTION / "bookshelf").is_dir() or not (REPO / "grading/01-routing").is_dir():
        pytest.skip("the real course has no lab 01 yet")
    lab = tmp_path / "student" / "labs" / "01-routing"
    shutil.copytree(REAL_SOLUTION, lab)
    return lab


def test_real_solution_gets_full_marks_and_exiting_early_gets_zero(real_lab):
    honest = grade_lab(REPO, "01-routing", real_lab, limits=FAST)
    assert honest.error is None and honest.max_score > 0
    assert honest.score == honest.max_score
    init = real_lab / "bookshelf" / "__init__.py"
    init.write_text("import os\nos._exit(0)\n" + init.read_text(encoding="utf-8"))
    exits = grade_lab(REPO, "01-routing", real_lab, limits=FAST)
    assert (exits.score, exits.max_score, exits.error) == (0.0, honest.max_score, EXITS_AT_IMPORT)


def test_real_solution_read_through_the_database_fixture_gets_full_marks(tmp_path):
    """Lab 02's graders read the SQLite file the sandboxed app wrote (the ``database`` fixture)."""
    solution = REPO / "solutions" / "02-sqlalchemy"
    if not (solution / "bookshelf").is_dir() or not (REPO / "grading/02-sqlalchemy").is_dir():
        pytest.skip("the real course has no lab 02 yet")
    lab = tmp_path / "student" / "labs" / "02-sqlalchemy"
    shutil.copytree(solution, lab)
    result = grade_lab(REPO, "02-sqlalchemy", lab)
    failed = {name: outcome for name, outcome in outcomes(result).items() if outcome != "passed"}
    assert (failed, result.error) == ({}, None)
    assert result.score == result.max_score > 0


def test_real_skeleton_scores_zero_even_with_a_cheating_conftest(tmp_path):
    if not (REAL_SKELETON / "bookshelf").is_dir() or not (REPO / "grading/01-routing").is_dir():
        pytest.skip("labs/01-routing is not generated")
    lab = tmp_path / "student" / "labs" / "01-routing"
    shutil.copytree(REAL_SKELETON, lab)
    (lab / "conftest.py").write_text(textwrap.dedent(CHEAT_HOOK), encoding="utf-8")
    (lab / "tests" / "conftest.py").write_text(textwrap.dedent(CHEAT_HOOK), encoding="utf-8")
    result = grade_lab(REPO, "01-routing", lab, limits=FAST)
    assert (result.score, result.error) == (0.0, None)
    assert "passed" not in outcomes(result).values()


# ---------------------------------------------------------------------------------------------
# Earlier graders on a later lab: the course's earlier_graders_config


def test_module_configs_merge_every_later_module_up_to_the_lab(course, tmp_path):
    from studyguide.grading.runner import module_configs

    copy = tmp_path / "course"
    shutil.copytree(course, copy)
    toml = copy / "course.toml"
    text = toml.read_text(encoding="utf-8")
    text = text.replace('id = "02-tally"\n', 'id = "02-tally"\nearlier_graders_config = '
                        '{ GREETING = "Hello", TESTING = true }\n')
    toml.write_text(text, encoding="utf-8")
    assert module_configs(copy, "01-hello") == {}
    assert module_configs(copy, "02-tally") == {"01-hello": {"GREETING": "Hello",
                                                             "TESTING": True}}


def test_earlier_graders_run_with_the_config_and_own_graders_without(course, make_lab, tmp_path):
    copy = tmp_path / "course"
    shutil.copytree(course, copy)
    toml = copy / "course.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        'id = "02-tally"\n', 'id = "02-tally"\nearlier_graders_config = { GREETING = "Hello" }\n'
    ), encoding="utf-8")
    views = HONEST_VIEWS.read_text(encoding="utf-8")
    views = views.replace('f"Hello, {name}!"',
                          'f"{current_app.config.get(\'GREETING\', \'Hi\')}, {name}!"')
    views = views.replace('return {"pong": True}',
                          'return {"pong": "GREETING" not in current_app.config}')
    lab = make_lab("solution", {"bookshelf/views.py": views})
    result = grade_lab(copy, "02-tally", lab, limits=FAST)
    assert (result.score, result.error) == (4.0, None)
    assert outcomes(result)[HELLO + "test_hello_greets_by_name"] == "passed"
    plain = grade(course, lab)  # the same lab without the setting: the regression check fails
    assert outcomes(plain)[HELLO + "test_hello_greets_by_name"] == "failed"
