"""Pairs of submissions whose code for an exercise is unusually alike: a lead for a tutor.

`copydetect <https://github.com/blingenf/copydetect>`_ does the comparing, the way MOSS does:
the code is tokenized (every name becomes ``V``, ``F`` or ``O``, every string ``S``;
comments and spacing are dropped), cut into k-grams of ``K`` characters, and two files
share what they share of those. What the skeleton (``student_templates/``) provides is
removed first (copydetect's boilerplate), and so is what more than ``COMMON`` of the cohort
wrote alike (MOSS's ``-m``: where the sheet leaves one right answer, as in fixing the
buggy layer of ps5 Ex. 5, every correct submission has it), so only what a student wrote
beyond that is compared. Renamed variables, reordered functions and new comments or
spacing change nothing.

    >>> pairs = similar_pairs(records, {"conv2d.py": skeleton_text})   # doctest: +SKIP
    >>> pairs[0].students, pairs[0].shares                              # doctest: +SKIP
    (('kim', 'lena'), (0.91, 1.0))

A pair is listed when at least ``THRESHOLD`` of each one's own code matches the other's.
Lexing is the slow part (about 50 ms a file), so each job process prepares the files it
graded (:func:`prepare`, stored in the student's record) and this process only hashes and
compares. With one fingerprint per k-gram (window 1) the result does not depend on Python's
per-process string hashing, so a rerun lists the same pairs.
"""

from __future__ import annotations

import collections
import io
import itertools
from dataclasses import dataclass
from typing import Any

K = 25  # copydetect's noise threshold: a match shorter than this (in filtered characters) is noise
THRESHOLD = 0.6  # share of each one's own code that matches the other's
MIN_OWN = 60  # filtered characters of own code a file needs before it is compared at all
COMMON = 0.2  # a k-gram in more than this share of the files (and in more than COMMON_FILES) is common
COMMON_FILES = 4
MAX_SOURCE = 200_000  # characters of a file kept for comparing
CONTEXT = 1  # lines shown around each similar passage
MAX_LINES = 80  # lines shown per side of a pair


@dataclass(frozen=True)
class Line:
    """One line of code shown beside its match: ``runs`` of text, True where it matches."""

    number: int
    runs: tuple[tuple[str, bool], ...]


@dataclass(frozen=True)
class SimilarPair:
    """Two students whose ``file`` (for ``exercises``) is alike: the share of each one's own
    code that matches, and the passages of each, with a None line where lines are left out."""

    file: str
    exercises: tuple[str, ...]
    students: tuple[str, str]
    shares: tuple[float, float]
    passages: tuple[tuple[Line | None, ...], tuple[Line | None, ...]]


def prepare(name: str, text: str) -> dict[str, Any]:
    """A file as the record keeps it: its text, copydetect's filtered tokens and their offsets."""
    from copydetect.utils import filter_code

    text = text[:MAX_SOURCE]
    filtered, offsets = filter_code(text, name)
    return {"text": text, "filtered": filtered, "offsets": offsets.tolist()}


def similar_pairs(records: tuple[dict[str, Any], ...], skeletons: dict[str, str]) -> list[SimilarPair]:
    """Every pair of graded students whose code of a file in ``skeletons`` (name: the skeleton's
    text) is alike beyond ``THRESHOLD``, most alike first."""
    import numpy as np
    from copydetect.detector import compare_files

    pairs = []
    for name, skeleton in skeletons.items():
        exercises = tuple(dict.fromkeys(e["id"] for r in records for e in r["exercises"] if e["file"] == name))
        code = {r["student"]: r["code"][name] for r in records if r["status"] == "graded" and name in r["code"]}
        boilerplate = _boilerplate(name, skeleton)
        prints = {student: _fingerprint(name, entry, boilerplate) for student, entry in code.items()}
        common = _common(prints.values())
        if common.size:
            boilerplate = np.union1d(boilerplate, common)
            prints = {student: _fingerprint(name, entry, boilerplate) for student, entry in code.items()}
        own = {student: fp for student, fp in prints.items() if fp.token_coverage >= MIN_OWN}
        for (a, first), (b, second) in itertools.combinations(sorted(own.items()), 2):
            shared = len(first.hashes & second.hashes)
            if shared < THRESHOLD / 2 * min(len(first.hashes), len(second.hashes)):
                continue  # far below the threshold: the exact comparison would say no
            _, shares, slices = compare_files(first, second)
            if min(shares) >= THRESHOLD:
                rounded = (round(float(shares[0]), 2), round(float(shares[1]), 2))
                pairs.append(SimilarPair(name, exercises, (a, b), rounded,
                                         (_passages(first.raw_code, slices[0]), _passages(second.raw_code, slices[1]))))
    return sorted(pairs, key=lambda p: (-min(p.shares), p.file, p.students))


def _boilerplate(name: str, skeleton: str) -> Any:
    import numpy as np
    from copydetect.detector import CodeFingerprint

    return np.unique(np.array(list(CodeFingerprint(name, K, 1, fp=io.StringIO(skeleton)).hashes)))


def _common(prints: Any) -> Any:
    """The hashes of k-grams that more than ``COMMON`` of the files (and ``COMMON_FILES``) hold."""
    import numpy as np

    prints = list(prints)
    counts = collections.Counter(h for fingerprint in prints for h in fingerprint.hashes)
    limit = max(COMMON_FILES, COMMON * len(prints))
    return np.array(sorted(h for h, n in counts.items() if n > limit), dtype=np.int64)


def _fingerprint(name: str, entry: dict[str, Any], boilerplate: Any) -> Any:
    """copydetect's fingerprint of a prepared file: the filtered tokens hashed here, the
    offsets that map matches back into the student's text restored from the record."""
    import numpy as np
    from copydetect.detector import CodeFingerprint

    fingerprint = CodeFingerprint(name, K, 1, boilerplate, filter=False, fp=io.StringIO(entry["filtered"]))
    fingerprint.raw_code = entry["text"]
    fingerprint.offsets = np.array(entry["offsets"], dtype=np.int64).reshape(-1, 2)
    return fingerprint


def _passages(code: str, slices: Any) -> tuple[Line | None, ...]:
    """The lines of ``code`` that hold a match, with ``CONTEXT`` lines around them."""
    matched = bytearray(len(code))
    for start, end in zip(*slices):
        matched[int(start):int(end)] = b"\x01" * (int(end) - int(start))
    lines, offset = [], 0
    for number, line in enumerate(code.splitlines(keepends=True), 1):
        flags = matched[offset:offset + len(line)]
        offset += len(line)
        text = line.rstrip("\r\n")
        runs = [(text[i:j], bool(flags[i])) for i, j in _runs(flags[:len(text)])]
        lines.append(Line(number, tuple(runs)))
    keep = {n for n, line in enumerate(lines) if any(hit for _, hit in line.runs)}
    keep = {n + d for n in keep for d in range(-CONTEXT, CONTEXT + 1) if 0 <= n + d < len(lines)}
    shown: list[Line | None] = []
    for n in sorted(keep)[:MAX_LINES]:
        if shown and shown[-1] is not None and shown[-1].number != lines[n].number - 1:
            shown.append(None)  # lines left out
        shown.append(lines[n])
    return tuple(shown)


def _runs(flags: bytes | bytearray) -> list[tuple[int, int]]:
    """Start and end of each stretch of equal flags."""
    bounds = [0] + [i for i in range(1, len(flags)) if flags[i] != flags[i - 1]] + [len(flags)]
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]
