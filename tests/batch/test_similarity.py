"""Code alike: measured on a cohort of independent correct solutions and planted copies.

Six students solved ``conv2d.py`` and ``attention.py`` of ``basics`` each in their own way
(``tests/fixtures/similarity/``, their functions after the skeleton's: loops, im2col with
``F.unfold``, ``Tensor.unfold`` and einsum, shift and add, single-channel composition,
``as_strided``; attention by matmul, einsum with a softmax by hand, logsumexp, one query at a
time, ``bmm``, ``nn.Softmax``).
Three more hand in disguised copies of some of them (``disguise.py``): renamed variables,
reordered functions, changed comments and spacing. Of the 2 x 36 pairs, the 6 planted ones
must be listed and none of the 66 others.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from disguise import recomment, rename, reorder, respace

from conftest import FIXTURES, REPO, CliRun, materialize, run_cli
from grader.batch.similarity import THRESHOLD, prepare, similar_pairs

SKELETONS = REPO / "student_templates" / "basics"
FILES = ("conv2d.py", "attention.py")
INDEPENDENT = ("lena", "omar", "priya", "jonas", "mei", "tomas")
# The copier, and for each file: whose solution was copied and how it was disguised.
PLANTED: dict[str, dict[str, tuple[str, Callable[[str], str]]]] = {
    "kim": {"conv2d.py": ("lena", lambda code: rename(code, {"result": "res", "window": "patch", "rows": "n_rows",
                                                              "cols": "n_cols", "y": "output", "kh": "kernel_h"})),
            "attention.py": ("omar", lambda code: rename(code, {"d_k": "dim", "scores": "logits", "attn": "weights"}))},
    "noah": {"conv2d.py": ("jonas", lambda code: reorder(recomment(code))),
             "attention.py": ("mei", lambda code: respace(recomment(code)))},
    "ola": {"conv2d.py": ("priya", lambda code: respace(recomment(code, "# cut into windows"))),
            "attention.py": ("tomas", lambda code: respace(rename(code, {"dk": "size", "raw": "s"})))},
}
EXPECTED = {(name, frozenset({copier, source})) for copier, files in PLANTED.items()
            for name, (source, _) in files.items()}


@pytest.fixture(scope="module")
def solutions(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """Each student's two files: the six independent ones, then the planted copies."""
    root = tmp_path_factory.mktemp("solutions")
    folders = {s: materialize(FIXTURES / "similarity" / s, root / s) for s in INDEPENDENT}
    files = {s: {n: (folder / n).read_text() for n in FILES} for s, folder in folders.items()}
    for copier, copied in PLANTED.items():
        files[copier] = {name: disguise(files[source][name]) for name, (source, disguise) in copied.items()}
    return files


def record(student: str, files: dict[str, str]) -> dict[str, Any]:
    return {"student": student, "status": "graded", "code": {n: prepare(n, text) for n, text in files.items()},
            "exercises": [{"id": n.removesuffix(".py"), "file": n} for n in files]}


def skeletons() -> dict[str, str]:
    return {name: (SKELETONS / name).read_text() for name in FILES}


def test_disguised_copies_still_run(solutions: dict[str, dict[str, str]]) -> None:
    for student, files in solutions.items():
        for name, text in files.items():
            compile(text, f"{student}/{name}", "exec")


def test_every_planted_copy_is_found_and_no_independent_solution_is_flagged(solutions) -> None:  # type: ignore[no-untyped-def]
    cohort = tuple(record(student, files) for student, files in solutions.items())
    pairs = similar_pairs(cohort, skeletons())
    assert {(p.file, frozenset(p.students)) for p in pairs} == EXPECTED
    assert all(min(p.shares) >= THRESHOLD for p in pairs)
    assert {p.exercises for p in pairs} == {("conv2d",), ("attention",)}


def test_the_passages_mark_what_matches_with_its_lines(solutions) -> None:  # type: ignore[no-untyped-def]
    files = solutions
    cohort = (record("kim", files["kim"]), record("lena", files["lena"]))
    pair = next(p for p in similar_pairs(cohort, skeletons()) if p.file == "conv2d.py")
    kim, lena = pair.passages
    marked = "".join(text for line in lena if line for text, hit in line.runs if hit)
    assert "(window * k).sum()" in marked and "result[r, c]" in marked
    assert "Convolve a single-channel image" not in marked  # the skeleton's docstring is not the student's code
    source = files["lena"]["conv2d.py"].splitlines()
    for line in (line for line in lena if line):
        assert "".join(text for text, _ in line.runs) == source[line.number - 1]
    assert "res [r ,c ]=(patch *k )" in "".join(text for line in kim if line for text, hit in line.runs if hit)


