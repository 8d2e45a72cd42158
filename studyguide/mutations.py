"""Mutation check: do the graders notice small, realistic bugs in the marked solution code?

A *mutant* is a copy of a module's solution with one small change inside a marked block, the
kind of slip a student makes:

* ``compare``: ``<`` becomes ``<=``, ``==`` becomes ``!=``, ``in`` becomes ``not in``, ...
* ``boolean``: ``and`` becomes ``or`` (and back); ``not x`` becomes ``x``;
* ``number``: a number moves by one (``n + 1``, ``n - 1``); an HTTP status code becomes a
  neighbouring one (``201`` -> ``200``, ``422`` -> ``400``, ...); ``True`` <-> ``False``;
* ``string``: a key-like string (``"title"``, ``"books.get_book"``, ``"Location"``) is renamed;
  free text with spaces (messages) is left alone, since graders should not pin wording;
* ``keyword``: one keyword argument of a call is dropped (``get_json(silent=True)`` ->
  ``get_json()``, ``unique=True``, ``back_populates=...``);
* ``call``: a call is removed: ``x.strip()`` -> ``x``, ``list(x)`` -> ``x``;
* ``branch``: the two branches of an ``if``/``else`` (or ``a if c else b``) are swapped; an ``if``
  without ``else`` gets its condition negated;
* ``arithmetic``: ``+`` <-> ``-``;
* ``delete``: a whole line goes (``pass`` in its place when the syntax needs a statement).

Each mutant is applied to a fresh copy of the solution and the module's graders run on it (one
pytest process per mutant). A mutant is *caught* when at least one grader fails, and *survives*
when every grader still passes: a grader is missing, or the mutant behaves exactly like the
solution (an *equivalent* mutant). Equivalent mutants are listed, each with its reason, in
``grading/<id>/equivalent_mutants.toml``::

    [[mutant]]
    id = "bookshelf/models.py::Author::number: 200 -> 201"
    reason = "String(200) is not enforced by SQLite; the column holds any length."

The score of a module is ``caught / (mutants - equivalent)``. Mutant ids name the file, the
enclosing function or class, the operator and the change, not line numbers, so they survive
edits elsewhere in the file. The check is slow (a pytest run per mutant): run it by hand with
``studyguide mutate [MODULE ...]``, not in CI.
"""

import ast
import copy
import shutil
import tempfile
import textwrap
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .markers import find_blocks
from .testrun import run_pytest

EQUIVALENTS_FILE = "equivalent_mutants.toml"

# A comparison and what it becomes: the boundary moved, or the test negated.
COMPARE_SWAPS = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}

# HTTP status codes and the neighbour a student confuses them with.
STATUS_SWAPS = {
    200: 201,
    201: 200,
    204: 200,
    400: 422,
    401: 403,
    403: 401,
    404: 400,
    405: 404,
    409: 422,
    415: 400,
    422: 400,
    500: 400,
}

# Calls whose removal leaves their single argument: ``list(x)`` -> ``x``.
UNWRAPPABLE_CALLS = {"list", "tuple", "set", "dict", "str", "int", "float", "sorted", "len"}

KEY_LIKE_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/:<>")


@dataclass(frozen=True)
class Mutant:
    """A solution file with one small change inside a marked block."""

    relpath: str
    line: int
    scope: str
    operator: str
    original: str
    replacement: str
    text: str = field(repr=False)
    occurrence: int = 1

    @property
    def id(self):
        """A name for this mutant that does not depend on line numbers."""
        base = (
            f"{self.relpath}::{self.scope}::{self.operator}: {self.original} -> {self.replacement}"
        )
        return base if self.occurrence == 1 else f"{base} #{self.occurrence}"

    @property
    def where(self):
        """File and line, for people."""
        return f"{self.relpath}:{self.line}"


