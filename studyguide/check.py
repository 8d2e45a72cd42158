"""The course checker: the invariants that keep solutions, labs, graders and pages honest.

Each check returns a list of problems; every problem ends with the command that helps fix it.
The invariants (see docs/architecture.md):

1. the manifest is valid and every available module has all its parts;
2. ``labs/`` is exactly what the generator makes, pages are fresh, and nothing leaks;
3. every solution passes its visible tests, its graders and every earlier module's graders;
4. every grader of module NN fails on lab NN, while earlier graders pass on it;
5. every notebook is a valid nbgrader source notebook that executes and fails until solved;
6. the student release holds no solution, hidden grader or marker.
"""

import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .generate import extract_reference, lab_differences, module_pages, render_page
from .grading.channel import LabSpec
from .leaks import find_leaks, solution_blocks_by_module
from .manifest import ManifestError, load_course
from .markers import MarkerError, find_blocks
from .testrun import run_pytest

FIX_GENERATE = "fix: run `studyguide generate`"


@dataclass
class CheckResult:
    """The problems one invariant found, and how long it took."""

    name: str
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self):
        return not self.problems


# --- 1. manifest and folders -----------------------------------------------------------


def check_manifest(course):
    """Every available module has its page, notebook, solution, lab and graders."""
    problems = []
    for module in course.available:
        parts = {
            "study-guide page": course.path("modules", module) / "README.md",
            "notebook": course.notebook(module),
            "solution": course.path("solutions", module) / course.package / "__init__.py",
            "lab": course.path("labs", module),
            "graders": course.path("grading", module),
        }
        for part, path in parts.items():
            if not path.exists():
                fix = (
                    FIX_GENERATE
                    if part == "lab"
                    else f"fix: create {path.relative_to(course.root)}"
                )
                problems.append(
                    f"{module.id}: the {part} {path.relative_to(course.root)} is missing; {fix}"
                )
        for name in module.handed_in:
            for kind in ("solutions", "labs"):
                if not (course.path(kind, module) / name).exists():
                    problems.append(
                        f"{module.id}: {kind}/{module.id}/{name} is missing but course.toml "
                        f"lists it in handed_in; fix: add it or drop it from handed_in"
                    )
        graders = course.path("grading", module)
        if graders.is_dir() and not list(graders.glob("test_*.py")):
            problems.append(f"{module.id}: grading/{module.id} has no test_*.py; fix: add graders")
    return problems


# --- 2. freshness and leaks ----------------------------------------------------------------


def check_labs_fresh(course):
    """labs/ equals what the generator makes, and no solution line reaches a lab."""
    problems = []
    secrets = solution_blocks_by_module(course)
    for module in course.available:
        try:
            differences = lab_differences(course, module)
        except (MarkerError, FileNotFoundError) as exc:
            problems.append(f"{exc}; fix: correct the solution, then run `studyguide generate`")
            continue
        fix = f"fix: run `studyguide generate {module.id}`"
        problems += [f"{d}; {fix}" for d in differences]
        lab_dir = course.path("labs", module)
        if lab_dir.is_dir():
            leaks = find_leaks(lab_dir, secrets[module.id], f"labs/{module.id}/")
            problems += [f"{leak}; fix: mark it in the solution and regenerate" for leak in leaks]
    return problems


def check_pages(course):
    """Included code is fresh, comes from given code only, and pages hold no solution line."""
    problems = []
    secrets = solution_blocks_by_module(course)
    for page in module_pages(course):
        # A page may show answers of earlier labs (later labs start from them), never its own
        # lab's or a later lab's.
        number = course.module(page.parent.name).number
        later_secrets = set().union(
            *(lines for module_id, lines in secrets.items() if int(module_id[:2]) >= number)
        )
        rel = page.relative_to(course.root)
        try:
            fresh = render_page(course.root, page)
        except MarkerError as exc:
            problems.append(f"{exc}; fix: correct the include reference")
            continue
        if fresh != page.read_text(encoding="utf-8"):
            problems.append(f"{rel}: an included code block is stale; {FIX_GENERATE}")
        problems += _includes_inside_blocks(course, page)
        leaks = find_leaks(page.parent, later_secrets, f"modules/{page.parent.name}/")
        problems += [f"{leak}; fix: show given code only, by reference" for leak in leaks]
    return problems


