"""The trusted side of the channel to the student's process (see ``lab_server.py``).

The grader process (pytest with the hidden graders, trusted) never imports the student's
package. It starts :class:`LabProcess`, which runs ``lab_server.py`` on the lab, sandboxed when
``LabSpec.sandboxed`` is set, and asks it questions over pipes: one JSON line per request and
per reply, replies capped at :data:`MAX_REPLY` bytes and awaited until a deadline. A reply that
does not come in time, or a process that ends, raises :class:`StudentCrash`; the process is
killed (its process group and its cgroup) and the next test starts a new one.

Three ways to run the lab server:

- plain (``studyguide check`` on the instructor's own solutions and skeletons): a subprocess;
- sandboxed, as root with namespaces: ``unshare`` + ``sandbox_boot.py`` give it a private
  read-only root holding only the lab copy, the lab server and Python, no network, a fresh user
  id and limits (:mod:`studyguide.grading.sandbox`);
- sandboxed without root: the same limits, but the process runs as the instructor's user.
"""

import json
import os
import select
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from studyguide.grading import sandbox
from studyguide.grading.processes import kill_group, start_group

SERVER_SCRIPT = Path(__file__).with_name("lab_server.py")
BOOT_SCRIPT = Path(__file__).with_name("sandbox_boot.py")
MAX_REPLY = 16 * 1024 * 1024 + 1024
#: The environment variable naming the JSON file of the :class:`LabSpec` a grader run uses.
SPEC_VARIABLE = "STUDYGUIDE_LAB_SPEC"
#: How long importing the student's package may take.
IMPORT_SECONDS = 20
SCRATCH = ("home", "tmp", "data")


@dataclass
class LabSpec:
    """Which lab the graders talk to, and how its process is kept apart (JSON-serialisable)."""

    lab: str  # the folder holding the package (a private copy when sandboxed)
    package: str = "bookshelf"
    python: str = sys.executable
    sandboxed: bool = False
    box: str | None = None  # the run's private folder (sandboxed only)
    test_seconds: float = 10
    memory_mb: int = 1024
    processes: int = 64
    # {grader module id: configuration added to the app when that module's graders run}
    module_configs: dict = field(default_factory=dict)
    # Names the run's cgroups (see sandbox.remove_cgroups).
    cgroup_tag: str = ""

    def save(self, path):
        """Write the spec as JSON to ``path``; return the path."""
        Path(path).write_text(json.dumps(asdict(self)), encoding="utf-8")
        return Path(path)

    @classmethod
    def load(cls, path):
        """Read a spec written by :meth:`save`."""
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


class StudentCrash(Exception):
    """The student's process stopped answering or ended; the message says how."""


class _Limits:
    """The limits :class:`sandbox.ProcessJail` reads."""

    def __init__(self, spec):
        self.memory_mb = spec.memory_mb
        self.processes = spec.processes


def prepare_box(spec):
    """Lay out a sandboxed run's folder around the lab copy: scratch folders, the server."""
    box = Path(spec.box)
    for name in (*SCRATCH, "server", "newroot"):
        (box / name).mkdir(parents=True, exist_ok=True)
    (Path(spec.lab) / "instance").mkdir(exist_ok=True)
    shutil.copyfile(SERVER_SCRIPT, box / "server" / "lab_server.py")
    for folder in (box, *(box / n for n in (*SCRATCH, "server", "newroot"))):
        os.chmod(folder, 0o755)


