"""Mutation check: every line of a solution block should matter to some grader.

For each line inside a marked block, a copy of the solution is made without that line (or with
``pass`` in its place when removing it would break the syntax), and the module's graders run on
it. A copy that still passes every grader is a *surviving mutant*: either a grader is missing
(the behaviour that line gives is never checked) or the line does nothing and can go.

This runs one pytest process per line, so it is slower than ``studyguide check`` and kept as
its own command: ``studyguide mutate [MODULE ...]``.
"""

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .markers import find_blocks
from .testrun import run_pytest


@dataclass(frozen=True)
class Mutant:
    """A solution with one line of one block taken out."""

    relpath: str
    line: int
    source_line: str
    text: str


def _compiles(text):
    """True when ``text`` is valid Python."""
    try:
        compile(text, "<mutant>", "exec")
    except SyntaxError:
        return False
    return True


def _is_meaningful(line):
    """Lines worth removing: not blank, not a comment, not a lone bracket or docstring quote."""
    stripped = line.strip()
    return (
        bool(stripped)
        and not stripped.startswith(("#", '"""', "'''"))
        and stripped
        not in {
            ")",
            "]",
            "}",
            "),",
            "],",
            "},",
        }
    )


def mutants_of_file(path, relpath):
    """Every mutant of one solution file: one per meaningful line inside a block."""
    text = Path(path).read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    for block in find_blocks(relpath, text):
        for number in range(block.begin + 1, block.end):
            line = lines[number - 1]
            if not _is_meaningful(line):
                continue
            indent = line[: len(line) - len(line.lstrip())]
            for replacement in ("", f"{indent}pass\n"):
                mutated = "".join(lines[: number - 1] + [replacement] + lines[number:])
                if _compiles(mutated):
                    yield Mutant(relpath, number, line.strip(), mutated)
                    break


def mutants_of_module(course, module):
    """Every mutant of a module's Python solution files."""
    solution = course.path("solutions", module)
    for path in sorted(solution.rglob("*.py")):
        if "tests" in path.relative_to(solution).parts:
            continue
        yield from mutants_of_file(path, path.relative_to(solution).as_posix())


def mutant_survives(course, module, mutant):
    """Run the module's graders on the mutant; True when every one still passes."""
    with tempfile.TemporaryDirectory(prefix="studyguide-mutant-") as tmp:
        copy = Path(tmp) / "solution"
        shutil.copytree(
            course.path("solutions", module),
            copy,
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "instance"),
        )
        (copy / mutant.relpath).write_text(mutant.text, encoding="utf-8")
        run = run_pytest(copy, [course.path("grading", module)], rootdir=course.root / "grading")
    return run.finished and bool(run.tests) and not run.not_passed and not run.collect_errors


def check_mutations(course, module, workers=None):
    """Describe every surviving mutant of ``module``; also return how many mutants ran."""
    mutants = list(mutants_of_module(course, module))
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        survived = list(pool.map(lambda m: mutant_survives(course, module, m), mutants))
    problems = [
        f"solutions/{module.id}/{m.relpath}:{m.line}: without `{m.source_line}` every grader "
        "still passes; fix: add a grader that needs this line, or remove the line"
        for m, alive in zip(mutants, survived, strict=True)
        if alive
    ]
    return problems, len(mutants)
