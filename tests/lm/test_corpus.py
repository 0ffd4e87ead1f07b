"""Reading training text: user files with clear errors, and the standard-library default."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from seqlab.data import find_corpus_files, load_corpus_splits, load_stdlib_corpus, read_text_file, split_train_valid
from seqlab.data.corpus import STDLIB_EXCLUDED_DIRS, stdlib_source_files
from seqlab.errors import SeqlabError


def test_reads_utf8_and_drops_a_byte_order_mark(tmp_path):
    path = tmp_path / "text.txt"
    path.write_bytes("\ufeffgrüße\n".encode())
    assert read_text_file(path) == "grüße\n"


def test_missing_file_is_named(tmp_path):
    with pytest.raises(SeqlabError, match=r"nothere\.txt: no such file"):
        read_text_file(tmp_path / "nothere.txt")


def test_directory_is_not_a_corpus(tmp_path):
    with pytest.raises(SeqlabError, match="is a directory"):
        read_text_file(tmp_path)


@pytest.mark.parametrize("content", [b"", b"  \n\t\n"])
def test_empty_or_blank_file_is_rejected(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    with pytest.raises(SeqlabError, match=r"empty\.txt: file is (empty|only whitespace), there is no text"):
        read_text_file(path)


def test_undecodable_file_gives_byte_offset_and_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"first line\nsecond: " + "café".encode("latin-1") + b"\n")
    # "first line\n" is 11 bytes, "second: caf" 11 more: the bad byte is at offset 22.
    expected = r"latin1\.txt: not valid UTF-8 at byte offset 22 \(line 2, "
    with pytest.raises(SeqlabError, match=expected):
        read_text_file(path)


def test_split_holds_out_the_tail():
    train, valid = split_train_valid("abcdefghijklmnopqrst", 0.1)
    assert (train, valid) == ("abcdefghijklmnopqr", "st")


def test_split_holds_out_at_least_one_character():
    assert split_train_valid("abc", 0.01) == ("ab", "c")


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.5])
def test_split_fraction_must_be_strictly_between_zero_and_one(fraction):
    with pytest.raises(SeqlabError, match="valid_fraction"):
        split_train_valid("abc", fraction)


def test_stdlib_files_are_sorted_and_skip_tests_and_third_party_code():
    root = Path(sysconfig.get_paths()["stdlib"])
    relative = [path.relative_to(root) for path in stdlib_source_files()]
    assert relative, "every Python has a standard library"
    assert relative == sorted(relative, key=lambda path: path.as_posix())
    for path in relative:
        assert path.suffix == ".py"
        assert not STDLIB_EXCLUDED_DIRS.intersection(path.parts[:-1])


def test_stdlib_corpus_is_deterministic_and_capped():
    first = load_stdlib_corpus(200_000)
    second = load_stdlib_corpus(200_000)
    assert first == second
    assert 0 < len(first.text) <= 200_000
    assert "def " in first.text and "standard library" in first.source


def test_stdlib_corpus_too_small_for_any_file_is_an_error():
    with pytest.raises(SeqlabError, match="empty"):
        load_stdlib_corpus(10)


def test_the_held_out_part_starts_at_a_line_when_one_is_near():
    text = "one two\nthree four\nfive six seven\n"
    train, valid = split_train_valid(text, 0.3)  # the cut falls inside the last line
    assert (train, valid) == ("one two\nthree four\n", "five six seven\n")


def make_files(directory: Path, *names: str) -> Path:
    directory.mkdir()
    for name in names:
        (directory / name).write_text(f"text of {name}\n")
    return directory


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["train.txt", "valid.txt", "test.txt"], ("train.txt", "valid.txt", "test.txt")),  # wikitext-2 here
        (["train.txt", "valid.txt"], ("train.txt", "valid.txt", None)),
        (["ptb.train.txt", "ptb.valid.txt", "README.md"], ("ptb.train.txt", "ptb.valid.txt", None)),  # ptb here
        (["wiki.train.tokens", "wiki.valid.tokens", "wiki.test.tokens"], ("wiki.train.tokens", "wiki.valid.tokens",
                                                                          "wiki.test.tokens")),
        (["input.txt", "README.md"], ("input.txt", None, None)),  # tiny-shakespeare here
    ],
)  # fmt: skip
def test_corpus_directories_are_recognised_as_distributed(tmp_path, names, expected):
    files = find_corpus_files(make_files(tmp_path / "corpus", *names))
    found = tuple(None if path is None else path.name for path in (files.train, files.valid, files.test))
    assert found == expected


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["a.txt", "b.txt"], r"not a corpus directory: expected train.txt and valid.txt .* found a.txt, b.txt"),
        ([], "found no files"),
        (["train.txt", "ptb.train.txt"], "more than one train file: ptb.train.txt, train.txt"),
    ],
)
def test_a_directory_that_is_not_a_corpus_says_what_it_holds(tmp_path, names, message):
    with pytest.raises(SeqlabError, match=message):
        find_corpus_files(make_files(tmp_path / "corpus", *names))


def test_a_missing_corpus_is_named(tmp_path):
    with pytest.raises(SeqlabError, match="nothere: no such file or directory"):
        find_corpus_files(tmp_path / "nothere")


def test_splits_of_a_directory_a_file_and_the_stdlib(tmp_path, corpus_file):
    directory = make_files(tmp_path / "corpus", "train.txt", "valid.txt", "test.txt")
    splits = load_corpus_splits(directory, valid_fraction=0.5, stdlib_max_chars=1)
    assert (splits.train, splits.valid, splits.test) == ("text of train.txt\n", "text of valid.txt\n",
                                                          "text of test.txt\n")  # fmt: skip
    single = load_corpus_splits(corpus_file, valid_fraction=0.1, stdlib_max_chars=1)
    assert single.train + single.valid == corpus_file.read_text() and single.test is None
    assert "held out" in single.source
    stdlib = load_corpus_splits(None, valid_fraction=0.1, stdlib_max_chars=100_000)
    assert "standard library" in stdlib.source and stdlib.valid
