"""Grade a whole class in one call: every student, every available module, lab and notebook.

``grade_class`` finds the students in a submissions folder (one folder or one zip each),
grades each lab with the hidden graders (:func:`studyguide.grading.runner.grade_lab`, in its
sandbox) and each lesson notebook with the real ``nbgrader autograde``, in parallel, skipping
work whose inputs did not change (:mod:`studyguide.grading.cache`). It then writes one nbgrader
gradebook holding lab and notebook scores (:mod:`studyguide.grading.gradebook`), Gradescope
``results.json`` files and a CSV (:mod:`studyguide.grading.exports`) and per-student feedback
(:mod:`studyguide.grading.feedback`).

Layout of ``out_dir``::

    nbgrader/            a real nbgrader course (source, release, submitted, autograded, db)
    cache/               grading results keyed by content hashes
    extracted/<student>  zipped submissions, safely extracted
    logs/                nbgrader's output, one file per batch
    grades.csv           one row per (student, module)
    gradescope/<student>/results.json
    feedback/<student>/<module>.html
"""

import math
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from studyguide.grading import cache as cache_mod
from studyguide.manifest import load_course

#: Bump when the way results are computed here changes, so old cache entries stop matching.
CLASSROOM_VERSION = "1"
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")
NBGRADER_DB = "gradebook.db"
NBGRADER_COURSE_ID = "flask-study-guide"
#: Seconds one notebook cell may run under ``nbgrader autograde``.
NOTEBOOK_CELL_TIMEOUT = 60
#: Most notebooks one ``nbgrader autograde`` process grades (it runs them one after another;
#: each process pays ~3 s of start-up, so batches are as large as the workers allow).
NOTEBOOK_BATCH = 64
#: The files of the lab runner whose content is part of every lab's cache key.
RUNNER_FILES = ("runner.py", "sandbox.py", "sandbox_boot.py", "channel.py", "lab_server.py",
                "processes.py")
#: Errors that say the grading machinery failed (not the student): never cached.
INFRASTRUCTURE_ERROR = "grading failed: "


# --------------------------------------------------------------------------- results


@dataclass
class ItemResult:
    """One graded item: a grader test of a lab or a graded cell of a notebook."""

    name: str
    points: float
    max_points: float
    outcome: str
    hint: str | None = None
    visible: bool = False
    message: str = ""
    nodeid: str = ""

    @property
    def passed(self) -> bool:
        """True when the item earned all its points."""
        return self.outcome == "passed"


@dataclass
class PartResult:
    """The lab or the notebook of one student for one module."""

    kind: str  # "lab" or "notebook"
    student: str
    module_id: str
    score: float = 0.0
    max_score: float = 0.0
    items: list[ItemResult] = field(default_factory=list)
    error: str | None = None
    duration: float = 0.0
    cached: bool = False
    #: False when the student did not hand this part in (missing, or an unusable zip).
    submitted: bool = True
    #: Notebook only: where the autograded notebook was kept (under the cache).
    artifact: str | None = None

    def to_json(self) -> dict:
        """A plain dict for the cache (``cached`` is a property of a run, not of the result)."""
        data = asdict(self)
        data.pop("cached")
        return data

    @classmethod
    def from_json(cls, data: dict, *, cached: bool = False, student: str | None = None):
        """Rebuild a result stored with :meth:`to_json`, for ``student`` when given.

        Two students who hand in identical files share one cache entry, so the entry's own
        student id is only a default.
        """
        items = [ItemResult(**item) for item in data.get("items", [])]
        return cls(**{**data, "items": items, "cached": cached,
                      "student": student or data["student"]})


@dataclass
class ModuleResult:
    """One row of the class report: a student's lab and notebook for one module."""

    student: str
    module_id: str
    lab: PartResult
    notebook: PartResult

    @property
    def total(self) -> float:
        """Lab plus notebook points."""
        return self.lab.score + self.notebook.score

    @property
    def total_max(self) -> float:
        """Lab plus notebook points available."""
        return self.lab.max_score + self.notebook.max_score


