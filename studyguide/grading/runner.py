"""Grade one student's lab with the instructor's hidden graders: the verdict is computed only
where student code never runs.

Two processes grade a lab:

- the **grader process** (trusted): pytest with the hidden graders, ``grading/conftest.py`` and
  the report plugin (:mod:`studyguide.pytest_report`). It never imports the submission; the lab
  is not on its ``sys.path``. Points, outcomes and the report come only from here;
- the **student process** (untrusted): ``lab_server.py`` importing the student's package inside
  the sandbox (:mod:`studyguide.grading.sandbox`), answering the fixtures ``client``, ``runner``
  and ``call`` over a narrow JSON channel (:mod:`studyguide.grading.channel`). The grader reads
  the lab's SQLite file itself for ``database``.

``grade_lab`` copies an allow-list of the student's files into a fresh private folder, checks
that they compile, makes sure the package can be imported in the sandbox at all (else the lab
scores 0 with the reason), then runs the grader process against it. A test whose request
times out or crashes the student process fails with the reason; the next test gets a new
process. Points come from the graders' ``grade`` markers; a missing or partial report scores 0.

What the student's code can still do: make its own app answer anything (that is its behaviour,
graded like any other), and, where the machine offers no namespaces (no root), read what the
instructor's user can read: ``LabResult.isolation`` says which isolation a run had.
"""

import contextlib
import hashlib
import json
import os
import re
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from studyguide.errors import StudyguideError
from studyguide.grading import sandbox
from studyguide.grading.channel import (
    IMPORT_SECONDS,
    LabProcess,
    LabSpec,
    StudentCrash,
    prepare_box,
)
from studyguide.manifest import Course, load_course
from studyguide.testrun import TestOutcome, TestRun, run_pytest

# What a lab may hold: code, its static page, its migrations and its deployment description.
ALLOWED_SUFFIXES = {".py", ".html", ".js", ".css", ".json", ".txt", ".sql", ".ini", ".mako",
                    ".yaml", ".yml"}
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
MAX_DEPTH = 7  # folders below the lab, the package or migrations/ counted
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
    wall_seconds: float = 300
    memory_mb: int = 1024
    processes: int = 64
    import_seconds: float = 20


#: The outcome of one grader test for one student (the course tool's one outcome type).
TestResult = TestOutcome


@dataclass
class LabResult:
    """The score of one student's lab."""

    module_id: str
    score: float
    max_score: float
    tests: list[TestResult]
    error: str | None  # why the whole lab scored 0 (fail closed), else None
    duration: float
    isolation: str = ""  # how the student's process was kept apart, in words


class GraderError(StudyguideError):
    """The instructor's graders or course manifest are broken; no student can be graded."""


class GradersMissing(GraderError):
    """The hidden graders are not in this course folder (a student edition)."""


class SubmissionError(StudyguideError):
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


def as_course(course):
    """A :class:`Course` from a Course or a course folder."""
    return course if isinstance(course, Course) else load_course(course)


def require_graders(course):
    """Raise GradersMissing unless every available module has its hidden graders here."""
    course = as_course(course)
    missing = [m.id for m in course.available
               if not list(course.path("grading", m).glob("test_*.py"))]
    if missing or not (course.root / "grading" / "conftest.py").is_file():
        raise GradersMissing(
            f"the hidden graders are missing in {course.root / 'grading'} "
            f"(modules without graders: {', '.join(missing) or 'none'}; conftest.py "
            f"{'present' if (course.root / 'grading' / 'conftest.py').is_file() else 'missing'})"
            ": grade from the instructor's course folder, not from a student edition"
        )


def graded_modules(course, module_id):
    """Return (ids of the modules whose graders run for this lab, retired node ids)."""
    course = as_course(course)
    try:
        module = course.module(module_id)
    except ValueError as exc:
        raise GraderError(str(exc)) from None
    chosen = [*course.earlier(module), module]
    return [m.id for m in chosen], course.retired(module)