def _includes_inside_blocks(course, page):
    """Report include references that overlap a solution block (they would leak it)."""
    problems = []
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.startswith("<!-- include: "):
            continue
        ref = line.split("include: ", 1)[1].removesuffix("-->").strip()
        try:
            path, first, last, _ = extract_reference(course.root, ref)
            blocks = find_blocks(path, path.read_text(encoding="utf-8"))
        except (OSError, LookupError, ValueError, SyntaxError):
            continue  # reported by the freshness check
        if any(b.begin <= last and first <= b.end for b in blocks):
            problems.append(
                f"{page.relative_to(course.root)}:{number}: {ref} overlaps a solution block; "
                "fix: include given code only"
            )
    return problems


# --- 3 and 4. solutions pass, skeletons fail ---------------------------------------------


def grader_paths(course, module):
    """The grader folders a lab of ``module`` must pass: earlier modules' and its own."""
    return [course.path("grading", m) for m in (*course.earlier(module), module)]


def _retired(course, module):
    """Retired grader node ids, as pytest deselect arguments relative to grading/."""
    return sorted(course.retired(module))


def run_graders(course, module, lab_dir, grader_folders, deselect=()):
    """Run hidden graders against the instructor's own lab ``lab_dir`` of ``module``.

    The graders run in their own pytest process and reach the lab through a plain lab-server
    subprocess (the instructor's code needs no sandbox), with the app configuration the course
    gives earlier graders on this lab (``earlier_graders_config``).
    """
    from .grading.runner import module_configs

    spec = LabSpec(
        lab=str(Path(lab_dir).resolve()),
        package=course.package,
        module_configs=module_configs(course, module.id),
    )
    return run_pytest(
        lab_dir,
        grader_folders,
        rootdir=course.root / "grading",
        deselect=deselect,
        lab_spec=spec,
        lab_on_path=False,
    )


def _describe(run, nodeid):
    """A failing test's last lines, or the reason the run produced no report."""
    for test in run.tests:
        if test["nodeid"] == nodeid and test["message"]:
            return test["message"].splitlines()[-1][:200]
    return ""


def _run_report_problem(run, label):
    """Explain a pytest run that produced no usable report."""
    if run.collect_errors:
        first = run.collect_errors[0]
        return f"{label}: cannot collect {first['nodeid']}: {first['message'][-300:]}"
    if not run.finished:
        return (
            f"{label}: pytest ended without a report (exit {run.returncode}): {run.output[-400:]}"
        )
    if not run.tests:
        return f"{label}: no tests were collected"
    return None


def _must_all_pass(run, label, fix):
    """Problems of a run that should pass completely: no report, or any test not passing."""
    problem = _run_report_problem(run, label)
    problems = [f"{problem}; {fix}"] if problem else []
    problems += [
        f"{label}: {nodeid} does not pass ({_describe(run, nodeid)}); {fix}"
        for nodeid in run.not_passed
    ]
    return problems


def check_solution(course, module):
    """Solution NN passes its visible tests and the graders of modules up to NN."""
    solution = course.path("solutions", module)
    visible = run_pytest(solution, [solution / "tests"])
    problems = _must_all_pass(
        visible,
        f"solutions/{module.id} visible tests",
        f"fix: `cd solutions/{module.id} && pytest`",
    )
    graded = run_graders(
        course, module, solution, grader_paths(course, module), _retired(course, module)
    )
    problems += _must_all_pass(
        graded,
        f"solutions/{module.id} against the graders",
        f"fix: correct solutions/{module.id} or the grader, then `studyguide check`",
    )
    return problems + _marker_problems(graded, module)


