"""Notebook jobs of class grading: nbgrader's course folder and sandboxed ``autograde`` runs.

Each student's notebook is autograded by the real ``nbgrader autograde`` in its own sandbox
(:mod:`studyguide.grading.sandbox_boot`): a private read-only root holding Python and a private
copy of the nbgrader course (one assignment, one submission), no network but loopback, limits,
and a kernel that runs as a fresh user who can write only to scratch folders. nbgrader itself
keeps just the capabilities it needs to start that kernel. When nbgrader ends, every process
left in the sandbox is killed; only then does the trusted side read the grades (through
nbgrader's own :class:`~nbgrader.api.Gradebook`) and write the class's gradebook, CSV, JSON and
feedback. Notebooks whose code can change how later cells run are not executed at all
(:mod:`studyguide.grading.notebook_review`).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from studyguide.grading import cache as cache_mod
from studyguide.grading import sandbox
from studyguide.grading.lab_jobs import CLASSROOM_VERSION
from studyguide.grading.notebook_review import given_sources, review_notebook, review_reason
from studyguide.grading.processes import kill_group, start_group
from studyguide.grading.results import ItemResult, PartResult

NBGRADER_DB = "gradebook.db"
NBGRADER_COURSE_ID = "flask-study-guide"
#: Seconds one notebook cell may run under ``nbgrader autograde``.
NOTEBOOK_CELL_TIMEOUT = 60
#: Notebooks per job of the class's worker pool. Each notebook has its own sandbox (and pays
#: nbgrader's start-up): students never share a kernel's machine, so one job is one notebook.
NOTEBOOK_BATCH = 1
#: The files whose content is part of every notebook's cache key.
NOTEBOOK_CODE_FILES = ("notebook_jobs.py", "notebook_review.py", "sandbox.py", "sandbox_boot.py")


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
    """Cache key of one notebook grading: the submission, the source notebook, nbgrader, and
    the code that reviews and sandboxes notebooks."""
    import nbgrader

    source = Path(course_dir) / "source" / module_id / f"{module_id}.ipynb"
    entries = [("source", source)] + ([("submitted", notebook)] if notebook else [])
    here = Path(__file__).parent
    entries += [(name, here / name) for name in NOTEBOOK_CODE_FILES]
    return cache_mod.digest(entries, "notebook", module_id, nbgrader.__version__,
                            CLASSROOM_VERSION, str(NOTEBOOK_CELL_TIMEOUT))


def _timestamp(path: Path) -> str:
    """The submission time nbgrader reads from timestamp.txt: the file's modification time."""
    moment = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f %Z")


def _make_shard(course_dir: Path, module_id: str, shard: Path, notebooks: dict[str, Path]):
    """A private nbgrader course holding one assignment and a batch of submissions.

    Owned by root and closed to others where that matters: a sandboxed kernel runs as another
    user and can neither read the instructor's source notebook and gradebook nor write here.
    """
    shutil.rmtree(shard, ignore_errors=True)
    shutil.copytree(course_dir / "source" / module_id, shard / "source" / module_id)
    shutil.copy2(course_dir / NBGRADER_DB, shard / NBGRADER_DB)
    for student, notebook in notebooks.items():
        folder = shard / "submitted" / student / module_id
        folder.mkdir(parents=True)
        shutil.copyfile(notebook, folder / f"{module_id}.ipynb")
        (folder / "timestamp.txt").write_text(_timestamp(notebook))
    os.chmod(shard, 0o755)
    os.chmod(shard / "source", 0o700)
    os.chmod(shard / NBGRADER_DB, 0o600)


#: Capabilities nbgrader keeps in its sandbox: enough to start each kernel as a fresh user
#: (chown, read/search any file, setuid/setgid, kill), nothing to mount, trace or leave it.
NBGRADER_CAPABILITIES = "0,1,2,3,5,6,7"