class LabProcess:
    """One running lab server; :meth:`ask` sends a request and waits for its reply."""

    def __init__(self, spec, scratch_dir):
        self.spec = spec
        self.scratch_dir = Path(scratch_dir)  # plain runs: the data folder and the log
        self.proc = None
        self.jail = None
        self.namespaced = False
        self._buffer = b""
        self._log_path = None
        #: The time a request may take, named in the message when it runs out.
        self.limit_seconds = spec.test_seconds

    # --- starting ----------------------------------------------------------------------------

    def _plain_command(self):
        data = self.scratch_dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        self.data_folder = str(data)
        python = shutil.which(self.spec.python) or self.spec.python
        return [python, "-I", "-B", str(SERVER_SCRIPT), self.spec.lab, self.spec.package]

    def _sandboxed_command(self):
        box = Path(self.spec.box)
        python = str(Path(shutil.which(self.spec.python) or self.spec.python).absolute())
        boot = [*self.jail.boot_args()]
        env = ["PATH=/usr/bin:/bin", "LANG=C.UTF-8", "LC_ALL=C.UTF-8"]
        prefix = sandbox.namespace_prefix()
        if prefix:
            self.namespaced = True
            self.data_folder = "/data"
            for folder in sandbox.python_folders(python):
                boot += ["--bind", f"{folder}:{folder}"]
            boot += ["--bind", f"{self.spec.lab}:/lab", "--bind", f"{box / 'server'}:/srv",
                     "--root", str(box / "newroot")]
            for folder in ("/home", "/tmp", "/data", "/lab/instance"):
                boot += ["--scratch", folder]
            boot += ["--user", str(sandbox.sandbox_uid()), "--chdir", "/home"]
            env += ["HOME=/home", "TMPDIR=/tmp"]
            server = ["/srv/lab_server.py", "/lab"]
        else:
            self.data_folder = str(box / "data")
            boot += ["--chdir", str(box / "home")]
            env += [f"HOME={box / 'home'}", f"TMPDIR={box / 'tmp'}"]
            server = [str(box / "server" / "lab_server.py"), self.spec.lab]
        for item in env:
            boot += ["--env", item]
        return [*sandbox.parent_death_prefix(), *prefix, python, "-I", "-B", str(BOOT_SCRIPT),
                *boot, "--", python, "-I", "-B", *server, self.spec.package]

    def start(self):
        """Start the lab server (not yet importing the student's package)."""
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        if self.spec.sandboxed:
            self.jail = sandbox.ProcessJail(_Limits(self.spec), self.spec.cgroup_tag).__enter__()
            command = self._sandboxed_command()
            cwd = self.spec.box
        else:
            command = self._plain_command()
            cwd = str(self.scratch_dir)
        self._log_path = self.scratch_dir / f"student-{time.monotonic_ns()}.log"
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
               "HOME": str(self.scratch_dir), "PYTHONDONTWRITEBYTECODE": "1"}
        with open(self._log_path, "wb") as log:
            self.proc = start_group(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                cwd=cwd, env=env,
            )
        os.set_blocking(self.proc.stdout.fileno(), False)
        self._buffer = b""

    @property
    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def host_path(self, inner):
        """Where the grader finds a file the student's process names ``inner``."""
        if not self.namespaced:
            return inner
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        return f"/proc/{children.split()[0]}/root{inner}"

    # --- talking -----------------------------------------------------------------------------

    def ask(self, request, deadline, what="the app"):
        """Send ``request`` and return its reply; StudentCrash when none comes by ``deadline``."""
        if not self.alive:
            raise StudentCrash(self._ended(f"{what} is not running"))
        try:
            self._send(json.dumps(request).encode() + b"\n", deadline, what)
            line = self._receive(deadline, what)
        except StudentCrash:
            self.close()
            raise
        try:
            reply = json.loads(line)
        except (ValueError, RecursionError):
            reply = None
        if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
            self.close()
            raise StudentCrash(f"{what} sent a malformed answer; its process was stopped")
        return reply

    def _send(self, data, deadline, what):
        fd = self.proc.stdin.fileno()
        while data:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StudentCrash(self._late(what))
            _, writable, _ = select.select([], [fd], [], remaining)
            if writable:
                try:
                    data = data[os.write(fd, data[:65536]):]
                except (BrokenPipeError, OSError):
                    raise StudentCrash(self._ended(f"{what} stopped")) from None

    def _receive(self, deadline, what):
        fd = self.proc.stdout.fileno()
        while b"\n" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise StudentCrash(self._late(what))
            readable, _, _ = select.select([fd], [], [], remaining)
            if not readable:
                continue
            try:
                chunk = os.read(fd, 1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                raise StudentCrash(self._ended(f"{what} stopped"))
            self._buffer += chunk
            if len(self._buffer) > MAX_REPLY:
                raise StudentCrash(f"{what} sent an answer larger than {MAX_REPLY} bytes")
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def _late(self, what):
        return f"{what} did not answer within {self.limit_seconds:g} s; its process was stopped"

    def _ended(self, text):
        """``text`` plus the exit status and the last lines the student's process printed."""
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        code = self.proc.returncode
        status = "" if code is None else f" (exit status {code})"
        return f"{text}{status}{self.output_tail()}"

    def output_tail(self, lines=15):
        """The last lines the student's process printed, indented, or ''."""
        try:
            with open(self._log_path, "rb") as log:
                log.seek(max(0, os.path.getsize(self._log_path) - 4000))
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return ""
        tail = [line for line in text.splitlines() if line.strip()][-lines:]
        return "; it printed:\n" + "\n".join("    " + t for t in tail) if tail else ""

    # --- stopping ----------------------------------------------------------------------------

    def close(self):
        """Kill the process group (and cgroup): nothing the student started survives."""
        if self.proc is not None:
            if self.jail is not None:
                self.jail.kill_all(self.proc)
            kill_group(self.proc)
            for pipe in (self.proc.stdin, self.proc.stdout):
                try:
                    pipe.close()
                except OSError:
                    pass
        if self.jail is not None:
            self.jail.__exit__(None, None, None)
            self.jail = None
