"""The one way the course tool starts a child process: in its own process group, killed whole.

A test run, a sandboxed student process or ``nbgrader`` may start children of its own (a Flask
reloader, a Jupyter kernel, a daemon left behind by a notebook). Killing only the direct child
leaves those running, holding pipes open or writing files later. Every child started here gets
its own session (so its own process group) and :func:`kill_group` ends the whole group.
"""

import os
import signal
import subprocess
from dataclasses import dataclass


def start_group(command, **popen_kwargs):
    """``subprocess.Popen(command)`` as the leader of a new session and process group."""
    return subprocess.Popen(command, start_new_session=True, **popen_kwargs)


def kill_group(proc):
    """Kill ``proc``'s whole process group, then reap ``proc`` itself."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except ProcessLookupError:
        pass
    proc.wait()


@dataclass
class Finished:
    """What a process run to its end (or to its time limit) left behind."""

    returncode: int
    output: str
    timed_out: bool


def run_group(command, *, timeout, **popen_kwargs):
    """Run ``command`` to its end or ``timeout`` seconds; its group is killed either way.

    Standard output and error are captured together as text. A timed-out run has returncode -1.
    """
    proc = start_group(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        **popen_kwargs,
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        kill_group(proc)
        timed_out = True
        try:  # a daemon that left the group may still hold the pipe: do not wait for it
            output, _ = proc.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            output = ""
    finally:
        kill_group(proc)
    return Finished(-1 if timed_out else proc.returncode, output or "", timed_out)
