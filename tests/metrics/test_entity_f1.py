"""Entity F1 equals conlleval's output (the Perl script run live) and seqeval 1.2.2's scores in both its modes."""

from __future__ import annotations

import math
import os
import random
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from seqeval.metrics import accuracy_score, classification_report
from seqeval.scheme import IOB1, IOB2, IOBES

from seqlab.errors import SeqlabError
from seqlab.metrics.conlleval import conlleval_report
from seqlab.metrics.entity_counts import EntityStatistics, entity_scores
from seqlab.metrics.entity_f1 import entity_statistics
from seqlab.metrics.entity_spans import lenient_spans, strict_spans

TOLERANCE = 1e-10  # percent points; seqeval works in fractions, conlleval and seqlab in percent
SEQEVAL_SCHEMES = {"IOB1": IOB1, "BIO": IOB2, "BIOES": IOBES}
TYPES = ["PER", "LOC", "ORG", "MISC"]

# Sentences as a tagger gets them wrong: a boundary off by one, a wrong type, a missed and an
# invented entity, I- without B-, and one sentence with no entities at all (BIO).
REALISTIC_GOLD = [
    ["B-PER", "I-PER", "O", "O", "B-ORG", "I-ORG", "I-ORG", "O"],
    ["O", "B-LOC", "O", "B-MISC", "I-MISC", "O"],
    ["O", "O", "O"],
    ["B-ORG", "O", "B-PER", "O", "B-LOC", "I-LOC"],
]
REALISTIC_PREDICTED = [
    ["B-PER", "I-PER", "O", "O", "B-ORG", "I-ORG", "O", "O"],
    ["O", "B-ORG", "O", "O", "I-MISC", "O"],
    ["O", "B-PER", "O"],
    ["B-ORG", "O", "B-PER", "O", "B-LOC", "I-LOC"],
]


def conlleval_script() -> Path:
    """conlleval.pl as `make install` extracts it from seqeval's source release (or $SEQLAB_CONLLEVAL)."""
    path = Path(os.environ.get("SEQLAB_CONLLEVAL", Path(sys.prefix) / "oracles" / "conlleval.pl"))
    if not path.is_file() or shutil.which("perl") is None:
        pytest.fail(f"the oracle {path} (or perl) is missing: `make install` extracts it from seqeval's sdist")
    return path


def conlleval_output(gold: list[list[str]], predicted: list[list[str]]) -> str:
    """What the Perl script prints for these sentences, a blank line after each."""
    lines = "".join(
        "".join(f"word{i} POS {a} {b}\n" for i, (a, b) in enumerate(zip(truth, guess))) + "\n"
        for truth, guess in zip(gold, predicted)
    )
    result = subprocess.run(["perl", str(conlleval_script())], input=lines, capture_output=True, text=True, check=True)
    return result.stdout


def random_tags(rng: random.Random, length: int, prefixes: str) -> list[str]:
    return [
        "O" if (prefix := rng.choice(prefixes + "OO")) == "O" else f"{prefix}-{rng.choice(TYPES[:3])}"
        for _ in range(length)
    ]


def random_corpus(seed: int, prefixes: str) -> tuple[list[list[str]], list[list[str]]]:
    """Unconstrained random tags (invalid moves included), sentences of 0 to 9 tokens."""
    rng = random.Random(seed)
    gold = [random_tags(rng, rng.randint(0, 9), prefixes) for _ in range(rng.randint(1, 8))]
    return gold, [random_tags(rng, len(truth), prefixes) for truth in gold]


CORPORA = [(seed, prefixes) for seed in range(40) for prefixes in ("BI", "BIES", "IE")]


@pytest.mark.parametrize(("seed", "prefixes"), CORPORA)
def test_the_report_is_conllevals_to_the_character_on_random_tags(seed, prefixes):
    gold, predicted = random_corpus(seed, prefixes)
    assert conlleval_report(entity_statistics(gold, predicted)) == conlleval_output(gold, predicted)


@pytest.mark.parametrize(
    ("gold", "predicted"),
    [
        (REALISTIC_GOLD, REALISTIC_PREDICTED),
        (REALISTIC_GOLD, [["O"] * len(truth) for truth in REALISTIC_GOLD]),  # found nothing
        ([["O"] * len(truth) for truth in REALISTIC_GOLD], REALISTIC_PREDICTED),  # nothing to find
        ([["O", "O"]], [["O", "O"]]),  # no entities at all
        ([[], ["B-PER"]], [[], ["B-PER"]]),  # an empty sentence
        ([["B-creative-work", "I-creative-work"]], [["B-creative-work", "I-creative-work"]]),  # hyphen in a type
    ],
    ids=["realistic", "found-nothing", "nothing-to-find", "no-entities", "empty-sentence", "hyphenated-type"],
)
def test_the_report_is_conllevals_on_edge_cases(gold, predicted):
    assert conlleval_report(entity_statistics(gold, predicted)) == conlleval_output(gold, predicted)


