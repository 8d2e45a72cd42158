"""The ``studyguide`` command: progress for learners; generate, check, release, grade.

One way to say things in every command: modules are chosen by their ids (or numbers) as
positional arguments, ``--workers`` defaults to one per core, and a problem the user can fix
(a :class:`~studyguide.errors.StudyguideError`) ends in a message and exit status 2. Any other
exception is a bug and keeps its traceback.

In a student edition (``edition = "student"`` in its ``course.toml``) only the commands a
student needs exist.
"""

import argparse
import os
import sys
from pathlib import Path

from .errors import StudyguideError
from .manifest import find_course_root, load_course, modules_or_available

STUDENT_COMMANDS = ("list", "progress", "setup")
MODULES_HELP = "module ids or numbers, e.g. 01-routing or 01"


def default_workers():
    """The parallelism of every command that runs pytest processes: one per core."""
    return os.cpu_count() or 1


def add_workers_option(parser):
    """``--workers N``, with the same default in every command."""
    parser.add_argument(
        "--workers",
        type=int,
        default=default_workers(),
        help=f"parallel pytest processes (default: one per core, here {default_workers()})",
    )


# --- student commands ---------------------------------------------------------------------------


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
        if len(args.modules or []) != 1:
            raise StudyguideError(
                "--watch follows one lab: name it, e.g. `studyguide progress 01-routing --watch`"
            )
        watch(args.modules[0], args.root, args.labs)
        return 0
    done = show_progress(args.modules or None, args.root, args.labs, workers=args.workers)
    return 0 if done else 1


def cmd_setup(args):
    """Set up JupyterLab for the course in the active environment."""
    from .jupyter_config import install_jupyter_config

    for path in install_jupyter_config(args.config_dir):
        print(f"wrote {path}")
    print("JupyterLab is set up for the course: start it with `jupyter lab` in this folder.")
    return 0


# --- instructor commands ------------------------------------------------------------------------


def cmd_generate(args):
    """Write labs/ from solutions/ and refresh the code included in the study-guide pages."""
    from .generate import write_lab, write_pages

    course = load_course(args.root)
    for module in modules_or_available(course, args.modules):
        count = write_lab(course, module)
        print(f"labs/{module.id}: {count} files generated from solutions/{module.id}")
    for page in write_pages(course):
        print(f"{page.relative_to(course.root)}: included code refreshed")
    return 0


def cmd_check(args):
    """Run the course's invariants and print each with its problems."""
    from .check import run_checks

    results = run_checks(
        args.root,
        notebooks=not args.skip_notebooks,
        release=not args.skip_release,
        workers=args.workers,
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


def release_plan(course, module_ids, out="OUT"):
    """The modules to release and what to tell the instructor about them.

    Without module ids only the first available module is released: lab NN holds the answers
    of lab NN-1, so later modules are released as the class reaches them.
    """
    if module_ids:
        modules = sorted(modules_or_available(course, module_ids), key=lambda m: m.number)
        notes = []
    else:
        modules = list(course.available[:1])
        if not modules:
            raise StudyguideError("no module is available yet: there is nothing to release")
        later = [m.id for m in course.available[1:]]
        notes = (
            [
                "Only the first module is released. Each lab starts from the finished lab before "
                "it, so release the next ones as the class reaches them, e.g. "
                f"`studyguide release {out} {modules[0].id} {later[0]} --force`."
            ]
            if later
            else []
        )
    from .release import earlier_answers_warning

    warning = earlier_answers_warning(course, modules)
    return modules, notes + ([warning] if warning else [])


def cmd_release(args):
    """Write the student edition of the course to a new folder and verify it leaks nothing."""
    from .release import build_release, release_leaks

    course = load_course(args.root)
    modules, notes = release_plan(course, args.modules, args.out)
    out = build_release(course, Path(args.out), [m.id for m in modules], force=args.force)
    leaks = release_leaks(course, out)
    for leak in leaks:
        print(f"LEAK {leak}")
    if leaks:
        return 1
    print(f"student edition of {', '.join(m.id for m in modules)} written to {out}")
    for note in notes:
        print(note)
    return 0


def cmd_gradescope(args):
    """Write the Gradescope autograder bundle of one module."""
    from .gradescope import build_bundle

    bundle = build_bundle(args.root, args.module, args.out, force=args.force)
    print(
        f"Gradescope bundle of {bundle.module_id} written to {bundle.folder}: graders of "
        f"{', '.join(bundle.grader_modules)}, {bundle.tests} tests, {bundle.points:g} points"
    )
    print(f"upload {bundle.archive} as the autograder of a Gradescope programming assignment")
    return 0


def cmd_mutate(args):
    """Run the graders on small bugs put into the solution code; report the ones nobody notices."""
    from .mutations import (
        EQUIVALENTS_FILE,
        FAILED_BY_TIME_LIMIT,
        PASSED,
        TIMED_OUT,
        format_table,
        run_mutations,
        write_report,
    )

    course = load_course(args.root)
    modules = modules_or_available(course, args.modules)
    reports = []

    def progress(done, total, mutant, verdict):
        if args.verbose:
            outcome = {PASSED: "SURVIVED", TIMED_OUT: "UNDECIDED (timed out)",
                       FAILED_BY_TIME_LIMIT: "caught by a time limit"}.get(verdict, "caught")
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
            f"{len(report.equivalent)} equivalent, {len(report.survived)} survived, "
            f"{len(report.timed_out)} undecided "
            f"({len(report.caught_by_time_limit)} caught only by a time limit): "
            f"score {report.score:.1%} in {report.seconds / 60:.1f} min",
            flush=True,
        )
        for mutant in report.survived:
            print(f"     - survived: solutions/{module.id}/{mutant.where}  id = {mutant.id!r}")
        for mutant in report.timed_out:
            print(f"     - undecided (the graders timed out): solutions/{module.id}/"
                  f"{mutant.where}  id = {mutant.id!r}")
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


