"""Entity F1 of predicted tag sequences against reference ones, read as conlleval or seqeval reads them.

``mode`` says how a tag sequence becomes entities (``seqlab.metrics.entity_spans``):

    "conlleval"  conlleval's counts (the CoNLL shared tasks' numbers; the default)
    "lenient"    seqeval's default mode; the same counts as conlleval for B, I and O tags, and it
                 also reads E and S (BIOES)
    "strict"     seqeval's strict mode with a ``scheme`` (IOB1, BIO, BIOES): only what the scheme writes

A predicted entity is correct when a reference entity has the same sentence, first and last
token, and type (Tjong Kim Sang & De Meulder 2003, §4).
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Sequence

from seqlab.errors import SeqlabError
from seqlab.metrics.conlleval import conlleval_statistics
from seqlab.metrics.entity_counts import EntityStatistics
from seqlab.metrics.entity_spans import lenient_spans, strict_spans

MODES = ("conlleval", "lenient", "strict")


def entity_statistics(
    gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], *, mode: str = "conlleval",
    scheme: str | None = None,
) -> EntityStatistics:  # fmt: skip
    """The counts of ``predicted`` tag sequences against ``gold`` ones, one sequence per sentence.

    Raises:
        SeqlabError: the sentence or token counts differ, an unknown mode, ``strict`` without a
            scheme, or (strict) a tag the scheme does not have.

    Example:
        >>> stats = entity_statistics([["B-PER", "I-PER", "O"]], [["B-PER", "I-PER", "B-LOC"]])
        >>> stats.correct, stats.predicted
        ({'PER': 1}, {'LOC': 1, 'PER': 1})
    """
    _check_lengths(gold, predicted)
    if mode == "conlleval":
        return conlleval_statistics([list(zip(truth, guess)) for truth, guess in zip(gold, predicted)])
    if mode == "lenient":
        read = lenient_spans
    elif mode == "strict":
        if scheme is None:
            raise SeqlabError("the strict mode needs a tagging scheme (IOB1, BIO or BIOES)")
        read = functools.partial(strict_spans, scheme=scheme)
    else:
        raise SeqlabError(f"unknown entity-scoring mode {mode!r}; choose from {', '.join(MODES)}")
    counts = {"gold": Counter(), "predicted": Counter(), "correct": Counter()}
    for truth, guess in zip(gold, predicted):
        truth_spans, guess_spans = set(read(truth)), set(read(guess))
        counts["gold"].update(span.type for span in truth_spans)
        counts["predicted"].update(span.type for span in guess_spans)
        counts["correct"].update(span.type for span in truth_spans & guess_spans)
    return EntityStatistics(
        tokens=sum(map(len, gold)),
        correct_tags=sum(a == b for truth, guess in zip(gold, predicted) for a, b in zip(truth, guess)),
        **{name: dict(sorted(counter.items())) for name, counter in counts.items()},
    )


def _check_lengths(gold: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]]) -> None:
    if len(gold) != len(predicted):
        raise SeqlabError(f"{len(gold)} reference sentences but {len(predicted)} predicted ones")
    for number, (truth, guess) in enumerate(zip(gold, predicted), start=1):
        if len(truth) != len(guess):
            raise SeqlabError(f"sentence {number}: {len(truth)} reference tags but {len(guess)} predicted ones")
