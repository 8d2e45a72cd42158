"""How fast does ``studyguide grade`` grade a class, against nbgrader's own ``autograde``?

    python benchmarks/grading_benchmark.py [--students 40] [--modules 01-routing 02-sqlalchemy]
        [--runs labs notebooks nbgrader full]

Builds a synthetic class in a temporary folder: N students x the available modules, cycling
through three kinds of submission: the reference solution, the untouched skeleton, and a broken
variant (a lab that fails at import, a notebook whose first answer raises). Then it measures,
without the cache, the runs chosen with ``--runs`` (default: all):

- ``labs``: ``grade_class`` on the labs alone (students without notebooks), 1 and 2 workers;
- ``notebooks``: ``grade_class`` on the notebooks alone (students without labs), 1 and 2 workers;
- ``nbgrader``: nbgrader's own ``nbgrader autograde <module>`` over the same notebooks, one
  module after another, as an instructor would run it;
- ``full``: ``grade_class`` on labs and notebooks together, 1 and 2 workers.

It prints the throughput of each (submissions per minute; a submission is one student's lab or
notebook for one module), the seconds of wall time per submission, the peak memory of the whole
process tree (the sum of the resident sizes of this process and every process below it, sampled
every 0.2 s), the load average before each run, and the ratios. Building the nbgrader course
(``generate_assignment``) happens once, before the clock starts, for every measurement.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from studyguide.generate import render_lab  # noqa: E402
from studyguide.grading.classroom import (  # noqa: E402
    NBGRADER_COURSE_ID,
    NBGRADER_DB,
    NOTEBOOK_CELL_TIMEOUT,
    ensure_nbgrader_course,
    grade_class,
)
from studyguide.manifest import load_course  # noqa: E402

KINDS = ("solution", "skeleton", "broken")


def skeleton_files(course, module_id) -> dict[str, bytes]:
    """The student skeleton of a lab: labs/<id> when generated, else rendered from the solution."""
    lab = course.root / "labs" / module_id
    if lab.is_dir():
        return {p.relative_to(lab).as_posix(): p.read_bytes()
                for p in lab.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    return render_lab(course, course.module(module_id))


def solution_files(course, module_id) -> dict[str, bytes]:
    """The reference lab, as a student who solved everything would hand it in."""
    folder = course.root / "solutions" / module_id
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def broken_notebook(solved: Path) -> str:
    """The solved notebook whose first answer cell raises instead (partial credit)."""
    notebook = json.loads(solved.read_text())
    for cell in notebook["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and \
                cell["cell_type"] == "code":
            cell["source"] = "raise RuntimeError('broken on purpose')\n"
            break
    return json.dumps(notebook, indent=1)


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write {relative path: bytes} under ``folder``."""
    for rel, data in files.items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def build_class(course, course_dir: Path, modules, students: int, dest: Path, *, labs=True,
                notebooks=True):
    """One folder per student cycling through KINDS; returns {student: kind}."""
    kinds = {}
    for index in range(students):
        student = f"student{index:03d}"
        kind = KINDS[index % len(KINDS)]
        kinds[student] = kind
        for module_id in modules:
            if labs:
                files = skeleton_files(course, module_id) if kind == "skeleton" else \
                    solution_files(course, module_id)
                if kind == "broken":
                    init = "bookshelf/__init__.py"
                    files[init] = files[init] + b"\nraise RuntimeError('broken at import')\n"
                write_files(dest / student / "labs" / module_id, files)
            if not notebooks:
                continue
            solved = course.root / "notebooks" / f"{module_id}.ipynb"
            released = course_dir / "release" / module_id / f"{module_id}.ipynb"
            target = dest / student / "notebooks" / f"{module_id}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            if kind == "solution":
                shutil.copyfile(solved, target)
            elif kind == "skeleton":
                shutil.copyfile(released, target)
            else:
                target.write_text(broken_notebook(solved))
    return kinds


def _process_tree_rss() -> int:
    """The resident bytes of this process and every process below it."""
    children, rss = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [os.getpid()]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total


class PeakMemory:
    """Samples the process tree's resident memory in a thread; ``peak`` is the largest sum."""

    def __init__(self, every=0.2):
        self.every, self.peak = every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, _process_tree_rss())
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()
        return False


def cpu_seconds() -> float:
    """CPU time of this process and of every child process it has waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed_grade(submissions: Path, out: Path, modules, workers: int, course_dir: Path):
    """Grade without the cache, the nbgrader course prebuilt; return (seconds, report)."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(course_dir, out / "nbgrader")
    started, cpu = time.perf_counter(), cpu_seconds()
    with PeakMemory() as memory:
        report = grade_class(ROOT, submissions, out, workers=workers, module_ids=modules,
                             use_cache=False, progress=True)
    report.peak_memory = memory.peak
    report.cpu_seconds = cpu_seconds() - cpu
    return time.perf_counter() - started, report


def timed_nbgrader(submissions: Path, course_dir: Path, modules, work: Path):
    """nbgrader's own autograde of every notebook, module after module; return (seconds, n)."""
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(course_dir, work)
    count = 0
    for notebook in sorted(submissions.glob("*/notebooks/*.ipynb")):
        student, module_id = notebook.parts[-3], notebook.stem
        folder = work / "submitted" / student / module_id
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, folder / f"{module_id}.ipynb")
        count += 1
    started, cpu = time.perf_counter(), cpu_seconds()
    with PeakMemory() as memory:
        _nbgrader_loop(work, modules)
    return time.perf_counter() - started, count, memory.peak, cpu_seconds() - cpu