@dataclass
class ClassReport:
    """What ``grade_class`` did and where it wrote the results."""

    students: list[str]
    module_ids: list[str]
    results: list[ModuleResult]
    problems: dict[str, str]
    labs_graded: int = 0
    notebooks_graded: int = 0
    cache_hits: int = 0
    duration: float = 0.0
    out_dir: Path | None = None
    gradebook: Path | None = None
    csv: Path | None = None
    gradescope: dict[str, Path] = field(default_factory=dict)
    feedback: dict[tuple[str, str], Path] = field(default_factory=dict)

    @property
    def work_done(self) -> int:
        """Labs and notebooks actually graded in this run (cache hits excluded)."""
        return self.labs_graded + self.notebooks_graded

    def result(self, student: str, module_id: str) -> ModuleResult:
        """The row of one student and module."""
        for row in self.results:
            if row.student == student and row.module_id == module_id:
                return row
        raise KeyError((student, module_id))


# --------------------------------------------------------------------------- submissions


class SubmissionError(ValueError):
    """A submission cannot be used (corrupt or unsafe zip, bad layout)."""


@dataclass(frozen=True)
class ZipLimits:
    """Caps that keep a hostile zip from filling the disk or escaping its folder."""

    max_entries: int = 5000
    max_file_bytes: int = 20 * 1024 * 1024
    max_total_bytes: int = 200 * 1024 * 1024


@dataclass
class Student:
    """One entry of the submissions folder."""

    id: str
    root: Path | None
    problem: str | None = None

    def lab(self, module_id: str) -> Path | None:
        """The student's lab folder for a module, or None when it is not there."""
        path = self.root / "labs" / module_id if self.root else None
        return path if path and path.is_dir() else None

    def notebook(self, module_id: str) -> Path | None:
        """The student's lesson notebook for a module, or None when it is not there."""
        path = self.root / "notebooks" / f"{module_id}.ipynb" if self.root else None
        return path if path and path.is_file() else None


def _unsafe_member(info: zipfile.ZipInfo) -> str | None:
    """Why a zip member may not be extracted, or None when it is fine."""
    name = info.filename.replace("\\", "/")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        return f"path escapes the submission: {info.filename!r}"
    if stat.S_ISLNK(info.external_attr >> 16):
        return f"symbolic link: {info.filename!r}"
    return None