def _compiles(text):
    """True when ``text`` is valid Python."""
    try:
        compile(text, "<mutant>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def _is_meaningful(line):
    """Lines worth removing: not blank, not a comment, not a lone bracket or docstring quote."""
    stripped = line.strip()
    return (
        bool(stripped)
        and not stripped.startswith(("#", '"""', "'''"))
        and stripped not in {")", "]", "}", "),", "],", "},"}
    )


def _short(code):
    """One line of code, whitespace squeezed, for a mutant id."""
    return " ".join(str(code).split())


class _Source:
    """A file's text with edits by AST position (AST columns count UTF-8 bytes)."""

    def __init__(self, text):
        self.text = text
        self.lines = text.splitlines(keepends=True)

    def replace_span(self, node, new_code):
        """The text with the source of ``node`` replaced by ``new_code``."""
        first = self.lines[node.lineno - 1].encode("utf-8")
        last = self.lines[node.end_lineno - 1].encode("utf-8")
        head = first[: node.col_offset].decode("utf-8")
        tail = last[node.end_col_offset :].decode("utf-8")
        return "".join(
            self.lines[: node.lineno - 1] + [head + new_code + tail] + self.lines[node.end_lineno :]
        )

    def replace_lines(self, node, statements):
        """The text with the whole lines of statement ``node`` replaced by ``statements``."""
        line = self.lines[node.lineno - 1]
        indent = line[: len(line) - len(line.lstrip())]
        code = textwrap.indent(ast.unparse(statements), indent) + "\n"
        return "".join(self.lines[: node.lineno - 1] + [code] + self.lines[node.end_lineno :])

    def segment(self, node):
        """The source of ``node`` as one line."""
        return _short(ast.unparse(node))


def _scopes(tree):
    """Map every node to the dotted name of the function or class around it."""
    names = {}

    def visit(node, scope):
        for child in ast.iter_child_nodes(node):
            inner = scope
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                inner = f"{scope}.{child.name}" if scope != "<module>" else child.name
            names[child] = inner
            visit(child, inner)

    visit(tree, "<module>")
    return names


def _is_docstring(node, parents):
    """True for the string constant that is a module, class or function docstring."""
    parent = parents.get(node)
    if not isinstance(parent, ast.Expr):
        return False
    holder = parents.get(parent)
    return (
        isinstance(holder, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and holder.body
        and holder.body[0] is parent
    )


def _is_key_like(value):
    """Strings that name something (a key, an endpoint, a header), not prose for people."""
    return 0 < len(value) <= 40 and set(value) <= KEY_LIKE_CHARS


def _number_replacements(value):
    """The numbers a number may become."""
    if value in STATUS_SWAPS:
        return [STATUS_SWAPS[value]]
    return [value + 1, value - 1]


def _expression_mutants(node, parents):
    """(operator, replacement node) pairs for one expression node."""
    if isinstance(node, ast.Compare):
        for index, op in enumerate(node.ops):
            swap = COMPARE_SWAPS.get(type(op))
            if swap is not None:
                new = copy.deepcopy(node)
                new.ops[index] = swap()
                yield "compare", new
    elif isinstance(node, ast.BoolOp):
        new = copy.deepcopy(node)
        new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield "boolean", new
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield "boolean", copy.deepcopy(node.operand)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        if not (isinstance(node.left, ast.Constant) and isinstance(node.left.value, str)):
            new = copy.deepcopy(node)
            new.op = ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()
            yield "arithmetic", new
    elif isinstance(node, ast.IfExp):
        new = copy.deepcopy(node)
        new.body, new.orelse = new.orelse, new.body
        yield "branch", new
    elif isinstance(node, ast.Constant):
        yield from _constant_mutants(node, parents)
    elif isinstance(node, ast.Call):
        yield from _call_mutants(node)


def _constant_mutants(node, parents):
    """Mutants of a literal: booleans flip, numbers move, key-like strings are renamed."""
    value = node.value
    if isinstance(value, bool):
        yield "number", ast.Constant(not value)
    elif isinstance(value, int):
        for number in _number_replacements(value):
            yield "number", ast.Constant(number)
    elif isinstance(value, str) and not _is_docstring(node, parents):
        if isinstance(parents.get(node), ast.JoinedStr):
            return  # a piece of an f-string: prose
        if _is_key_like(value):
            yield "string", ast.Constant(value + "_x")
        elif value == "":
            yield "string", ast.Constant("x")


def _call_mutants(node):
    """Mutants of a call: one keyword dropped, or the call removed around its value."""
    for index, keyword in enumerate(node.keywords):
        if keyword.arg is None:
            continue  # **kwargs
        new = copy.deepcopy(node)
        del new.keywords[index]
        yield "keyword", new
    func = node.func
    if isinstance(func, ast.Attribute) and not node.args and not node.keywords:
        # x.strip() -> x, query.lower() -> query
        yield "call", copy.deepcopy(func.value)
    elif (
        isinstance(func, ast.Name)
        and func.id in UNWRAPPABLE_CALLS
        and len(node.args) == 1
        and not node.keywords
    ):
        yield "call", copy.deepcopy(node.args[0])


def _statement_mutants(node):
    """Mutants of a whole statement: swapped or negated ``if`` branches."""
    if isinstance(node, ast.If):
        new = copy.deepcopy(node)
        if node.orelse:
            new.body, new.orelse = new.orelse, new.body
        else:
            new.test = ast.UnaryOp(ast.Not(), new.test)
        yield "branch", new


def _inside(node, spans):
    """True when ``node`` lies entirely between the markers of one block."""
    end = getattr(node, "end_lineno", None)
    return end is not None and any(b < node.lineno and end < e for b, e in spans)


def _line_deletions(lines, spans, relpath, scope_of_line):
    """The original check: each meaningful line of a block, taken out."""
    for begin, end in spans:
        for number in range(begin + 1, end):
            line = lines[number - 1]
            if not _is_meaningful(line):
                continue
            indent = line[: len(line) - len(line.lstrip())]
            for replacement in ("", f"{indent}pass\n"):
                mutated = "".join(lines[: number - 1] + [replacement] + lines[number:])
                if _compiles(mutated):
                    yield Mutant(
                        relpath,
                        number,
                        scope_of_line(number),
                        "delete",
                        _short(line),
                        "pass" if replacement else "nothing",
                        mutated,
                    )
                    break


def mutants_of_file(path, relpath, operators=None):
    """Every mutant of one solution file, in line order; each one compiles.

    ``operators`` keeps only mutants of these kinds (``compare``, ``number``, ``delete``, ...).
    """
    text = Path(path).read_text(encoding="utf-8")
    spans = [(b.begin, b.end) for b in find_blocks(relpath, text)]
    if not spans or not relpath.endswith(".py"):
        return []
    source = _Source(text)
    tree = ast.parse(text)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    scopes = _scopes(tree)

    definitions = [
        (
            min([node.lineno] + [d.lineno for d in node.decorator_list]),
            node.end_lineno,
            scopes[node],
        )
        for node in scopes
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    ]

    def scope_of_line(number):
        """The innermost function or class holding line ``number``."""
        holding = [d for d in definitions if d[0] <= number <= d[1]]
        return max(holding)[2] if holding else "<module>"

    found = []
    for node in ast.walk(tree):
        if not _inside(node, spans):
            continue
        if isinstance(node, ast.stmt):
            for operator, new in _statement_mutants(node):
                mutated = source.replace_lines(node, new)
                label = "swapped" if node.orelse else "negated"
                found.append((node, operator, _short(_first_line(node, source)), label, mutated))
        elif isinstance(node, ast.expr):
            if isinstance(parents.get(node), ast.JoinedStr | ast.FormattedValue):
                continue
            for operator, new in _expression_mutants(node, parents):
                replacement = ast.unparse(new)
                mutated = source.replace_span(node, replacement)
                found.append((node, operator, source.segment(node), _short(replacement), mutated))
    mutants = [
        Mutant(relpath, node.lineno, scopes.get(node, "<module>"), op, before, after, mutated)
        for node, op, before, after, mutated in found
    ]
    mutants += list(_line_deletions(source.lines, spans, relpath, scope_of_line))
    return _unique(mutants, text, operators)


def _first_line(node, source):
    """The first line of a statement's source (``if x:``), for its id."""
    return source.lines[node.lineno - 1].strip()


def _unique(mutants, original, operators):
    """Mutants that compile, differ from the original and from each other; stable ids."""
    seen_text, seen_id, kept = set(), {}, []
    for mutant in sorted(mutants, key=lambda m: (m.line, m.operator, m.original, m.replacement)):
        if operators and mutant.operator not in operators:
            continue
        if mutant.text == original or mutant.text in seen_text or not _compiles(mutant.text):
            continue
        seen_text.add(mutant.text)
        base = Mutant(**{**mutant.__dict__, "occurrence": 1}).id
        seen_id[base] = seen_id.get(base, 0) + 1
        kept.append(Mutant(**{**mutant.__dict__, "occurrence": seen_id[base]}))
    return kept


def mutants_of_module(course, module, operators=None, files=None):
    """Every mutant of a module's Python solution files (its visible tests excluded).

    ``files`` keeps only files whose path (relative to the solution) contains one of them.
    """
    solution = course.path("solutions", module)
    for path in sorted(solution.rglob("*.py")):
        relpath = path.relative_to(solution).as_posix()
        if "tests" in path.relative_to(solution).parts:
            continue
        if files and not any(part in relpath for part in files):
            continue
        yield from mutants_of_file(path, relpath, operators)


def load_equivalents(course, module):
    """``{mutant id: reason}`` from the module's equivalent_mutants.toml (empty when absent)."""
    path = course.path("grading", module) / EQUIVALENTS_FILE
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    found = {}
    for number, entry in enumerate(data.get("mutant", []), start=1):
        mutant_id, reason = entry.get("id"), entry.get("reason")
        if not isinstance(mutant_id, str) or not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"{path}: entry {number} needs an 'id' and a non-empty 'reason'")
        found[mutant_id] = reason.strip()
    return found


def _copy_solution(course, module, destination):
    shutil.copytree(
        course.path("solutions", module),
        destination,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "instance"),
    )


