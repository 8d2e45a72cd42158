"""Operating-system limits and isolation around one sandboxed process (a lab server, nbgrader).

``ProcessJail`` is used as a context manager around one ``subprocess.Popen``: ``boot_args``
tells the boot script (:mod:`studyguide.grading.sandbox_boot`) which limits to apply to itself
before any student code runs, and ``kill_all`` ends every process the run started. Limits,
strongest first where the machine allows them:

- a fresh pids cgroup with ``pids.max`` (holds for a fork bomb, even as root), else
  ``RLIMIT_NPROC`` (per user; the kernel ignores it for root);
- its own session and process group, killed as a whole; the cgroup catches processes that
  left the group with ``setsid``;
- ``RLIMIT_AS`` (memory), ``RLIMIT_FSIZE``, no core files;
- when run as root with ``unshare`` (:func:`namespace_prefix`): fresh mount, pid, ipc, uts and
  network namespaces. The boot script then builds a private read-only root holding only what
  :func:`python_folders` names plus the run's own folders, and drops to a fresh user id
  (:func:`sandbox_uid`) that owns nothing. Without namespaces, limits and a separate process
  are all there is: :func:`isolation_summary` says which a run had.

A student process that must serve HTTP and reach a database (module 07's gunicorn and
migrations) gets a :class:`NetworkNamespace` made by the trusted side instead of an empty one
(:func:`namespace_prefix_joining_network`, ``--netns``): still no route to the machine's
network, but the trusted side can open sockets inside it, and :class:`Relay` joins exactly the
connections it chooses (its database port in, the student's HTTP port out).
"""

import contextlib
import ctypes
import functools
import itertools
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

from studyguide.grading.processes import kill_group