def _copy_member(archive: zipfile.ZipFile, info, target: Path, budget: list[int], limits):
    """Stream one member to ``target``, counting real bytes against the caps (not the header)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with archive.open(info) as src, open(target, "wb") as dst:
        while chunk := src.read(1 << 16):
            written += len(chunk)
            budget[0] += len(chunk)
            if written > limits.max_file_bytes:
                raise SubmissionError(
                    f"{info.filename!r} is larger than {limits.max_file_bytes} bytes")
            if budget[0] > limits.max_total_bytes:
                raise SubmissionError(
                    f"the zip unpacks to more than {limits.max_total_bytes} bytes")
            dst.write(chunk)


def safe_extract(zip_path: Path, dest: Path, limits: ZipLimits = ZipLimits()) -> Path:
    """Extract ``zip_path`` into a fresh ``dest``; refuse traversal, links and oversize content.

    Returns the submission root: ``dest`` itself, or its only top-level folder when the zip
    wraps everything in one (``alice/labs/...``). Raises :class:`SubmissionError` with the
    reason; ``dest`` is removed then.
    """
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = archive.infolist()
            if len(members) > limits.max_entries:
                raise SubmissionError(
                    f"the zip has {len(members)} entries (limit {limits.max_entries})")
            budget = [0]
            for info in members:
                reason = _unsafe_member(info)
                if reason:
                    raise SubmissionError(f"unsafe zip entry, {reason}")
                target = dest.joinpath(*[p for p in info.filename.replace("\\", "/").split("/")
                                         if p not in ("", ".")])
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                elif "__MACOSX" not in info.filename:
                    _copy_member(archive, info, target, budget, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        shutil.rmtree(dest, ignore_errors=True)
        raise SubmissionError(f"corrupt zip: {exc}") from None
    except (SubmissionError, OSError):
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return _submission_root(dest)


def _submission_root(folder: Path) -> Path:
    """``folder``, or its single subfolder when the student zipped a wrapping folder."""
    if (folder / "labs").is_dir() or (folder / "notebooks").is_dir():
        return folder
    entries = [p for p in folder.iterdir() if p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return folder


def discover_students(submissions_dir: Path, extract_dir: Path) -> tuple[list[Student], list[str]]:
    """The students of a submissions folder, zips extracted; and the entries that were skipped.

    A folder ``<id>/`` or a zip ``<id>.zip`` is one student. A zip that cannot be extracted
    safely still yields the student, with ``problem`` saying why, so the class report lists them.
    """
    students, skipped = {}, []
    for entry in sorted(Path(submissions_dir).iterdir()):
        is_zip = entry.is_file() and entry.suffix.lower() == ".zip"
        student_id = entry.stem if is_zip else entry.name
        if entry.is_symlink() or not (is_zip or entry.is_dir()) or not STUDENT_ID.match(student_id):
            skipped.append(entry.name)
            continue
        if student_id in students:
            skipped.append(entry.name)
            continue
        if is_zip:
            try:
                root = safe_extract(entry, Path(extract_dir) / student_id)
                students[student_id] = Student(student_id, root)
            except (SubmissionError, OSError) as exc:
                students[student_id] = Student(student_id, None, f"{entry.name}: {exc}")
        else:
            students[student_id] = Student(student_id, entry.resolve())
    return list(students.values()), skipped


# --------------------------------------------------------------------------- progress


def _clock(seconds: float) -> str:
    """Seconds as m:ss (or h:mm:ss)."""
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    """A small thread-safe progress bar with an ETA, drawn on stderr.

    On a terminal it redraws one line; elsewhere (CI logs) it prints a line every tenth of the
    work so logs stay short.
    """

    def __init__(self, total: int, *, label: str = "grading", stream=None, enabled: bool = True):
        self.total, self.label, self.done = total, label, 0
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._last_decile = -1

    def line(self, note: str = "") -> str:
        """The bar as text: count, percentage, elapsed time and estimated time left."""
        width = 24
        fraction = self.done / self.total if self.total else 1.0
        filled = int(width * fraction)
        elapsed = time.monotonic() - self.started
        eta = elapsed / self.done * (self.total - self.done) if self.done else float("nan")
        eta_text = _clock(eta) if not math.isnan(eta) else "?"
        return (f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                f"{fraction:4.0%} elapsed {_clock(elapsed)} ETA {eta_text} {note}").rstrip()

    def advance(self, count: int = 1, note: str = "") -> None:
        """Count finished work and redraw."""
        with self.lock:
            self.done = min(self.total, self.done + count)
            if not self.enabled:
                return
            if self.tty:
                self.stream.write("\r\033[K" + self.line(note)[:160])
            elif self.done * 10 // self.total != self._last_decile or self.done == self.total:
                self._last_decile = self.done * 10 // self.total
                self.stream.write(self.line(note) + "\n")
            self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.enabled and self.tty:
            with self.lock:
                self.stream.write("\n")
                self.stream.flush()


# --------------------------------------------------------------------------- labs


def _runner():
    """The sandboxed lab runner (imported late: it is a separate part of the course tool)."""
    from studyguide.grading import runner

    return runner


def runner_version() -> str:
    """A hash of the code that grades labs: the runner, its sandbox and the report plugin."""
    import studyguide.pytest_report as report

    folder = Path(_runner().__file__).parent
    files = [(name, folder / name) for name in RUNNER_FILES if (folder / name).is_file()]
    files.append(("pytest_report.py", Path(report.__file__)))
    return cache_mod.digest(files, CLASSROOM_VERSION)


def lab_key(course, module_id: str, lab_dir: Path | None, version: str) -> str:
    """Cache key of one lab grading: student's files, graders, retired tests, runner version."""
    graders = _runner().grader_paths(course.root, module_id)
    entries = [(f"grader/{i}/{Path(p).name}", Path(p)) for i, p in enumerate(graders)]
    entries.append(("grader/conftest.py", Path(course.root) / "grading" / "conftest.py"))
    for path in graders:
        if Path(path).is_dir():
            entries += cache_mod.folder_entries(Path(path), f"grader-dir/{Path(path).name}")
    if lab_dir is not None:
        entries += cache_mod.folder_entries(lab_dir, "lab")
    retired = ",".join(sorted(course.retired(course.module(module_id))))
    return cache_mod.digest(entries, "lab", module_id, version, retired)


