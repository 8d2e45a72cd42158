"""Learner progress: a bar per module, and the next failing check of one lab with its hint.

Progress is measured with the lab's *visible* tests, run in a separate pytest process per lab.
It works from a terminal, a JupyterLab terminal, or a notebook cell::

    from studyguide.progress import show_progress
    show_progress()
"""

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .lab_hints import earlier_module_tests, is_earlier_check
from .manifest import find_course_root, load_course
from .testrun import run_pytest

BAR_WIDTH = 24
INDENT = " " * 15


def _passed(test):
    return test["outcome"] == "passed"


@dataclass
class LabProgress:
    """How far one lab's visible tests get.

    ``tests`` are the lab's own module's checks: they make the bar, as only the module's own
    graders make its grade. ``earlier_tests`` are the checks of earlier modules the lab carries
    along (named by ``earlier_module_tests`` in the lab's pytest.ini): they must keep passing.
    """

    module_id: str
    title: str
    available: bool
    tests: list
    problem: str = ""
    earlier_tests: list = ()

    @property
    def points(self):
        return sum(t["points"] or 0 for t in self.tests if _passed(t))

    @property
    def max_points(self):
        return sum(t["points"] or 0 for t in self.tests)

    @property
    def earlier_passing(self):
        """How many of the earlier modules' checks still pass."""
        return sum(_passed(t) for t in self.earlier_tests)

    @property
    def first_failure(self):
        """The next check to fix: a broken earlier check first, then this module's, in order."""
        return next((t for t in [*self.earlier_tests, *self.tests] if not _passed(t)), None)

    @property
    def done(self):
        """Every visible check passes and the tests ran."""
        return bool(self.tests) and self.first_failure is None and not self.problem


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
    earlier = earlier_module_tests(lab)
    own = [t for t in run.tests if not is_earlier_check(t["nodeid"], earlier)]
    carried = [t for t in run.tests if is_earlier_check(t["nodeid"], earlier)]
    return LabProgress(module.id, module.title, True, own, problem, carried)


def course_progress(course, labs_dir, module_ids=None, workers=None):
    """Progress of every module (or those named), labs run in parallel."""
    modules = [course.module(i) for i in module_ids] if module_ids else list(course.modules)
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        return list(pool.map(lambda m: lab_progress(course, m, labs_dir), modules))


def bar(done, total, width=BAR_WIDTH):
    """A text progress bar such as ``[#########---------------]``."""
    filled = round(width * done / total) if total else 0
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def _status_line(lab):
    """The second line of a module in the summary: bar, points, earlier checks."""
    if not lab.available:
        return "not yet available"
    if lab.problem and not lab.tests:
        return f"{bar(0, 1)}  {lab.problem}"
    score = f"{lab.points}/{lab.max_points}"
    text = f"{bar(lab.points, lab.max_points)} {score:>7} points"
    if lab.done:
        text += "  done"
    if lab.earlier_tests:
        text += (
            f"   earlier modules' checks: still passing "
            f"{lab.earlier_passing}/{len(lab.earlier_tests)}"
        )
    return text


def format_summary(progress):
    """Two lines per module: id and whole title, then bar, points and earlier checks."""
    lines = []
    for lab in progress:
        lines.append(f"{lab.module_id:<14} {lab.title}")
        lines.append(f"{INDENT}{_status_line(lab)}")
    return "\n".join(lines)


def _test_lines(tests):
    """A PASS/FAIL line per test."""
    return [
        f"  {'PASS' if _passed(t) else 'FAIL'}  {t['nodeid'].split('::')[-1]}" for t in tests
    ]


def format_detail(lab):
    """Every visible test of one lab, then the next thing to fix with its hint."""
    lines = [format_summary([lab]), ""]
    if lab.tests:
        lines += [f"Checks of {lab.module_id}:", *_test_lines(lab.tests)]
    if lab.earlier_tests:
        lines += [
            "",
            f"Checks of earlier modules (still passing "
            f"{lab.earlier_passing}/{len(lab.earlier_tests)}):",
            *_test_lines(lab.earlier_tests),
        ]
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


def show_progress(module_id=None, root=None, labs="labs", file=None, workers=None):
    """Print progress: every module (or the ids given), or one lab in detail.

    ``module_id`` is one id (a lab in detail), a list of ids (their summary) or None (every
    module). Returns True when every measured lab passes its visible tests.
    """
    course = load_course(find_course_root(root))
    labs_dir = course.root / labs
    file = file or sys.stdout
    module_ids = [module_id] if isinstance(module_id, str) else list(module_id or [])
    if len(module_ids) == 1:
        lab = lab_progress(course, course.module(module_ids[0]), labs_dir)
        print(format_detail(lab), file=file)
        return lab.available and lab.done
    progress = course_progress(course, labs_dir, module_ids, workers)
    print(f"{course.title}: progress in {labs}/\n", file=file)
    print(format_summary(progress), file=file)
    return all(p.done for p in progress if p.available)


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
                show_progress(module_id, course.root, labs)
                print("\nWatching for changes (Ctrl-C to stop)...", flush=True)
            time.sleep(interval)
    except KeyboardInterrupt:
        print()