def grader_paths(course, module_id):
    """The grader files for a lab: earlier available modules' graders, then its own.

    A file retired as a whole in ``course.toml`` (``retires = ["01-x/test_y.py"]``) is left
    out; single retired tests are deselected when the graders run.
    """
    course = as_course(course)
    ids, retired = graded_modules(course, module_id)
    paths = []
    for graded_id in ids:
        for path in sorted((course.root / "grading" / graded_id).glob("test_*.py")):
            if f"{graded_id}/{path.name}" not in retired:
                paths.append(path)
    return paths


def module_configs(course, lab_module_id):
    """{grader module id: app configuration} for the graders that run on lab ``lab_module_id``.

    When graders of module M run on the lab of module L, every module X with M < X <= L adds
    its ``earlier_graders_config`` (course.toml), in course order: later modules win.
    """
    course = as_course(course)
    lab = course.module(lab_module_id)
    configs = {}
    for graded in (*course.earlier(lab), lab):
        merged = {}
        for module in course.modules:
            if graded.number < module.number <= lab.number:
                merged.update(module.earlier_graders_config)
        if merged:
            configs[graded.id] = merged
    return configs


def _is_retired(nodeid, retired):
    """True when the node id or its file is retired."""
    return nodeid in retired or nodeid.split("::")[0] in retired


# ---------------------------------------------------------------------------------------------
# The submission


def refuse_symlinks(folder):
    """Raise SubmissionError when ``folder`` is, or holds anywhere, a symbolic link."""
    folder = Path(folder)
    if folder.is_symlink():
        raise SubmissionError(f"{folder.name}/ is a symbolic link; symbolic links are refused")
    for parent, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in sorted(dirnames + filenames):
            path = Path(parent, name)
            if path.is_symlink():
                relative = path.relative_to(folder.parent).as_posix()
                raise SubmissionError(f"{relative} is a symbolic link; symbolic links are refused")


def _allowed(relative):
    """True when a path (relative to the lab) of what the submission hands in may be copied."""
    if relative.name in FORBIDDEN_NAMES or relative.suffix not in ALLOWED_SUFFIXES:
        return False
    if relative.suffix == ".pth" or len(relative.parts) > MAX_DEPTH:
        return False
    return all(not part.startswith(".") and part != "__pycache__" for part in relative.parts)


def _submitted_files(source):
    """(path, path relative to the lab) of every regular file at or under ``source``; no links."""
    lab = source.parent
    if source.is_file():
        yield source, Path(source.name)
        return
    for folder, dirnames, filenames in os.walk(source, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not Path(folder, d).is_symlink())
        for name in sorted(filenames):
            path = Path(folder, name)
            if not path.is_symlink() and path.is_file():
                yield path, path.relative_to(lab)


def copy_submission(submission_lab, target_lab, package="bookshelf", handed_in=()):
    """Copy the allow-listed files of the student's package and of the other files the module
    hands in (``Module.handed_in``); never follow a symlink.

    Raises SubmissionError when the package is missing or a size cap is broken. A missing
    ``handed_in`` file is not an error here: the graders that need it fail with their hint.
    """
    submission_lab, target_lab = Path(submission_lab), Path(target_lab)
    source = submission_lab / package
    if source.is_symlink() or not source.is_dir():
        raise SubmissionError(f"the lab has no {package}/ folder")
    copied, total = 0, 0
    for name in (package, *handed_in):
        source = submission_lab / name
        if source.is_symlink() or not source.exists():
            continue
        for path, relative in _submitted_files(source):
            if not _allowed(relative):
                continue
            size = path.stat().st_size
            total += size
            copied += 1
            if size > MAX_FILE_BYTES:
                raise SubmissionError(
                    f"{relative.as_posix()} is larger than {MAX_FILE_BYTES} bytes"
                )
            if total > MAX_TOTAL_BYTES or copied > MAX_FILES:
                raise SubmissionError(
                    f"the lab hands in more than {MAX_FILES} files or {MAX_TOTAL_BYTES} bytes"
                )
            destination = target_lab / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            with open(path, "rb") as handle:
                destination.write_bytes(handle.read(MAX_FILE_BYTES + 1)[:MAX_FILE_BYTES])
    if not (target_lab / package / "__init__.py").is_file():
        raise SubmissionError(f"{package}/__init__.py is missing")


