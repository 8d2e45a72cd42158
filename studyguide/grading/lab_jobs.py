"""Lab jobs of class grading: one student's lab through the runner, and each lab's answer key."""

import time
from pathlib import Path

from studyguide.grading import cache as cache_mod
from studyguide.grading.results import INFRASTRUCTURE_ERROR, ItemResult, PartResult

#: Bump when the way results are computed here changes, so old cache entries stop matching.
CLASSROOM_VERSION = "2"
#: The files of the lab runner whose content is part of every lab's cache key.
RUNNER_FILES = ("runner.py", "lab_batch.py", "sandbox.py", "sandbox_boot.py", "channel.py",
                "lab_server.py", "processes.py")
#: The most labs one grader process grades (one module, one after another): start-up is paid
#: once per batch, and smaller batches keep the workers evenly busy.
LAB_BATCH = 20


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
    except Exception as exc:  # the runner failed: fail closed, keep grading the class
        return PartResult("lab", student, module_id, error=f"{INFRASTRUCTURE_ERROR}{exc}",
                          duration=time.monotonic() - started)
    return lab_result_from_runner(student, module_id, result, time.monotonic() - started)


def grade_lab_batch(course_root: Path, module_id: str, labs: dict[str, Path], python: str):
    """Grade several students' labs of one module in one grader process (see
    :func:`studyguide.grading.runner.grade_labs`); {student: PartResult}. Never raises."""
    started = time.monotonic()
    students = sorted(labs)
    try:
        results = _runner().grade_labs(course_root, module_id, [labs[s] for s in students],
                                       python=python)
    except Exception as exc:  # the runner failed: fail closed, keep grading the class
        return {s: PartResult("lab", s, module_id, error=f"{INFRASTRUCTURE_ERROR}{exc}",
                              duration=time.monotonic() - started) for s in students}
    return {student: lab_result_from_runner(student, module_id, result, result.duration)
            for student, result in zip(students, results, strict=True)}


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