def _marker_problems(run, module):
    """Every grader test carries positive points and a hint."""
    problems = []
    for test in run.tests:
        points, hint = test["points"], test["hint"]
        if not isinstance(points, int | float) or points <= 0:
            problems.append(
                f"grading/{test['nodeid']}: no positive points; "
                "fix: add @pytest.mark.grade(points=..., hint=...)"
            )
        if not isinstance(hint, str) or not hint.strip():
            problems.append(
                f"grading/{test['nodeid']}: no hint; fix: add hint=... to its grade marker"
            )
    return problems


def check_skeleton(course, module):
    """Every grader of module NN fails on lab NN; earlier graders still pass on it."""
    problems = []
    lab = course.path("labs", module)
    own = run_graders(course, module, lab, [course.path("grading", module)])
    label = f"labs/{module.id} against its own graders"
    problem = _run_report_problem(own, label)
    if problem:
        problems.append(problem + f"; fix: make labs/{module.id} importable, then regenerate")
    for nodeid in own.passed:
        problems.append(
            f"{label}: {nodeid} passes on the skeleton (free points); "
            "fix: make the grader exercise the student's work, "
            f"or mark more of solutions/{module.id}"
        )
    earlier = course.earlier(module)
    if earlier:
        before = run_graders(
            course,
            module,
            lab,
            [course.path("grading", m) for m in earlier],
            _retired(course, module),
        )
        problems += _must_all_pass(
            before,
            f"labs/{module.id} does not start where the previous lab ended",
            f"fix: do not mark earlier modules' work in solutions/{module.id}, "
            "or retire the test in course.toml",
        )
    visible = run_pytest(lab, [lab / "tests"])
    if visible.tests and not visible.not_passed:
        problems.append(
            f"labs/{module.id}: every visible test passes on the skeleton; "
            "fix: make the visible tests exercise the student's work"
        )
    return problems


# --- 5 and 6. notebooks and the student release --------------------------------------------


def check_notebooks(course):
    """Invariant 5, delegated to the notebook machinery (real nbgrader, real kernels)."""
    from .notebooks import check_notebooks as check

    return check(course.root, [m.id for m in course.available])


def check_release(course):
    """Build the student release in a scratch folder and look for anything secret in it."""
    from .release import build_release, release_leaks

    with tempfile.TemporaryDirectory(prefix="studyguide-release-") as tmp:
        out = Path(tmp) / "student"
        try:
            build_release(course, out)
        except Exception as exc:  # any failure to build is the finding itself
            return [f"the student release does not build: {exc}; fix: `studyguide release OUT`"]
        return release_leaks(course, out)


# --- running them all ------------------------------------------------------------------------


def _timed(name, function, *args):
    """Run one check and time it."""
    start = time.perf_counter()
    try:
        problems = function(*args)
    except (MarkerError, ManifestError, FileNotFoundError) as exc:
        problems = [str(exc)]
    return CheckResult(name, problems, time.perf_counter() - start)


def run_checks(root=".", *, notebooks=True, release=True, workers=None):
    """Run every invariant on the course at ``root``; return the CheckResults in order."""
    try:
        course = load_course(root)
    except ManifestError as exc:
        return [CheckResult("manifest", [f"{exc}; fix: edit course.toml"])]
    results = [_timed("manifest and folders", check_manifest, course)]
    if not results[0].ok:
        return results
    results.append(_timed("labs are fresh and leak nothing", check_labs_fresh, course))
    results.append(_timed("study-guide pages", check_pages, course))
    jobs = []
    for module in course.available:
        jobs.append((f"{module.id}: solution passes", check_solution, course, module))
        jobs.append(
            (f"{module.id}: skeleton fails only new graders", check_skeleton, course, module)
        )
    if notebooks:
        jobs.append(("notebooks (nbgrader)", check_notebooks, course))
    if release:
        jobs.append(("student release", check_release, course))
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        results += list(pool.map(lambda job: _timed(*job), jobs))
    return results