def test_the_realistic_sentences_score_as_counted_by_hand():
    """Reference entities: PER, ORG, LOC, MISC, ORG, PER, LOC (7); predicted: PER, ORG (one token
    short), ORG (wrong type), MISC (missing its B), PER (invented), ORG, PER, LOC (8); correct 4."""
    scores = entity_scores(entity_statistics(REALISTIC_GOLD, REALISTIC_PREDICTED))
    assert (scores.overall.gold, scores.overall.predicted, scores.overall.correct) == (7, 8, 4)
    assert scores.overall.precision == pytest.approx(100 * 4 / 8)
    assert scores.overall.recall == pytest.approx(100 * 4 / 7)
    assert scores.overall.f1 == pytest.approx(2 * 4 / (7 + 8) * 100)
    assert scores.accuracy == pytest.approx(100 * 19 / 23)


def seqeval_report(gold, predicted, mode: str, scheme: str | None) -> dict:
    keywords = {"mode": "strict", "scheme": SEQEVAL_SCHEMES[scheme]} if mode == "strict" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # undefined precision of a type never predicted, tags "not NE"
        return classification_report(gold, predicted, output_dict=True, zero_division=0, **keywords)


def assert_equal_to_seqeval(gold, predicted, mode: str, scheme: str | None = None) -> None:
    scores = entity_scores(entity_statistics(gold, predicted, mode=mode, scheme=scheme))
    expected = seqeval_report(gold, predicted, mode, scheme)
    averages = {"micro avg": scores.overall, "macro avg": scores.macro, "weighted avg": scores.weighted}
    assert set(expected) - set(averages) == set(scores.by_type)
    for name, values in expected.items():
        ours = averages.get(name, scores.by_type.get(name))
        triple = (ours.precision, ours.recall, ours.f1) if hasattr(ours, "f1") else ours
        for got, want in zip(triple, (values["precision"], values["recall"], values["f1-score"])):
            if math.isnan(want):  # seqeval's mean over no entity types; seqlab says 0
                assert not scores.by_type and got == 0
                continue
            assert got == pytest.approx(100 * want, abs=TOLERANCE), (name, triple, values)
        if name in scores.by_type:
            assert ours.gold == values["support"]
    assert scores.accuracy == pytest.approx(100 * accuracy_score(gold, predicted), abs=TOLERANCE)


@pytest.mark.parametrize(("seed", "prefixes"), CORPORA)
def test_the_lenient_mode_is_seqevals_default_mode(seed, prefixes):
    assert_equal_to_seqeval(*random_corpus(seed, prefixes), mode="lenient")


@pytest.mark.parametrize("scheme", ["IOB1", "BIO", "BIOES"])
@pytest.mark.parametrize("seed", range(30))
def test_the_strict_mode_is_seqevals_strict_mode(seed, scheme):
    prefixes = "BIES" if scheme == "BIOES" else "BI"
    assert_equal_to_seqeval(*random_corpus(seed, prefixes), mode="strict", scheme=scheme)


@pytest.mark.parametrize("mode", ["lenient", "strict"])
def test_both_seqeval_modes_on_the_realistic_sentences(mode):
    assert_equal_to_seqeval(REALISTIC_GOLD, REALISTIC_PREDICTED, mode=mode, scheme="BIO")


def test_the_modes_differ_where_the_scheme_is_broken():
    """``O I-MISC`` is an entity to conlleval and seqeval's default mode, nothing in strict BIO."""
    assert lenient_spans(["O", "I-MISC"]) == [(1, 2, "MISC")]
    assert strict_spans(["O", "I-MISC"], "BIO") == []
    lenient = entity_statistics(REALISTIC_GOLD, REALISTIC_PREDICTED, mode="lenient")
    strict = entity_statistics(REALISTIC_GOLD, REALISTIC_PREDICTED, mode="strict", scheme="BIO")
    assert sum(lenient.predicted.values()) == sum(strict.predicted.values()) + 1


def test_conlleval_does_not_read_bioes_and_the_lenient_mode_does():
    """Two one-token persons side by side: conlleval merges S-PER S-PER into one chunk."""
    gold = [["S-PER", "S-PER"]]
    assert entity_statistics(gold, gold).gold == {"PER": 1}
    assert entity_statistics(gold, gold, mode="lenient").gold == {"PER": 2}


@pytest.mark.parametrize("mode", ["conlleval", "lenient"])
def test_the_statistics_of_parts_add_up_to_the_whole(mode):
    gold, predicted = random_corpus(7, "BI")
    whole = entity_statistics(gold, predicted, mode=mode)
    parts = sum(entity_statistics([truth], [guess], mode=mode) for truth, guess in zip(gold, predicted))
    assert parts == whole
    assert sum([], EntityStatistics()) == EntityStatistics()


def test_mismatched_inputs_are_named():
    with pytest.raises(SeqlabError, match="2 reference sentences but 1 predicted"):
        entity_statistics([["O"], ["O"]], [["O"]])
    with pytest.raises(SeqlabError, match="sentence 1: 2 reference tags but 1 predicted"):
        entity_statistics([["O", "O"]], [["O"]])
    with pytest.raises(SeqlabError, match="needs a tagging scheme"):
        entity_statistics([["O"]], [["O"]], mode="strict")
    with pytest.raises(SeqlabError, match="tag 'S-PER' is not one of the BIO scheme's"):
        entity_statistics([["S-PER"]], [["O"]], mode="strict", scheme="BIO")
    with pytest.raises(SeqlabError, match="unknown entity-scoring mode 'exact'"):
        entity_statistics([["O"]], [["O"]], mode="exact")
