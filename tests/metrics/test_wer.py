"""WER, CER and the alignment (seqlab.metrics.wer, edit_distance): jiwer 4's counts, chunks and rates, to the tie.

Random corpora use vocabularies of one to four words (or characters), so that many alignments tie and
the tie-breaking is tested, not only the distance. The rates are compared exactly (rtol=0, atol=0): both
sides divide the same integers in the same order.
"""

from __future__ import annotations

import dataclasses
import itertools
import random

import jiwer
import pytest

from seqlab.metrics.edit_distance import (
    AlignmentChunk,
    EditStatistics,
    align,
    chunk_statistics,
    edit_operations,
    edit_statistics,
)
from seqlab.metrics.wer import (
    characters,
    corpus_cer,
    corpus_wer,
    process_characters,
    process_words,
    word_statistics,
    words,
)

RANDOM_CORPORA = 1500  # for words and again for characters, each of 1 to 6 sentences
GAPS = [" ", " ", " ", " ", "  ", "\t", " \t ", "\u00a0", "   "]  # mostly one space; jiwer splits oddly on others


def random_sentence(rng: random.Random, vocabulary: str, length: int) -> str:
    line = "".join(rng.choice(vocabulary) + rng.choice(GAPS) for _ in range(length))
    return rng.choice(["", " ", "  "]) + line + rng.choice(["", " ", "\t"])


def random_corpus(rng: random.Random, *, longest: int = 12) -> tuple[list[str], list[str]]:
    vocabulary = "abcd"[: rng.randint(1, 4)]
    sentences = rng.randint(1, 6)
    references = [random_sentence(rng, vocabulary, rng.choice([0, *range(longest + 1)])) for _ in range(sentences)]
    hypotheses = [random_sentence(rng, vocabulary, rng.choice([0, *range(longest + 1)])) for _ in range(sentences)]
    return references, hypotheses


def jiwer_chunks(alignments) -> list[list[AlignmentChunk]]:
    return [[AlignmentChunk(**dataclasses.asdict(chunk)) for chunk in sentence] for sentence in alignments]


def assert_equals_jiwer(ours, theirs) -> None:
    assert ours.references == theirs.references and ours.hypotheses == theirs.hypotheses
    assert ours.alignments == jiwer_chunks(theirs.alignments)
    counts = (theirs.hits, theirs.substitutions, theirs.deletions, theirs.insertions)
    assert ours.statistics == EditStatistics(*counts)


def test_random_corpora_have_jiwers_words_alignments_counts_and_rates():
    rng = random.Random(1)
    for _ in range(RANDOM_CORPORA):
        references, hypotheses = random_corpus(rng)
        ours, theirs = process_words(references, hypotheses), jiwer.process_words(references, hypotheses)
        assert_equals_jiwer(ours, theirs)
        assert (ours.wer, ours.mer, ours.wil, ours.wip) == (theirs.wer, theirs.mer, theirs.wil, theirs.wip)
        assert corpus_wer(references, hypotheses) == jiwer.wer(references, hypotheses)
        assert word_statistics(references, hypotheses) == ours.statistics


def test_random_corpora_have_jiwers_characters_alignments_counts_and_cer():
    rng = random.Random(2)
    for _ in range(RANDOM_CORPORA):
        references, hypotheses = random_corpus(rng, longest=6)
        ours, theirs = process_characters(references, hypotheses), jiwer.process_characters(references, hypotheses)
        assert_equals_jiwer(ours, theirs)
        assert ours.cer == theirs.cer == corpus_cer(references, hypotheses) == jiwer.cer(references, hypotheses)


def test_long_sentences_have_jiwers_alignments():
    # past 64 items rapidfuzz computes its matrix in blocks of 64 bits rather than one word
    rng = random.Random(3)
    for _ in range(30):
        vocabulary = "abc"[: rng.randint(2, 3)]
        references = [" ".join(rng.choices(vocabulary, k=rng.randint(60, 300))) for _ in range(2)]
        hypotheses = [" ".join(rng.choices(vocabulary, k=rng.randint(60, 300))) for _ in range(2)]
        assert_equals_jiwer(process_words(references, hypotheses), jiwer.process_words(references, hypotheses))