def lab_result_from_runner(student: str, module_id: str, result, duration: float) -> PartResult:
    """Turn the runner's LabResult into a PartResult."""
    items = [
        ItemResult(
            name=t.name, nodeid=t.nodeid, points=float(t.points or 0),
            max_points=float(t.max_points or 0), outcome=str(t.outcome), hint=t.hint,
            visible=bool(t.visible), message=t.message or "",
        )
        for t in result.tests
    ]
    return PartResult(
        kind="lab", student=student, module_id=module_id, score=float(result.score),
        max_score=float(result.max_score), items=items, error=result.error,
        duration=float(getattr(result, "duration", duration) or duration),
    )


def grade_one_lab(course_root: Path, module_id: str, lab_dir: Path, student: str, python: str):
    """Grade one lab folder with the sandboxed runner; never raises."""
    started = time.monotonic()
    try:
        result = _runner().grade_lab(course_root, module_id, lab_dir, python=python)
    except _runner().GraderError:
        raise  # the instructor's graders are broken or missing: no student can be graded
    except Exception as exc:  # the runner failed: fail closed, keep grading the class
        return PartResult("lab", student, module_id, error=f"{INFRASTRUCTURE_ERROR}{exc}",
                          duration=time.monotonic() - started)
    return lab_result_from_runner(student, module_id, result, time.monotonic() - started)


def answer_key(course_root: Path, module_id: str, python: str) -> PartResult:
    """Every grader test of a lab with its points: from the runner's trusted collection when
    it offers one, else by grading the reference solution."""
    collect = getattr(_runner(), "expected_tests", None)
    if collect is None:
        solution = Path(course_root) / "solutions" / module_id
        return grade_one_lab(course_root, module_id, solution, "solution", python)
    started = time.monotonic()
    try:
        expected = collect(course_root, module_id, python=python)
    except Exception as exc:  # broken graders: no key, students still get their own results
        return PartResult("lab", "solution", module_id, error=f"{INFRASTRUCTURE_ERROR}{exc}")
    items = [ItemResult(name=t.nodeid.split("::")[-1], nodeid=t.nodeid, points=0.0,
                        max_points=float(t.weight), outcome="not run", hint=t.hint,
                        visible=bool(t.visible)) for t in expected]
    return PartResult("lab", "solution", module_id, max_score=sum(i.max_points for i in items),
                      items=items, duration=time.monotonic() - started)


# --------------------------------------------------------------------------- notebooks


def notebook_sources_digest(course_root: Path, module_ids: list[str]) -> str:
    """Hash of the lesson notebooks and of nbgrader's version: what the course dir is built from."""
    import nbgrader

    files = [(m, Path(course_root) / "notebooks" / f"{m}.ipynb") for m in module_ids]
    return cache_mod.digest(files, "nbgrader", nbgrader.__version__, NBGRADER_COURSE_ID)


def ensure_nbgrader_course(course_root: Path, dest: Path, module_ids: list[str]) -> Path:
    """Build the instructor's nbgrader course at ``dest`` unless it is already up to date."""
    from studyguide.notebooks import nbgrader_course

    stamp = Path(dest) / ".studyguide-sources"
    wanted = notebook_sources_digest(course_root, module_ids)
    if stamp.is_file() and stamp.read_text() == wanted and (Path(dest) / NBGRADER_DB).is_file():
        return Path(dest)
    nbgrader_course(course_root, dest, module_ids, course_id=NBGRADER_COURSE_ID)
    stamp.write_text(wanted)
    return Path(dest)


