"""Grade one student's lab with the instructor's hidden graders, out of process, failing closed.

``grade_lab`` builds a fresh sandbox holding only an allow-list of the student's files and copies
of the graders, runs pytest there through :mod:`studyguide.grading.sandbox_boot` under limits,
and scores the signed report it gets back against the test list the instructor's graders define.
Points always come from a trusted collection of the graders, never from the student's run; a
missing, partial or tampered report scores 0 with a reason.

What protects a grading run:

- files: only ``bookshelf/**`` files ending in .py, .html, .json, .txt or .sql are copied (no
  symlinks, no ``conftest.py``/``sitecustomize.py``/ini files, size caps); every Python file must
  compile before anything runs;
- configuration: the grader's own ini (``-c``), ``--rootdir``/``--confcutdir`` on the graders,
  no plugin autoloading, no cache; ``python -I -B`` with a minimal environment;
- limits (:mod:`studyguide.grading.sandbox`): a per-test clock, a wall clock after which the
  process group is killed, ``RLIMIT_AS`` and ``RLIMIT_FSIZE``, a pids cgroup, and (as root)
  fresh mount, pid and network namespaces with a read-only filesystem (writable: three 128 MB
  tmpfs folders, home, tmp and Flask's instance folder), the course and the submissions hidden,
  and no capabilities;
- in process (:mod:`studyguide.grading.sandbox_boot`): no network, no ``Flask.run``, Flask's own
  test client only, and a tamper check of pytest, werkzeug, ``json``, builtins and the graders;
- the report: a pipe opened by this process, signed with a token the child reads from stdin;
  its tests, points and exit status must match what the graders and the process say;
- feedback: messages only for visible tests, with every line of grader source removed.

What it does not stop: student code runs in the same interpreter as pytest, so a submission that
digs through the interpreter's memory (``gc``) for the token or the reporter can still forge its
outcomes; encoded (not verbatim) grader source can still reach a visible test's message.
"""

import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

from studyguide.grading import sandbox

BOOT_SCRIPT = Path(__file__).with_name("sandbox_boot.py")
PACKAGE = "bookshelf"
ALLOWED_SUFFIXES = {".py", ".html", ".json", ".txt", ".sql"}
# Files that change how Python or pytest start; never copied even inside the package.
FORBIDDEN_NAMES = {
    "conftest.py",
    "sitecustomize.py",
    "usercustomize.py",
    "pytest.ini",
    "pyproject.toml",
    "setup.cfg",
    "tox.ini",
}
MAX_FILE_BYTES = 512 * 1024
MAX_TOTAL_BYTES = 4 * 1024 * 1024
MAX_FILES = 400
MAX_DEPTH = 6
MAX_REPORT_BYTES = 8 * 1024 * 1024
OUTCOMES = ("passed", "failed", "error", "skipped", "not run")
PYTEST_EXIT_REASONS = {
    2: "the test run was interrupted",
    3: "pytest stopped with an internal error",
    4: "pytest was called wrongly",
}


@dataclass(frozen=True)
class Limits:
    """Resource limits of one grading run."""

    per_test_seconds: float = 10
    wall_seconds: float = 120
    memory_mb: int = 1024
    processes: int = 64


@dataclass
class TestResult:
    """The outcome of one grader test for one student."""

    __test__ = False  # not a pytest test class

    nodeid: str
    name: str
    module_id: str
    points: float
    max_points: float
    outcome: str  # "passed" | "failed" | "error" | "skipped" | "not run"
    hint: str
    visible: bool
    message: str  # only for visible tests; "" for hidden ones


@dataclass
class LabResult:
    """The score of one student's lab."""

    module_id: str
    score: float
    max_score: float
    tests: list[TestResult]
    error: str | None  # why the whole lab scored 0 (fail closed), else None
    duration: float


class GraderError(RuntimeError):
    """The instructor's graders or course manifest are broken; no student can be graded."""


class SubmissionError(Exception):
    """The submission cannot be graded; the message says why and the lab scores 0."""


