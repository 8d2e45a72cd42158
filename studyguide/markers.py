"""Solution markers: find the student's work in a solution file and stub it out.

A block runs from a ``BEGIN SOLUTION`` line to the next ``END SOLUTION`` line. In Python and
other ``#``-comment files the markers are comments (``### BEGIN SOLUTION``); in Markdown and HTML
they are ``<!-- BEGIN SOLUTION -->``. A BEGIN line may carry a variant:

* nothing: the block becomes ``raise NotImplementedError(...)`` at the BEGIN line's indentation
  (files that are not Python lose the block);
* ``remove``: the block disappears;
* ``stub: <code>``: the block becomes ``<code>``.

Every mistake raises :class:`MarkerError` naming the file and line.
"""

import re
from dataclasses import dataclass

from .errors import StudyguideError

MARKER_WORDS = re.compile(r"\b(BEGIN|END) (SOLUTION|HIDDEN TESTS)\b")
HASH_MARKER = re.compile(r"^(?P<indent>\s*)#+\s*(?P<kind>BEGIN|END) SOLUTION\b(?P<rest>.*)$")
HTML_MARKER = re.compile(
    r"^(?P<indent>\s*)<!--\s*(?P<kind>BEGIN|END) SOLUTION\b(?P<rest>.*?)\s*-->\s*$"
)
TODO_COMMENT = re.compile(r"^\s*#\s*TODO\((?P<module>[^)]*)\):\s*(?P<task>.*)$")
HTML_SUFFIXES = {".md", ".html", ".htm", ".jinja", ".j2"}


class MarkerError(StudyguideError, ValueError):
    """A solution marker is malformed, nested, unbalanced or has an unknown variant."""

    def __init__(self, path, line, message):
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line


@dataclass(frozen=True)
class Block:
    """One marked block: 1-based line numbers of its BEGIN and END markers."""

    begin: int
    end: int
    indent: str
    variant: str
    stub: str

    def body_lines(self, lines):
        """The solution lines between the markers (not the markers themselves)."""
        return lines[self.begin : self.end - 1]


def _marker_pattern(path):
    """The marker syntax used by this kind of file."""
    return HTML_MARKER if str(path).endswith(tuple(HTML_SUFFIXES)) else HASH_MARKER


def _parse_variant(path, number, rest, is_python):
    """Return (variant, stub code) from the text after ``BEGIN SOLUTION``."""
    rest = rest.strip()
    if not rest:
        return ("stub", None) if is_python else ("remove", None)
    if rest == "remove":
        return "remove", None
    if rest.startswith("stub:"):
        code = rest[len("stub:") :].strip()
        if not is_python:
            raise MarkerError(path, number, "'stub:' is only allowed in Python files")
        if not code:
            raise MarkerError(path, number, "'stub:' needs the code to put in place of the block")
        return "stub", code
    raise MarkerError(
        path, number, f"unknown variant {rest!r} after BEGIN SOLUTION (use 'remove' or 'stub: ...')"
    )


def find_blocks(path, text):
    """Return the marked blocks of ``text`` (the content of ``path``), checking every marker."""
    pattern = _marker_pattern(path)
    is_python = str(path).endswith(".py")
    blocks, open_block = [], None
    for number, line in enumerate(text.splitlines(), start=1):
        words = MARKER_WORDS.search(line)
        if not words:
            continue
        if words.group(2) == "HIDDEN TESTS":
            raise MarkerError(path, number, "hidden-test markers belong in notebooks, not in labs")
        match = pattern.match(line)
        if not match:
            raise MarkerError(path, number, f"malformed marker: {line.strip()!r}")
        if match.group("kind") == "BEGIN":
            if open_block:
                raise MarkerError(
                    path, number, f"BEGIN SOLUTION inside the block opened at line {open_block[0]}"
                )
            variant, stub = _parse_variant(path, number, match.group("rest"), is_python)
            open_block = (number, match.group("indent"), variant, stub)
        else:
            if match.group("rest").strip():
                raise MarkerError(path, number, "END SOLUTION takes no arguments")
            if not open_block:
                raise MarkerError(path, number, "END SOLUTION without a BEGIN SOLUTION")
            begin, indent, variant, stub = open_block
            blocks.append(Block(begin, number, indent, variant, stub))
            open_block = None
    if open_block:
        raise MarkerError(path, open_block[0], "BEGIN SOLUTION is never closed by END SOLUTION")
    return blocks


def _task_before(lines, begin):
    """The text of the nearest ``# TODO(...)`` comment above line ``begin``, if any."""
    for line in reversed(lines[max(0, begin - 6) : begin - 1]):
        match = TODO_COMMENT.match(line)
        if match:
            return f"TODO({match.group('module')}): {match.group('task')}"
    return None


def default_stub(lines, block, module_id):
    """The ``raise NotImplementedError`` line that stands in for a block."""
    task = _task_before(lines, block.begin) or f"TODO({module_id}): complete this part of the lab"
    if len(task) > 100:
        task = task[:97] + "..."
    return f"raise NotImplementedError({task!r})"


def strip_solutions(path, text, module_id):
    """Return ``text`` with every marked block replaced by its stub."""
    lines = text.splitlines()
    out, cursor = [], 0
    for block in find_blocks(path, text):
        out.extend(lines[cursor : block.begin - 1])
        if block.variant == "stub":
            out.append(block.indent + (block.stub or default_stub(lines, block, module_id)))
        cursor = block.end
    out.extend(lines[cursor:])
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def solution_lines(path, text):
    """The set of stripped lines inside blocks that appear nowhere outside a block."""
    lines = text.splitlines()
    inside, outside = set(), set()
    covered = set()
    for block in find_blocks(path, text):
        covered.update(range(block.begin, block.end + 1))
        inside.update(line.strip() for line in block.body_lines(lines))
        if block.stub:
            outside.add(block.stub)  # the stub is given to students on purpose
    for number, line in enumerate(lines, start=1):
        if number not in covered:
            outside.add(line.strip())
    return {line for line in inside - outside if is_distinctive(line)}


def is_distinctive(line):
    """True for a line long and specific enough that finding it elsewhere means a leak."""
    if len(line) < 12 or line.startswith("#"):
        return False
    return any(ch.isalnum() for ch in line)
