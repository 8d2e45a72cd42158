"""Put this process in the grading sandbox, then become the command to run; run as a script
(the trusted side imports only :func:`loopback_up`, for ``sandbox.NetworkNamespace``).

The trusted side starts ``python -I -B sandbox_boot.py [OPTIONS] -- COMMAND...`` (under
``unshare`` when the machine allows namespaces, see :mod:`studyguide.grading.sandbox`). Before
``COMMAND`` runs, and so before any student code, this script:

- joins the run's pids cgroup (``--cgroup``) and sets resource limits (``--memory-bytes``,
  ``--file-bytes``, ``--nproc``) that every later process inherits;
- with ``--root NEWROOT`` (as root, in fresh mount, pid, ipc, uts and network namespaces):
  builds a new, read-only root file system on an empty tmpfs holding only the ``--bind``
  folders (``SOURCE:TARGET``: the Python environment, the lab copy, the lab server), ``/proc``
  of its own pid namespace, ``/dev/null`` and friends, and small writable tmpfs ``--scratch``
  folders; then ``chroot``s into it. The instructor's course, its ``.git``, the graders, the
  solutions, the submissions, the output folder and every other sandbox simply do not exist in
  that tree (they are not hidden by name: they were never mounted);
- ``--bind-rw SOURCE:TARGET`` mounts a folder writable (nbgrader's private course copy);
  ``--netns FD`` joins the network namespace open as file descriptor ``FD`` (one the trusted
  side made, see :class:`studyguide.grading.sandbox.NetworkNamespace`) instead of a fresh
  empty one; ``--loopback`` brings up the loopback interface of the empty network namespace
  (Jupyter's kernels talk to nbgrader over 127.0.0.1, and to nothing else);
- with ``--user UID`` (``auto``: a fresh user id): drops to that user and group (one that owns
  no file on the machine), with no supplementary groups, no capabilities and
  ``no_new_privs``. ``--copy-for-user PATH`` first copies the root-only file ``PATH`` (a
  kernel's connection file) to one that user can read, and names the copy in ``COMMAND``;
- with ``--bound-caps 0,1,...`` instead (nbgrader, which must start kernels as other users):
  stays root but keeps only those capabilities (no mounting, no chroot escape, no tracing);
- ``exec``s ``COMMAND`` with a minimal environment.

This file must stay self-contained: only the standard library.
"""

import ctypes
import os
import resource
import sys

# Mount flags and prctl constants from <sys/mount.h> and <linux/prctl.h>.
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS, PR_SET_DUMPABLE, PR_SET_PDEATHSIG = 38, 4, 1
SIGKILL = 9
#: Each writable folder of a run (home, tmp, data, Flask's instance folder) holds at most this.
SCRATCH_OPTIONS = "size=128m,mode=1777"
DEVICES = ("null", "zero", "urandom", "random")

VALUE_OPTIONS = ("--memory-bytes", "--file-bytes", "--cgroup", "--nproc", "--root", "--user",
                 "--chdir", "--copy-for-user", "--bound-caps", "--netns")
LIST_OPTIONS = ("--bind", "--bind-rw", "--scratch", "--env")
FLAG_OPTIONS = ("--loopback",)
PR_CAPBSET_DROP = 24
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
CLONE_NEWNET = 0x40000000


def _libc():
    """The C library, for mount(2) and prctl(2)."""
    return ctypes.CDLL(None, use_errno=True)


def _encode(value):
    """A C string argument: bytes, or NULL for None."""
    return None if value is None else os.fsencode(value)


def _mount(libc, source, target, fstype, flags, data=None):
    """Call mount(2); raise OSError on failure."""
    arguments = (_encode(source), _encode(target), _encode(fstype))
    if libc.mount(*arguments, ctypes.c_ulong(flags), _encode(data)) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"mount {target}: {os.strerror(number)}")


def _inside(path, folder):
    """True when ``path`` is ``folder`` or below it."""
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _mount_points():
    """Every mount point of this namespace, outermost first."""
    points = []
    with open("/proc/self/mountinfo", encoding="utf-8") as handle:
        for line in handle:
            field = line.split()[4]
            points.append(field.encode().decode("unicode_escape"))
    return points


