"""Grade a whole class in one call: every student, every available module, lab and notebook.

``grade_class`` finds the students in a submissions folder (one folder or one zip each),
grades each lab with the hidden graders (:func:`studyguide.grading.runner.grade_labs`: one
grader process per batch of one module's labs, each lab in its own sandbox) and each lesson
notebook with the real ``nbgrader autograde``, in parallel, skipping work whose inputs did not
change (:mod:`studyguide.grading.cache`). It then writes one nbgrader
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
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from studyguide.grading import cache as cache_mod
from studyguide.grading.intake import (  # noqa: F401 (names of the class-grading API)
    STUDENT_ID,
    Student,
    SubmissionError,
    ZipLimits,
    discover_students,
    safe_extract,
)
from studyguide.grading.lab_jobs import (  # noqa: F401
    CLASSROOM_VERSION,
    LAB_BATCH,
    RUNNER_FILES,
    answer_key,
    grade_lab_batch,
    grade_one_lab,
    lab_key,
    runner_version,
)
from studyguide.grading.notebook_jobs import (  # noqa: F401
    NBGRADER_COURSE_ID,
    NBGRADER_DB,
    NOTEBOOK_BATCH,
    NOTEBOOK_CELL_TIMEOUT,
    ensure_nbgrader_course,
    grade_notebook_batch,
    notebook_key,
    notebook_max_scores,
    prepare_notebook_course,
)
from studyguide.grading.results import (  # noqa: F401
    INFRASTRUCTURE_ERROR,
    ClassReport,
    ItemResult,
    ModuleResult,
    PartResult,
)
from studyguide.manifest import load_course

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


def _lab_batches(lab_jobs, workers: int):
    """Group the lab jobs by module, then split each module's students into batches: enough for
    every worker to have one, at most LAB_BATCH each. Yields (module id, [jobs]), the module
    with the most graders first."""
    by_module = {}
    for job in lab_jobs:
        by_module.setdefault(job[1], []).append(job)
    # Later modules first: their labs also run every earlier module's graders, so they are the
    # longest jobs, and a pool that starts with its longest jobs ends with its workers busy.
    for module_id, jobs in sorted(by_module.items(), reverse=True):
        size = max(1, min(LAB_BATCH, math.ceil(len(jobs) / max(1, workers))))
        for start in range(0, len(jobs), size):
            yield module_id, jobs[start:start + size]


def _run_plan(plan, cache, course, course_dir, out_dir, workers, bar, python):
    """Run every queued job on a pool of threads (each drives subprocesses); fill the plan."""
    work_dir = Path(out_dir) / "work"
    blobs = Path(out_dir) / "cache" / "autograded"
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {}
        for module_id, key in plan.key_jobs:
            future = pool.submit(answer_key, course.root, module_id, python)
            futures[future] = ("key", module_id, key)
        for module_id, jobs in _lab_batches(plan.lab_jobs, workers):
            labs = {student: lab for student, _, lab, _ in jobs}
            keys = {student: key for student, _, _, key in jobs}
            future = pool.submit(grade_lab_batch, course.root, module_id, labs, python)
            futures[future] = ("labs", module_id, keys)
        # Notebooks last: one per job, they are the small jobs that fill the pool's end.
        for module_id, jobs in plan.notebook_jobs.items():
            for batch in _batches(jobs, workers):
                notebooks = {s: jobs[s][0] for s in batch}
                keys = {s: jobs[s][1] for s in batch}
                ticker = _Ticker(bar, f"{module_id} notebooks")
                future = pool.submit(
                    grade_notebook_batch, course_dir, module_id, notebooks, work_dir,
                    lambda s, keys=keys: blobs / keys[s][:2] / f"{keys[s]}.ipynb", ticker)
                futures[future] = ("notebooks", module_id, (keys, ticker))
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
    elif kind == "labs":
        for student, part in result.items():
            plan.labs[(student, where)] = part
            if not (part.error or "").startswith(INFRASTRUCTURE_ERROR):
                cache.put(key[student], part.to_json())
        bar.advance(len(result), f"{where} labs")
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
    from studyguide.grading.runner import require_graders

    started = time.monotonic()
    course = load_course(course_root)
    require_graders(course)  # a student edition has no hidden graders: stop, do not score 0
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
    report.gradescope = exports.write_gradescope(
        report, out_dir / "gradescope", hidden_visibility=course.gradescope_visibility,
        stdout_visibility=course.gradescope_stdout_visibility)
    report.feedback = feedback.write_feedback(report, out_dir / "feedback")
    report.duration = time.monotonic() - started
    return report
