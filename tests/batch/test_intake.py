"""Intake: entries, names, content hashes, and safe staging of folders and zip archives."""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

import pytest

from grader.batch.intake import (
    Entry,
    Limits,
    digest,
    discover,
    extract_zip,
    read_names,
    safe_name,
    stage,
)
from grader.errors import Unreadable, UsageError


def make_zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def entry(path: Path, student: str = "s") -> Entry:
    return Entry(path.name, path.resolve(), student, digest(path))


def test_folders_and_zips_are_entries_and_the_rest_is_left_out(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "alice").mkdir(parents=True)
    (root / "alice" / "eigen.py").write_text("x = 1\n")
    make_zip(root / "bob.ZIP", {"eigen.py": b"x = 2\n"})
    (root / "__MACOSX").mkdir()
    (root / ".DS_Store").write_text("")
    (root / "notes.txt").write_text("not a submission")
    (root / "link").symlink_to(root / "alice")
    entries = discover(root)
    assert [(e.name, e.student) for e in entries] == [("alice", "alice"), ("bob.ZIP", "bob")]


def test_moodle_names_and_a_mapping_file(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for name in ("Ada Lovelace_12345_assignsubmission_file_", "u42", "u43.zip"):
        if name.endswith(".zip"):
            make_zip(root / name, {"a.py": b""})
        else:
            (root / name).mkdir(parents=True)
            (root / name / "a.py").write_text("")
    names = tmp_path / "names.csv"
    names.write_text("entry,student\nu42,Grace Hopper\nu43,Alan Turing\n")
    students = [e.student for e in discover(root, read_names(names))]
    assert students == ["Ada Lovelace", "Grace Hopper", "Alan Turing"]


def test_bad_mapping_file_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "names.csv"
    bad.write_text("u42\n")
    with pytest.raises(UsageError, match="row 1"):
        read_names(bad)
    with pytest.raises(UsageError, match="cannot read"):
        read_names(tmp_path / "missing.csv")


def test_student_names_are_safe_folder_names_and_unique(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for name in ("Alice", "alice.zip", "x", "y"):
        if name.endswith(".zip"):
            make_zip(root / name, {"a.py": b""})
        else:
            (root / name).mkdir(parents=True)
            (root / name / "a.py").write_text("")
    mapping = {"x": "../../etc/passwd", "y": "summary.html"}
    students = [e.student for e in discover(root, mapping)]
    assert students == ["Alice", "alice-2", "etc_passwd", "summary.html-2"]
    assert safe_name(".hidden") == "hidden" and safe_name("a\x00b:c") == "a_b_c" and safe_name("..") == "student"


def test_the_output_folder_inside_root_is_not_an_entry(tmp_path: Path) -> None:
    (tmp_path / "alice").mkdir()
    (tmp_path / "out").mkdir()
    assert [e.name for e in discover(tmp_path, exclude=tmp_path / "out")] == ["alice"]


def test_digest_follows_the_content(tmp_path: Path) -> None:
    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "eigen.py").write_text("x = 1\n")
    first = digest(folder)
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "eigen.pyc").write_bytes(b"junk")
    assert digest(folder) == first
    (folder / "eigen.py").write_text("x = 2\n")
    assert digest(folder) != first


def test_one_wrapping_folder_is_unwrapped(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "alice.zip", {"alice/basics/eigen.py": b"x = 1\n", "__MACOSX/alice/._eigen.py": b"",
                                                "alice/.DS_Store": b""})
    folder = stage(entry(archive), tmp_path / "staged")
    assert (folder / "eigen.py").read_text() == "x = 1\n"
    assert not (tmp_path / "staged" / "files" / "__MACOSX").exists()


def test_a_folder_holding_one_uploaded_zip_is_unpacked(tmp_path: Path) -> None:
    moodle = tmp_path / "Ada_1_assignsubmission_file_"
    moodle.mkdir()
    make_zip(moodle / "handin.zip", {"eigen.py": b"x = 1\n"})
    assert (stage(entry(moodle), tmp_path / "staged") / "eigen.py").is_file()


def test_folder_links_are_not_followed(tmp_path: Path) -> None:
    folder = tmp_path / "alice"
    folder.mkdir()
    (folder / "eigen.py").write_text("x = 1\n")
    (folder / "answers.yaml").symlink_to("/etc/passwd")
    (folder / "up").symlink_to(tmp_path)
    staged = stage(entry(folder), tmp_path / "staged")
    assert sorted(p.name for p in staged.iterdir()) == ["eigen.py"]


@pytest.mark.parametrize(("name", "why"), [
    ("../evil.py", "outside"),
    ("a/../../evil.py", "outside"),
    ("/etc/evil.py", "absolute"),
    ("C:/evil.py", "absolute"),
])
def test_zip_slip_is_rejected(tmp_path: Path, name: str, why: str) -> None:
    archive = make_zip(tmp_path / "slip.zip", {"eigen.py": b"", name: b"pwned"})
    with pytest.raises(Unreadable, match=why):
        extract_zip(archive, tmp_path / "x" / "y")
    assert not list(tmp_path.rglob("evil.py"))


def test_symlink_members_are_rejected(tmp_path: Path) -> None:
    archive = tmp_path / "link.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo("answers.yaml")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(Unreadable, match="symbolic link"):
        extract_zip(archive, tmp_path / "x")


def test_zip_bombs_are_rejected_by_ratio_and_by_size(tmp_path: Path) -> None:
    bomb = make_zip(tmp_path / "bomb.zip", {"zeros.bin": b"\0" * (20 * 1024 * 1024)})
    assert bomb.stat().st_size < 100 * 1024
    with pytest.raises(Unreadable, match="zip bomb"):
        extract_zip(bomb, tmp_path / "x")
    big = make_zip(tmp_path / "big.zip", {f"f{i}.bin": bytes(range(256)) * 4096 for i in range(3)},
                   compression=zipfile.ZIP_STORED)
    with pytest.raises(Unreadable, match="more than"):
        extract_zip(big, tmp_path / "y", Limits(max_bytes=2 * 1024 * 1024))
    many = make_zip(tmp_path / "many.zip", {f"f{i}.py": b"" for i in range(30)})
    with pytest.raises(Unreadable, match="members"):
        extract_zip(many, tmp_path / "z", Limits(max_files=20))


def test_a_header_that_understates_the_size_is_caught_while_unpacking(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "liar.zip", {"a.bin": bytes(range(256)) * 8192}, compression=zipfile.ZIP_STORED)
    data = bytearray(archive.read_bytes())
    # Patch the central directory's uncompressed size (offset 24 in its record) down to 10 bytes.
    central = data.rfind(b"PK\x01\x02")
    data[central + 24: central + 28] = (10).to_bytes(4, "little")
    archive.write_bytes(bytes(data))
    with pytest.raises(Unreadable):
        extract_zip(archive, tmp_path / "x", Limits(max_bytes=1024 * 1024))
    written = sum(p.stat().st_size for p in (tmp_path / "x").rglob("*") if p.is_file())
    assert written <= 1024 * 1024


def test_not_a_zip_and_empty_entries_are_unreadable(tmp_path: Path) -> None:
    fake = tmp_path / "fake.zip"
    fake.write_text("not a zip")
    with pytest.raises(Unreadable, match="not a readable zip"):
        stage(entry(fake), tmp_path / "a")
    empty = make_zip(tmp_path / "empty.zip", {"__MACOSX/x": b""})
    with pytest.raises(Unreadable, match="holds no files"):
        stage(entry(empty), tmp_path / "b")
