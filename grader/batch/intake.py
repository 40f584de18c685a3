"""What a tutor downloaded, turned into named, hashed, safely staged submissions.

Every folder and every ``.zip`` directly in ROOT is one entry; the student's name is the
entry's name, or the name a mapping file gives it, or the name in a Moodle export folder
(``Ada Lovelace_12345_assignsubmission_file_`` is Ada Lovelace)::

    >>> entries = discover(Path("downloads"))                        # doctest: +SKIP
    >>> entries[0].student, entries[0].digest[:12]                   # doctest: +SKIP
    ('Ada Lovelace', '3f2a9c0d81be')
    >>> folder = stage(entries[0], Path("out/.staging/Ada Lovelace"))  # doctest: +SKIP

Staging copies only regular files (never links) and unpacks archives under limits that are
checked from the archive's headers and enforced again while unpacking (headers can lie). An
entry that breaks them raises :class:`Unreadable`: it is graded as zero with the reason.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from grader.errors import Unreadable, UsageError

# Files that archivers and desktops add; never part of a submission.
SYSTEM_NAMES = frozenset({"__MACOSX", ".DS_Store", "Thumbs.db", "desktop.ini", "__pycache__"})
MOODLE = re.compile(r"^(?P<name>.+?)_\d+_assign(?:submission|feedback)_\w*$")
# Names of what the batch itself writes in OUT; a student may not take them.
RESERVED = frozenset({"grades.csv", "summary.html"})
_UNSAFE_CHARACTERS = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Limits:
    """How much one submission may unpack to; archives past them are rejected whole."""

    max_bytes: int = 200 * 1024 * 1024
    max_files: int = 5000
    # Deflate reaches about 1000:1 on zeros; source code and images stay far below 100:1.
    max_ratio: float = 200.0
    unwrap_depth: int = 3


@dataclass(frozen=True)
class Entry:
    """One submission in ROOT: ``source`` is its folder or .zip, ``student`` its folder name in OUT."""

    name: str
    source: Path
    student: str
    digest: str


def discover(root: Path, names: dict[str, str] | None = None, exclude: Path | None = None) -> tuple[Entry, ...]:
    """The entries of ``root`` in name order, with unique, file-system-safe student names.

    Hidden and system entries, links, files other than .zip and ``exclude`` (the batch's
    own output folder, when it is inside ROOT) are left out.
    """
    entries = []
    taken: set[str] = set()
    skip = exclude.resolve() if exclude is not None else None
    for path in sorted(root.iterdir(), key=lambda p: p.name):
        if _skipped(path.name) or path.is_symlink() or path.resolve() == skip:
            continue
        if not (path.is_dir() or (path.is_file() and path.suffix.lower() == ".zip")):
            continue
        student = _unique(safe_name(student_name(path, names or {})), taken)
        entries.append(Entry(name=path.name, source=path.resolve(), student=student, digest=digest(path)))
    return tuple(entries)


def student_name(path: Path, names: dict[str, str]) -> str:
    """The name for an entry: from the mapping (by entry name or stem), Moodle's pattern, or the stem.

    >>> student_name(Path("Ada Lovelace_12345_assignsubmission_file_"), {})
    'Ada Lovelace'
    >>> student_name(Path("u123.zip"), {"u123": "Grace Hopper"})
    'Grace Hopper'
    """
    stem = path.name[:-4] if path.name.lower().endswith(".zip") else path.name
    for key in (path.name, stem):
        if key in names:
            return names[key]
    moodle = MOODLE.match(stem)
    return moodle.group("name") if moodle else stem


def safe_name(text: str) -> str:
    """``text`` as one folder name: no separators or control characters, no leading dot.

    >>> safe_name("../../etc/passwd")
    'etc_passwd'
    """
    name = _UNSAFE_CHARACTERS.sub("_", text).strip().lstrip("._ ").strip()
    return name[:100] or "student"


def _unique(name: str, taken: set[str]) -> str:
    """``name``, or ``name-2``, ``name-3``... compared without case (macOS and Windows disks)."""
    candidate, number = name, 1
    while candidate.casefold() in taken or candidate in RESERVED:
        number += 1
        candidate = f"{name}-{number}"
    taken.add(candidate.casefold())
    return candidate


def read_names(path: Path) -> dict[str, str]:
    """A CSV of ``entry,student`` rows (a header row ``entry,student`` is allowed).

    The entry is a folder or zip name in ROOT, with or without ``.zip``.
    """
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle) if row and any(cell.strip() for cell in row)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"--names {path}: cannot read it ({exc})") from None
    if rows and [cell.strip().lower() for cell in rows[0][:2]] == ["entry", "student"]:
        rows = rows[1:]
    names = {}
    for number, row in enumerate(rows, 1):
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise UsageError(f"--names {path}: row {number} is not 'entry,student': {','.join(row)[:60]!r}")
        names[row[0].strip()] = row[1].strip()
    return names


def _skipped(name: str) -> bool:
    return name.startswith(".") or name in SYSTEM_NAMES


def _files(folder: Path) -> list[tuple[str, Path]]:
    """The regular files under ``folder`` by relative path, links and hidden files left out."""
    found = []
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not _skipped(d) and not os.path.islink(os.path.join(top, d)))
        for name in sorted(files):
            path = Path(top, name)
            if not _skipped(name) and not path.is_symlink() and path.is_file():
                found.append((path.relative_to(folder).as_posix(), path))
    return found


def digest(path: Path) -> str:
    """SHA-256 of what was handed in: the archive's bytes, or every file's path and bytes."""
    hasher = hashlib.sha256()
    sources = [(path.name, path)] if path.is_file() else _files(path)
    for rel, file in sources:
        if path.is_dir():
            hasher.update(f"\0{rel}\0{file.stat().st_size}\0".encode("utf-8", "surrogateescape"))
        with file.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                hasher.update(chunk)
    return hasher.hexdigest()


def stage(entry: Entry, target: Path, limits: Limits = Limits()) -> Path:
    """Copy or unpack ``entry`` into ``target`` (emptied first); returns the folder to grade.

    One wrapping folder (``alice/`` inside ``alice.zip``) is unwrapped, up to
    ``limits.unwrap_depth`` levels, and a folder holding nothing but one .zip (a Moodle
    export of an uploaded archive) is unpacked. Raises :class:`Unreadable`.
    """
    if target.exists():
        shutil.rmtree(target)
    files = target / "files"
    files.mkdir(parents=True)
    if entry.source.is_dir():
        _copy_folder(entry.source, files, limits)
    else:
        extract_zip(entry.source, files, limits)
    folder = unwrap(files, limits.unwrap_depth)
    content = _visible(folder)
    if len(content) == 1 and content[0].is_file() and content[0].suffix.lower() == ".zip":
        inner = target / "unpacked"
        extract_zip(content[0], inner, limits)
        folder = unwrap(inner, limits.unwrap_depth)
    if not _visible(folder):
        raise Unreadable(f"{entry.name} holds no files")
    return folder


def _visible(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if not _skipped(p.name)]


def unwrap(folder: Path, depth: int) -> Path:
    """The innermost folder reached through folders that hold nothing but one folder."""
    for _ in range(depth):
        content = _visible(folder)
        if len(content) != 1 or not content[0].is_dir() or content[0].is_symlink():
            break
        folder = content[0]
    return folder


def _copy_folder(source: Path, target: Path, limits: Limits) -> None:
    files = _files(source)
    if len(files) > limits.max_files:
        raise Unreadable(f"{source.name} holds {len(files)} files, more than the limit of {limits.max_files}")
    total = 0
    for rel, path in files:
        total += path.stat().st_size
        if total > limits.max_bytes:
            raise Unreadable(f"{source.name} holds more than {_mb(limits.max_bytes)} of files")
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / rel)


def _member_parts(info: zipfile.ZipInfo, archive: str) -> tuple[str, ...] | None:
    """The safe relative path of a member, None for one to leave out; raises for unsafe ones."""
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        raise Unreadable(f"{archive}: member {name[:80]!r} has an absolute path")
    parts = tuple(p for p in name.split("/") if p not in ("", "."))
    if ".." in parts:
        raise Unreadable(f"{archive}: member {name[:80]!r} points outside the archive's folder")
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        raise Unreadable(f"{archive}: member {name[:80]!r} is a symbolic link")
    if info.is_dir() or not parts or any(_skipped(p) for p in parts):
        return None
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        return None  # a device or pipe recorded by a Unix zip: never a submission file
    return parts


def extract_zip(archive: Path, target: Path, limits: Limits = Limits()) -> None:
    """Unpack ``archive`` into ``target`` within ``limits``; raises :class:`Unreadable`.

    The headers are checked first (paths, links, encryption, sizes, compression ratio), then
    the bytes actually written are counted again, since a crafted header can understate them.
    """
    label = archive.name
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            if len(infos) > limits.max_files:
                raise Unreadable(f"{label} holds {len(infos)} members, more than the limit of {limits.max_files}")
            if sum(i.file_size for i in infos) > limits.max_bytes:
                raise Unreadable(f"{label} unpacks to more than {_mb(limits.max_bytes)}")
            members = []
            for info in infos:
                parts = _member_parts(info, label)
                if parts is None:
                    continue
                if info.flag_bits & 0x1:
                    raise Unreadable(f"{label}: member {info.filename[:80]!r} is encrypted")
                if info.file_size > _CHUNK and info.file_size > limits.max_ratio * max(info.compress_size, 1):
                    raise Unreadable(f"{label}: member {info.filename[:80]!r} is compressed more than "
                                     f"{limits.max_ratio:g}:1 (a zip bomb?)")
                members.append((info, parts))
            target.mkdir(parents=True, exist_ok=True)
            written = 0
            for info, parts in members:
                dest = target.joinpath(*parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, dest.open("wb") as out:
                    while chunk := src.read(_CHUNK):
                        written += len(chunk)
                        if written > limits.max_bytes:
                            raise Unreadable(f"{label} unpacks to more than {_mb(limits.max_bytes)}")
                        out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError, ValueError) as exc:
        raise Unreadable(f"{label} is not a readable zip archive ({type(exc).__name__}: {str(exc)[:120]})") from None


def _mb(count: int) -> str:
    return f"{count / 1024 / 1024:g} MB"