def test_the_skeleton_alone_is_never_alike() -> None:
    untouched = {name: (SKELETONS / name).read_text() for name in FILES}
    one_line = {name: text.replace("# TODO", "# TODO: done soon") for name, text in untouched.items()}
    cohort = (record("a", untouched), record("b", untouched), record("c", one_line), record("d", one_line))
    assert similar_pairs(cohort, skeletons()) == []


HELPER = '''

def check_symmetric(matrix: torch.Tensor, tolerance: float = 1e-6) -> bool:
    """True when the matrix equals its transpose up to the tolerance, entry by entry."""
    difference = (matrix - matrix.transpose(-2, -1)).abs()
    return bool((difference <= tolerance * (1 + matrix.abs())).all())
'''


def test_code_most_of_the_cohort_shares_is_common_knowledge_not_a_copy() -> None:
    """Eight students hand in the one canonical solution; two of them also share a helper."""
    solution = (REPO / "reference" / "basics" / "eigen.py").read_text()
    cohort = tuple(record(f"s{n}", {"eigen.py": solution + (HELPER if n in (2, 5) else "")}) for n in range(8))
    pairs = similar_pairs(cohort, {"eigen.py": (SKELETONS / "eigen.py").read_text()})
    assert [(p.students, p.shares) for p in pairs] == [(("s2", "s5"), (1.0, 1.0))]
    marked = "".join(text for line in pairs[0].passages[0] if line for text, hit in line.runs if hit)
    assert "check_symmetric" in marked and "eigenvectors.T" not in marked


def test_the_pairs_do_not_depend_on_the_processes_hash_seed(tmp_path: Path, solutions) -> None:  # type: ignore[no-untyped-def]
    """Files are prepared in the job processes and compared in the batch's: each has its own
    string hashing, and the result must not change with it."""
    cohort = tmp_path / "cohort.json"
    cohort.write_text(json.dumps([record(student, files) for student, files in solutions.items()]))
    script = ("import json, sys; from grader.batch.similarity import similar_pairs; "
              "records = tuple(json.load(open(sys.argv[1]))); skeletons = json.load(open(sys.argv[2])); "
              "print(json.dumps([[p.file, p.students, p.shares] for p in similar_pairs(records, skeletons)]))")
    (tmp_path / "skeletons.json").write_text(json.dumps(skeletons()))
    runs = [subprocess.run([sys.executable, "-c", script, str(cohort), str(tmp_path / "skeletons.json")],
                           capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed})
            for seed in ("1", "2")]
    assert runs[0].stdout == runs[1].stdout and len(json.loads(runs[0].stdout)) == len(EXPECTED)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, solutions) -> tuple[Path, CliRun]:  # type: ignore[no-untyped-def]
    """The same cohort graded by the real command line (the two exercises only)."""
    root = tmp_path_factory.mktemp("similar") / "root"
    for student, files in solutions.items():
        folder = materialize(FIXTURES / "similarity" / (student if student in INDEPENDENT else "lena"), root / student)
        for name, text in files.items():
            (folder / name).write_text(text)
    out = root.parent / "out"
    return out, run_cli("batch", root, "--assignment", "basics", "--out", out, "--exercise", "conv2d",
                        "--exercise", "attention", "--jobs", "2")


def test_the_summary_lists_the_planted_pairs_as_a_lead_not_a_verdict(graded) -> None:  # type: ignore[no-untyped-def]
    out, run = graded
    assert run.returncode == 0, run.stderr
    assert f"code alike: {len(EXPECTED)} pair(s) of submissions" in run.stdout
    page = (out / "summary.html").read_text()
    section = page[page.index('<h2 id="similar">'):page.index('<h2 id="free-text">')]
    assert "A lead for a tutor, never a verdict" in section and "no score changes" in section
    listed = set()
    for summary in section.split("<summary>")[1:]:
        name = summary.split("<code>")[1].split("</code>")[0]
        students = frozenset(part.split("</strong>")[0] for part in summary.split("<strong>")[1:3])
        listed.add((name, students))
    assert listed == EXPECTED
    assert section.count("<mark>") > 6
