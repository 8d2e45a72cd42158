"""The ``studyguide`` command: progress for learners; generate, check, release, grade."""

import argparse
import sys
from pathlib import Path

from .manifest import ManifestError, load_course
from .markers import MarkerError
from .progress import find_course_root


def cmd_list(args):
    """Print the nine modules and which are available."""
    course = load_course(args.root)
    for module in course.modules:
        state = "available" if module.available else "not yet available"
        optional = " (optional)" if module.optional else ""
        print(f"{module.id:<15} {module.title}{optional}  [{state}]")
        print(f"{'':<15} goal: {module.goal}")
    return 0


def cmd_progress(args):
    """Show progress for every lab, or one lab in detail (optionally watching for saves)."""
    from .progress import show_progress, watch

    if args.watch:
        if not args.module:
            print("--watch needs a module, e.g. `studyguide progress 01-routing --watch`")
            return 2
        watch(args.module, args.root, args.labs)
        return 0
    return 0 if show_progress(args.module, args.root, args.labs) else 1


def cmd_generate(args):
    """Write labs/ from solutions/ and refresh the code included in the study-guide pages."""
    from .generate import write_lab, write_pages

    course = load_course(args.root)
    modules = [course.module(m) for m in args.modules] if args.modules else course.available
    for module in modules:
        count = write_lab(course, module)
        print(f"labs/{module.id}: {count} files generated from solutions/{module.id}")
    for page in write_pages(course):
        print(f"{page.relative_to(course.root)}: included code refreshed")
    return 0


def cmd_check(args):
    """Run the course's invariants and print each with its problems."""
    from .check import run_checks

    results = run_checks(
        args.root, notebooks=not args.skip_notebooks, release=not args.skip_release
    )
    for result in results:
        status = "ok  " if result.ok else "FAIL"
        print(f"{status} {result.name} ({result.seconds:.1f} s)")
        for problem in result.problems:
            print(f"     - {problem}")
    failed = sum(not r.ok for r in results)
    total = sum(r.seconds for r in results)
    print(f"\n{len(results) - failed} passed, {failed} failed")
    print(f"checks took {total:.1f} s of work in total")
    return 1 if failed else 0


def cmd_release(args):
    """Write the student edition of the course to a new folder and verify it leaks nothing."""
    from .release import build_release, release_leaks

    course = load_course(args.root)
    out = build_release(course, Path(args.out), args.modules or None, force=args.force)
    leaks = release_leaks(course, out)
    for leak in leaks:
        print(f"LEAK {leak}")
    if leaks:
        return 1
    print(f"student edition written to {out}")
    return 0


def cmd_mutate(args):
    """Run the graders on small bugs put into the solution code; report the ones nobody notices."""
    from .mutations import EQUIVALENTS_FILE, format_table, run_mutations, write_report

    course = load_course(args.root)
    modules = [course.module(m) for m in args.modules] if args.modules else course.available
    reports = []

    def progress(done, total, mutant, alive):
        if args.verbose:
            outcome = "SURVIVED" if alive else "caught"
            print(f"  [{done}/{total}] {outcome}: {mutant.id}", file=sys.stderr, flush=True)

    for module in modules:
        report = run_mutations(
            course,
            module,
            workers=args.workers,
            operators=args.operator,
            files=args.file,
            limit=args.limit,
            match=args.match,
            progress=progress,
        )
        reports.append(report)
        print(
            f"{module.id}: {len(report.caught)} of {report.total} mutants caught, "
            f"{len(report.equivalent)} equivalent, {len(report.survived)} survived: "
            f"score {report.score:.1%} in {report.seconds / 60:.1f} min",
            flush=True,
        )
        for mutant in report.survived:
            print(f"     - survived: solutions/{module.id}/{mutant.where}  id = {mutant.id!r}")
        for mutant in report.equivalent_but_caught:
            print(
                f"     - caught, but listed in grading/{module.id}/{EQUIVALENTS_FILE}: "
                f"remove {mutant.id!r}"
            )
        for stale in report.stale_equivalents:
            print(f"     - grading/{module.id}/{EQUIVALENTS_FILE} names no mutant: {stale!r}")
    print()
    print(format_table(reports))
    if args.report:
        command = f"studyguide mutate --report {args.report}   # or name modules to redo their rows"
        write_report(args.report, reports, command)
    return 0 if all(r.score >= args.min_score for r in reports) else 1


def build_parser():
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(prog="studyguide", description=__doc__)
    parser.add_argument("--root", default=None, help="course folder (default: found from cwd)")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="list the modules").set_defaults(func=cmd_list)

    progress = sub.add_parser("progress", help="show lab progress with hints")
    progress.add_argument("module", nargs="?", help="one module id, e.g. 01-routing or 01")
    progress.add_argument("--labs", default="labs", help="folder of labs to measure (default labs)")
    progress.add_argument("--watch", action="store_true", help="re-run on every save")
    progress.set_defaults(func=cmd_progress)

    generate = sub.add_parser("generate", help="write labs/ from solutions/ (instructors)")
    generate.add_argument("modules", nargs="*", help="module ids (default: every available)")
    generate.set_defaults(func=cmd_generate)

    check = sub.add_parser("check", help="check the course's invariants (instructors)")
    check.add_argument("--skip-notebooks", action="store_true", help="skip nbgrader checks")
    check.add_argument("--skip-release", action="store_true", help="skip the release check")
    check.set_defaults(func=cmd_check)

    mutate = sub.add_parser(
        "mutate", help="check that graders catch small bugs in the solutions (slow; instructors)"
    )
    mutate.add_argument("modules", nargs="*", help="module ids (default: every available)")
    mutate.add_argument("--workers", type=int, default=2, help="parallel pytest runs (default 2)")
    mutate.add_argument("--limit", type=int, default=None, help="run only the first N mutants")
    mutate.add_argument(
        "--file", action="append", help="only solution files whose path contains this (repeatable)"
    )
    mutate.add_argument(
        "--operator",
        action="append",
        choices=[
            "compare",
            "boolean",
            "number",
            "string",
            "keyword",
            "call",
            "branch",
            "arithmetic",
            "delete",
        ],
        help="only this kind of mutant (repeatable)",
    )
    mutate.add_argument(
        "--match", action="append", help="only mutants whose id contains this (repeatable)"
    )
    mutate.add_argument("--min-score", type=float, default=0.9, help="fail below it (default 0.9)")
    mutate.add_argument("--report", help="also write the result table (Markdown) to this file")
    mutate.add_argument("-v", "--verbose", action="store_true", help="print every mutant's outcome")
    mutate.set_defaults(func=cmd_mutate)

    release = sub.add_parser("release", help="write the student edition (instructors)")
    release.add_argument("out", help="a new folder for the student edition")
    release.add_argument("--modules", nargs="*", help="release only these modules")
    release.add_argument("--force", action="store_true", help="replace an earlier release there")
    release.set_defaults(func=cmd_release)

    from .grading.cli import add_grade_command

    add_grade_command(sub)
    return parser


def main(argv=None):
    """Entry point of the ``studyguide`` console script."""
    args = build_parser().parse_args(argv)
    args.root = str(find_course_root(args.root))
    try:
        return args.func(args)
    except (ManifestError, MarkerError, FileExistsError, FileNotFoundError, ValueError) as exc:
        print(f"studyguide: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
