"""How fast does ``studyguide grade`` grade a class, against nbgrader's own ``autograde``?

    python benchmarks/grading_benchmark.py [--students 40] [--modules 01-routing 02-sqlalchemy]

Builds a synthetic class in a temporary folder: N students x the available modules, cycling
through three kinds of submission: the reference solution, the untouched skeleton, and a broken
variant (a lab that fails at import, a notebook whose first answer raises). Then it measures,
without the cache:

1. ``grade_class`` with 1 worker and with 2 workers (labs and notebooks);
2. ``grade_class`` on the notebooks alone (students without labs), 1 and 2 workers;
3. nbgrader's own ``nbgrader autograde <module>`` over the same notebooks, one module after
   another, as an instructor would run it.

It prints the throughput of each (submissions per minute; a submission is one student's lab or
notebook for one module) and the ratios. Building the nbgrader course (``generate_assignment``)
happens once, before the clock starts, for every measurement.
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
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


def build_class(course, course_dir: Path, modules, students: int, dest: Path, *, labs=True):
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


def timed_grade(submissions: Path, out: Path, modules, workers: int, course_dir: Path):
    """Grade without the cache, the nbgrader course prebuilt; return (seconds, report)."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(course_dir, out / "nbgrader")
    started = time.perf_counter()
    report = grade_class(ROOT, submissions, out, workers=workers, module_ids=modules,
                         use_cache=False, progress=True)
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
    started = time.perf_counter()
    for module_id in modules:
        subprocess.run(
            [sys.executable, "-m", "nbgrader", "autograde", module_id,
             f"--CourseDirectory.root={work}",
             f"--CourseDirectory.db_url=sqlite:///{work / NBGRADER_DB}",
             f"--CourseDirectory.course_id={NBGRADER_COURSE_ID}",
             f"--ExecutePreprocessor.timeout={NOTEBOOK_CELL_TIMEOUT}"],
            cwd=work, check=True, capture_output=True, stdin=subprocess.DEVNULL,
        )
    return time.perf_counter() - started, count


def per_minute(count: int, seconds: float) -> float:
    """Throughput in submissions per minute."""
    return count / seconds * 60 if seconds else 0.0


def main(argv=None) -> int:
    """Build the class, run every measurement, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--modules", nargs="*", help="module ids (default: every available)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)

    course = load_course(ROOT)
    modules = args.modules or [m.id for m in course.available]
    tmp = Path(tempfile.mkdtemp(prefix="grading-benchmark-"))
    print(f"class: {args.students} students x {', '.join(modules)} in {tmp}", file=sys.stderr)
    started = time.perf_counter()
    course_dir = ensure_nbgrader_course(ROOT, tmp / "nbgrader-course", modules)
    build_seconds = time.perf_counter() - started
    full = tmp / "class"
    build_class(course, course_dir, modules, args.students, full)
    notebooks_only = tmp / "notebooks-only"
    build_class(course, course_dir, modules, args.students, notebooks_only, labs=False)

    rows = []
    for workers in (1, 2):
        seconds, report = timed_grade(full, tmp / f"out-{workers}", modules, workers, course_dir)
        rows.append((f"studyguide grade, labs+notebooks, {workers} worker(s)",
                     report.work_done, seconds))
    for workers in (1, 2):
        seconds, report = timed_grade(notebooks_only, tmp / f"nb-{workers}", modules, workers,
                                      course_dir)
        rows.append((f"studyguide grade, notebooks only, {workers} worker(s)",
                     report.notebooks_graded, seconds))
    seconds, count = timed_nbgrader(notebooks_only, course_dir, modules, tmp / "nbgrader-own")
    rows.append(("nbgrader autograde (its own loop), notebooks", count, seconds))

    print(f"\nnbgrader generate_assignment (once, not timed below): {build_seconds:.1f} s")
    print(f"{'run':<52} {'graded':>7} {'seconds':>8} {'per min':>8}")
    for name, count, secs in rows:
        print(f"{name:<52} {count:>7} {secs:>8.1f} {per_minute(count, secs):>8.1f}")
    rate = {name: per_minute(count, secs) for name, count, secs in rows}
    names = [name for name, _, _ in rows]
    print(f"\nspeed-up, labs+notebooks, 2 vs 1 worker:   {rate[names[1]] / rate[names[0]]:.2f}x")
    print(f"speed-up, notebooks only, 2 vs 1 worker:   {rate[names[3]] / rate[names[2]]:.2f}x")
    print(f"notebooks, studyguide 1 worker vs nbgrader: {rate[names[2]] / rate[names[4]]:.2f}x")
    print(f"notebooks, studyguide 2 workers vs nbgrader: {rate[names[3]] / rate[names[4]]:.2f}x")
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