def prepare_notebook_course(course_root: Path, dest: Path, module_ids: list[str]):
    """Like :func:`ensure_nbgrader_course`, but a module whose notebook cannot be released does
    not stop the class: returns (course dir, {module id: why its notebooks cannot be graded})."""
    from studyguide.notebooks import NbgraderError, nbgrader_course

    failures = (NbgraderError, OSError, subprocess.SubprocessError)
    try:
        return ensure_nbgrader_course(course_root, dest, module_ids), {}
    except failures:
        pass
    broken = {}
    for module_id in module_ids:  # one at a time, to find the culprits; no stamp: retried
        try:
            nbgrader_course(course_root, dest, [module_id], course_id=NBGRADER_COURSE_ID)
        except failures as exc:
            broken[module_id] = str(exc).strip().splitlines()[0][:300]
    return Path(dest), broken


def notebook_key(course_dir: Path, module_id: str, notebook: Path | None) -> str:
    """Cache key of one notebook grading: the submission, the source notebook, nbgrader."""
    import nbgrader

    source = Path(course_dir) / "source" / module_id / f"{module_id}.ipynb"
    entries = [("source", source)] + ([("submitted", notebook)] if notebook else [])
    return cache_mod.digest(entries, "notebook", module_id, nbgrader.__version__,
                            CLASSROOM_VERSION, str(NOTEBOOK_CELL_TIMEOUT))


def _timestamp(path: Path) -> str:
    """The submission time nbgrader reads from timestamp.txt: the file's modification time."""
    moment = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f %Z")


def _make_shard(course_dir: Path, module_id: str, shard: Path, notebooks: dict[str, Path]):
    """A private nbgrader course holding one assignment and a batch of submissions."""
    shutil.rmtree(shard, ignore_errors=True)
    shutil.copytree(course_dir / "source" / module_id, shard / "source" / module_id)
    shutil.copy2(course_dir / NBGRADER_DB, shard / NBGRADER_DB)
    for student, notebook in notebooks.items():
        folder = shard / "submitted" / student / module_id
        folder.mkdir(parents=True)
        shutil.copyfile(notebook, folder / f"{module_id}.ipynb")
        (folder / "timestamp.txt").write_text(_timestamp(notebook))


def _run_autograde(shard: Path, module_id: str, log_path: Path, on_notebook, timeout: float):
    """Run the real ``nbgrader autograde`` in a shard, logging, ticking per notebook finished.

    nbgrader logs one "Creating/updating student" line as it starts each submission, so each
    such line after the first means the previous notebook is done.
    """
    cmd = [
        sys.executable, "-m", "nbgrader", "autograde", module_id,
        f"--CourseDirectory.root={shard}",
        f"--CourseDirectory.db_url=sqlite:///{shard / NBGRADER_DB}",
        f"--CourseDirectory.course_id={NBGRADER_COURSE_ID}",
        f"--ExecutePreprocessor.timeout={NOTEBOOK_CELL_TIMEOUT}",
    ]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(cmd, cwd=shard, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True, start_new_session=True)
    watchdog = threading.Timer(timeout, proc.kill)
    watchdog.start()
    started = 0
    try:
        with open(log_path, "w", encoding="utf-8") as log:
            for line in proc.stdout:
                log.write(line)
                if "Creating/updating student with ID" in line:
                    if started:
                        on_notebook()
                    started += 1
        return proc.wait()
    finally:
        watchdog.cancel()


def _read_shard_grades(shard: Path, module_id: str, student: str) -> list[ItemResult] | None:
    """The graded cells of one autograded submission, or None when nbgrader made none."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{shard / NBGRADER_DB}", NBGRADER_COURSE_ID) as gb:
        try:
            notebook = gb.find_submission_notebook(module_id, module_id, student)
        except MissingEntry:
            return None
        items = []
        for grade in sorted(notebook.grades, key=lambda g: g.cell.name):
            score = float(grade.score or 0)
            items.append(ItemResult(
                name=grade.cell.name, points=score, max_points=float(grade.max_score),
                outcome="passed" if score >= grade.max_score else "failed",
                hint=f"Run the test cell {grade.cell.name!r} of the notebook and fix what it "
                     "reports.",
            ))
        return items


def _keep_atomically(source: Path, target: Path) -> Path:
    """Copy ``source`` to ``target`` through a temporary file, so a reader never sees half of
    it (students with identical notebooks share one target)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    os.close(handle)
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    return target