@dataclass(frozen=True)
class ExpectedTest:
    """One grader test as the instructor's graders define it (trusted)."""

    nodeid: str
    points: float
    hint: str
    visible: bool
    # False for an earlier module's grader: a regression check that must still pass but whose
    # points belong to that module's lab, so a skeleton never starts with free points.
    counts: bool = True

    @property
    def weight(self):
        """The points this test is worth in this lab's score."""
        return self.points if self.counts else 0.0


# ---------------------------------------------------------------------------------------------
# Which graders run


def read_modules(course_root):
    """Return the ``[[modules]]`` tables of ``course.toml`` in order."""
    path = Path(course_root) / "course.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise GraderError(f"cannot read {path}: {exc}") from exc
    return list(data.get("modules", []))


def graded_modules(course_root, module_id):
    """Return (ids of the modules whose graders run for this lab, retired node ids)."""
    modules = read_modules(course_root)
    ids = [m.get("id") for m in modules]
    if module_id not in ids:
        known = ", ".join(map(str, ids))
        raise GraderError(f"unknown module {module_id!r}; known modules: {known}")
    position = ids.index(module_id)
    chosen = [m for m in modules[: position + 1] if m.get("available") or m.get("id") == module_id]
    retired = {r for m in chosen for r in m.get("retires", [])}
    return [m["id"] for m in chosen], retired


def grader_paths(course_root, module_id):
    """The grader files for a lab: earlier available modules' graders, then its own.

    A file retired as a whole in ``course.toml`` (``retires = ["01-x/test_y.py"]``) is left
    out; single retired tests are deselected when the graders run.
    """
    course_root = Path(course_root)
    ids, retired = graded_modules(course_root, module_id)
    paths = []
    for graded_id in ids:
        folder = course_root / "grading" / graded_id
        for path in sorted(folder.glob("test_*.py")):
            if f"{graded_id}/{path.name}" not in retired:
                paths.append(path)
    return paths


def _is_retired(nodeid, retired):
    """True when the node id or its file is retired."""
    return nodeid in retired or nodeid.split("::")[0] in retired


# ---------------------------------------------------------------------------------------------
# The sandbox on disk


def _allowed(relative):
    """True when a path inside the submission's package may be copied."""
    if relative.name in FORBIDDEN_NAMES or relative.suffix not in ALLOWED_SUFFIXES:
        return False
    if relative.suffix == ".pth" or len(relative.parts) > MAX_DEPTH:
        return False
    return all(not part.startswith(".") and part != "__pycache__" for part in relative.parts)


def copy_submission(submission_lab, target_lab):
    """Copy the allow-listed files of the student's package; never follow a symlink.

    Raises SubmissionError when the package is missing or breaks a size cap.
    """
    source = Path(submission_lab) / PACKAGE
    if source.is_symlink() or not source.is_dir():
        raise SubmissionError(f"the lab has no {PACKAGE}/ folder")
    copied, total = 0, 0
    for folder, dirnames, filenames in os.walk(source, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not Path(folder, d).is_symlink())
        for name in sorted(filenames):
            path = Path(folder, name)
            relative = path.relative_to(source)
            if path.is_symlink() or not path.is_file() or not _allowed(relative):
                continue
            size = path.stat().st_size
            total += size
            copied += 1
            if size > MAX_FILE_BYTES:
                raise SubmissionError(f"{PACKAGE}/{relative} is larger than {MAX_FILE_BYTES} bytes")
            if total > MAX_TOTAL_BYTES or copied > MAX_FILES:
                raise SubmissionError(
                    f"{PACKAGE}/ holds more than {MAX_FILES} files or {MAX_TOTAL_BYTES} bytes"
                )
            destination = target_lab / PACKAGE / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "rb") as handle:
                destination.write_bytes(handle.read(MAX_FILE_BYTES + 1)[:MAX_FILE_BYTES])
    if not (target_lab / PACKAGE / "__init__.py").is_file():
        raise SubmissionError(f"{PACKAGE}/__init__.py is missing")


