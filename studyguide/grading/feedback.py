"""Feedback for one student and one module, as an HTML page and as terminal text.

Feedback is built from results only: each test's name, points, pass or fail, the hint of a
failed test, and expected vs. actual (the failure message) only for tests the student can
already see. Hidden test source never appears. Every piece of text is escaped in HTML.
"""

from html import escape
from pathlib import Path

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; color: #222; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; }
th, td { border-bottom: 1px solid #ddd; padding: .4rem .6rem; text-align: left;
         vertical-align: top; }
.pass { color: #1a7f37; font-weight: bold; } .fail { color: #cf222e; font-weight: bold; }
.error { background: #fff4e5; padding: .6rem; border-left: 4px solid #d4a72c; }
pre { background: #f6f8fa; padding: .5rem; white-space: pre-wrap; margin: .3rem 0 0; }
"""


def _points(value: float) -> str:
    """Points for display: ``3`` rather than ``3.0``."""
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.2f}"


def _item_detail_html(item) -> str:
    """The hint and, for a visible test, the failure message of a failed item."""
    if item.passed:
        return ""
    parts = []
    if item.hint:
        parts.append(f"<div>Hint: {escape(item.hint)}</div>")
    if item.visible and item.message:
        parts.append(f"<pre>{escape(item.message)}</pre>")
    return "".join(parts)


def _worth_text(item) -> str:
    """Points as "2/3", or what a regression check is (an earlier lab's test, worth 0 here)."""
    if item.max_points == 0:
        return "regression check: an earlier lab's behaviour, no points here"
    return f"{_points(item.points)}/{_points(item.max_points)}"


def _worth_html(item) -> str:
    """The points cell of an item."""
    if item.max_points == 0:
        return "regression check"
    return f"{_points(item.points)} / {_points(item.max_points)}"


def _part_html(part) -> str:
    """One section: the lab or the notebook, its score, error and a row per graded item."""
    title = "Lab" if part.kind == "lab" else "Notebook"
    html = [f"<h2>{title}: {_points(part.score)} / {_points(part.max_score)} points</h2>"]
    if part.error:
        html.append(f'<p class="error">{escape(part.error)}</p>')
    if part.items:
        html.append("<table><tr><th>test</th><th>points</th><th>result</th><th></th></tr>")
        for item in part.items:
            verdict = ('<span class="pass">pass</span>' if item.passed
                       else '<span class="fail">fail</span>')
            html.append(
                f"<tr><td>{escape(item.name)}</td>"
                f"<td>{_worth_html(item)}</td>"
                f"<td>{verdict}</td><td>{_item_detail_html(item)}</td></tr>"
            )
        html.append("</table>")
    return "\n".join(html)


def render_html(row) -> str:
    """A self-contained HTML page of one student's results for one module."""
    title = f"{row.module_id}: feedback for {row.student}"
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f"<p>Total: <strong>{_points(row.total)} / {_points(row.total_max)}</strong> points</p>",
        _part_html(row.lab),
        _part_html(row.notebook),
        "</body></html>",
        "",
    ])


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