NAMESPACES = [
    "--mount",
    "--net",
    "--ipc",
    "--uts",
    "--pid",
    "--fork",
    "--kill-child",
    "--mount-proc",
]
CGROUP_PREFIX = "studyguide-grade-"
CGROUP_ROOTS = (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup"))
MAX_FILE_SIZE = 64 * 1024 * 1024


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

    def __init__(self, limits, tag=""):
        self.limits = limits
        self.tag = tag  # names the run's cgroups, so remove_cgroups(tag) finds them
        self.cgroup = None
        self.nproc = None

    def __enter__(self):
        root = _pids_cgroup_root()
        if root is not None:
            cgroup = root / f"{CGROUP_PREFIX}{self.tag}{secrets.token_hex(6)}"
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

    def boot_args(self):
        """Options telling the boot script which limits to put on itself before anything runs.

        The child applies them itself (no ``preexec_fn``: the runner may be called from several
        threads, and running Python between fork and exec is unsafe there).
        """
        args = [
            "--memory-bytes",
            str(self.limits.memory_mb * 1024 * 1024),
            "--file-bytes",
            str(MAX_FILE_SIZE),
        ]
        if self.cgroup is not None:
            args += ["--cgroup", str(self.cgroup)]
        if self.nproc is not None:
            args += ["--nproc", str(self.nproc)]
        return args

    def kill_all(self, proc):
        """Kill the child's process group and everything left in its cgroup."""
        kill_group(proc)
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


def remove_cgroups(tag):
    """Kill and remove every cgroup of a run named by ``tag`` that is still there.

    A grader process killed by its wall clock cannot clean up the cgroups of the student
    processes it started; the runner calls this afterwards.
    """
    root = _pids_cgroup_root()
    if root is None or not tag:
        return
    for cgroup in root.glob(f"{CGROUP_PREFIX}{tag}*"):
        jail = ProcessJail(None)
        jail.cgroup = cgroup
        jail._kill_cgroup()
        ProcessJail._remove_cgroup(cgroup)


@functools.cache
def namespace_prefix():
    """The ``unshare`` command line that puts a run in fresh namespaces, or [] when unavailable.

    Needs root (for the mounts the boot script makes) and a kernel that allows the namespaces;
    probed once per process.
    """
    unshare = shutil.which("unshare", path="/usr/bin:/bin:/usr/sbin:/sbin")
    if os.geteuid() != 0 or unshare is None:
        return []
    try:
        probe = subprocess.run([unshare, *NAMESPACES, "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [unshare, *NAMESPACES] if probe.returncode == 0 else []


def namespace_prefix_joining_network():
    """:func:`namespace_prefix` without a fresh network namespace: the boot script joins the
    :class:`NetworkNamespace` it is given (``--netns``). [] when namespaces are unavailable."""
    return [part for part in namespace_prefix() if part != "--net"]


@functools.cache
def parent_death_prefix():
    """``setpriv --pdeathsig KILL``: the sandbox dies with the process that started it.

    Without it, a grader process killed by its wall clock would leave a looping student
    process behind. [] where ``setpriv`` is missing or too old (the wall clock still kills the
    grader process, and a lab server exits when its channel closes).
    """
    setpriv = shutil.which("setpriv", path="/usr/bin:/bin:/usr/sbin:/sbin")
    if setpriv is None:
        return []
    try:
        probe = subprocess.run([setpriv, "--pdeathsig", "KILL", "true"], capture_output=True,
                               timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [setpriv, "--pdeathsig", "KILL"] if probe.returncode == 0 else []


#: Folders of the machine a sandboxed Python needs besides its own environment.
SYSTEM_FOLDERS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin")
#: Sandboxed processes run as a fresh user id from here on: one that owns no file anywhere.
FIRST_SANDBOX_UID = 200_000
_uids = itertools.count(FIRST_SANDBOX_UID + (os.getpid() % 1000) * 1000)


def sandbox_uid():
    """A user id no other running sandbox of this process has, owning nothing on the machine."""
    return FIRST_SANDBOX_UID + (next(_uids) - FIRST_SANDBOX_UID) % 1_000_000


@functools.cache
def python_folders(python):
    """The folders a sandboxed ``python`` needs: its environment, its base install, the system.

    Only these are mounted (read-only) in the sandbox's file system. A virtual environment
    inside the course folder is mounted alone: the rest of the course is not.
    """
    probe = subprocess.run(
        [python, "-I", "-c",
         "import os, sys; print('\\n'.join([sys.prefix, sys.base_prefix, sys.exec_prefix, "
         "sys.base_exec_prefix, os.path.dirname(os.path.realpath(sys.executable))]))"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    wanted = [Path(p) for p in probe.stdout.split()] + [Path(p) for p in SYSTEM_FOLDERS]
    folders = []
    for folder in sorted({p for p in wanted if p.is_dir() and p != Path("/")},
                         key=lambda p: len(p.parts)):
        if not any(folder == f or f in folder.parents for f in folders):
            folders.append(folder)
    return tuple(str(f) for f in folders)


def isolation_summary():
    """How strongly student code is kept apart from the grader on this machine, in words."""
    if namespace_prefix():
        return ("namespaces (mount, pid, net, ipc, uts), a private read-only root with only the "
                "lab copy and Python, a user id that owns nothing, limits")
    return ("process limits only (no root or no namespaces: the student's app runs as your user; "
            "the verdict still comes from the separate grader process)")


# --- a network namespace the trusted side owns (module 07: HTTP out, PostgreSQL in) -----------

CLONE_NEWNET = 0x40000000
RELAY_CHUNK = 65536


def _in_thread(function):
    """Run ``function`` in a new thread and return its result (or raise its exception).

    A network namespace is a property of a thread: a short-lived thread can enter one, make a
    socket (which stays in that namespace for good) and end, leaving the caller where it was.
    """
    outcome = {}

    def run():
        try:
            outcome["value"] = function()
        except BaseException as exc:  # handed to the caller
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _check(result, what):
    """Raise OSError with errno's message when a libc call returned non-zero."""
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what}: {os.strerror(number)}")


class NetworkNamespace:
    """A new, empty network namespace with its loopback up, held open by the trusted side.

    A sandboxed process joins it (``sandbox_boot.py --netns FD``, pass ``descriptor`` to the
    child); it reaches nothing of the machine's network. :meth:`socket` makes a socket inside
    it in the trusted process, for :class:`Relay`. Needs root. Closed with :meth:`close` (the
    namespace ends when its last process and socket are gone).
    """

    def __init__(self):
        from studyguide.grading.sandbox_boot import loopback_up

        libc = ctypes.CDLL(None, use_errno=True)

        def create():
            _check(libc.unshare(CLONE_NEWNET), "unshare")
            loopback_up()
            return os.open("/proc/thread-self/ns/net", os.O_RDONLY)

        self._libc = libc
        self.descriptor = _in_thread(create)

    def socket(self, family=socket.AF_INET, kind=socket.SOCK_STREAM):
        """A new socket that lives in this namespace."""

        def create():
            _check(self._libc.setns(self.descriptor, CLONE_NEWNET), "setns")
            return socket.socket(family, kind)

        return _in_thread(create)

    def connect(self, address, timeout=5):
        """A TCP connection to ``address`` as seen from inside the namespace."""
        sock = self.socket()
        sock.settimeout(timeout)
        try:
            sock.connect(address)
        except OSError:
            sock.close()
            raise
        sock.settimeout(None)
        return sock

    def listen(self, address):
        """A listening TCP socket on ``address`` inside the namespace."""
        sock = self.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(16)
        return sock

    def close(self):
        """Let the namespace go (it ends with its last process and socket)."""
        if self.descriptor is not None:
            os.close(self.descriptor)
            self.descriptor = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
        return False


class Relay:
    """Joins every connection accepted on ``listener`` to a new one from ``connect()``.

    Runs in daemon threads of the trusted process and only copies bytes. Typical use: a
    listener inside a :class:`NetworkNamespace` relayed to one server of the machine (the
    student's app reaches that server and nothing else), or a listener on the machine's
    loopback relayed into the namespace (the grader reaches the student's server).
    """

    def __init__(self, listener, connect):
        self.listener = listener
        self.connect = connect
        self._open = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)
        self._thread.start()

    @property
    def address(self):
        """The (host, port) the relay listens on."""
        return self.listener.getsockname()[:2]

    def _accept_loop(self):
        while not self._stopped.is_set():
            try:
                readable, _, _ = select.select([self.listener], [], [], 0.2)
                if not readable:
                    continue
                incoming, _ = self.listener.accept()
            except (OSError, ValueError):
                return
            try:
                outgoing = self.connect()
            except OSError:
                incoming.close()  # the other side is not there: the client sees the refusal
                continue
            pair = [incoming, outgoing, 2]  # two sockets, two directions still running
            with self._lock:
                self._open |= {incoming, outgoing}
            for source, target in ((incoming, outgoing), (outgoing, incoming)):
                threading.Thread(target=self._pump, args=(source, target, pair),
                                 daemon=True).start()

    def _pump(self, source, target, pair):
        """Copy ``source`` to ``target`` until ``source`` ends; the last direction closes both."""
        try:
            while True:
                data = source.recv(RELAY_CHUNK)
                if not data:
                    break
                target.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)
        with self._lock:
            pair[2] -= 1
            last = pair[2] == 0
            if last:
                self._open -= {pair[0], pair[1]}
        if last:
            pair[0].close()
            pair[1].close()

    def close(self):
        """Stop accepting and cut every connection still open."""
        self._stopped.set()
        self._thread.join(timeout=5)
        self.listener.close()
        with self._lock:
            still_open, self._open = self._open, set()
        for sock in still_open:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
