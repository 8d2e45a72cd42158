"""Submissions intake: find the students of a submissions folder and unpack their zips safely.

A student is a folder ``<id>/`` or a zip ``<id>.zip`` shaped like the student release. Zips are
extracted with caps on entries and sizes, refusing paths that escape and symbolic links; a
folder holding a symbolic link anywhere is refused as a whole. Extracted uploads live under the
output folder, which no sandbox can see (see :mod:`studyguide.grading.sandbox_boot`).
"""

import os
import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")


class SubmissionError(ValueError):
    """A submission cannot be used (corrupt or unsafe zip, bad layout)."""


@dataclass(frozen=True)
class ZipLimits:
    """Caps that keep a hostile zip from filling the disk or escaping its folder."""

    max_entries: int = 5000
    max_file_bytes: int = 20 * 1024 * 1024
    max_total_bytes: int = 200 * 1024 * 1024


@dataclass
class Student:
    """One entry of the submissions folder."""

    id: str
    root: Path | None
    problem: str | None = None

    def lab(self, module_id: str) -> Path | None:
        """The student's lab folder for a module, or None when it is not there."""
        path = self.root / "labs" / module_id if self.root else None
        return path if path and path.is_dir() else None

    def notebook(self, module_id: str) -> Path | None:
        """The student's lesson notebook for a module, or None when it is not there."""
        path = self.root / "notebooks" / f"{module_id}.ipynb" if self.root else None
        return path if path and path.is_file() else None


def _unsafe_member(info: zipfile.ZipInfo) -> str | None:
    """Why a zip member may not be extracted, or None when it is fine."""
    name = info.filename.replace("\\", "/")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts:
        return f"path escapes the submission: {info.filename!r}"
    if stat.S_ISLNK(info.external_attr >> 16):
        return f"symbolic link: {info.filename!r}"
    return None


def _copy_member(archive: zipfile.ZipFile, info, target: Path, budget: list[int], limits):
    """Stream one member to ``target``, counting real bytes against the caps (not the header)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with archive.open(info) as src, open(target, "wb") as dst:
        while chunk := src.read(1 << 16):
            written += len(chunk)
            budget[0] += len(chunk)
            if written > limits.max_file_bytes:
                raise SubmissionError(
                    f"{info.filename!r} is larger than {limits.max_file_bytes} bytes")
            if budget[0] > limits.max_total_bytes:
                raise SubmissionError(
                    f"the zip unpacks to more than {limits.max_total_bytes} bytes")
            dst.write(chunk)


def safe_extract(zip_path: Path, dest: Path, limits: ZipLimits = ZipLimits()) -> Path:
    """Extract ``zip_path`` into a fresh ``dest``; refuse traversal, links and oversize content.

    Returns the submission root: ``dest`` itself, or its only top-level folder when the zip
    wraps everything in one (``alice/labs/...``). Raises :class:`SubmissionError` with the
    reason; ``dest`` is removed then.
    """
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    os.chmod(dest.parent, 0o700)  # uploads are for the instructor's eyes only
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = archive.infolist()
            if len(members) > limits.max_entries:
                raise SubmissionError(
                    f"the zip has {len(members)} entries (limit {limits.max_entries})")
            budget = [0]
            for info in members:
                reason = _unsafe_member(info)
                if reason:
                    raise SubmissionError(f"unsafe zip entry, {reason}")
                target = dest.joinpath(*[p for p in info.filename.replace("\\", "/").split("/")
                                         if p not in ("", ".")])
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                elif "__MACOSX" not in info.filename:
                    _copy_member(archive, info, target, budget, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError) as exc:
        shutil.rmtree(dest, ignore_errors=True)
        raise SubmissionError(f"corrupt zip: {exc}") from None
    except (SubmissionError, OSError):
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return _submission_root(dest)


def _submission_root(folder: Path) -> Path:
    """``folder``, or its single subfolder when the student zipped a wrapping folder."""
    if (folder / "labs").is_dir() or (folder / "notebooks").is_dir():
        return folder
    entries = [p for p in folder.iterdir() if p.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return folder


def first_symlink(folder: Path) -> Path | None:
    """The first symbolic link at or below ``folder`` (never followed), or None."""
    folder = Path(folder)
    if folder.is_symlink():
        return folder
    for parent, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in sorted(dirnames + filenames):
            if Path(parent, name).is_symlink():
                return Path(parent, name)
    return None


def discover_students(submissions_dir: Path, extract_dir: Path) -> tuple[list[Student], list[str]]:
    """The students of a submissions folder, zips extracted; and the entries that were skipped.

    A folder ``<id>/`` or a zip ``<id>.zip`` is one student. A zip that cannot be extracted
    safely still yields the student, with ``problem`` saying why, so the class report lists them.
    """
    students, skipped = {}, []
    for entry in sorted(Path(submissions_dir).iterdir()):
        is_zip = entry.is_file() and entry.suffix.lower() == ".zip"
        student_id = entry.stem if is_zip else entry.name
        if entry.is_symlink() or not (is_zip or entry.is_dir()) or not STUDENT_ID.match(student_id):
            skipped.append(entry.name)
            continue
        if student_id in students:
            skipped.append(entry.name)
            continue
        if is_zip:
            try:
                root = safe_extract(entry, Path(extract_dir) / student_id)
                students[student_id] = Student(student_id, root)
            except (SubmissionError, OSError) as exc:
                students[student_id] = Student(student_id, None, f"{entry.name}: {exc}")
        else:
            link = first_symlink(entry)
            if link is not None:
                where = link.relative_to(entry.parent).as_posix()
                students[student_id] = Student(
                    student_id, None, f"{where} is a symbolic link; symbolic links are refused")
            else:
                students[student_id] = Student(student_id, entry.resolve())
    return list(students.values()), skipped


