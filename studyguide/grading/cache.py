"""A content-addressed cache of grading results.

A result is stored under the sha256 of everything that can change it: the student's files, the
instructor's graders or notebook source, and the version of the code that grades. Re-grading a
class therefore only runs work whose inputs changed; renaming or touching a file changes nothing.
"""

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

#: Folders and suffixes that never influence a grade (caches, bytecode, editor litter).
IGNORED_PARTS = frozenset({"__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".git"})
IGNORED_SUFFIXES = (".pyc", ".pyo")


def relevant_files(folder: Path) -> list[Path]:
    """Every regular file under ``folder`` that can influence a grade, sorted by relative path."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    files = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if any(part in IGNORED_PARTS for part in rel.parts) or path.name.endswith(IGNORED_SUFFIXES):
            continue
        if path.is_file() and not path.is_symlink():
            files.append(path)
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix())


def digest(labelled_files: Iterable[tuple[str, Path]], *extra: str) -> str:
    """sha256 over (label, content) pairs and extra strings, in a framing that cannot collide."""
    sha = hashlib.sha256()
    for text in extra:
        _feed(sha, b"text", text.encode("utf-8"))
    for label, path in sorted(labelled_files, key=lambda pair: pair[0]):
        _feed(sha, b"name", label.encode("utf-8"))
        _feed(sha, b"data", Path(path).read_bytes() if Path(path).is_file() else b"<missing>")
    return sha.hexdigest()


def folder_entries(folder: Path, prefix: str) -> list[tuple[str, Path]]:
    """(label, path) pairs for the relevant files of ``folder``, labelled ``prefix/relative``."""
    folder = Path(folder)
    return [(f"{prefix}/{p.relative_to(folder).as_posix()}", p) for p in relevant_files(folder)]


def _feed(sha, tag: bytes, data: bytes) -> None:
    """Add one length-prefixed, tagged record to the running hash."""
    sha.update(tag + len(data).to_bytes(8, "big") + data)


class ResultCache:
    """JSON results on disk, one file per key, written atomically.

    ``enabled=False`` turns every lookup into a miss but still stores, so a later run can use
    what this one computed.
    """

    def __init__(self, folder: Path, *, enabled: bool = True):
        self.folder = Path(folder)
        self.enabled = enabled
        self.hits = 0
        self.misses = 0

    def _path(self, key: str) -> Path:
        """Where the entry for ``key`` lives (fanned out over 256 folders)."""
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str, valid=None):
        """Return the stored value for ``key``, or None on a miss or an unreadable entry.

        ``valid(value) -> bool`` can reject an entry (e.g. a file it names has gone): a miss.
        """
        if self.enabled:
            try:
                value = json.loads(self._path(key).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                value = None
            if value is not None and (valid is None or valid(value)):
                self.hits += 1
                return value
        self.misses += 1
        return None

    def put(self, key: str, value) -> None:
        """Store a JSON-serialisable ``value`` under ``key`` without ever leaving half a file."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(value, out)
        os.replace(tmp, path)