def check_compiles(lab_dir):
    """Compile every copied Python file (nothing runs); raise SubmissionError on the first error."""
    for path in sorted((lab_dir / PACKAGE).rglob("*.py")):
        relative = path.relative_to(lab_dir).as_posix()
        try:
            compile(path.read_bytes(), relative, "exec", dont_inherit=True)
        except SyntaxError as exc:
            raise SubmissionError(
                f"{relative} does not compile: {type(exc).__name__} at line {exc.lineno}: "
                f"{str(exc.msg)[:200]}"
            ) from None
        except (ValueError, RecursionError, MemoryError) as exc:
            raise SubmissionError(f"{relative} does not compile: {type(exc).__name__}") from None


def copy_graders(course_root, module_ids, target_grading):
    """Copy ``grading/conftest.py`` and the graded modules' folders into the sandbox."""
    source = Path(course_root) / "grading"
    target_grading.mkdir(parents=True)
    if (source / "conftest.py").is_file():
        shutil.copyfile(source / "conftest.py", target_grading / "conftest.py")
    for module_id in module_ids:
        folder = source / module_id
        if folder.is_dir():
            shutil.copytree(
                folder,
                target_grading / module_id,
                symlinks=False,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
            )


@dataclass(frozen=True)
class Sandbox:
    """The folders of one sandboxed run."""

    root: Path

    @property
    def lab(self):
        return self.root / "lab"

    @property
    def grading(self):
        return self.root / "grading"

    @property
    def config(self):
        return self.root / "config" / "pytest.ini"

    @property
    def home(self):
        return self.root / "home"

    @property
    def tmp(self):
        return self.root / "tmp"

    @property
    def instance(self):
        """Flask's instance folder of the student's package (the only writable place in lab)."""
        return self.lab / "instance"


def make_sandbox(root, course_root, module_ids):
    """Lay out a sandbox under ``root``: graders, the grader's own ini, home and tmp."""
    box = Sandbox(Path(root))
    for folder in (box.lab, box.instance, box.config.parent, box.home, box.tmp):
        folder.mkdir(parents=True)
    copy_graders(course_root, module_ids, box.grading)
    box.config.write_text(
        "[pytest]\n"
        "markers =\n"
        "    grade(points, hint): points and hint of a graded test\n"
        "    timeout(seconds): time limit of one grader test, instead of the run's default\n"
        "console_output_style = classic\n",
        encoding="utf-8",
    )
    return box


def pytest_args(box, tests, retired, *, collect_only=False):
    """The pytest command line of a sandboxed run: the grader's ini, never the student's."""
    args = [
        "-c",
        str(box.config),
        "--rootdir",
        str(box.grading),
        "--confcutdir",
        str(box.grading),
        "-p",
        "no:cacheprovider",
        "--import-mode=importlib",
        f"--basetemp={box.tmp / 'pytest'}",
        "-q",
        "-o",
        "console_output_style=classic",
    ]
    if collect_only:
        args.append("--collect-only")
    for nodeid in sorted(retired):
        args += ["--deselect", nodeid]
    return args + [str(box.grading / t) for t in tests]


