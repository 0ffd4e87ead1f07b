"""Word-vector files: ours load in gensim, gensim's load in ours, bit for bit; bad files are named."""

from __future__ import annotations

import re

import gensim.models.keyedvectors as gensim_keyedvectors
import numpy as np
import pytest

from seqlab.embeddings.formats import (
    VECTOR_FORMATS,
    detect_format,
    load_vectors,
    save_glove,
    save_vectors,
    save_word2vec,
)
from seqlab.embeddings.keyed_vectors import KeyedVectors
from seqlab.errors import SeqlabError

WORDS = ["the", "naïve", "日本語", "straße", "Ωmega", "comma,", "x"] + [f"w{i}" for i in range(53)]
EXTENSION = {"word2vec-text": ".txt", "word2vec-binary": ".bin", "glove": ".glove"}


@pytest.fixture(scope="module")
def kv():
    """Non-ASCII words; values of every magnitude, a negative zero and float32's extremes."""
    rng = np.random.default_rng(0)
    vectors = (rng.standard_normal((len(WORDS), 7)) * 10.0 ** rng.integers(-30, 30, (len(WORDS), 7))).astype(np.float32)
    vectors[0, :4] = [-0.0, np.finfo(np.float32).max, np.finfo(np.float32).tiny, 1e-45]
    return KeyedVectors(WORDS, vectors)


def assert_same_vectors(loaded, kv):
    assert list(loaded.index_to_key) == kv.index_to_key
    np.testing.assert_array_equal(loaded.vectors, kv.vectors)
    assert loaded.vectors.dtype == np.float32
    assert np.signbit(loaded.vectors[0, 0])  # -0.0 survives


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("binary", [False, True])
def test_our_word2vec_files_load_in_gensim(tmp_path, kv, binary):
    path = tmp_path / ("vectors.bin" if binary else "vectors.txt")
    save_word2vec(kv, path, binary=binary)
    assert_same_vectors(gensim_keyedvectors.KeyedVectors.load_word2vec_format(path, binary=binary), kv)


def test_our_glove_files_load_in_gensim_without_header(tmp_path, kv):
    path = tmp_path / "vectors.glove"
    save_glove(kv, path)
    assert_same_vectors(gensim_keyedvectors.KeyedVectors.load_word2vec_format(path, no_header=True), kv)


@pytest.mark.parametrize("binary", [False, True])
def test_gensims_word2vec_files_load_in_ours(tmp_path, kv, binary):
    model = gensim_keyedvectors.KeyedVectors(kv.vector_size)
    model.add_vectors(kv.index_to_key, kv.vectors)
    path = tmp_path / "gensim.bin"  # the extension would say binary: the format argument decides
    model.save_word2vec_format(path, binary=binary)
    format = "word2vec-binary" if binary else "word2vec-text"
    assert_same_vectors(load_vectors(path, format=format), kv)


@pytest.mark.parametrize("format", VECTOR_FORMATS)
def test_round_trip_through_each_format_and_detect_it(tmp_path, kv, format):
    path = tmp_path / f"vectors{EXTENSION[format]}"
    save_vectors(kv, path, format=format)
    assert detect_format(path) == format
    assert_same_vectors(load_vectors(path), kv)
    assert load_vectors(path, limit=3).index_to_key == WORDS[:3]


def test_the_extension_chooses_the_format_when_none_is_given(tmp_path, kv):
    save_vectors(kv, tmp_path / "a.bin")
    save_vectors(kv, tmp_path / "a.txt")
    assert (tmp_path / "a.bin").read_bytes().startswith(f"{len(WORDS)} 7\nthe ".encode())
    assert (tmp_path / "a.txt").read_text(encoding="utf-8").splitlines()[1].startswith("the -0 3.40282347e+38 ")
    with pytest.raises(SeqlabError, match="cannot tell the vector format of .*a.glove"):
        save_vectors(kv, tmp_path / "a.glove")
    with pytest.raises(SeqlabError, match="unknown vector format 'fasttext'"):
        save_vectors(kv, tmp_path / "a.txt", format="fasttext")


def test_binary_vectors_read_with_or_without_a_newline_after_each(tmp_path):
    vectors = np.array([[1.5, -2.0], [0.25, 3.0]], dtype="<f4")
    words = ["ünïcödé", "b"]
    for separator in (b"\n", b""):  # the C tool writes one, gensim does not
        data = b"2 2\n" + b"".join(w.encode() + b" " + v.tobytes() + separator for w, v in zip(words, vectors))
        loaded = load_vectors(write(tmp_path, "c.bin", data))
        assert loaded.index_to_key == words
        np.testing.assert_array_equal(loaded.vectors, vectors)


