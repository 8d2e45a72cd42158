"""Learner progress: a bar per module, and the next failing check of one lab with its hint.

Progress is measured with the lab's *visible* tests, run in a separate pytest process per lab.
It works from a terminal, a JupyterLab terminal, or a notebook cell::

    from studyguide.progress import show_progress
    show_progress()
"""

import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .manifest import load_course
from .testrun import run_pytest

BAR_WIDTH = 24


@dataclass
class LabProgress:
    """How far one lab's visible tests get."""

    module_id: str
    title: str
    available: bool
    tests: list
    problem: str = ""

    @property
    def points(self):
        return sum(t["points"] or 0 for t in self.tests if t["outcome"] == "passed")

    @property
    def max_points(self):
        return sum(t["points"] or 0 for t in self.tests)

    @property
    def first_failure(self):
        """The first test that does not pass, in the order the lab lists them."""
        return next((t for t in self.tests if t["outcome"] != "passed"), None)


def lab_progress(course, module, labs_dir):
    """Run the visible tests of one lab and return its progress."""
    lab = Path(labs_dir) / module.id
    if not module.available:
        return LabProgress(module.id, module.title, False, [])
    if not (lab / "tests").is_dir():
        return LabProgress(module.id, module.title, True, [], f"{lab} has no tests/ folder")
    run = run_pytest(lab, [lab / "tests"], timeout=120)
    problem = ""
    if run.collect_errors:
        problem = "the tests cannot start: " + run.collect_errors[0]["message"].splitlines()[-1]
    elif not run.finished:
        problem = f"the tests stopped early (exit {run.returncode})"
    return LabProgress(module.id, module.title, True, run.tests, problem)


def course_progress(course, labs_dir, module_ids=None):
    """Progress of every module (or those named), labs run in parallel."""
    modules = [course.module(i) for i in module_ids] if module_ids else list(course.modules)
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda m: lab_progress(course, m, labs_dir), modules))


def bar(done, total, width=BAR_WIDTH):
    """A text progress bar such as ``[#########---------------]``."""
    filled = round(width * done / total) if total else 0
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def format_summary(progress):
    """One line per module: id, title, bar, points."""
    lines = []
    for lab in progress:
        head = f"{lab.module_id:<15} {lab.title[:38]:<38}"
        if not lab.available:
            lines.append(f"{head} {'not yet available':>{BAR_WIDTH + 2}}")
        elif lab.problem and not lab.tests:
            lines.append(f"{head} {bar(0, 1)}  {lab.problem}")
        else:
            done = "  done" if lab.points == lab.max_points and lab.max_points else ""
            lines.append(
                f"{head} {bar(lab.points, lab.max_points)} "
                f"{lab.points:>3}/{lab.max_points:<3} points{done}"
            )
    return "\n".join(lines)


def format_detail(lab):
    """Every visible test of one lab, then the next thing to fix with its hint."""
    lines = [f"{lab.module_id}: {lab.title}", format_summary([lab]), ""]
    for test in lab.tests:
        mark = "PASS" if test["outcome"] == "passed" else "FAIL"
        lines.append(f"  {mark}  {test['nodeid'].split('::')[-1]}")
    if lab.problem:
        lines += ["", f"Problem: {lab.problem}"]
    failure = lab.first_failure
    if failure:
        lines += [
            "",
            f"Next: {failure['nodeid'].split('::')[-1]}",
            f"Hint: {failure['hint'] or 'read the test and the lab README'}",
        ]
        if failure["message"]:
            lines += ["What happened:", *("    " + m for m in failure["message"].splitlines())]
    elif lab.tests and not lab.problem:
        lines += ["", "Every visible test passes. The hidden graders check more: edge cases too."]
    return "\n".join(lines)


def show_progress(module_id=None, root=None, labs="labs", file=None):
    """Print progress: every module, or one lab in detail. Returns True when all pass."""
    course = load_course(find_course_root(root))
    labs_dir = course.root / labs
    file = file or sys.stdout
    if module_id:
        lab = lab_progress(course, course.module(module_id), labs_dir)
        print(format_detail(lab), file=file)
        return lab.available and lab.first_failure is None and not lab.problem
    progress = course_progress(course, labs_dir)
    print(f"{course.title}: progress in {labs}/\n", file=file)
    print(format_summary(progress), file=file)
    return all(p.first_failure is None and not p.problem for p in progress if p.available)


def find_course_root(start=None):
    """The nearest folder at or above ``start`` holding course.toml (default: the cwd)."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "course.toml").is_file():
            return folder
    return here


def _snapshot(folder):
    """Modification times of the files a student edits, to notice a save."""
    return {p: p.stat().st_mtime_ns for p in Path(folder).rglob("*.py") if p.is_file()}


def watch(module_id, root=None, labs="labs", interval=1.0, runs=None):
    """Re-run one lab's progress every time a file in it is saved, until interrupted.

    ``runs`` stops after that many runs (default: never).
    """
    course = load_course(find_course_root(root))
    lab_dir = course.root / labs / course.module(module_id).id
    seen, count = None, 0
    try:
        while runs is None or count < runs:
            current = _snapshot(lab_dir)
            if current != seen:
                seen, count = current, count + 1
                print("\033[2J\033[H", end="")
                done = show_progress(module_id, course.root, labs)
                print("\nWatching for changes (Ctrl-C to stop)...", flush=True)
                if done:
                    print("All visible tests pass.")
            time.sleep(interval)
    except KeyboardInterrupt:
        print()
