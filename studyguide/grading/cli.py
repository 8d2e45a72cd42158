"""The ``studyguide grade`` subcommand: grade a whole class and say where the results are."""

import os
import sys
from pathlib import Path


def add_grade_command(subparsers):
    """Register ``grade`` on an argparse subparsers object; return its parser."""
    grade = subparsers.add_parser(
        "grade",
        help="grade a class: labs with the hidden graders, notebooks with nbgrader (instructors)",
        description=(
            "Grade every student in SUBMISSIONS (one folder <student id>/ or zip "
            "<student id>.zip each, shaped like the student release) for every available "
            "module. Writes one nbgrader gradebook with lab and notebook scores, grades.csv, "
            "Gradescope results.json files and HTML feedback under --out."
        ),
    )
    grade.add_argument("submissions", help="folder with one folder or zip per student")
    grade.add_argument("--out", default="graded", help="output folder (default: graded)")
    grade.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                       help="parallel gradings (default: one per core)")
    grade.add_argument("--module", dest="modules", action="append", metavar="ID",
                       help="grade only this module (repeatable; default: every available)")
    grade.add_argument("--no-cache", action="store_true",
                       help="grade everything again even when nothing changed")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    grade.add_argument("--feedback", metavar="STUDENT",
                       help="also print this student's feedback in the terminal")
    grade.set_defaults(func=run_grade)
    return grade


def _summary_lines(report) -> list[str]:
    """A table of totals: one line per student, one column per module."""
    width = max([7, *(len(s) for s in report.students)])
    header = "student".ljust(width) + "".join(f"  {m:>14}" for m in report.module_ids)
    lines = [header]
    for student in report.students:
        cells = []
        for module_id in report.module_ids:
            row = report.result(student, module_id)
            cells.append(f"  {f'{row.total:g}/{row.total_max:g}':>14}")
        lines.append(student.ljust(width) + "".join(cells))
    return lines


def print_report(report, stream=sys.stdout) -> None:
    """Print the totals, the problems and where every output went."""
    for line in _summary_lines(report):
        print(line, file=stream)
    for name, problem in sorted(report.problems.items()):
        print(f"problem: {name}: {problem}", file=stream)
    print(
        f"graded {report.labs_graded} labs and {report.notebooks_graded} notebooks, "
        f"{report.cache_hits} results from the cache, in {report.duration:.1f} s",
        file=stream,
    )
    print(f"gradebook: {report.gradebook} (nbgrader export runs in {report.gradebook.parent})",
          file=stream)
    print(f"csv: {report.csv}", file=stream)
    print(f"gradescope: {report.out_dir / 'gradescope'}/<student>/results.json", file=stream)
    print(f"feedback: {report.out_dir / 'feedback'}/<student>/<module>.html", file=stream)


def run_grade(args) -> int:
    """Run ``studyguide grade``; 0 when the class was graded, 2 when there is nothing to grade."""
    from studyguide.grading import feedback
    from studyguide.grading.classroom import grade_class
    from studyguide.grading.runner import GraderError
    from studyguide.grading.sandbox import isolation_summary

    root = Path(getattr(args, "root", None) or ".")
    submissions = Path(args.submissions)
    if not submissions.is_dir():
        print(f"studyguide grade: {submissions} is not a folder", file=sys.stderr)
        return 2
    try:
        report = grade_class(root, submissions, Path(args.out), workers=args.workers,
                             module_ids=args.modules, use_cache=not args.no_cache,
                             progress=not args.quiet)
    except GraderError as exc:
        print(f"studyguide grade: {exc}", file=sys.stderr)
        return 2
    if not report.students:
        print(f"studyguide grade: no student folder or zip in {submissions}", file=sys.stderr)
        return 2
    print_report(report)
    print(f"isolation of student code: {isolation_summary()}")
    if args.feedback:
        if args.feedback not in report.students:
            print(f"studyguide grade: no student {args.feedback!r}", file=sys.stderr)
            return 2
        colour = sys.stdout.isatty()
        for module_id in report.module_ids:
            print(feedback.render_text(report.result(args.feedback, module_id), colour=colour))
    return 0
