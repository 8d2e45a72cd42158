"""Feedback for one student and one module, as an HTML page and as terminal text.

Feedback is built from results only: each test's name, points, pass or fail, the hint of a
failed test, and expected vs. actual (the failure message) only for tests the student can
already see. Hidden test source never appears. The HTML page comes from a Jinja2 template
(``templates/feedback.html``) with autoescaping: every piece of text is escaped.
"""

import functools
from pathlib import Path

import jinja2


def _points(value: float) -> str:
    """Points for display: ``3`` rather than ``3.0``."""
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.2f}"


def _worth_text(item) -> str:
    """Points as "2/3", or what a regression check is (an earlier lab's test, worth 0 here)."""
    if item.max_points == 0:
        return "regression check: an earlier lab's behaviour, no points here"
    return f"{_points(item.points)}/{_points(item.max_points)}"


@functools.cache
def _template():
    """The feedback page template; every value is HTML-escaped (autoescape)."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("studyguide.grading", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template("feedback.html")


def render_html(row) -> str:
    """A self-contained HTML page of one student's results for one module."""
    title = f"{row.module_id}: feedback for {row.student}"
    return _template().render(title=title, row=row, points=_points)


def _colour(text: str, code: str, enabled: bool) -> str:
    """Wrap text in an ANSI colour when colours are on."""
    return f"\033[{code}m{text}\033[0m" if enabled else text


def _part_text(part, colour: bool) -> list[str]:
    """Terminal lines for one lab or notebook."""
    title = "lab" if part.kind == "lab" else "notebook"
    lines = [f"  {title}: {_points(part.score)}/{_points(part.max_score)}"]
    if part.error:
        lines.append("    " + _colour(part.error, "33", colour))
    for item in part.items:
        mark = _colour("PASS", "32", colour) if item.passed else _colour("FAIL", "31", colour)
        lines.append(f"    {mark} {item.name} ({_worth_text(item)})")
        if not item.passed and item.hint:
            lines.append(f"         hint: {item.hint}")
        if not item.passed and item.visible and item.message:
            lines += [f"         | {line}" for line in item.message.splitlines()]
    return lines


def render_text(row, *, colour: bool = False) -> str:
    """The same feedback as :func:`render_html`, for a terminal."""
    header = (f"{row.student} {row.module_id}: "
              f"{_points(row.total)}/{_points(row.total_max)} points")
    lines = [_colour(header, "1", colour)]
    lines += _part_text(row.lab, colour) + _part_text(row.notebook, colour)
    return "\n".join(lines) + "\n"


def write_feedback(report, folder: Path) -> dict[tuple[str, str], Path]:
    """Write ``folder/<student>/<module>.html`` for every row; return the paths."""
    paths = {}
    for row in report.results:
        path = Path(folder) / row.student / f"{row.module_id}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_html(row), encoding="utf-8")
        paths[(row.student, row.module_id)] = path
    return paths
