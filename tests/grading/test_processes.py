"""The one helper that starts a child process: its whole group ends with it."""

import os
import sys
import time

from studyguide.grading.processes import run_group

SPAWNS_AND_HANGS = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(child.pid, flush=True)
time.sleep(600)
"""


def test_a_timed_out_run_ends_with_every_process_it_started():
    started = time.monotonic()
    finished = run_group([sys.executable, "-c", SPAWNS_AND_HANGS], timeout=3)
    assert finished.timed_out and finished.returncode == -1
    assert time.monotonic() - started < 15
    grandchild = int(finished.output.split()[0])
    time.sleep(0.5)
    assert not os.path.exists(f"/proc/{grandchild}") or "Z" in open(
        f"/proc/{grandchild}/stat").read().rsplit(")", 1)[1].split()[0]


def test_a_finished_run_reports_its_status_and_output():
    finished = run_group([sys.executable, "-c", "print('hi'); raise SystemExit(3)"], timeout=30)
    assert (finished.returncode, finished.output, finished.timed_out) == (3, "hi\n", False)