def _kernel_spec(folder: Path, python: str):
    """A ``python3`` kernel spec whose kernels drop to a fresh user before any cell runs."""
    spec = folder / "jupyter" / "kernels" / "python3"
    spec.mkdir(parents=True, exist_ok=True)
    argv = [python, "-I", "-B", "/srv/sandbox_boot.py", "--user", "auto",
            "--copy-for-user", "{connection_file}", "--chdir", "/tmp",
            "--env", "HOME=/tmp", "--env", "IPYTHONDIR=/tmp/.ipython",
            "--env", "PATH=/usr/bin:/bin", "--env", "LANG=C.UTF-8",
            "--", python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec_json = {"argv": argv, "display_name": "Python 3 (sandboxed)", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(spec_json))
    shutil.copyfile(Path(__file__).with_name("sandbox_boot.py"), folder / "sandbox_boot.py")
    for path in (folder, folder / "jupyter", spec.parent, spec):
        os.chmod(path, 0o755)


def _autograde_command(shard: Path, box: Path, module_id: str, jail, python: str):
    """``nbgrader autograde`` for the shard: in the sandbox when the machine allows it."""
    from studyguide.notebooks import nbgrader_command

    nbgrader = [*nbgrader_command(python, "autograde", module_id),
                f"--ExecutePreprocessor.timeout={NOTEBOOK_CELL_TIMEOUT}",
                f"--CourseDirectory.course_id={NBGRADER_COURSE_ID}"]
    prefix = sandbox.namespace_prefix()
    if not prefix:
        return [*nbgrader, f"--CourseDirectory.root={shard}",
                f"--CourseDirectory.db_url=sqlite:///{shard / NBGRADER_DB}"], False
    _kernel_spec(box / "srv", python)
    (box / "newroot").mkdir(exist_ok=True)
    boot = [*jail.boot_args(), "--root", str(box / "newroot")]
    for folder in sandbox.python_folders(python):
        boot += ["--bind", f"{folder}:{folder}"]
    boot += ["--bind", f"{box / 'srv'}:/srv", "--bind-rw", f"{shard}:/course",
             "--scratch", "/home", "--scratch", "/tmp", "--loopback",
             "--bound-caps", NBGRADER_CAPABILITIES, "--chdir", "/course"]
    bin_folder = str(Path(python).parent)
    for item in ("HOME=/home", "USER=grader", "LANG=C.UTF-8", "LC_ALL=C.UTF-8",
                 f"PATH={bin_folder}:/usr/bin:/bin", "JUPYTER_PATH=/srv/jupyter",
                 "JUPYTER_RUNTIME_DIR=/tmp/runtime", "JUPYTER_CONFIG_DIR=/home/.jupyter",
                 "JUPYTER_DATA_DIR=/home/.jupyter-data", "IPYTHONDIR=/home/.ipython",
                 "JUPYTER_PLATFORM_DIRS=1"):
        boot += ["--env", item]
    command = [*sandbox.parent_death_prefix(), *prefix, python, "-I", "-B",
               str(Path(__file__).with_name("sandbox_boot.py")),
               *boot, "--", *nbgrader, "--CourseDirectory.root=/course",
               f"--CourseDirectory.db_url=sqlite:////course/{NBGRADER_DB}"]
    return command, True


def _run_autograde(shard: Path, module_id: str, log_path: Path, timeout: float):
    """Run the real ``nbgrader autograde`` on a shard in the sandbox; return (exit, sandboxed).

    Its output goes to a file (a daemon left behind cannot hold a pipe open), and when nbgrader
    ends or the time is up, its process group and cgroup are killed: nothing a notebook started
    runs on or writes anything after this returns. The trusted side reads the results then.
    """
    python = str(Path(shutil.which(sys.executable) or sys.executable).absolute())
    box = shard.parent / f"{shard.name}-box"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    limits = _NotebookLimits()
    with sandbox.ProcessJail(limits) as jail, open(log_path, "wb") as log:
        command, sandboxed = _autograde_command(shard, box, module_id, jail, python)
        proc = start_group(command, cwd=shard, stdin=subprocess.DEVNULL, stdout=log,
                           stderr=subprocess.STDOUT,
                           env={"PATH": f"{Path(python).parent}:/usr/bin:/bin",
                                "HOME": str(box), "LANG": "C.UTF-8"})
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        jail.kill_all(proc)
        kill_group(proc)
    shutil.rmtree(box, ignore_errors=True)
    return code, sandboxed


class _NotebookLimits:
    """The limits of one notebook's sandbox (a kernel and nbgrader itself)."""

    memory_mb = 2048
    processes = 128


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


def grade_notebook(course_dir, module_id, student, notebook, work_dir, store):
    """Autograde one student's notebook in its own sandbox; return its PartResult.

    A notebook holding code that can change how later cells run is not executed: it scores 0
    with a reason that asks the instructor to review it (:mod:`notebook_review`).
    """
    started = time.monotonic()
    result = PartResult("notebook", student, module_id)
    released = Path(course_dir) / "release" / module_id / f"{module_id}.ipynb"
    reasons = review_notebook(notebook, given_sources(released))
    if reasons:
        result.error = review_reason(reasons)
        return result
    shard = Path(work_dir) / f"{module_id}-{student}"
    log_path = Path(work_dir).parent / "logs" / f"autograde-{module_id}-{student}.log"
    _make_shard(Path(course_dir), module_id, shard, {student: notebook})
    code, _sandboxed = _run_autograde(shard, module_id, log_path,
                                      timeout=120 + 4 * NOTEBOOK_CELL_TIMEOUT)
    items = _read_shard_grades(shard, module_id, student)
    result.duration = time.monotonic() - started
    if items is None:
        status = "it did not finish in time" if code is None else f"exit {code}"
        result.error = (f"nbgrader could not grade the notebook ({status}); "
                        f"the instructor's log is {log_path.name}")
    else:
        result.items = items
        result.score = sum(i.points for i in items)
        result.max_score = sum(i.max_points for i in items)
        graded = shard / "autograded" / student / module_id / f"{module_id}.ipynb"
        if graded.is_file():
            result.artifact = str(_keep_atomically(graded, store(student)))
    shutil.rmtree(shard, ignore_errors=True)
    return result


def grade_notebook_batch(course_dir, module_id, notebooks, work_dir, store, on_notebook):
    """Autograde a batch of one module's notebooks, each in its own sandbox; one PartResult
    each. ``store(student) -> Path`` names where to keep each autograded notebook."""
    results = {}
    for student, notebook in sorted(notebooks.items()):
        results[student] = grade_notebook(course_dir, module_id, student, notebook, work_dir,
                                          store)
        on_notebook()
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