def check_compiles(lab_dir, package="bookshelf"):
    """Compile every copied Python file (nothing runs); raise SubmissionError on the first error."""
    for path in sorted((lab_dir / package).rglob("*.py")):
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


# ---------------------------------------------------------------------------------------------
# Feedback text


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


def _result(expected, outcome, message, duration=0.0):
    """A TestResult for one expected test (``duration``: its seconds, fixtures included)."""
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
        duration=duration,
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


def expected_tests(course, module_id, *, python=None):
    """Collect the graders of a lab in the grader process (no lab needed: graders never
    import it). Returns the ExpectedTest list (retired tests removed). Raises GraderError when
    the graders cannot be collected or a test lacks positive points or a hint."""
    course = as_course(course)
    ids, retired = graded_modules(course, module_id)
    paths = grader_paths(course, module_id)
    key = (str(course.root), module_id, _graders_fingerprint(course.root, paths))
    if key not in _EXPECTED_CACHE:
        _EXPECTED_CACHE[key] = _collect_expected(course, module_id, retired, paths)
    return list(_EXPECTED_CACHE[key])


def _collect_expected(course, module_id, retired, paths):
    """Run the collect-only step behind :func:`expected_tests`."""
    if not paths:
        return []
    with tempfile.TemporaryDirectory(prefix="studyguide-collect-") as empty:
        run = run_pytest(empty, paths, rootdir=course.root / "grading", deselect=sorted(retired),
                         extra_args=["--collect-only"], lab_on_path=False, timeout=120,
                         lab_spec=LabSpec(lab=empty, package=course.package))
    if not run.finished or run.collect_errors or run.exitstatus not in (0, 5):
        raise GraderError(f"cannot collect the graders of {module_id}:\n{run.output[-3000:]}")
    expected = []
    for test in run.tests:
        if _is_retired(test["nodeid"], retired):
            continue
        points, hint = test.get("points"), test.get("hint")
        if not isinstance(points, int | float) or points <= 0 or not hint:
            raise GraderError(f"{test['nodeid']} needs a grade marker with points and a hint")
        counts = test["nodeid"].partition("/")[0] == module_id
        expected.append(
            ExpectedTest(test["nodeid"], float(points), hint, bool(test["visible"]), counts)
        )
    return expected


# ---------------------------------------------------------------------------------------------
# Scoring


def report_problem(run, expected, limits):
    """Why the grader run's report cannot be used, or None when it is complete."""
    if run.returncode == -1:
        return f"the test run did not finish within {limits.wall_seconds:g} s"
    if not run.finished:
        return f"the test run ended before reporting: exit code {run.returncode}"
    if run.exitstatus in PYTEST_EXIT_REASONS:
        return PYTEST_EXIT_REASONS[run.exitstatus]
    reported = {t["nodeid"] for t in run.tests}
    broken_files = {e.get("nodeid", "") for e in run.collect_errors}
    missing = [t.nodeid for t in expected
               if t.nodeid not in reported and t.nodeid.split("::")[0] not in broken_files]
    if missing:
        return f"the report is partial: {len(missing)} tests missing, e.g. {missing[0]}"
    return None


def score_run(module_id, expected, run, limits, started, secret_lines, isolation=""):
    """Turn the grader run into a LabResult; fail closed when its report is incomplete."""
    problem = report_problem(run, expected, limits)
    if problem:
        result = failed_lab(module_id, expected, problem, started, secret_lines)
        result.isolation = isolation
        return result
    reported = {t["nodeid"]: t for t in run.tests}
    tests = []
    for test in expected:
        entry = reported.get(test.nodeid, {"outcome": "error", "message": ""})
        outcome = entry["outcome"] if entry["outcome"] in OUTCOMES else "error"
        message = sanitize(entry.get("message", ""), secret_lines) if test.visible else ""
        tests.append(_result(test, outcome, message, entry.get("duration", 0.0)))
    return LabResult(
        module_id=module_id,
        score=sum(t.points for t in tests),
        max_score=sum(t.weight for t in expected),
        tests=tests,
        error=None,
        duration=time.monotonic() - started,
        isolation=isolation,
    )


# ---------------------------------------------------------------------------------------------
# The entry point