def sandbox_env(box):
    """A minimal environment: no proxies, no PYTHON* variables, home and tmp in the sandbox."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": str(box.home),
        "TMPDIR": str(box.tmp),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }


# ---------------------------------------------------------------------------------------------
# Running the sandboxed process


@dataclass
class RunOutcome:
    """What the parent saw of one sandboxed run."""

    returncode: int | None
    timed_out: bool
    frame: bytes  # the verified report body, b"" when none came back signed
    received: int  # bytes that came through the report pipe, signed or not
    output: str


def _read_all(fd, chunks):
    """Read a pipe until EOF (or the cap), appending to ``chunks``."""
    total = 0
    with os.fdopen(fd, "rb", buffering=0) as pipe:
        while True:
            data = pipe.read(65536)
            if not data:
                return
            total += len(data)
            if total <= MAX_REPORT_BYTES + 65536:
                chunks.append(data)


def isolation_args(box, python, reveal_nothing_of):
    """Boot-script options that freeze the filesystem around ``box`` (only with namespaces)."""
    if not sandbox.namespace_prefix():
        return []
    interpreter = Path(shutil.which(python) or python).absolute()
    keep_visible = [interpreter, interpreter.resolve(), interpreter.parent.parent]
    args = ["--isolate", str(box.root), "--readonly", str(box.root)]
    for folder in (box.home, box.tmp, box.instance):
        args += ["--scratch", str(folder)]
    for folder in sandbox.hidden_folders([box.root.parent, *reveal_nothing_of], keep_visible):
        args += ["--hide", str(folder)]
    return args


def run_sandboxed(box, args, limits, python, reveal_nothing_of=()):
    """Run the boot script in ``box`` under ``limits``; return what came back.

    ``reveal_nothing_of`` lists folders (the course, the submission) that the run must not see.
    """
    python = shutil.which(python) or python  # the child's PATH would find another one
    token = secrets.token_hex(32)
    read_fd, write_fd = os.pipe()
    chunks = []
    reader = threading.Thread(target=_read_all, args=(read_fd, chunks), daemon=True)
    log_path = box.root.parent / "output.log"
    with sandbox.ProcessJail(limits) as jail, open(log_path, "wb") as log:
        command = [
            *sandbox.namespace_prefix(),
            python,
            "-I",
            "-B",
            str(BOOT_SCRIPT),
            *jail.boot_args(),
            "--per-test",
            f"{limits.per_test_seconds:g}",
            *isolation_args(box, python, reveal_nothing_of),
            str(box.lab),
            str(write_fd),
            "--",
            *args,
        ]
        try:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=box.home,
                env=sandbox_env(box),
                pass_fds=(write_fd,),
                start_new_session=True,
            )
        except OSError:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        reader.start()
        timed_out = False
        try:
            proc.communicate(input=(token + "\n").encode(), timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
        jail.kill_all(proc)
        proc.wait()
    reader.join(timeout=5)
    frame = b"".join(chunks)
    output = log_path.read_bytes()[-20000:].decode("utf-8", "replace")
    return RunOutcome(proc.returncode, timed_out, _verified(frame, token), len(frame), output)


def _verified(frame, token):
    """Return the frame's JSON body when it carries the token's signature, else b""."""
    signature, newline, body = frame.partition(b"\n")
    if not newline or len(frame) > MAX_REPORT_BYTES:
        return b""
    expected = hmac.new(token.encode(), body, hashlib.sha256).hexdigest().encode()
    return body if hmac.compare_digest(signature, expected) else b""


# ---------------------------------------------------------------------------------------------
# Trusted collection of the graders

_EXPECTED_CACHE = {}


def _graders_fingerprint(course_root, paths):
    """A hash of the grader files and the shared conftest, to cache collections."""
    digest = hashlib.sha256()
    for path in [Path(course_root) / "grading" / "conftest.py", *paths]:
        if path.is_file():
            digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def expected_tests(course_root, module_id, *, python=sys.executable):
    """Collect the graders of a lab in a trusted run, with the instructor's solution as package.

    Returns the ExpectedTest list (retired tests removed). Raises GraderError when the graders
    cannot be collected or a test lacks positive points or a hint.
    """
    course_root = Path(course_root).resolve()
    ids, retired = graded_modules(course_root, module_id)
    paths = grader_paths(course_root, module_id)
    key = (str(course_root), module_id, python, _graders_fingerprint(course_root, paths))
    if key not in _EXPECTED_CACHE:
        collected = _collect_expected(course_root, module_id, ids, retired, paths, python)
        _EXPECTED_CACHE[key] = collected
    return list(_EXPECTED_CACHE[key])


def _collect_expected(course_root, module_id, ids, retired, paths, python):
    """Run the collect-only step behind :func:`expected_tests`."""
    if not paths:
        return []
    with tempfile.TemporaryDirectory(prefix="studyguide-collect-") as tmp:
        box = make_sandbox(Path(tmp) / "box", course_root, ids)
        solution = course_root / "solutions" / module_id / PACKAGE
        if solution.is_dir():
            shutil.copytree(solution, box.lab / PACKAGE, symlinks=False)
        tests = [p.relative_to(course_root / "grading").as_posix() for p in paths]
        args = pytest_args(box, tests, retired, collect_only=True)
        outcome = run_sandboxed(box, args, Limits(wall_seconds=120), python, [course_root])
    report = _parse(outcome.frame)
    if report is None or report.get("collect_errors") or report["exitstatus"] not in (0, 5):
        raise GraderError(f"cannot collect the graders of {module_id}:\n{outcome.output[-3000:]}")
    expected = []
    for test in report["tests"]:
        if _is_retired(test["nodeid"], retired):
            continue
        points, hint = test.get("points"), test.get("hint")
        if not isinstance(points, (int, float)) or points <= 0 or not hint:
            raise GraderError(f"{test['nodeid']} needs a grade marker with points and a hint")
        counts = test["nodeid"].partition("/")[0] == module_id
        expected.append(
            ExpectedTest(test["nodeid"], float(points), hint, bool(test["visible"]), counts)
        )
    return expected


# ---------------------------------------------------------------------------------------------
# Scoring


def _parse(body):
    """Parse and shape-check a report body; None when it is not a well-formed report."""
    if not body:
        return None
    try:
        report = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(report, dict) or report.get("finished") is not True:
        return None
    tests, errors = report.get("tests"), report.get("collect_errors")
    if not isinstance(tests, list) or not isinstance(errors, list):
        return None
    if not isinstance(report.get("exitstatus"), int):
        return None
    tampered = report.get("tampered")
    if not isinstance(tampered, list) or not all(isinstance(t, str) for t in tampered):
        return None
    for test in tests:
        if not isinstance(test, dict) or not isinstance(test.get("nodeid"), str):
            return None
        if test.get("outcome") not in OUTCOMES or not isinstance(test.get("message", ""), str):
            return None
    return report


def _grader_lines(box_or_course_grading):
    """The stripped non-empty lines of every grader file: text that must never reach students."""
    lines = set()
    for path in Path(box_or_course_grading).rglob("*.py"):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            stripped = line.strip()
            if stripped:
                lines.add(stripped)
    return lines


def sanitize(text, secret_lines):
    """Drop every line of ``text`` that shows a line of grader source."""
    long_secrets = [s for s in secret_lines if len(s) >= 12]
    kept = []
    for line in text.splitlines():
        bare = re.sub(r"^[\s>E]*", "", line).strip()
        if bare in secret_lines or line.strip() in secret_lines:
            continue
        if any(secret in line for secret in long_secrets):
            continue
        kept.append(line)
    return "\n".join(kept)


def _result(expected, outcome, message):
    """A TestResult for one expected test."""
    module_id, _, rest = expected.nodeid.partition("/")
    return TestResult(
        nodeid=expected.nodeid,
        name=rest.split("::")[-1],
        module_id=module_id,
        points=expected.weight if outcome == "passed" else 0.0,
        max_points=expected.weight,
        outcome=outcome,
        hint=expected.hint,
        visible=expected.visible,
        message=message if expected.visible else "",
    )


def failed_lab(module_id, expected, reason, started, secret_lines=frozenset()):
    """A LabResult scoring 0 with ``reason``: every test is reported as not run."""
    return LabResult(
        module_id=module_id,
        score=0.0,
        max_score=sum(t.weight for t in expected),
        tests=[_result(t, "not run", "") for t in expected],
        error=sanitize(reason, secret_lines)[:2000],
        duration=time.monotonic() - started,
    )


def report_problem(outcome, report, expected, limits):
    """Why a run's report cannot be trusted, or None when it is complete and consistent."""
    if outcome.timed_out:
        return f"the test run did not finish within {limits.wall_seconds:g} s"
    if report is None and outcome.received:
        return "the test report was tampered with: it is not the one the grader signed"
    if report is None:
        return f"the test run ended before reporting: exit code {outcome.returncode}"
    if outcome.returncode != report["exitstatus"]:
        return (
            f"the test run ended abnormally: exit code {outcome.returncode}, "
            f"report says {report['exitstatus']}"
        )
    if report["tampered"]:
        return f"the submission changed the grading machinery: {', '.join(report['tampered'][:5])}"
    if report["exitstatus"] in PYTEST_EXIT_REASONS:
        return PYTEST_EXIT_REASONS[report["exitstatus"]]
    by_id = {t.nodeid: t for t in expected}
    reported = [t["nodeid"] for t in report["tests"]]
    if len(reported) != len(set(reported)):
        return "the report lists a test twice"
    extra = sorted(set(reported) - set(by_id))
    if extra:
        return f"the report lists tests the graders do not have: {', '.join(extra[:5])}"
    broken_files = {e.get("nodeid", "") for e in report["collect_errors"] if isinstance(e, dict)}
    missing = [n for n in by_id if n not in reported and n.split("::")[0] not in broken_files]
    if missing:
        return f"the report is partial: {len(missing)} tests missing, e.g. {missing[0]}"
    for test in report["tests"]:
        if test.get("points") != by_id[test["nodeid"]].points:
            return f"the report changes the points of {test['nodeid']}"
    return None


