"""Find notebook code that changes how later cells run, before the notebook is autograded.

nbgrader runs the hidden test cells in the student's own kernel, after the student's cells. A
student cell can therefore change how those tests run: an IPython input or AST transformer
rewriting them, an event callback, a custom exception handler hiding their failures, a trace or
profile hook, replaced builtins, a thread or process left running, or frame and garbage-collector
tricks. Such a notebook is not graded: it scores 0 and the reason asks the instructor to review
it by hand.

What is detected (statically, in the student's code cells, after IPython's own translation of
magics and ``!`` shell lines into Python):

- IPython machinery: ``get_ipython``/``InteractiveShell`` and any of its hooks
  (``input_transformers_*``, ``ast_transformers``, ``events``, ``set_custom_exc``,
  ``showtraceback``, ``run_cell``, magics, ``register_magic_function``...), every magic or
  shell line (``%...``, ``!...``);
- interpreter hooks: ``sys.settrace``/``setprofile``/``excepthook``/``displayhook``/
  ``addaudithook``/``monitoring``/``_getframe``, ``threading.settrace``/``setprofile``;
- replaced builtins: ``builtins``/``__builtins__`` used at all, ``globals()``/``vars()``/
  ``locals()`` written through, ``__dict__``, ``__class__``, ``__code__``, frames (``f_back``,
  ``f_globals``, ``f_locals``, ``tb_frame``), ``__subclasses__``;
- code run in ways the review cannot follow: ``exec``, ``eval``, ``compile``, ``__import__``,
  ``importlib``;
- monkeypatching a library: assigning or deleting an attribute of anything imported
  (``Flask.test_client = ...``, ``setattr(flask.json, ...)``);
- modules that reach outside the cell: ``gc``, ``ctypes``, ``inspect``, ``threading``,
  ``_thread``, ``multiprocessing``, ``concurrent``, ``subprocess``, ``signal``, ``atexit``,
  ``os`` process functions (``fork``, ``system``, ``exec*``, ``spawn*``, ``kill``, ``_exit``),
  ``asyncio``, ``socket``, ``pty``.

What cannot be detected: code that arrives another way than the notebook's own cells (a module
the student installed into the environment; the sandbox's read-only Python environment prevents
that while grading), and behaviour of the libraries a cell legitimately uses. The list is
deliberately broad: a lesson notebook needs none of these, and a false alarm costs an instructor a
look, while a miss would cost a wrong grade.
"""

import ast
import json
from pathlib import Path

FORBIDDEN_NAMES = {
    "get_ipython", "InteractiveShell", "__builtins__", "builtins", "exec", "eval", "compile",
    "__import__", "globals", "vars", "locals", "breakpoint",
}
FORBIDDEN_MODULES = {
    "IPython", "ipykernel", "builtins", "gc", "ctypes", "inspect", "threading", "_thread",
    "multiprocessing", "concurrent", "subprocess", "signal", "atexit", "importlib", "asyncio",
    "socket", "pty", "sys", "os", "traceback", "types", "code", "codeop", "runpy",
}
FORBIDDEN_ATTRIBUTES = {
    "input_transformers_cleanup", "input_transformers_post", "input_transformer_manager",
    "ast_transformers", "events", "set_custom_exc", "showtraceback", "showsyntaxerror",
    "run_cell", "run_line_magic", "run_cell_magic", "register_magic_function", "magics_manager",
    "settrace", "setprofile", "excepthook", "displayhook", "addaudithook", "monitoring",
    "_getframe", "f_back", "f_globals", "f_locals", "f_builtins", "tb_frame", "gi_frame",
    "__dict__", "__class__", "__code__", "__globals__", "__subclasses__", "__bases__", "__mro__",
    "__builtins__", "__import__", "system", "popen", "fork", "forkpty", "kill", "killpg",
    "_exit", "execv", "execve", "execvp", "spawnv", "spawnl", "posix_spawn",
}


def _python_source(cell_source):
    """A code cell as plain Python: IPython's own translation of magics and shell lines."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(cell_source)


def _root_name(node):
    """The name an attribute chain starts from (``a`` for ``a.b.c``), or None."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def imported_names(trees):
    """Every name an import binds in the notebook's cells."""
    names = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _patches(node, imported):
    """The imported name a statement or call changes an attribute of, or None."""
    targets = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        targets = [node.target]
    elif isinstance(node, ast.Delete):
        targets = node.targets
    elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
          and node.func.id in ("setattr", "delattr") and node.args):
        root = _root_name(node.args[0])
        return root if root in imported else None
    for target in targets:
        if isinstance(target, ast.Attribute) and _root_name(target) in imported:
            return _root_name(target)
    return None


def _findings(tree, imported=frozenset()):
    """Why a parsed cell may change how later cells run (empty: nothing found)."""
    found = []
    for node in ast.walk(tree):
        patched = _patches(node, imported)
        if patched:
            found.append(f"changes {patched} (a library)")
        if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            found.append(f"uses {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
            found.append(f"uses .{node.attr}")
        elif isinstance(node, ast.Import):
            found += [f"imports {a.name}" for a in node.names
                      if a.name.split(".")[0] in FORBIDDEN_MODULES]
        elif isinstance(node, ast.ImportFrom):
            module = (node.module or "").split(".")[0]
            if module in FORBIDDEN_MODULES or node.level:
                found.append(f"imports from {node.module or '.'}")
        elif isinstance(node, ast.Global | ast.Nonlocal):
            continue
    return found


def given_sources(path):
    """The sources of a notebook's code cells, to trust as given code (empty when unreadable).

    Pass the release version the students received: a cell whose source is unchanged from it is
    the instructor's code, and nbgrader restores grade cells from the source version anyway.
    """
    try:
        notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    return frozenset(_cell_source(c) for c in notebook.get("cells", [])
                     if c.get("cell_type") == "code")


def _cell_source(cell):
    source = cell.get("source", "")
    return ("".join(source) if isinstance(source, list) else str(source)).strip()


def review_notebook(path, given=frozenset()):
    """Return the reasons a notebook must be reviewed by hand before it is graded ([] if none).

    Cells whose source is in ``given`` (see :func:`given_sources`) are the instructor's code and
    are not reviewed, though what they import still counts. An unreadable notebook or a cell
    that is not Python is left to nbgrader (it fails there).
    """
    try:
        notebook = json.loads(Path(path).read_text(encoding="utf-8"))
        cells = [c for c in notebook.get("cells", []) if c.get("cell_type") == "code"]
    except (OSError, ValueError, AttributeError):
        return []
    parsed = []
    for number, cell in enumerate(cells, start=1):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        try:
            parsed.append((number, cell, ast.parse(_python_source(source))))
        except (SyntaxError, ValueError, RecursionError):
            continue
    imported = imported_names(tree for _n, _c, tree in parsed)
    reasons = []
    for number, cell, tree in parsed:
        if _cell_source(cell) in given:
            continue
        findings = sorted(set(_findings(tree, imported)))
        if findings:
            cell_id = cell.get("id") or f"#{number}"
            reasons.append(f"code cell {cell_id}: {', '.join(findings[:6])}")
    return reasons


def review_reason(reasons):
    """The notebook's score-0 reason for the student and the instructor."""
    return (
        "not graded: the notebook holds code that can change how later cells (the hidden tests) "
        "run; the instructor will review it by hand. Found: " + "; ".join(reasons[:5])
    )
