"""Transfer of pretrained vectors to a task vocabulary: exact rows, the lower-case fallback, and random rows
for the rest in ±sqrt(3/E), reproducible from the seed."""

from __future__ import annotations

import doctest
import subprocess
import sys

import numpy as np
import pytest

import seqlab.embeddings
from seqlab.embeddings import transfer
from seqlab.embeddings.formats import load_vectors
from seqlab.embeddings.keyed_vectors import KeyedVectors
from seqlab.embeddings.transfer import pretrained_matrix, rekeyed
from seqlab.errors import SeqlabError

DIMS = 4
BOUND = np.sqrt(3 / DIMS)


@pytest.fixture(scope="module")
def kv():
    """Vectors with a capitalised form ("Good") next to its lower-cased one, as cased vectors have."""
    vectors = np.arange(4 * DIMS, dtype=np.float32).reshape(4, DIMS) + 10  # far outside ±BOUND
    return KeyedVectors(["movie", "good", "Good", "nothing"], vectors)


def test_words_with_vectors_get_their_rows_exactly(kv):
    matrix, found = pretrained_matrix(["nothing", "movie", "good"], kv)
    np.testing.assert_array_equal(matrix, kv.vectors[[3, 0, 1]])
    assert found == 3


def test_the_word_as_written_comes_before_its_lower_case_form(kv):
    matrix, _ = pretrained_matrix(["Good", "good"], kv)
    np.testing.assert_array_equal(matrix, kv.vectors[[2, 1]])


def test_a_word_missing_as_written_falls_back_to_its_lower_case_form(kv):
    matrix, found = pretrained_matrix(["<pad>", "Movie", "NOTHING"], kv)
    np.testing.assert_array_equal(matrix[1:], kv.vectors[[0, 3]])
    assert found == 2


def test_without_the_fallback_a_capitalised_word_is_missing(kv):
    matrix, found = pretrained_matrix(["<pad>", "Movie", "movie"], kv, lowercase_fallback=False)
    assert found == 1
    assert np.all(np.abs(matrix[1]) <= BOUND)
    np.testing.assert_array_equal(matrix[2], kv.vectors[0])


def test_missing_words_are_uniform_in_plus_minus_sqrt_3_over_e(kv):
    words = ["movie"] + [f"unseen{i}" for i in range(2000)]
    matrix, found = pretrained_matrix(words, kv, seed=3)
    random_rows = matrix[1:]
    assert found == 1
    assert np.all(np.abs(random_rows) <= BOUND)
    assert random_rows.min() < -0.99 * BOUND and random_rows.max() > 0.99 * BOUND  # the whole range is used
    # 8000 draws: the variance 1/E (expected squared norm 1) to 4 standard errors (0.0025 each)
    assert abs(np.mean(random_rows**2) - 1 / DIMS) < 0.01
    assert abs(np.mean(np.sum(random_rows**2, axis=1)) - 1) < 0.04
    assert abs(np.mean(random_rows)) < 0.02


def test_the_random_rows_are_the_seeds_and_do_not_depend_on_which_words_were_found(kv):
    words = ["<pad>", "movie", "gripping", "Good"]
    matrix, _ = pretrained_matrix(words, kv, seed=7)
    np.testing.assert_array_equal(pretrained_matrix(words, kv, seed=7)[0], matrix)
    other_seed, _ = pretrained_matrix(words, kv, seed=8)
    np.testing.assert_array_equal(other_seed[[1, 3]], matrix[[1, 3]])
    assert not np.any(other_seed[[0, 2]] == matrix[[0, 2]])
    more_found = KeyedVectors([*kv.index_to_key, "gripping"], np.vstack([kv.vectors, np.ones((1, DIMS))]))
    with_gripping, found = pretrained_matrix(words, more_found, seed=7)
    assert found == 3
    np.testing.assert_array_equal(with_gripping[0], matrix[0])
    np.testing.assert_array_equal(with_gripping[2], np.ones(DIMS))


def test_the_matrix_is_float32_one_row_per_word_whatever_the_vectors_hold(kv):
    matrix, found = pretrained_matrix(["movie", "plot", "twist"], kv)
    assert matrix.shape == (3, DIMS) and matrix.dtype == np.float32 and matrix.flags.writeable
    assert isinstance(found, int) and found == 1


@pytest.mark.parametrize(
    "words, fallback, message",
    [
        (["Plot", "twist"], True, r"none of the 2 words looked up has a vector \(nor in lower case\) among the 4"),
        (["MOVIE"], False, r"none of the 1 words looked up has a vector among the 4 pretrained words"),
        ([], True, "none of the 0 words"),
    ],
)
def test_no_word_found_is_an_error_saying_how_many_were_looked_up(kv, words, fallback, message):
    with pytest.raises(SeqlabError, match=message):
        pretrained_matrix(words, kv, lowercase_fallback=fallback)


def test_vectors_read_from_a_glove_file_transfer(tmp_path):
    path = tmp_path / "vectors.txt"
    path.write_text("the 0.5 -0.5\nmovie 1 2\n", encoding="utf-8")
    matrix, found = pretrained_matrix(["<pad>", "The", "movie", "dull"], load_vectors(path))
    assert found == 2
    np.testing.assert_array_equal(matrix[1:3], [[0.5, -0.5], [1.0, 2.0]])


def test_it_is_exported_from_the_embeddings_package():
    assert seqlab.embeddings.pretrained_matrix is pretrained_matrix
    assert "pretrained_matrix" in seqlab.embeddings.__all__


def test_transfer_imports_no_torch():
    code = "import sys, seqlab.embeddings.transfer; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_docstring_examples():
    result = doctest.testmod(transfer)
    assert result.attempted > 0 and result.failed == 0


def test_rekeyed_vectors_keep_the_first_word_of_each_key():
    """Keys as a tagger looks words up (digits as 0): "1996" is read, "1997" (a later, rarer word) is not."""
    vectors = KeyedVectors(["1996", "Paris", "1997"], np.arange(6, dtype=np.float32).reshape(3, 2))
    keyed = rekeyed(vectors, lambda word: "".join("0" if c.isdigit() else c for c in word))
    assert keyed.index_to_key == ["0000", "Paris"]
    np.testing.assert_array_equal(keyed["0000"], vectors["1996"])
    np.testing.assert_array_equal(keyed["Paris"], vectors["Paris"])