#: What the graders say of one lab: all pass, one fails, or the run hit its time limit.
PASSED, FAILED, TIMED_OUT = "passed", "failed", "timed out"
FAILED_BY_TIME_LIMIT = "failed by a time limit"
#: How a grader test that ran out of its own time fails (see ``channel.LabProcess._late``).
TEST_TIME_LIMIT_MESSAGE = "did not answer within"


def _graders_verdict(course, module, lab_dir, timeout):
    """:data:`PASSED` when every grader of ``module`` passes on ``lab_dir``; :data:`TIMED_OUT`
    when the run was stopped at ``timeout`` seconds; :data:`FAILED_BY_TIME_LIMIT` when the
    graders that failed did so only because the app did not answer within a test's own limit
    (a hanging mutant, or a busy machine); else :data:`FAILED`."""
    run = run_pytest(
        lab_dir,
        [course.path("grading", module)],
        rootdir=course.root / "grading",
        extra_args=["-x"],  # one failing grader is enough to catch a mutant
        timeout=timeout,
    )
    if run.timed_out:
        return TIMED_OUT
    passed = run.finished and bool(run.tests) and not run.not_passed and not run.collect_errors
    if passed:
        return PASSED
    failures = [t for t in run.tests if t["outcome"] in ("failed", "error")]
    if failures and not run.collect_errors and all(
            TEST_TIME_LIMIT_MESSAGE in t.get("message", "") for t in failures):
        return FAILED_BY_TIME_LIMIT
    return FAILED