def score_run(module_id, expected, outcome, limits, started, secret_lines):
    """Turn a run's outcome into a LabResult; fail closed on any doubt about the report."""
    report = _parse(outcome.frame)
    problem = report_problem(outcome, report, expected, limits)
    if problem:
        return failed_lab(module_id, expected, problem, started, secret_lines)
    reported = {t["nodeid"]: t for t in report["tests"]}
    tests = []
    for test in expected:
        entry = reported.get(test.nodeid, {"outcome": "error", "message": ""})
        message = sanitize(entry.get("message", ""), secret_lines) if test.visible else ""
        tests.append(_result(test, entry["outcome"], message))
    return LabResult(
        module_id=module_id,
        score=sum(t.points for t in tests),
        max_score=sum(t.weight for t in expected),
        tests=tests,
        error=None,
        duration=time.monotonic() - started,
    )


# ---------------------------------------------------------------------------------------------
# The entry point


def grade_lab(course_root, module_id, submission_lab, *, limits=Limits(), python=sys.executable):
    """Grade ``submission_lab`` (a student's ``labs/<module_id>/``) with the hidden graders.

    Runs the module's graders and those of every earlier available module (minus retired tests)
    in a fresh sandbox that is deleted afterwards. Never raises for a broken or hostile
    submission: such a lab scores 0 and ``LabResult.error`` says why. Raises GraderError when
    the instructor's graders themselves are broken.
    """
    started = time.monotonic()
    course_root = Path(course_root).resolve()
    submission_lab = Path(submission_lab)
    expected = expected_tests(course_root, module_id, python=python)
    ids, retired = graded_modules(course_root, module_id)
    tests = [
        p.relative_to(course_root / "grading").as_posix()
        for p in grader_paths(course_root, module_id)
    ]
    with tempfile.TemporaryDirectory(prefix="studyguide-grade-") as tmp:
        box = make_sandbox(Path(tmp) / "box", course_root, ids)
        secret_lines = _grader_lines(box.grading)
        try:
            copy_submission(submission_lab, box.lab)
            check_compiles(box.lab)
        except SubmissionError as exc:
            return failed_lab(module_id, expected, str(exc), started, secret_lines)
        except OSError as exc:
            reason = f"the lab could not be read: {exc.strerror or exc}"
            return failed_lab(module_id, expected, reason, started, secret_lines)
        args = pytest_args(box, tests, retired)
        # The graders and solutions by name too, in case the interpreter lives in the course.
        hide = [course_root, course_root / "grading", course_root / "solutions", submission_lab]
        outcome = run_sandboxed(box, args, limits, python, hide)
        return score_run(module_id, expected, outcome, limits, started, secret_lines)