def grade_notebook_batch(course_dir, module_id, notebooks, work_dir, store, on_notebook):
    """Autograde a batch of one module's notebooks in a private shard; one PartResult each.

    ``store(student) -> Path`` names where to keep each autograded notebook. The shard is
    removed afterwards; nbgrader's log stays under ``work_dir/../logs``.
    """
    started = time.monotonic()
    shard = Path(work_dir) / f"{module_id}-{min(notebooks)}"
    log_path = Path(work_dir).parent / "logs" / f"autograde-{module_id}-{min(notebooks)}.log"
    _make_shard(Path(course_dir), module_id, shard, notebooks)
    code = _run_autograde(shard, module_id, log_path, on_notebook,
                          timeout=120 + 4 * NOTEBOOK_CELL_TIMEOUT * len(notebooks))
    per_notebook = (time.monotonic() - started) / len(notebooks)
    results = {}
    for student in notebooks:
        items = _read_shard_grades(shard, module_id, student)
        result = PartResult("notebook", student, module_id, duration=per_notebook)
        if items is None:
            result.error = (f"nbgrader could not grade the notebook (exit {code}); "
                            f"the instructor's log is {log_path.name}")
        else:
            result.items = items
            result.score = sum(i.points for i in items)
            result.max_score = sum(i.max_points for i in items)
            graded = shard / "autograded" / student / module_id / f"{module_id}.ipynb"
            if graded.is_file():
                result.artifact = str(_keep_atomically(graded, store(student)))
        results[student] = result
    shutil.rmtree(shard, ignore_errors=True)
    return results


def notebook_max_scores(course_dir: Path, module_ids: list[str]) -> dict[str, float]:
    """The points each notebook assignment is worth, from the instructor's gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    scores = {}
    with Gradebook(f"sqlite:///{Path(course_dir) / NBGRADER_DB}", NBGRADER_COURSE_ID) as gb:
        for module_id in module_ids:
            try:
                scores[module_id] = float(gb.find_assignment(module_id).max_score)
            except MissingEntry:
                scores[module_id] = 0.0
    return scores


# --------------------------------------------------------------------------- the class


class _Ticker:
    """Moves the bar once per notebook of one batch, and catches up when the batch ends."""

    def __init__(self, bar: ProgressBar, note: str):
        self.bar, self.note, self.count = bar, note, 0

    def __call__(self) -> None:
        """One notebook of the batch is done."""
        self.count += 1
        self.bar.advance(1, self.note)

    def finish(self, size: int) -> None:
        """The batch is done: count the notebooks the log did not announce."""
        if size > self.count:
            self.bar.advance(size - self.count, self.note)
        self.count = size


@dataclass
class _Plan:
    """The work of one run: what is cached, what must run."""

    labs: dict[tuple[str, str], PartResult] = field(default_factory=dict)
    notebooks: dict[tuple[str, str], PartResult] = field(default_factory=dict)
    lab_jobs: list[tuple[str, str, Path, str]] = field(default_factory=list)
    notebook_jobs: dict[str, dict[str, tuple[Path, str]]] = field(default_factory=dict)
    key_jobs: list[tuple[str, str]] = field(default_factory=list)
    answer_keys: dict[str, PartResult] = field(default_factory=dict)


def _artifact_present(entry: dict) -> bool:
    """A cached notebook result is usable only while its autograded notebook is kept."""
    return not entry.get("artifact") or Path(entry["artifact"]).is_file()


def _plan_student(plan, cache, course, course_dir, student, module_ids, version, broken):
    """Put one student's cached results in the plan and queue the rest."""
    for module_id in module_ids:
        where = (student.id, module_id)
        if student.problem:
            reason = f"submission unusable: {student.problem}"
            plan.labs[where] = PartResult("lab", student.id, module_id, error=reason,
                                          submitted=False)
            plan.notebooks[where] = PartResult("notebook", student.id, module_id, error=reason,
                                               submitted=False)
            continue
        lab = student.lab(module_id)
        if lab is None:
            reason = f"missing lab: labs/{module_id}/ is not in the submission"
            plan.labs[where] = PartResult("lab", student.id, module_id, error=reason,
                                          submitted=False)
        else:
            key = lab_key(course, module_id, lab, version)
            hit = cache.get(key)
            if hit is not None:
                plan.labs[where] = PartResult.from_json(hit, cached=True, student=student.id)
            else:
                plan.lab_jobs.append((student.id, module_id, lab, key))
        notebook = student.notebook(module_id)
        if module_id in broken:
            plan.notebooks[where] = PartResult(
                "notebook", student.id, module_id,
                error=f"{INFRASTRUCTURE_ERROR}the lesson notebook could not be prepared for "
                      f"nbgrader: {broken[module_id]}")
            continue
        if notebook is None:
            plan.notebooks[where] = PartResult(
                "notebook", student.id, module_id,
                error=f"missing notebook: notebooks/{module_id}.ipynb is not in the submission",
                submitted=False)
            continue
        key = notebook_key(course_dir, module_id, notebook)
        hit = cache.get(key, valid=_artifact_present)
        if hit is not None:
            plan.notebooks[where] = PartResult.from_json(hit, cached=True, student=student.id)
        else:
            plan.notebook_jobs.setdefault(module_id, {})[student.id] = (notebook, key)


