"""Time the course's own checks: the whole checker, and one learner's lab check.

    python benchmarks/check_benchmark.py [--repeat 3] [--skip-notebooks]

Prints, for each measured command, the best and median wall-clock time over the repeats.
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def timed(command, cwd):
    """Run ``command`` in ``cwd``; return its wall-clock seconds and exit code."""
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, proc.returncode


def measure(label, command, cwd, repeat):
    """Run a command ``repeat`` times and print its timings."""
    runs = [timed(command, cwd) for _ in range(repeat)]
    seconds = [s for s, _ in runs]
    codes = sorted({code for _, code in runs})
    print(
        f"{label:<44} best {min(seconds):6.1f} s   median {statistics.median(seconds):6.1f} s"
        f"   exit {codes}"
    )


def main():
    """Measure the checker and the lab checks a learner runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-notebooks", action="store_true")
    args = parser.parse_args()
    cli = [sys.executable, "-m", "studyguide.cli"]
    check = [*cli, "check"] + (["--skip-notebooks"] if args.skip_notebooks else [])
    measure("studyguide check (whole course)", check, REPO, 1)
    for lab in ("01-routing", "03-crud-api"):
        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
        measure(f"pytest in labs/{lab} (skeleton)", pytest, REPO / "labs" / lab, args.repeat)
        measure(f"pytest in solutions/{lab}", pytest, REPO / "solutions" / lab, args.repeat)
        measure(f"studyguide progress {lab}", [*cli, "progress", lab], REPO, args.repeat)
    measure("studyguide progress (all nine modules)", [*cli, "progress"], REPO, args.repeat)


if __name__ == "__main__":
    main()