# --- the parser ---------------------------------------------------------------------------------


def _drop_option(parser, dest):
    """Remove the optional argument storing ``dest`` from ``parser``."""
    for action in list(parser._actions):
        if action.dest == dest and action.option_strings:
            parser._remove_action(action)
            for group in parser._action_groups:
                if action in group._group_actions:
                    group._group_actions.remove(action)
            for option in action.option_strings:
                parser._option_string_actions.pop(option, None)


def _add_grade(sub):
    """``grade``, declared by the grading package, with this command line's module and workers."""
    from .grading.cli import add_grade_command

    grade = add_grade_command(sub)
    _drop_option(grade, "modules")
    _drop_option(grade, "workers")
    grade.add_argument("modules", nargs="*", help=f"{MODULES_HELP} (default: every available)")
    add_workers_option(grade)


def build_parser(edition="instructor"):
    """The argument parser of every subcommand of this edition."""
    parser = argparse.ArgumentParser(prog="studyguide", description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=None, help="course folder (default: found from cwd)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    listing = sub.add_parser("list", help="list the modules, their goals and which are available")
    listing.set_defaults(func=cmd_list)

    progress = sub.add_parser("progress", help="show your labs' progress, with hints")
    progress.add_argument("modules", nargs="*", help=f"{MODULES_HELP}; one shows it in detail")
    progress.add_argument("--labs", default="labs", help="folder of labs to measure (default labs)")
    progress.add_argument("--watch", action="store_true", help="re-run one lab on every save")
    add_workers_option(progress)
    progress.set_defaults(func=cmd_progress)

    if edition == "student":
        setup = sub.add_parser("setup", help="set up JupyterLab for the course (once)")
        setup.add_argument(
            "--config-dir", default=None, help="Jupyter config folder (default: the active venv's)"
        )
        setup.set_defaults(func=cmd_setup)
        return parser

    generate = sub.add_parser("generate", help="write labs/ from solutions/ and refresh pages")
    generate.add_argument("modules", nargs="*", help=f"{MODULES_HELP} (default: every available)")
    generate.set_defaults(func=cmd_generate)

    check = sub.add_parser("check", help="check every invariant of the course (slow)")
    check.add_argument("--skip-notebooks", action="store_true", help="skip nbgrader checks")
    check.add_argument("--skip-release", action="store_true", help="skip the release check")
    add_workers_option(check)
    check.set_defaults(func=cmd_check)

    mutate = sub.add_parser(
        "mutate", help="check that graders catch small bugs in the solutions (slow; instructors)"
    )
    mutate.add_argument("modules", nargs="*", help=f"{MODULES_HELP} (default: every available)")
    add_workers_option(mutate)
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

    release = sub.add_parser("release", help="write the student edition to a folder")
    release.add_argument("out", help="a new folder (or an earlier release, with --force)")
    release.add_argument(
        "modules", nargs="*", help=f"{MODULES_HELP} to release (default: the first module only)"
    )
    release.add_argument("--force", action="store_true", help="replace an earlier release there")
    release.set_defaults(func=cmd_release)

    _add_grade(sub)

    gradescope = sub.add_parser(
        "gradescope", help="write a Gradescope autograder bundle for one module's lab"
    )
    gradescope.add_argument("module", help="module id or number, e.g. 03-crud-api or 03")
    gradescope.add_argument(
        "--out", required=True, help="bundle folder to write (its zip goes beside it)"
    )
    gradescope.add_argument("--force", action="store_true", help="replace an earlier bundle there")
    gradescope.set_defaults(func=cmd_gradescope)
    return parser


def command_list(parser):
    """The commands of ``parser``, one line each."""
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    width = max(len(name) for name in sub.choices)
    lines = [f"  {a.dest:<{width}}  {a.help}" for a in sub._choices_actions]
    return "\n".join(lines)


def _edition(argv):
    """The edition of the course the command runs in ("instructor" outside any course)."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--root", default=None)
    known, _ = pre.parse_known_args(argv)
    try:
        return load_course(find_course_root(known.root)).edition
    except StudyguideError:
        return "instructor"


def main(argv=None):
    """Entry point of the ``studyguide`` console script."""
    argv = sys.argv[1:] if argv is None else list(argv)
    edition = _edition(argv)
    parser = build_parser(edition)
    args = parser.parse_args(argv)
    if args.command is None:
        print(f"usage: studyguide [--root ROOT] COMMAND ...  ({edition} edition)\n")
        print("commands:")
        print(command_list(parser))
        print("\n`studyguide COMMAND --help` shows the options of one command.")
        return 0
    if getattr(args, "modules", None) == []:
        args.modules = None
    try:
        args.root = str(find_course_root(args.root))
        code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below
        return code
    except StudyguideError as exc:
        print(f"studyguide: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader left early (``studyguide progress | head``): stop quietly, as cat does.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