def _plan_answer_keys(plan, cache, course, module_ids, version):
    """Queue each module's answer key (every grader test and its points) unless cached."""
    for module_id in module_ids:
        key = lab_key(course, module_id, course.root / "solutions" / module_id, version)
        hit = cache.get(key)
        if hit is not None:
            plan.answer_keys[module_id] = PartResult.from_json(hit, cached=True)
        else:
            plan.key_jobs.append((module_id, key))


def _batches(jobs: dict[str, tuple[Path, str]], workers: int) -> list[list[str]]:
    """Split one module's students into one batch per worker (at most NOTEBOOK_BATCH each)."""
    students = sorted(jobs)
    size = max(1, min(NOTEBOOK_BATCH, math.ceil(len(students) / max(1, workers))))
    return [students[i:i + size] for i in range(0, len(students), size)]


def _run_plan(plan, cache, course, course_dir, out_dir, workers, bar, python):
    """Run every queued job on a pool of threads (each drives subprocesses); fill the plan."""
    work_dir = Path(out_dir) / "work"
    blobs = Path(out_dir) / "cache" / "autograded"
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {}
        for module_id, key in plan.key_jobs:
            future = pool.submit(answer_key, course.root, module_id, python)
            futures[future] = ("key", module_id, key)
        for module_id, jobs in plan.notebook_jobs.items():
            for batch in _batches(jobs, workers):
                notebooks = {s: jobs[s][0] for s in batch}
                keys = {s: jobs[s][1] for s in batch}
                ticker = _Ticker(bar, f"{module_id} notebooks")
                future = pool.submit(
                    grade_notebook_batch, course_dir, module_id, notebooks, work_dir,
                    lambda s, keys=keys: blobs / keys[s][:2] / f"{keys[s]}.ipynb", ticker)
                futures[future] = ("notebooks", module_id, (keys, ticker))
        for student, module_id, lab, key in plan.lab_jobs:
            future = pool.submit(grade_one_lab, course.root, module_id, lab, student, python)
            futures[future] = ("lab", (student, module_id), key)
        for future in as_completed(futures):
            _collect(plan, cache, futures[future], future.result(), bar)
    shutil.rmtree(work_dir, ignore_errors=True)