def build_root(root, binds, scratch, writable=()):
    """Make ``root`` a new read-only tree holding only ``binds``, ``scratch``, /proc and /dev;
    the ``writable`` binds stay writable."""
    libc = _libc()
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)  # nothing done here leaks out
    _mount(libc, "tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    # A scratch folder below a bind (the lab's instance folder) goes on top of that bind; the
    # others go first, so a bind below one of them (a venv under /tmp) is not hidden by it.
    targets = [target for _source, target in [*binds, *writable]]
    late = [f for f in scratch if any(_inside(f, t) and f != t for t in targets)]
    scratch_points = [root + folder for folder in scratch]
    for folder in scratch:
        os.makedirs(root + folder, exist_ok=True)
        if folder not in late:
            _mount(libc, "tmpfs", root + folder, "tmpfs", MS_NOSUID | MS_NODEV, SCRATCH_OPTIONS)
    for source, target in [*binds, *writable]:
        inside = root + target
        if os.path.isdir(source):
            os.makedirs(inside, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(inside), exist_ok=True)
            open(inside, "a").close()
        _mount(libc, source, inside, None, MS_BIND | MS_REC)
    for folder in late:
        os.makedirs(root + folder, exist_ok=True)  # inside its bind, before it is read-only
    os.makedirs(root + "/dev", exist_ok=True)
    for device in DEVICES:
        open(f"{root}/dev/{device}", "a").close()
        _mount(libc, f"/dev/{device}", f"{root}/dev/{device}", None, MS_BIND)
    os.makedirs(root + "/proc", exist_ok=True)
    _mount(libc, "proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    # Read-only from the top down, except the writable binds and the scratch folders themselves.
    keep_writable = [root + target for _source, target in writable]
    for point in _mount_points():
        if any(_inside(point, w) for w in keep_writable) or point in scratch_points:
            continue
        if _inside(point, root) and not _inside(point, root + "/proc"):
            flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID
            if not point.startswith(root + "/dev/"):
                flags |= MS_NODEV
            _mount(libc, None, point, None, flags)
    for folder in late:
        _mount(libc, "tmpfs", root + folder, "tmpfs", MS_NOSUID | MS_NODEV, SCRATCH_OPTIONS)
    os.chroot(root)
    os.chdir("/")


def loopback_up():
    """Bring up ``lo`` in this (empty) network namespace."""
    import fcntl
    import socket
    import struct

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as handle:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(handle, SIOCGIFFLAGS, request)[:18])[1]
        fcntl.ioctl(handle, SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | IFF_UP))


def join_network(descriptor):
    """Move this process into the network namespace open as ``descriptor``, then close it."""
    if _libc().setns(descriptor, CLONE_NEWNET) != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"setns: {os.strerror(number)}")
    os.close(descriptor)


def bound_capabilities(keep):
    """Drop every capability but ``keep`` from the bounding set: the next exec keeps no other."""
    libc = _libc()
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    for capability in range(64):
        if capability not in keep and libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            break


def fresh_uid():
    """A user id from a range no account uses, different for every call in practice."""
    return 300_000 + int.from_bytes(os.urandom(3), "big") % 1_000_000


def copy_for_user(path, uid):
    """Copy the root-only file ``path`` to a file only ``uid`` can read; return the copy."""
    with open(path, "rb") as handle:
        data = handle.read()
    copy = f"/tmp/.kernel-{uid}-{os.path.basename(path)}"
    descriptor = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    os.chown(copy, uid, uid)
    return copy


def become(uid):
    """Drop to ``uid`` (group ``uid`` too) for good: no groups, no capabilities, no new ones."""
    libc = _libc()
    os.setgroups([])
    os.setgid(uid)
    parent = os.getppid()
    os.setuid(uid)  # leaving uid 0 clears every capability, and the parent-death signal
    libc.prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died while the signal was unset
        os._exit(1)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    if os.getuid() == 0 or os.geteuid() == 0:
        raise SystemExit("sandbox: could not drop root")


def limit_self(options):
    """Join the run's pids cgroup and set this process's resource limits (children inherit)."""
    if options["--cgroup"]:
        with open(os.path.join(options["--cgroup"], "cgroup.procs"), "w") as procs:
            procs.write("0")
    limits = [
        (resource.RLIMIT_AS, options["--memory-bytes"]),
        (resource.RLIMIT_FSIZE, options["--file-bytes"]),
        (resource.RLIMIT_NPROC, options["--nproc"]),
        (resource.RLIMIT_CORE, "0"),
    ]
    for kind, value in limits:
        if value is not None:
            resource.setrlimit(kind, (int(value), int(value)))


def parse_args(argv):
    """Split the command line into ({option: value or list}, command)."""
    options = {name: None for name in VALUE_OPTIONS} | {name: [] for name in LIST_OPTIONS}
    options |= {name: False for name in FLAG_OPTIONS}
    while argv and argv[0] in options:
        if argv[0] in FLAG_OPTIONS:
            options[argv[0]] = True
            argv = argv[1:]
            continue
        option, value, *argv = argv
        if option in LIST_OPTIONS:
            options[option].append(value)
        else:
            options[option] = value
    if not argv or argv[0] != "--" or len(argv) < 2:
        raise SystemExit("usage: sandbox_boot.py [OPTIONS] -- COMMAND...")
    return options, argv[1:]


def main(argv):
    """Enter the sandbox and exec the command."""
    options, command = parse_args(argv)
    limit_self(options)  # the cgroup folder is out of sight once the new root is in place
    if options["--netns"]:
        join_network(int(options["--netns"]))
    if options["--root"]:
        binds = [tuple(b.split(":", 1)) for b in options["--bind"]]
        writable = [tuple(b.split(":", 1)) for b in options["--bind-rw"]]
        build_root(options["--root"], binds, options["--scratch"], writable)
    if options["--loopback"]:
        loopback_up()
    if options["--user"]:
        uid = fresh_uid() if options["--user"] == "auto" else int(options["--user"])
        if options["--copy-for-user"]:
            original = options["--copy-for-user"]
            copy = copy_for_user(original, uid)
            command = [copy if part == original else part for part in command]
        become(uid)
    elif options["--bound-caps"]:
        bound_capabilities({int(c) for c in options["--bound-caps"].split(",")})
    if options["--chdir"]:
        os.chdir(options["--chdir"])
    env = dict(item.split("=", 1) for item in options["--env"])
    os.execve(command[0], command, env)


if __name__ == "__main__":
    main(sys.argv[1:])