def mutant_verdict(course, module, mutant, timeout=120):
    """Run the module's graders on the mutant: :data:`PASSED` means the mutant survives."""
    with tempfile.TemporaryDirectory(prefix="studyguide-mutant-") as tmp:
        copy_dir = Path(tmp) / "solution"
        _copy_solution(course, module, copy_dir)
        (copy_dir / mutant.relpath).write_text(mutant.text, encoding="utf-8")
        return _graders_verdict(course, module, copy_dir, timeout)


@dataclass
class MutationReport:
    """The outcome of the mutation check of one module."""

    module: str
    total: int = 0
    caught: list = field(default_factory=list)
    equivalent: list = field(default_factory=list)  # (mutant, reason)
    survived: list = field(default_factory=list)
    # Undecided: the graders' run hit its time limit (a busy machine, or a mutant that hangs
    # pytest itself). Not counted as caught; run them again.
    timed_out: list = field(default_factory=list)
    # Caught, but only by a grader's own time limit: a hanging mutant, or a machine so busy
    # that the app was slow. Counted as caught; listed so a reader can re-run them.
    caught_by_time_limit: list = field(default_factory=list)
    equivalent_but_caught: list = field(default_factory=list)
    stale_equivalents: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def score(self):
        """Caught mutants over the mutants that can be caught (1.0 when there are none);
        undecided (timed-out) mutants count against it until a re-run decides them."""
        countable = self.total - len(self.equivalent)
        return len(self.caught) / countable if countable else 1.0


def run_mutations(
    course, module, workers=2, operators=None, files=None, limit=None, match=None, progress=None
):
    """Generate the module's mutants, run the graders on each, and classify them."""
    started = time.monotonic()
    equivalents = load_equivalents(course, module)
    mutants = list(mutants_of_module(course, module, operators, files))
    if match:
        mutants = [m for m in mutants if any(text in m.id for text in match)]
    if limit:
        mutants = mutants[:limit]
    report = MutationReport(module.id, total=len(mutants))
    if not mutants:
        return report
    with tempfile.TemporaryDirectory(prefix="studyguide-mutant-base-") as tmp:
        _copy_solution(course, module, Path(tmp) / "solution")
        if _graders_verdict(course, module, Path(tmp) / "solution", timeout=300) != PASSED:
            raise ValueError(
                f"the graders of {module.id} do not all pass on solutions/{module.id}: "
                "fix that first, every mutant would count as caught"
            )
    done = [0]

    def run_one(mutant):
        verdict = mutant_verdict(course, module, mutant)
        done[0] += 1
        if progress:
            progress(done[0], len(mutants), mutant, verdict)
        return verdict

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        verdicts = list(pool.map(run_one, mutants))
    ids = {m.id for m in mutants}
    for mutant, verdict in zip(mutants, verdicts, strict=True):
        if verdict == TIMED_OUT:
            report.timed_out.append(mutant)
        elif verdict in (FAILED, FAILED_BY_TIME_LIMIT):
            report.caught.append(mutant)
            if verdict == FAILED_BY_TIME_LIMIT:
                report.caught_by_time_limit.append(mutant)
            if mutant.id in equivalents:
                report.equivalent_but_caught.append(mutant)
        elif mutant.id in equivalents:
            report.equivalent.append((mutant, equivalents[mutant.id]))
        else:
            report.survived.append(mutant)
    if not (operators or files or limit or match):
        report.stale_equivalents = sorted(set(equivalents) - ids)
    report.seconds = time.monotonic() - started
    return report