# (reference, hypothesis, hits, substitutions, deletions, insertions), each worked out by hand
HAND_WRITTEN = [
    ("one two three", "one two three", 3, 0, 0, 0),
    ("one two three", "one too three", 2, 1, 0, 0),
    ("one two three", "one three", 2, 0, 1, 0),
    ("one two three", "one two two three", 3, 0, 0, 1),
    ("one two three", "", 0, 0, 3, 0),
    ("", "one two", 0, 0, 0, 2),
    ("", "", 0, 0, 0, 0),
    ("one two", "nine eight seven six", 0, 2, 0, 2),
    ("a b", "b a", 1, 0, 1, 1),  # a tie with two substitutions: rapidfuzz inserts "b", matches "a", deletes "b"
    ("a b c", "a c d", 1, 2, 0, 0),  # a tie with a deletion and an insertion: two substitutions
    ("a a", "a", 1, 0, 1, 0),
    ("  one   two\tthree  ", "one two\tthree", 2, 0, 0, 0),  # "two\tthree" is one word (a lone tab)
]


@pytest.mark.parametrize(("reference", "hypothesis", "hits", "substitutions", "deletions", "insertions"),
                         HAND_WRITTEN)  # fmt: skip
def test_hand_written_counts(reference, hypothesis, hits, substitutions, deletions, insertions):
    expected = EditStatistics(hits, substitutions, deletions, insertions)
    assert process_words(reference, hypothesis).statistics == expected
    theirs = jiwer.process_words(reference, hypothesis)
    assert (theirs.hits, theirs.substitutions, theirs.deletions, theirs.insertions) == dataclasses.astuple(expected)


def test_the_chunks_of_a_tie_are_rapidfuzzs():
    assert align(["a", "b"], ["b", "a"]) == [
        AlignmentChunk("insert", 0, 0, 0, 1), AlignmentChunk("equal", 0, 1, 1, 2), AlignmentChunk("delete", 1, 2, 2, 2)
    ]  # fmt: skip
    assert edit_operations(["a", "b"], ["b", "a"]) == [("insert", 0, 0), ("delete", 1, 2)]
    assert align("xay", "xbbay") == [AlignmentChunk("equal", 0, 1, 0, 1), AlignmentChunk("insert", 1, 1, 1, 3),
                                     AlignmentChunk("equal", 1, 3, 3, 5)]  # fmt: skip


def test_empty_sequences_align_to_nothing_or_one_chunk():
    assert align([], []) == []
    assert align([], [7, 8]) == [AlignmentChunk("insert", 0, 0, 0, 2)]
    assert align([7, 8], []) == [AlignmentChunk("delete", 0, 2, 0, 0)]


@pytest.mark.parametrize(("references", "hypotheses"), [
    ("", ""), ("", "one two"), (["", ""], ["", "x"]), (["", "  "], ["\t", ""]), ("one two", ""),
    (["", "one"], ["two three", ""]),
])  # fmt: skip
def test_empty_references_and_hypotheses_are_scored_as_jiwer_4_scores_them(references, hypotheses):
    ours, theirs = process_words(references, hypotheses), jiwer.process_words(references, hypotheses)
    assert ours.alignments == jiwer_chunks(theirs.alignments)
    assert (ours.wer, ours.mer, ours.wil, ours.wip) == (theirs.wer, theirs.mer, theirs.wil, theirs.wip)
    assert process_characters(references, hypotheses).cer == jiwer.cer(references, hypotheses)


def test_a_corpus_of_no_sentence_has_no_alignment_where_jiwer_makes_up_an_empty_one():
    ours, theirs = process_words([], []), jiwer.process_words([], [])
    assert (ours.references, ours.alignments) == ([], []) and (theirs.references, theirs.alignments) == ([[]], [[]])
    assert (ours.wer, ours.mer, ours.wil, ours.wip) == (theirs.wer, theirs.mer, theirs.wil, theirs.wip)


