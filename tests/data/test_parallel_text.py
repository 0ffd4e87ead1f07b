"""Parallel text: two aligned files, one sentence per line, read whole or not at all; the Multi30k layout."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

import seqlab.data.parallel_text
from seqlab.data import ParallelFiles, find_multi30k_files, read_lines, read_parallel_text
from seqlab.errors import SeqlabError


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def error_of(call, *args, **kwargs) -> str:
    """The message of the SeqlabError the call raises, checked to be one line."""
    with pytest.raises(SeqlabError) as caught:
        call(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_the_docstring_example_runs():
    result = doctest.testmod(seqlab.data.parallel_text, raise_on_error=False)
    assert result.attempted > 0 and result.failed == 0


# --- reading two aligned files ---------------------------------------------------------------------


def test_line_i_of_the_source_pairs_with_line_i_of_the_target(tmp_path):
    source = write(tmp_path / "train.de", "Ein Hund läuft.\nZwei Katzen.\nDrei Vögel.\n")
    target = write(tmp_path / "train.en", "A dog runs.\nTwo cats.\nThree birds.\n")
    text = read_parallel_text(source, target)
    assert len(text) == 3
    assert text.pairs() == [
        ("Ein Hund läuft.", "A dog runs."),
        ("Zwei Katzen.", "Two cats."),
        ("Drei Vögel.", "Three birds."),
    ]
    assert (text.source_path, text.target_path) == (source, target)


def test_the_last_line_terminator_is_optional_and_windows_line_ends_are_read(tmp_path):
    source = write(tmp_path / "a.de", "eins\r\nzwei\r\n")
    target = write(tmp_path / "a.en", "one\ntwo")  # no newline at the end
    assert read_parallel_text(source, target).pairs() == [("eins", "one"), ("zwei", "two")]


def test_a_byte_order_mark_is_not_part_of_the_first_sentence(tmp_path):
    source = write(tmp_path / "a.de", b"\xef\xbb\xbfeins\nzwei\n")
    target = write(tmp_path / "a.en", "one\ntwo\n")
    assert read_parallel_text(source, target).sources == ["eins", "zwei"]


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1e"])
def test_only_newline_ends_a_line_so_unicode_separators_do_not_shift_the_alignment(tmp_path, separator):
    # str.splitlines() would make two lines of the first one and pair "b" with "two".
    source = write(tmp_path / "a.de", f"a{separator}b\nc\n")
    target = write(tmp_path / "a.en", "one\ntwo\n")
    assert read_parallel_text(source, target).pairs() == [(f"a{separator}b", "one"), ("c", "two")]


def test_whitespace_around_a_sentence_is_removed_unless_asked_to_keep_it(tmp_path):
    source = write(tmp_path / "a.de", "  ein Hund \t\nzwei \n")
    target = write(tmp_path / "a.en", "a dog\n two\n")
    assert read_parallel_text(source, target).pairs() == [("ein Hund", "a dog"), ("zwei", "two")]
    kept = read_parallel_text(source, target, strip=False)
    assert kept.pairs() == [("  ein Hund \t", "a dog"), ("zwei ", " two")]


# --- bad input: one line that names the file and the place, and nothing read ----------------------


def test_files_of_different_lengths_name_both_files_and_both_counts(tmp_path):
    source = write(tmp_path / "train.de", "".join(f"satz {i}\n" for i in range(1200)))
    target = write(tmp_path / "train.en", "".join(f"sentence {i}\n" for i in range(1199)))
    message = error_of(read_parallel_text, source, target)
    assert str(source) in message and str(target) in message
    assert "1,200" in message and "1,199" in message
    assert message.index(str(source)) < message.index("1,200") < message.index(str(target)) < message.index("1,199")


@pytest.mark.parametrize(
    ("side", "lines", "line_number", "what"),
    [
        ("source", "eins\n\ndrei\n", 2, "empty"),
        ("source", "\nzwei\ndrei\n", 1, "empty"),
        ("target", "one\ntwo\n \t \n", 3, "only whitespace"),
        ("target", "one\ntwo\nthree\n\n", 4, "empty"),  # a blank line at the end is a line too
        ("target", "one\r\n\r\nthree\r\n", 2, "empty"),
    ],
)
def test_an_empty_line_names_the_file_the_side_and_the_line(tmp_path, side, lines, line_number, what):
    good = {"source": "eins\nzwei\ndrei\n", "target": "one\ntwo\nthree\n"}
    good[side] = lines
    source = write(tmp_path / "a.de", good["source"])
    target = write(tmp_path / "a.en", good["target"])
    message = error_of(read_parallel_text, source, target)
    bad = source if side == "source" else target
    assert message.startswith(f"{side} file {bad}: line {line_number} is {what}")


@pytest.mark.parametrize("side", ["source", "target"])
def test_a_missing_file_is_named(tmp_path, side):
    files = {"source": tmp_path / "a.de", "target": tmp_path / "a.en"}
    present = "target" if side == "source" else "source"
    write(files[present], "one\n")
    message = error_of(read_parallel_text, files["source"], files["target"])
    assert message == f"{side} file {files[side]}: no such file"


def test_invalid_utf8_names_the_file_and_the_line(tmp_path):
    source = write(tmp_path / "a.de", "eins\nzwei\ndrei\n")
    target = write(tmp_path / "a.en", b"one\ntwo\nth\xffree\n")  # 0xff never occurs in UTF-8
    message = error_of(read_parallel_text, source, target)
    assert message.startswith(f"target file {target}: not valid UTF-8")
    assert "line 3" in message


def test_an_empty_file_is_an_error_not_an_empty_corpus(tmp_path):
    source = write(tmp_path / "a.de", "")
    target = write(tmp_path / "a.en", "")
    assert error_of(read_parallel_text, source, target).startswith(f"source file {source}: file is empty")


def test_read_lines_on_its_own_reads_one_side(tmp_path):
    path = write(tmp_path / "hyp.txt", "a b\nc\n")
    assert read_lines(path) == ["a b", "c"]
    assert error_of(read_lines, tmp_path / "nothing.txt", side="reference") == (
        f"reference file {tmp_path / 'nothing.txt'}: no such file"
    )


# --- the Multi30k layout ----------------------------------------------------------------------------

STEMS = {"train": "train", "valid": "val", "test": "test_2016_flickr"}


def make_multi30k(root: Path, languages=("de", "en")) -> Path:
    """A tiny Multi30k folder: raw/ cased sentences, tok/ lower-cased tokenised, three lines a split."""
    for split, stem in STEMS.items():
        for language in languages:
            raw = "".join(f"{split.title()} {language.upper()} sentence {i}.\n" for i in range(3))
            write(root / "raw" / f"{stem}.{language}", raw)
            write(root / "tok" / f"{stem}.lc.norm.tok.{language}", raw.lower().replace(".", " ."))
    return root


@pytest.mark.parametrize(("src", "tgt"), [("de", "en"), ("en", "de")])
@pytest.mark.parametrize("variant", ["raw", "tok"])
def test_multi30k_splits_in_either_direction_and_either_variant(tmp_path, src, tgt, variant):
    root = make_multi30k(tmp_path / "multi30k")
    splits = find_multi30k_files(root, src=src, tgt=tgt, variant=variant)
    for split, stem in STEMS.items():
        name = {"raw": f"{stem}.{{}}", "tok": f"{stem}.lc.norm.tok.{{}}"}[variant]
        expected = ParallelFiles(root / variant / name.format(src), root / variant / name.format(tgt))
        assert getattr(splits, split) == expected
    texts = splits.read()
    assert sorted(texts) == ["test", "train", "valid"]
    first = texts["valid"].pairs()[0]
    if variant == "raw":
        assert first == (f"Valid {src.upper()} sentence 0.", f"Valid {tgt.upper()} sentence 0.")
    else:
        assert first == (f"valid {src} sentence 0 .", f"valid {tgt} sentence 0 .")


def test_multi30k_defaults_to_the_tokenised_variant(tmp_path):
    root = make_multi30k(tmp_path)
    assert find_multi30k_files(root, src="de", tgt="en").test.source == root / "tok/test_2016_flickr.lc.norm.tok.de"


def test_multi30k_missing_files_are_all_named_in_one_line(tmp_path):
    root = make_multi30k(tmp_path)
    (root / "raw" / "val.en").unlink()
    (root / "raw" / "test_2016_flickr.en").unlink()
    message = error_of(find_multi30k_files, root, src="de", tgt="en", variant="raw")
    assert message.startswith(f"{root / 'raw'}: missing 2 of the 6 files of de-en: ")
    assert "val.en" in message and "test_2016_flickr.en" in message and "train.en" not in message


def test_multi30k_a_language_that_is_not_there_says_which_are(tmp_path):
    root = make_multi30k(tmp_path)
    message = error_of(find_multi30k_files, root, src="fr", tgt="en", variant="tok")
    assert "missing 3 of the 6 files of fr-en" in message and "train.lc.norm.tok.fr" in message
    assert message.endswith("(languages there: de, en)")


def test_multi30k_a_folder_without_the_layout_says_what_it_expected(tmp_path):
    write(tmp_path / "train.de", "eins\n")
    message = error_of(find_multi30k_files, tmp_path, src="de", tgt="en", variant="raw")
    assert message.startswith(f"{tmp_path}: not a Multi30k folder: {tmp_path / 'raw'} is missing")


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"src": "de", "tgt": "en", "variant": "bpe"}, "unknown Multi30k variant 'bpe': expected one of raw, tok"),
        ({"src": "en", "tgt": "en", "variant": "raw"}, "source and target language are both 'en'"),
    ],
)
def test_multi30k_bad_arguments(tmp_path, kwargs, expected):
    root = make_multi30k(tmp_path)
    assert error_of(find_multi30k_files, root, **kwargs).startswith(expected)


def test_a_misaligned_multi30k_split_is_caught_when_read(tmp_path):
    root = make_multi30k(tmp_path)
    write(root / "tok" / "train.lc.norm.tok.en", "only one line\n")
    splits = find_multi30k_files(root, src="de", tgt="en")
    message = error_of(splits.read)
    assert "has 3 lines" in message and "has 1" in message