def format_table(reports):
    """A Markdown table of mutation reports: one row per module."""
    rows = [TABLE_HEADER, "|---|---:|---:|---:|---:|---:|---:|"]
    rows += [_table_row(r) for r in reports]
    return "\n".join(rows)


TABLE_HEADER = "| module | mutants | caught | equivalent | survived | score | run time |"


def _table_row(report):
    return (
        f"| {report.module} | {report.total} | {len(report.caught)} | {len(report.equivalent)} | "
        f"{len(report.survived)} | {report.score:.1%} | {report.seconds / 60:.1f} min |"
    )


NOTES_HEADING = "Notes"


def write_report(path, reports, command):
    """Write (or update) a Markdown report: the table, then each module's details.

    Modules not in ``reports`` keep the rows and details an earlier run wrote, so modules can
    be measured one at a time into the same file.
    """
    path = Path(path)
    sections, notes = _read_sections(path) if path.exists() else ({}, "")
    for report in reports:
        sections[report.module] = (_table_row(report), _details(report))
    lines = [
        "# Mutation report",
        "",
        f"<!-- Written by `studyguide mutate --report`; edit only the {NOTES_HEADING!r} section,"
        " which later runs keep. -->",
        "",
        "How many small, realistic bugs in the marked solution code the hidden graders catch.",
        "Written by `studyguide mutate` (see `studyguide/mutations.py` for the kinds of mutant).",
        "Equivalent mutants behave exactly like the solution; each is listed, with its reason, in",
        "`grading/<module>/equivalent_mutants.toml`. Score = caught / (mutants - equivalent).",
        "",
        "Reproduce (slow, one pytest run per mutant; not part of CI):",
        "",
        "```console",
        command,
        "```",
        "",
        TABLE_HEADER,
        "|---|---:|---:|---:|---:|---:|---:|",
        *[sections[module][0] for module in sorted(sections)],
        "",
        f"## {NOTES_HEADING}",
        "",
        notes or "How the runs above were made, and what their survivors mean.",
        "",
    ]
    for module in sorted(sections):
        lines += [sections[module][1], ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def _details(report):
    """The equivalent and surviving mutants of one module, as a Markdown section."""
    lines = [f"## {report.module}", ""]
    if report.survived:
        lines += ["Surviving mutants (no grader notices them):", ""]
        lines += [f"- `{m.id}` (line {m.line})" for m in report.survived]
        lines.append("")
    if report.equivalent:
        lines += ["Equivalent mutants:", ""]
        lines += [f"- `{m.id}`: {reason}" for m, reason in report.equivalent]
        lines.append("")
    if report.timed_out:
        lines += ["Undecided mutants (the graders' run hit its time limit; run them again):", ""]
        lines += [f"- `{m.id}` (line {m.line})" for m in report.timed_out]
        lines.append("")
    if report.caught_by_time_limit:
        lines += ["Caught only by a grader's time limit (a hanging mutant, or a busy machine):",
                  ""]
        lines += [f"- `{m.id}` (line {m.line})" for m in report.caught_by_time_limit]
        lines.append("")
    if not (report.survived or report.equivalent or report.timed_out):
        lines += ["Every mutant is caught.", ""]
    return "\n".join(lines).rstrip("\n")


def _read_sections(path):
    """``({module: (table row, details)}, notes)`` from a report written by
    :func:`write_report`; the notes are the hand-written text of its Notes section."""
    text = path.read_text(encoding="utf-8")
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 7 and cells[0] not in {"module"}:
            rows[cells[0]] = line
    details, notes = {}, ""
    for chunk in text.split("\n## ")[1:]:
        heading, _, body = chunk.partition("\n")
        if heading.strip() == NOTES_HEADING:
            notes = body.strip("\n")
        else:
            details[heading.strip()] = "## " + chunk.rstrip("\n")
    return {m: (row, details.get(m, f"## {m}")) for m, row in rows.items()}, notes
