"""Checksums: a file changed on disk in any way is reported as corrupt, naming it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seqlab.checksums import (
    MANIFEST_FILE,
    CorruptFileError,
    file_digest,
    read_manifest,
    verified_bytes,
    verify_file,
    write_manifest,
)
from seqlab.errors import SeqlabError

CONTENTS = {"weights.bin": bytes(range(256)) * 9, "config.json": b'{"hidden_size": 8}\n', "empty": b""}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A directory of three files (one empty) and the manifest that lists them."""
    for name, data in CONTENTS.items():
        (tmp_path / name).write_bytes(data)
    write_manifest(tmp_path, CONTENTS)
    return tmp_path


def flip_byte(path: Path, position: int, mask: int = 0xFF) -> None:
    """Change the byte at ``position``: every bit by default; ``mask=1`` keeps ASCII text ASCII."""
    data = bytearray(path.read_bytes())
    data[position] ^= mask
    path.write_bytes(bytes(data))


def test_every_listed_file_round_trips(folder):
    for name, data in CONTENTS.items():
        verify_file(folder / name)
        assert verified_bytes(folder / name) == data
    manifest = read_manifest(folder)
    assert sorted(manifest) == sorted(CONTENTS)
    assert manifest["weights.bin"] == {"bytes": 256 * 9, "sha256": file_digest(folder / "weights.bin")["sha256"]}


def test_file_digest_is_the_sha256_of_the_bytes(tmp_path):
    (tmp_path / "abc").write_bytes(b"abc")
    assert file_digest(tmp_path / "abc") == {
        "bytes": 3,
        "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",  # FIPS 180-2, appendix B.1
    }


@pytest.mark.parametrize("position", [0, 1000, 256 * 9 - 1])
def test_a_flipped_byte_is_corruption_named_by_file(folder, position):
    flip_byte(folder / "weights.bin", position)
    for check in (verify_file, verified_bytes):
        with pytest.raises(CorruptFileError, match=r"weights\.bin: corrupt: its SHA-256 differs"):
            check(folder / "weights.bin")


def test_a_truncated_file_is_reported_as_truncated(folder):
    (folder / "weights.bin").write_bytes(CONTENTS["weights.bin"][:100])
    for check in (verify_file, verified_bytes):
        with pytest.raises(CorruptFileError, match=r"weights\.bin: corrupt \(truncated\): 100 bytes where 2,304"):
            check(folder / "weights.bin")


def test_a_file_appended_to_is_reported_as_longer(folder):
    (folder / "empty").write_bytes(b"\n")
    for check in (verify_file, verified_bytes):
        with pytest.raises(CorruptFileError, match=r"empty: corrupt \(longer than written\): 1 bytes where 0"):
            check(folder / "empty")


def test_a_listed_file_that_is_missing_is_reported(folder):
    (folder / "config.json").unlink()
    with pytest.raises(CorruptFileError, match=r"config\.json: missing, though checksums\.json lists it"):
        verify_file(folder / "config.json")
    with pytest.raises(SeqlabError, match=r"config\.json: not found"):
        verified_bytes(folder / "config.json")


def test_without_a_manifest_nothing_is_checked(tmp_path):
    """Directories written before seqlab kept checksums still read."""
    (tmp_path / "config.json").write_bytes(b"{}")
    assert read_manifest(tmp_path) is None
    verify_file(tmp_path / "config.json")
    assert verified_bytes(tmp_path / "config.json") == b"{}"


def test_a_file_the_manifest_does_not_list_is_not_checked(folder):
    (folder / "notes.txt").write_bytes(b"added later")
    verify_file(folder / "notes.txt")
    assert verified_bytes(folder / "notes.txt") == b"added later"
    assert "notes.txt" not in read_manifest(folder)


def test_known_digests_are_listed_without_hashing_again(folder):
    """A digest given as known is written as given: it is what the file is checked against."""
    write_manifest(folder, CONTENTS, known={"empty": file_digest(folder / "config.json")})
    assert read_manifest(folder)["empty"] == file_digest(folder / "config.json")
    with pytest.raises(CorruptFileError, match=r"empty: corrupt \(truncated\)"):
        verify_file(folder / "empty")


def every_byte_flipped(path: Path, mask: int):
    """Yield once for each byte of ``path`` with that byte flipped, then restore the file."""
    original = path.read_bytes()
    for position in range(len(original)):
        flip_byte(path, position, mask)
        yield position
        path.write_bytes(original)


@pytest.mark.parametrize("mask", [0xFF, 0x01], ids=["not UTF-8", "still ASCII"])
def test_any_flipped_byte_of_the_manifest_is_its_own_corruption(folder, mask):
    """Not blamed on a file it lists, and never a file dropped from the check, wherever the byte is.

    With the lowest bit flipped the manifest stays ASCII: a digit of a size or digest
    changes, a letter of a name, a quote becomes ``#``, a space ``!``.
    """
    for position in every_byte_flipped(folder / MANIFEST_FILE, mask):
        for name in CONTENTS:
            with pytest.raises(CorruptFileError, match=r"checksums\.json: corrupt") as caught:
                verify_file(folder / name)
            assert "(truncated)" not in str(caught.value), position
    assert read_manifest(folder) is not None  # restored


def test_a_truncated_manifest_is_reported_as_truncated(folder):
    text = (folder / MANIFEST_FILE).read_bytes()
    for length in range(len(text)):
        (folder / MANIFEST_FILE).write_bytes(text[:length])
        with pytest.raises(CorruptFileError, match=r"checksums\.json: corrupt \(truncated\)"):
            read_manifest(folder)


def test_a_manifest_appended_to_is_corrupt(folder):
    with (folder / MANIFEST_FILE).open("ab") as file:
        file.write(b"\n")
    with pytest.raises(CorruptFileError, match=r"checksums\.json: corrupt: not as seqlab wrote it"):
        read_manifest(folder)


def test_an_edited_manifest_is_corrupt_even_when_it_is_valid_json(folder):
    """Listing a changed file's new digest by hand does not make it pass."""
    flip_byte(folder / "weights.bin", 7)
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    manifest["files"]["weights.bin"] = file_digest(folder / "weights.bin")
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    with pytest.raises(CorruptFileError, match=r"checksums\.json: corrupt: not as seqlab wrote it \(its seal"):
        verify_file(folder / "weights.bin")


@pytest.mark.parametrize(
    "text",
    [b"", b"[]", b'{"files": []}', b'{"files": {"a": {"bytes": "3", "sha256": "00"}}}', b"\xff\xfe{}"],
    ids=["empty", "a list", "files a list", "size a string", "not UTF-8"],
)
def test_a_manifest_that_is_not_a_checksum_list_is_corrupt(folder, text):
    (folder / MANIFEST_FILE).write_bytes(text)
    with pytest.raises(CorruptFileError, match=r"checksums\.json: corrupt"):
        verify_file(folder / "config.json")
    with pytest.raises(CorruptFileError, match=r"checksums\.json: corrupt"):
        verified_bytes(folder / "config.json")