def _collect(plan, cache, job, result, bar):
    """Store one finished job's result in the plan and the cache; move the bar."""
    kind, where, key = job
    if kind == "key":
        plan.answer_keys[where] = result
        if not result.error:
            cache.put(key, result.to_json())
        bar.advance(1, f"{where} answer key")
    elif kind == "lab":
        plan.labs[where] = result
        if not (result.error or "").startswith(INFRASTRUCTURE_ERROR):
            cache.put(key, result.to_json())
        bar.advance(1, f"{where[0]} {where[1]} lab")
    else:
        keys, ticker = key
        for student, part in result.items():
            plan.notebooks[(student, where)] = part
            if part.error is None:
                cache.put(keys[student], part.to_json())
        ticker.finish(len(result))


def _complete_maxima(plan, module_ids, notebook_maxima):
    """Give every unscored part the points it was worth, so 0/10 reads as 0/10, not 0/0."""
    lab_maxima = {}
    for module_id in module_ids:
        key = plan.answer_keys.get(module_id)
        seen = [r.max_score for (s, m), r in plan.labs.items() if m == module_id]
        lab_maxima[module_id] = max([key.max_score if key else 0.0, *seen])
    for (_, module_id), part in plan.labs.items():
        if not part.items and not part.max_score:
            part.max_score = lab_maxima[module_id]
    for (_, module_id), part in plan.notebooks.items():
        if not part.items and not part.max_score:
            part.max_score = notebook_maxima.get(module_id, 0.0)


def grade_class(course_root, submissions_dir, out_dir, *, workers=None, module_ids=None,
                use_cache=True, progress=True, python=sys.executable) -> ClassReport:
    """Grade every student's labs and notebooks for the available modules; write all outputs.

    Labs go through the sandboxed runner, notebooks through the real ``nbgrader autograde``,
    ``workers`` at a time (default: one per core). Results whose inputs did not change come
    from the cache under ``out_dir/cache`` (``use_cache=False`` grades everything again).
    Missing work and unusable submissions score 0 with the reason; the rest of the class is
    still graded.
    """
    from studyguide.grading import exports, feedback, gradebook

    started = time.monotonic()
    course = load_course(course_root)
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    workers = workers or os.cpu_count() or 1
    module_ids = list(module_ids or [m.id for m in course.available])
    module_ids = [course.module(m).id for m in module_ids]
    students, skipped = discover_students(Path(submissions_dir), out_dir / "extracted")

    course_dir, broken = prepare_notebook_course(course.root, out_dir / "nbgrader", module_ids)
    cache = cache_mod.ResultCache(out_dir / "cache" / "results", enabled=use_cache)
    version = runner_version()
    plan = _Plan()
    _plan_answer_keys(plan, cache, course, module_ids, version)
    for student in students:
        _plan_student(plan, cache, course, course_dir, student, module_ids, version, broken)

    total = (len(plan.key_jobs) + len(plan.lab_jobs)
             + sum(len(jobs) for jobs in plan.notebook_jobs.values()))
    bar = ProgressBar(total, enabled=progress)
    _run_plan(plan, cache, course, course_dir, out_dir, workers, bar, python)
    bar.close()
    _complete_maxima(plan, module_ids, notebook_max_scores(course_dir, module_ids))

    rows = [ModuleResult(s.id, m, plan.labs[(s.id, m)], plan.notebooks[(s.id, m)])
            for s in students for m in module_ids]
    problems = {s.id: s.problem for s in students if s.problem}
    problems.update({f"notebook {m}": why for m, why in broken.items()})
    problems.update({name: "skipped: not a student folder or <student id>.zip" for name in skipped})
    report = ClassReport(
        students=[s.id for s in students], module_ids=module_ids, results=rows, problems=problems,
        labs_graded=len(plan.lab_jobs), cache_hits=cache.hits,
        notebooks_graded=sum(len(jobs) for jobs in plan.notebook_jobs.values()),
        out_dir=out_dir, gradebook=course_dir / NBGRADER_DB,
    )
    submitted = {(s.id, m): s.notebook(m) for s in students for m in module_ids}
    gradebook.record_class(course_dir, report, plan.answer_keys, submitted)
    report.csv = exports.write_csv(report, out_dir / "grades.csv")
    report.gradescope = exports.write_gradescope(report, out_dir / "gradescope")
    report.feedback = feedback.write_feedback(report, out_dir / "feedback")
    report.duration = time.monotonic() - started
    return report
