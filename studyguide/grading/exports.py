"""Exports of a graded class: a plain CSV and Gradescope ``results.json`` files.

The Gradescope file follows the autograder output format that Gradescope documents
(https://gradescope-autograders.readthedocs.io/en/latest/specs/): a top-level ``score``,
``output``, ``visibility`` and a list of ``tests``, each with ``name``, ``score``, ``max_score``,
``status``, ``visibility`` and ``output``. :data:`GRADESCOPE_SCHEMA` is that format as a JSON
schema. Test output is built from results only: the hint of a failed test, and expected vs.
actual only for tests the student can already see.
"""

import csv
import json
from pathlib import Path

VISIBILITIES = ["hidden", "after_due_date", "after_published", "visible"]
FORMATS = ["text", "html", "simple_format", "md", "ansi"]

_TEST_SCHEMA = {
    "type": "object",
    "required": ["name", "score", "max_score", "visibility", "output"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "score": {"type": "number"},
        "max_score": {"type": "number", "minimum": 0},
        "status": {"enum": ["passed", "failed"]},
        "number": {"type": "string"},
        "output": {"type": "string"},
        "output_format": {"enum": FORMATS},
        "name_format": {"enum": FORMATS},
        "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": {"enum": VISIBILITIES},
        "extra_data": {"type": "object"},
    },
}

#: Gradescope's autograder results format, as a JSON schema (draft 2020-12).
GRADESCOPE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Gradescope autograder results.json",
    "type": "object",
    "required": ["score", "output", "visibility", "tests"],
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": {"enum": FORMATS},
        "test_output_format": {"enum": FORMATS},
        "test_name_format": {"enum": FORMATS},
        "visibility": {"enum": VISIBILITIES},
        "stdout_visibility": {"enum": VISIBILITIES},
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": _TEST_SCHEMA},
        "leaderboard": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "value"],
                "properties": {
                    "name": {"type": "string"},
                    "value": {"type": ["number", "string"]},
                    "order": {"enum": ["asc", "desc"]},
                },
            },
        },
    },
}

CSV_COLUMNS = ["student", "module", "lab_score", "lab_max", "notebook_score", "notebook_max",
               "total", "total_max", "notes"]


def whole_points(value: float) -> float | int:
    """Whole points as int (``3`` not ``3.0``); fractions kept."""
    return int(value) if float(value).is_integer() else round(float(value), 2)


def notes(row) -> str:
    """Why parts of a row scored nothing: the lab's and the notebook's error, if any."""
    reasons = []
    for part in (row.lab, row.notebook):
        if part.error and part.error not in reasons:
            reasons.append(f"{part.kind}: {part.error}")
    return "; ".join(reasons)


def write_csv(report, path: Path) -> Path:
    """One row per (student, module): lab, notebook, total, and the reason for any zero."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for row in report.results:
            writer.writerow([
                row.student, row.module_id,
                whole_points(row.lab.score), whole_points(row.lab.max_score),
                whole_points(row.notebook.score), whole_points(row.notebook.max_score),
                whole_points(row.total), whole_points(row.total_max), notes(row),
            ])
    return path


def item_output(item) -> str:
    """What a student may read about one test: pass, or the hint and visible details."""
    if item.passed:
        return "Passed."
    lines = ["Failed." if item.outcome == "failed" else f"Failed ({item.outcome})."]
    if item.hint:
        lines.append(f"Hint: {item.hint}")
    if item.visible and item.message:
        lines.append(item.message)
    return "\n".join(lines)


def gradescope_tests(part, hidden_visibility: str) -> list[dict]:
    """Gradescope test entries for one lab or notebook; a part with an error gets one entry."""
    label = f"{part.module_id} {part.kind}"
    if not part.items:
        return [{
            "name": f"{label}: not graded", "score": 0, "max_score": whole_points(part.max_score),
            "status": "failed", "visibility": "visible",
            "output": part.error or "Nothing to grade.",
        }]
    return [
        {
            "name": f"{label}: {item.name}",
            "score": whole_points(item.points),
            "max_score": whole_points(item.max_points),
            "status": "passed" if item.passed else "failed",
            "visibility": "visible" if item.visible else hidden_visibility,
            "output": item_output(item),
        }
        for item in part.items
    ]


def gradescope_results(report, student: str, *, hidden_visibility: str = "visible",
                       stdout_visibility: str = "hidden") -> dict:
    """The ``results.json`` of one student: every graded module, lab and notebook tests.

    ``hidden_visibility`` is the Gradescope visibility of hidden grader tests (their name,
    score and hint; never their source) and of the whole result; ``stdout_visibility`` that of
    the grading log. Both come from ``[gradescope]`` in ``course.toml``.
    """
    rows = [row for row in report.results if row.student == student]
    tests = [test for row in rows for part in (row.lab, row.notebook)
             for test in gradescope_tests(part, hidden_visibility)]
    summary = [f"{row.module_id}: "
               f"lab {whole_points(row.lab.score)}/{whole_points(row.lab.max_score)}, "
               f"notebook {whole_points(row.notebook.score)}/{whole_points(row.notebook.max_score)}"
               for row in rows]
    if student in report.problems:
        summary.insert(0, f"Submission problem: {report.problems[student]}")
    duration = sum(row.lab.duration + row.notebook.duration for row in rows)
    return {
        "score": whole_points(sum(row.total for row in rows)),
        "execution_time": round(duration, 2),
        "output": "\n".join(summary),
        "visibility": hidden_visibility,
        "stdout_visibility": stdout_visibility,
        "extra_data": {"student": student, "modules": [row.module_id for row in rows]},
        "tests": tests,
    }


def write_gradescope(report, folder: Path, **options) -> dict[str, Path]:
    """Write ``folder/<student>/results.json`` for every student; return the paths."""
    paths = {}
    for student in report.students:
        path = Path(folder) / student / "results.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = gradescope_results(report, student, **options)
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        paths[student] = path
    return paths