def lab_spec(course, module_id, box, limits, python):
    """The sandboxed student process of one grading run, as the grader process starts it."""
    return LabSpec(
        lab=str(box / "lab"), package=course.package, python=python, sandboxed=True,
        box=str(box), test_seconds=limits.per_test_seconds, memory_mb=limits.memory_mb,
        processes=limits.processes, module_configs=module_configs(course, module_id),
        cgroup_tag=box.parent.name.removeprefix("studyguide-grade-") + "-",
    )


def start_lab(spec, scratch, seconds=IMPORT_SECONDS):
    """Start the student's lab server and import the package in the sandbox.

    Returns (the running, imported process, None), or (None, why it cannot start).
    """
    process = LabProcess(spec, scratch)
    process.limit_seconds = seconds
    process.start()
    try:
        reply = process.ask({"op": "import"}, time.monotonic() + seconds,
                            "importing the lab's package")
    except StudentCrash as exc:
        process.close()
        return None, str(exc)
    if not reply["ok"]:
        process.close()
        error = reply["error"]
        return None, ("the lab's package cannot be imported:\n"
                      f"{error['traceback'] or error['message']}")
    return process, None


def starts(spec, scratch, seconds=IMPORT_SECONDS):
    """Import the student's package in the sandbox once; return why it cannot, or None."""
    process, problem = start_lab(spec, scratch, seconds)
    if process is not None:
        process.close()
    return problem


@dataclass
class _Prepared:
    """One student's lab copied into its private folder, ready for the grader process."""

    index: int
    folder: Path  # the student's private folder (the sandbox's box is folder / "box")
    spec: LabSpec
    started: float  # when this student's grading began
    job: dict = field(default_factory=dict)
    seconds: float = 0.0  # the time spent on this student alone


def grade_lab(course, module_id, submission_lab, *, limits=Limits(), python=None):
    """Grade ``submission_lab`` (a student's ``labs/<module_id>/``) with the hidden graders.

    ``course`` is the instructor's :class:`Course` (or its folder). Runs the module's graders
    and those of every earlier available module (minus retired tests) in the grader process,
    against the lab in a fresh sandbox that is deleted afterwards. Never raises for a broken or
    hostile submission: such a lab scores 0 and ``LabResult.error`` says why. Raises
    GraderError when the instructor's graders are broken or missing.
    """
    return grade_labs(course, module_id, [submission_lab], limits=limits, python=python)[0]


def grade_labs(course, module_id, submission_labs, *, limits=Limits(), python=None):
    """Grade several students' labs of one module; one LabResult each, in the same order.

    Every lab is graded exactly as :func:`grade_lab` describes (its own private copy, its own
    sandbox, fresh fixtures, the same limits, scores and reasons), but one grader process serves
    the whole batch (:mod:`studyguide.grading.lab_batch`): Python, pytest and the graders start
    once instead of once per student. A student the batch could not finish is graded again
    alone.
    """
    python = python or sys.executable
    course = as_course(course)
    require_graders(course)
    expected = expected_tests(course, module_id)
    secret_lines = _grader_lines(course.root / "grading")
    isolation = sandbox.isolation_summary()
    results = [None] * len(submission_labs)
    with contextlib.ExitStack() as stack:
        pending = []
        for index, submission_lab in enumerate(submission_labs):
            started = time.monotonic()
            folder = Path(stack.enter_context(
                tempfile.TemporaryDirectory(prefix="studyguide-grade-")))
            problem = _prepare(course, module_id, Path(submission_lab), folder / "box")
            if problem:
                results[index] = _failed(module_id, expected, problem, started, secret_lines,
                                         isolation)
                continue
            spec = lab_spec(course, module_id, folder / "box", limits, python)
            prepare_box(spec)
            pending.append(_Prepared(index, folder, spec, started,
                                     seconds=time.monotonic() - started))
        if len(pending) == 1:
            # A lab graded alone: a package that cannot be imported fails before pytest starts.
            prepared = pending[0]
            problem = starts(prepared.spec, prepared.folder / "preflight-alone",
                             limits.import_seconds)
            if problem:
                results[prepared.index] = _failed(module_id, expected, problem,
                                                  prepared.started, secret_lines, isolation)
                pending = []
        if pending:
            _run_batch(course, module_id, pending, limits, stack, alone=len(pending) == 1)
        for prepared in pending:
            run = _batch_result(prepared)
            if run is None:  # the batch ended before this student: grade it alone
                results[prepared.index] = _grade_alone(course, module_id, prepared, limits,
                                                       expected, secret_lines, isolation)
            elif isinstance(run, str):
                results[prepared.index] = _failed(module_id, expected, run, prepared.started,
                                                  secret_lines, isolation)
            else:
                results[prepared.index] = score_run(module_id, expected, run, limits,
                                                    prepared.started, secret_lines, isolation)
                results[prepared.index].duration = prepared.seconds
    return results