def test_glove_is_detected_by_a_first_line_that_is_not_two_integers(tmp_path):
    assert detect_format(write(tmp_path, "a.vec", b"3 2\na 1 2\n")) == "word2vec-text"
    assert detect_format(write(tmp_path, "b.vec", b"3 2.5\n")) == "glove"
    assert detect_format(write(tmp_path, "c.vec", b"the 0.5 1\n")) == "glove"
    glove = load_vectors(write(tmp_path, "d.vec", b"the 0.5 1\n\nof 2 -3e-2\n"))
    assert glove.index_to_key == ["the", "of"]
    np.testing.assert_array_equal(glove.vectors, np.array([[0.5, 1], [2, -0.03]], dtype=np.float32))


@pytest.mark.parametrize("word", ["two words", "tab\there", "", "new\nline", "nbsp\u00a0inside"])
def test_writers_refuse_words_that_would_break_the_format(tmp_path, word):
    kv = KeyedVectors(["fine", word], np.ones((2, 3), dtype=np.float32))
    for format in VECTOR_FORMATS:
        with pytest.raises(SeqlabError, match=re.escape(f"word 1 {word!r} cannot be written")):
            save_vectors(kv, tmp_path / "out.txt", format=format)


@pytest.mark.parametrize(
    ("data", "format", "message"),
    [
        (b"2 3\na 1 2 3\nb 1 2\n", None, ", line 3: expected a word and 3 numbers, found 2"),
        (b"a 1 2 3\nb 1 2 3 4\n", None, ", line 2: expected a word and 3 numbers, found 4"),
        (b"2 3\na 1 2 3\nb 1 2.5.1 3\n", None, ", line 3: value 2 '2.5.1' is not a number"),
        (b"3 3\na 1 2 3\nb 1 2 3\n", None, ", line 3: the file ends after 2 words but the header declares 3"),
        (b"1 3\na 1 2 3\nb 1 2 3\n", None, ", line 3: more words than the 1 the header declares"),
        (b"2 3 4\na 1 2 3\n", "word2vec-text", ", line 1: expected a header 'words dimensions'"),
        (b"1 3\ncaf\xe9 1 2 3\n", None, ", line 2: word b'caf\\xe9' is not valid UTF-8"),
        (b"2 1\na 1\na 2\n", None, ", line 3: word 'a' already appeared on line 2"),
        (b"\n", None, ": the first line is empty"),
    ],
)
def test_malformed_text_files_are_refused_naming_the_line(tmp_path, data, format, message):
    path = write(tmp_path, "bad.txt", data)
    with pytest.raises(SeqlabError, match=re.escape(f"bad.txt{message}")):
        load_vectors(path, format=format)


def binary_entry(word: bytes, values) -> bytes:
    return word + b" " + np.asarray(values, dtype="<f4").tobytes() + b"\n"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"2 2\n" + binary_entry(b"a", [1, 2]) + b"b " + bytes(5), "entry 2 of 2 (byte 15): the file is truncated"),
        (b"2 2\n" + binary_entry(b"a", [1, 2]), "entry 2 of 2 (byte 15): the file is truncated"),
        (b"1 2\n" + binary_entry(b"caf\xe9", [1, 2]), "entry 1 of 1 (byte 4): word b'caf\\xe9' is not valid UTF-8"),
        (b"1 2\n" + binary_entry(b"a", [1, 2]) + b"extra", "byte 15: more data after the 1 words"),
        (b"2 1\n" + binary_entry(b"a", [1]) + binary_entry(b"a", [2]), "entry 2 of 2 (byte 11): word 'a' already"),
        (b"two 2\n", "line 1: expected a header 'words dimensions'"),
    ],
)
def test_malformed_binary_files_are_refused_naming_the_entry(tmp_path, data, message):
    path = write(tmp_path, "bad.bin", data)
    with pytest.raises(SeqlabError, match=re.escape(f"bad.bin, {message}")):
        load_vectors(path)


def test_bad_arguments_are_refused(tmp_path, kv):
    path = tmp_path / "a.txt"
    save_vectors(kv, path)
    with pytest.raises(SeqlabError, match="limit must be a positive number"):
        load_vectors(path, limit=0)
    with pytest.raises(SeqlabError, match="unknown vector format 'w2v'"):
        load_vectors(path, format="w2v")
    with pytest.raises(SeqlabError, match="missing.bin: no such file"):
        load_vectors(tmp_path / "missing.bin")
