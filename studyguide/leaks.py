"""Find solution text where it must not be: in labs, pages and the student edition.

Used by the checker and by the release, which both import it; neither imports the other.
"""

from pathlib import Path

from .markers import MARKER_WORDS, MarkerError, solution_lines


def solution_blocks_by_module(course):
    """{module id: distinctive lines found only inside that solution's blocks}."""
    leaks = {}
    for module in course.available:
        lines = set()
        for path in sorted(course.path("solutions", module).rglob("*")):
            if path.is_file() and path.suffix in {".py", ".md", ".html", ".txt", ".ini", ".toml"}:
                try:
                    lines |= solution_lines(path.relative_to(course.root), path.read_text("utf-8"))
                except MarkerError:
                    continue  # reported, with file and line, by the freshness check
        leaks[module.id] = lines
    return leaks


def text_lines(folder, skip=()):
    """Every line of every text file under ``folder``: (relative path, line number, line).

    Files below a folder named in ``skip`` and files that are not UTF-8 text are left out.
    """
    for path in sorted(Path(folder).rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or any(part in skip for part in rel.parts):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            yield rel, number, line


def find_leaks(folder, secret_lines, label, skip=()):
    """Report files under ``folder`` holding a marker or one of ``secret_lines``."""
    problems = []
    for rel, number, line in text_lines(folder, skip):
        if MARKER_WORDS.search(line):
            problems.append(f"{label}{rel}:{number} holds a marker")
        elif line.strip() in secret_lines:
            problems.append(f"{label}{rel}:{number} holds a solution or hidden-test line")
    return problems
