"""Tagging schemes: which moves each allows, spans, and lossless conversion between IOB1, BIO and BIOES."""

from __future__ import annotations

import itertools
import random

import pytest

from seqlab.data.tag_schemes import (
    SCHEMES,
    Span,
    check_tags,
    convert,
    is_allowed,
    scheme_tags,
    spans,
    split_tag,
    tags_from_spans,
    transition_masks,
)
from seqlab.errors import SeqlabError
from seqlab.metrics.entity_spans import strict_spans

# The same three entities (a two-token person right after a one-token person, a location) in each scheme
SENTENCE_SPANS = [Span(0, 1, "PER"), Span(1, 3, "PER"), Span(4, 5, "LOC")]
WRITTEN = {
    "IOB1": ["I-PER", "B-PER", "I-PER", "O", "I-LOC"],
    "BIO": ["B-PER", "B-PER", "I-PER", "O", "B-LOC"],
    "BIOES": ["S-PER", "B-PER", "E-PER", "O", "S-LOC"],
}


@pytest.mark.parametrize("scheme", SCHEMES)
def test_each_scheme_writes_the_spans_as_its_definition_says(scheme):
    assert tags_from_spans(SENTENCE_SPANS, 5, scheme) == WRITTEN[scheme]
    assert spans(WRITTEN[scheme], scheme) == SENTENCE_SPANS


@pytest.mark.parametrize(("source", "target"), list(itertools.product(SCHEMES, SCHEMES)))
def test_conversion_between_any_two_schemes(source, target):
    assert convert(WRITTEN[source], source, target) == WRITTEN[target]


def random_spans(rng: random.Random, length: int) -> list[Span]:
    """Non-overlapping spans, often adjacent and of the same type (where IOB1 needs its B)."""
    found, position = [], 0
    while position < length:
        if rng.random() < 0.4:
            position += 1
            continue
        end = min(length, position + rng.randint(1, 3))
        found.append(Span(position, end, rng.choice(["PER", "LOC"])))
        position = end
    return found


@pytest.mark.parametrize("seed", range(5))
def test_conversions_are_lossless_on_random_valid_sentences(seed):
    rng = random.Random(seed)
    for _ in range(200):
        length = rng.randint(0, 9)
        truth = random_spans(rng, length)
        written = {scheme: tags_from_spans(truth, length, scheme) for scheme in SCHEMES}
        for source, target in itertools.product(SCHEMES, SCHEMES):
            assert convert(written[source], source, target) == written[target]
        for scheme in SCHEMES:
            assert spans(written[scheme], scheme) == truth
            # seqeval's strict reading agrees with the scheme's own on every valid sentence
            assert strict_spans(written[scheme], scheme) == truth


# (scheme, previous tag or None for the sentence start, tag or None for the sentence end, allowed)
MOVES = [
    ("BIO", "O", "I-PER", False),
    ("BIO", None, "I-PER", False),
    ("BIO", "B-LOC", "I-PER", False),
    ("BIO", "B-PER", "I-PER", True),
    ("BIO", "I-PER", "B-PER", True),
    ("BIO", "I-PER", None, True),
    ("IOB1", "O", "I-PER", True),
    ("IOB1", None, "I-PER", True),
    ("IOB1", "O", "B-PER", False),
    ("IOB1", None, "B-PER", False),
    ("IOB1", "I-LOC", "B-PER", False),
    ("IOB1", "I-PER", "B-PER", True),
    ("IOB1", "B-PER", "B-PER", True),
    ("BIOES", "B-PER", "O", False),
    ("BIOES", "B-PER", None, False),
    ("BIOES", "I-PER", "E-LOC", False),
    ("BIOES", "I-PER", "E-PER", True),
    ("BIOES", "O", "E-PER", False),
    ("BIOES", "E-PER", "I-PER", False),
    ("BIOES", "S-PER", "B-PER", True),
    ("BIOES", None, "S-PER", True),
    ("BIOES", "E-PER", None, True),
]


@pytest.mark.parametrize(("scheme", "previous", "current", "allowed"), MOVES)
def test_the_moves_each_scheme_allows(scheme, previous, current, allowed):
    assert is_allowed(previous, current, scheme) is allowed


@pytest.mark.parametrize("scheme", SCHEMES)
def test_the_crf_masks_allow_exactly_the_sentences_the_scheme_can_write(scheme):
    """Brute force over every sentence of up to 3 tokens: a sentence is valid when it is how the
    scheme writes some spans (read here by seqeval's strict rules), and then the masks accept it."""
    tags = scheme_tags(["PER", "LOC"], scheme)
    allowed, start, end = transition_masks(tags, scheme)
    for length in range(1, 4):
        for path in itertools.product(range(len(tags)), repeat=length):
            sentence = [tags[i] for i in path]
            writable = tags_from_spans(strict_spans(sentence, scheme), length, scheme) == sentence
            by_masks = start[path[0]] and end[path[-1]] and all(allowed[a, b] for a, b in zip(path, path[1:]))
            assert by_masks == writable, sentence
            if not writable:
                with pytest.raises(SeqlabError):
                    check_tags(sentence, scheme)


def test_scheme_tags_lists_outside_first_then_each_type_prefix_by_prefix():
    assert scheme_tags(["PER", "LOC"], "BIO") == ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    assert len(scheme_tags(["PER", "LOC", "ORG", "MISC"], "BIOES")) == 17  # CoNLL-2003's BIOES tags


def test_an_invalid_move_is_named_with_its_token():
    with pytest.raises(SeqlabError, match=r"BIO: tag 'I-PER' at token 2 cannot come after 'O'"):
        check_tags(["O", "I-PER"], "BIO")
    with pytest.raises(SeqlabError, match=r"at the start of a sentence"):
        convert(["B-PER", "I-PER"], "IOB1", "BIO")
    with pytest.raises(SeqlabError, match=r"cannot end with 'B-PER'"):
        spans(["O", "B-PER"], "BIOES")


@pytest.mark.parametrize(("tag", "scheme"), [("S-PER", "BIO"), ("PER", "BIO"), ("B-", "BIOES"), ("E-PER", "IOB1")])
def test_a_tag_outside_the_scheme_is_an_error(tag, scheme):
    with pytest.raises(SeqlabError, match=f"unknown tag '{tag}' in the {scheme} scheme"):
        split_tag(tag, scheme)


def test_types_may_contain_hyphens():
    assert split_tag("B-creative-work", "BIO") == ("B", "creative-work")
    assert spans(["B-creative-work", "I-creative-work"], "BIO") == [Span(0, 2, "creative-work")]


def test_an_unknown_scheme_and_overlapping_spans_are_errors():
    with pytest.raises(SeqlabError, match="unknown tagging scheme 'IOB2'"):
        convert(["O"], "IOB2", "BIO")
    with pytest.raises(SeqlabError, match="overlaps"):
        tags_from_spans([Span(0, 2, "PER"), Span(1, 3, "LOC")], 3, "BIO")