def test_no_reference_word_gives_the_insertions_as_wer():
    assert corpus_wer("", "one two") == 2.0 and corpus_wer(["", ""], ["", ""]) == 0.0
    result = process_words("", "one")
    assert (result.mer, result.wip, result.wil) == (1.0, 0.0, 1.0)


def test_text_is_split_as_jiwers_default_transforms():
    line = " \t one  two\tthree \u00a0 four\u00a0five   "
    assert words(line) == jiwer.wer_default(line)[0] == ["one", "two\tthree", "four\u00a0five"]
    assert characters(line) == jiwer.cer_default(line)[0]
    assert characters(" a  b ") == ["a", " ", " ", "b"]


def test_statistics_add_and_round_trip_through_lists():
    rng = random.Random(4)
    references, hypotheses = zip(*(map(" ".join, (rng.choices("ab", k=6), rng.choices("ab", k=5)))
                                   for _ in range(20)))  # fmt: skip
    parts = [word_statistics(references[:7], hypotheses[:7]), word_statistics(references[7:], hypotheses[7:])]
    assert sum(parts) == parts[0] + parts[1] == word_statistics(references, hypotheses)
    total = sum(parts)
    assert EditStatistics.from_list([float(value) for value in total.as_list()]) == total
    assert total.reference_length == 6 * 20 and total.hypothesis_length == 5 * 20
    assert total.errors == total.substitutions + total.deletions + total.insertions


def test_sentence_counts_must_agree():
    with pytest.raises(ValueError, match="2 reference sentences but 1 hypotheses"):
        corpus_wer(["a", "b"], ["a"])


def all_alignments(reference: tuple, hypothesis: tuple):
    """Every alignment, as a list of (reference item or None, hypothesis item or None) columns."""
    if not reference and not hypothesis:
        yield []
        return
    if reference and hypothesis:
        for rest in all_alignments(reference[1:], hypothesis[1:]):
            yield [(reference[0], hypothesis[0]), *rest]
    if reference:
        for rest in all_alignments(reference[1:], hypothesis):
            yield [(reference[0], None), *rest]
    if hypothesis:
        for rest in all_alignments(reference, hypothesis[1:]):
            yield [(None, hypothesis[0]), *rest]


def column_counts(columns) -> tuple[int, int, int, int]:
    hits = sum(r is not None and r == h for r, h in columns)
    substitutions = sum(r is not None and h is not None and r != h for r, h in columns)
    deletions = sum(h is None for _, h in columns)
    return hits, substitutions, deletions, sum(r is None for r, _ in columns)


def assert_valid(chunks: list[AlignmentChunk], reference: tuple, hypothesis: tuple) -> None:
    """The chunks cover both sequences in order, and each chunk is what its type says."""
    i = j = 0
    for chunk in chunks:
        assert (chunk.ref_start_idx, chunk.hyp_start_idx) == (i, j)
        i, j = chunk.ref_end_idx, chunk.hyp_end_idx
        said, heard = reference[chunk.ref_start_idx : i], hypothesis[chunk.hyp_start_idx : j]
        if chunk.type == "equal":
            assert said == heard and said
        elif chunk.type == "substitute":
            assert len(said) == len(heard) > 0 and all(a != b for a, b in zip(said, heard))
        else:
            assert chunk.type in ("delete", "insert") and len(said if chunk.type == "delete" else heard) > 0
            assert not (heard if chunk.type == "delete" else said)
    assert (i, j) == (len(reference), len(hypothesis))


def test_tiny_cases_reach_the_brute_force_minimum_with_a_valid_alignment():
    for n, m in itertools.product(range(5), repeat=2):
        for reference in itertools.product("ab", repeat=n):
            for hypothesis in itertools.product("ab", repeat=m):
                options = {column_counts(columns) for columns in all_alignments(reference, hypothesis)}
                least = min(s + d + i for _, s, d, i in options)
                ours = edit_statistics(reference, hypothesis)
                assert ours.errors == least and dataclasses.astuple(ours) in options
                chunks = align(reference, hypothesis)
                assert chunk_statistics(chunks) == ours
                assert_valid(chunks, reference, hypothesis)
