"""Operating-system limits around one sandboxed grading process.

``ProcessJail`` is used as a context manager around one ``subprocess.Popen``: its ``enter``
method is the ``preexec_fn`` (it runs in the child between fork and exec) and ``kill_all`` ends
every process the run started. Limits, strongest first where the machine allows them:

- a fresh pids cgroup with ``pids.max`` (holds for a fork bomb, even as root), else
  ``RLIMIT_NPROC`` (per user; the kernel ignores it for root);
- its own session and process group, killed as a whole; the cgroup catches processes that
  left the group with ``setsid``;
- ``RLIMIT_AS`` (memory), ``RLIMIT_FSIZE``, no core files;
- a private, empty network namespace when the process may create one (root); the boot script
  blocks sockets in Python as well.
"""

import ctypes
import os
import resource
import secrets
import signal
import time
from pathlib import Path

CLONE_NEWNET = 0x40000000
CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))
MAX_FILE_SIZE = 64 * 1024 * 1024
# Resolved in the parent: loading a library between fork and exec is not safe.
try:
    _LIBC = ctypes.CDLL(None, use_errno=True)
except OSError:
    _LIBC = None


def _pids_cgroup_root():
    """The first writable cgroup hierarchy with the pids controller, or None."""
    for root in CGROUP_ROOTS:
        if (root / "pids.max").exists() or (root / "cgroup.procs").exists():
            controllers = root / "cgroup.controllers"
            if controllers.exists() and "pids" not in controllers.read_text().split():
                continue
            if controllers.exists():
                subtree = root / "cgroup.subtree_control"
                if "pids" not in subtree.read_text().split():
                    continue
            if os.access(root, os.W_OK):
                return root
    return None


def _count_user_processes(uid):
    """How many processes the user ``uid`` has now (RLIMIT_NPROC counts them all)."""
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count


class ProcessJail:
    """Limits for one child process tree; see the module docstring."""

    def __init__(self, limits):
        self.limits = limits
        self.cgroup = None
        self.nproc = None

    def __enter__(self):
        root = _pids_cgroup_root()
        if root is not None:
            cgroup = root / f"studyguide-grade-{secrets.token_hex(6)}"
            try:
                cgroup.mkdir()
                (cgroup / "pids.max").write_text(str(self.limits.processes))
                self.cgroup = cgroup
            except OSError:
                self._remove_cgroup(cgroup)
        if self.cgroup is None and os.getuid() != 0:
            self.nproc = _count_user_processes(os.getuid()) + self.limits.processes
        return self

    def __exit__(self, *exc_info):
        if self.cgroup is not None:
            self._kill_cgroup()
            self._remove_cgroup(self.cgroup)
        return False

    @property
    def holds_fork_bomb(self):
        """True when the process limit is enforced by the kernel for this run."""
        return self.cgroup is not None or self.nproc is not None

    def enter(self):
        """Run in the child before exec: session, cgroup, rlimits, network namespace."""
        os.setsid()
        if self.cgroup is not None:
            with open(self.cgroup / "cgroup.procs", "w") as procs:
                procs.write("0")
        memory = self.limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_SIZE, MAX_FILE_SIZE))
        if self.nproc is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (self.nproc, self.nproc))
        _try_private_network()

    def kill_all(self, proc):
        """Kill the child's process group and everything left in its cgroup."""
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.cgroup is not None:
            self._kill_cgroup()

    def _kill_cgroup(self, attempts=200):
        """Kill every process in the cgroup until it is empty (a bomb may still be forking)."""
        procs = self.cgroup / "cgroup.procs"
        for _ in range(attempts):
            try:
                pids = [int(p) for p in procs.read_text().split()]
            except OSError:
                return
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.01)

    @staticmethod
    def _remove_cgroup(cgroup):
        """Remove an (empty) cgroup folder, retrying while the kernel reaps its last tasks."""
        for _ in range(100):
            try:
                cgroup.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.02)


def _try_private_network():
    """Move the calling process into a new, empty network namespace when allowed."""
    if _LIBC is not None and hasattr(_LIBC, "unshare"):
        _LIBC.unshare(CLONE_NEWNET)