def _nbgrader_loop(work: Path, modules):
    """``nbgrader autograde MODULE`` for every module, as an instructor would run it."""
    for module_id in modules:
        subprocess.run(
            [sys.executable, "-m", "nbgrader", "autograde", module_id,
             f"--CourseDirectory.root={work}",
             f"--CourseDirectory.db_url=sqlite:///{work / NBGRADER_DB}",
             f"--CourseDirectory.course_id={NBGRADER_COURSE_ID}",
             f"--ExecutePreprocessor.timeout={NOTEBOOK_CELL_TIMEOUT}"],
            cwd=work, check=True, capture_output=True, stdin=subprocess.DEVNULL,
        )


def per_minute(count: int, seconds: float) -> float:
    """Throughput in submissions per minute."""
    return count / seconds * 60 if seconds else 0.0


RUNS = ("labs", "notebooks", "nbgrader", "full")


def main(argv=None) -> int:
    """Build the class, run every measurement, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--modules", nargs="*", help="module ids (default: every available)")
    parser.add_argument("--runs", nargs="*", choices=RUNS, default=list(RUNS),
                        help="which measurements to make (default: all)")
    parser.add_argument("--workers", nargs="*", type=int, default=[1, 2],
                        help="worker counts to measure (default: 1 2)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--scores", type=Path,
                        help="write every run's scores here as JSON, to compare versions")
    args = parser.parse_args(argv)

    course = load_course(ROOT)
    modules = args.modules or [m.id for m in course.available]
    tmp = Path(tempfile.mkdtemp(prefix="grading-benchmark-"))
    print(f"class: {args.students} students x {', '.join(modules)} in {tmp}", file=sys.stderr)
    started = time.perf_counter()
    course_dir = ensure_nbgrader_course(ROOT, tmp / "nbgrader-course", modules)
    build_seconds = time.perf_counter() - started
    classes = {
        "full": (tmp / "class", {}),
        "labs": (tmp / "labs-only", {"notebooks": False}),
        "notebooks": (tmp / "notebooks-only", {"labs": False}),
    }
    for run, (folder, options) in classes.items():
        if run in args.runs or (run == "notebooks" and "nbgrader" in args.runs):
            build_class(course, course_dir, modules, args.students, folder, **options)

    rows = []  # (run, workers, name, graded, seconds, peak bytes, load before, CPU seconds)
    scores = {}  # run name: {"student module": [lab score, notebook score]}
    for run in ("labs", "notebooks", "full"):
        if run not in args.runs:
            continue
        for workers in args.workers:
            load = os.getloadavg()[0]
            seconds, report = timed_grade(classes[run][0], tmp / f"out-{run}-{workers}",
                                          modules, workers, course_dir)
            graded = {"labs": report.labs_graded, "notebooks": report.notebooks_graded,
                      "full": report.work_done}[run]
            name = f"studyguide grade, {run}, {workers} worker(s)"
            rows.append((run, workers, name, graded, seconds, report.peak_memory, load,
                         report.cpu_seconds))
            scores[name] = {f"{r.student} {r.module_id}": [r.lab.score, r.notebook.score]
                            for r in report.results}
    if "nbgrader" in args.runs:
        load = os.getloadavg()[0]
        seconds, count, peak, cpu = timed_nbgrader(classes["notebooks"][0], course_dir,
                                                   modules, tmp / "nbgrader-own")
        rows.append(("nbgrader", 1, "nbgrader autograde (its own loop), notebooks", count,
                     seconds, peak, load, cpu))

    print(f"\nnbgrader generate_assignment (once, not timed below): {build_seconds:.1f} s")
    print(f"{'run':<46} {'graded':>6} {'seconds':>8} {'s/each':>7} {'per min':>8} "
          f"{'peak MB':>8} {'load':>5} {'CPU s/each':>10}")
    for _run, _workers, name, count, secs, peak, load, cpu in rows:
        each = secs / count if count else 0.0
        cpu_each = cpu / count if count else 0.0
        print(f"{name:<46} {count:>6} {secs:>8.1f} {each:>7.3f} {per_minute(count, secs):>8.1f} "
              f"{peak / 2**20:>8.0f} {load:>5.1f} {cpu_each:>10.2f}")
    rate = {(run, workers): per_minute(count, secs)
            for run, workers, _name, count, secs, *_rest in rows}
    print()
    for run in ("labs", "notebooks", "full"):
        if (run, 1) in rate and (run, 2) in rate and rate[(run, 1)]:
            print(f"speed-up, {run}, 2 vs 1 worker: {rate[(run, 2)] / rate[(run, 1)]:.2f}x")
    if ("nbgrader", 1) in rate and rate[("nbgrader", 1)]:
        for workers in args.workers:
            if ("notebooks", workers) in rate:
                print(f"notebooks, studyguide {workers} worker(s) vs nbgrader: "
                      f"{rate[('notebooks', workers)] / rate[('nbgrader', 1)]:.2f}x")
    for run in ("labs", "notebooks", "full"):
        seen = [table for name, table in scores.items() if f", {run}, " in name]
        if len(seen) > 1:
            same = all(table == seen[0] for table in seen)
            print(f"scores, {run}: {'identical' if same else 'DIFFERENT'} for every worker count")
    if args.scores:
        args.scores.write_text(json.dumps(scores, indent=1, sort_keys=True))
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