def _failed(module_id, expected, reason, started, secret_lines, isolation):
    """A LabResult scoring 0 with ``reason``, naming the isolation the run had."""
    result = failed_lab(module_id, expected, reason, started, secret_lines)
    result.isolation = isolation
    return result


def _prepare(course, module_id, submission_lab, box):
    """Copy and compile the submission into ``box``; return why it cannot be graded, or None."""
    try:
        refuse_symlinks(submission_lab)
        copy_submission(
            submission_lab, box / "lab", course.package, course.module(module_id).handed_in
        )
        check_compiles(box / "lab", course.package)
    except SubmissionError as exc:
        return str(exc)
    except OSError as exc:
        return f"the lab could not be read: {exc.strerror or exc}"
    return None


def _run_batch(course, module_id, pending, limits, stack, alone=False):
    """One grader process for every prepared lab; each student's report lands in its folder.

    ``alone``: the labs' packages were already imported once, outside the grader process.
    """
    for prepared in pending:
        prepared.job = {
            "spec": str(prepared.spec.save(prepared.folder / "lab-spec.json")),
            "report": str(prepared.folder / "report.json"),
            "scratch": str(prepared.folder / "preflight"),
            "import_seconds": limits.import_seconds,
            "wall_seconds": limits.wall_seconds,
            "preflight": not alone,
        }
    jobs = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="studyguide-batch-")))
    (jobs / "jobs.json").write_text(json.dumps([p.job for p in pending]), encoding="utf-8")
    _ids, retired = graded_modules(course, module_id)
    per_student = limits.import_seconds + limits.wall_seconds
    try:
        run_pytest(
            pending[0].spec.lab, grader_paths(course, module_id),
            rootdir=course.root / "grading", deselect=sorted(retired),
            lab_spec=pending[0].spec, lab_on_path=False,
            timeout=limits.wall_seconds + per_student * len(pending),
            extra_args=["-p", "studyguide.grading.lab_batch",
                        f"--studyguide-batch={jobs / 'jobs.json'}"],
        )
    finally:
        for prepared in pending:
            sandbox.remove_cgroups(prepared.spec.cgroup_tag)


def _batch_result(prepared):
    """The student's grader run from the batch: a TestRun, the reason the lab could not start,
    or None when the batch never finished this student."""
    path = Path(prepared.job["report"])
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if "timed_out" not in data:
        return None
    prepared.seconds += data["seconds"]
    if data["preflight"]:
        return data["preflight"]
    return TestRun(returncode=-1 if data["timed_out"] else 0, tests=data["tests"],
                   collect_errors=data["collect_errors"], finished=data["finished"],
                   exitstatus=data["exitstatus"])


def _grade_alone(course, module_id, prepared, limits, expected, secret_lines, isolation):
    """Grade one prepared lab in a grader process of its own."""
    spec = prepared.spec
    problem = starts(spec, prepared.folder / "preflight-alone", limits.import_seconds)
    if problem:
        return _failed(module_id, expected, problem, prepared.started, secret_lines, isolation)
    _ids, retired = graded_modules(course, module_id)
    try:
        run = run_pytest(
            spec.lab, grader_paths(course, module_id), rootdir=course.root / "grading",
            deselect=sorted(retired), lab_spec=spec, lab_on_path=False,
            timeout=limits.wall_seconds,
        )
    finally:
        sandbox.remove_cgroups(spec.cgroup_tag)
    return score_run(module_id, expected, run, limits, prepared.started, secret_lines,
                     isolation)
