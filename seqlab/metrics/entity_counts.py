"""Entity-level precision, recall and F1 from counts: what a tagger's spans are scored with.

A predicted entity is correct when a reference entity has the same first token, last token and
type. The counts of a corpus are the sums of its parts' (``EntityStatistics`` adds), so processes
that tag parts of a data set add theirs and compute the scores once. Scores are percentages, as
conlleval prints them; F1 is the harmonic mean 2PR / (P + R), 0 where P + R = 0.

Example:
    >>> stats = EntityStatistics(tokens=5, correct_tags=4, gold={"PER": 2}, predicted={"PER": 1}, correct={"PER": 1})
    >>> round(entity_scores(stats).overall.f1, 2)
    66.67
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class EntityStatistics:
    """The counts entity F1 and token accuracy are computed from, by entity type."""

    tokens: int = 0  # tokens scored
    correct_tags: int = 0  # tokens whose predicted tag equals the reference tag
    gold: Mapping[str, int] = field(default_factory=dict)  # reference entities
    predicted: Mapping[str, int] = field(default_factory=dict)  # predicted entities
    correct: Mapping[str, int] = field(default_factory=dict)  # predicted entities that match a reference one

    def __add__(self, other: EntityStatistics) -> EntityStatistics:
        return EntityStatistics(
            self.tokens + other.tokens,
            self.correct_tags + other.correct_tags,
            dict(Counter(self.gold) + Counter(other.gold)),
            dict(Counter(self.predicted) + Counter(other.predicted)),
            dict(Counter(self.correct) + Counter(other.correct)),
        )

    def __radd__(self, other: object) -> EntityStatistics:
        if other == 0:  # so that sum(statistics) works
            return self
        return NotImplemented

    @property
    def types(self) -> list[str]:
        """Every entity type in the reference or the predictions, sorted."""
        return sorted(set(self.gold) | set(self.predicted))


@dataclass(frozen=True)
class PrecisionRecall:
    """Precision, recall and F1 in percent, with the counts they come from."""

    precision: float
    recall: float
    f1: float
    gold: int  # the reference entities (the support)
    predicted: int
    correct: int

    @classmethod
    def from_counts(cls, gold: int, predicted: int, correct: int) -> PrecisionRecall:
        precision = 100 * correct / predicted if predicted else 0.0
        recall = 100 * correct / gold if gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return cls(precision, recall, f1, gold, predicted, correct)


@dataclass(frozen=True)
class EntityScores:
    """Token accuracy, entity scores overall (micro-averaged) and by type, and the two averages of types."""

    accuracy: float  # percent of tokens tagged as in the reference
    overall: PrecisionRecall  # from the counts summed over types
    by_type: dict[str, PrecisionRecall]
    macro: tuple[float, float, float]  # precision, recall, F1: the unweighted means of the types'
    weighted: tuple[float, float, float]  # the same weighted by each type's reference entities

    def as_dict(self) -> dict:
        """A JSON-ready form: ``accuracy``, ``overall`` and ``by_type`` with counts, and the averages."""
        return {
            "accuracy": self.accuracy,
            "overall": vars(self.overall),
            "by_type": {name: vars(scores) for name, scores in self.by_type.items()},
            "macro": dict(zip(("precision", "recall", "f1"), self.macro)),
            "weighted": dict(zip(("precision", "recall", "f1"), self.weighted)),
        }


def entity_scores(stats: EntityStatistics) -> EntityScores:
    """Scores from counts: accuracy, overall P/R/F1, per type, and macro and weighted averages."""
    by_type = {
        name: PrecisionRecall.from_counts(stats.gold.get(name, 0), stats.predicted.get(name, 0),
                                          stats.correct.get(name, 0))
        for name in stats.types
    }  # fmt: skip
    overall = PrecisionRecall.from_counts(
        sum(stats.gold.values()), sum(stats.predicted.values()), sum(stats.correct.values())
    )
    return EntityScores(
        accuracy=100 * stats.correct_tags / stats.tokens if stats.tokens else 0.0,
        overall=overall,
        by_type=by_type,
        macro=_average(list(by_type.values()), weights=None),
        weighted=_average(list(by_type.values()), weights=[scores.gold for scores in by_type.values()]),
    )


def _average(scores: list[PrecisionRecall], weights: list[int] | None) -> tuple[float, float, float]:
    """The (weighted) mean precision, recall and F1 of ``scores``; 0 where there is nothing to average."""
    weights = weights if weights is not None else [1] * len(scores)
    total = sum(weights)
    if not total:
        return 0.0, 0.0, 0.0
    return tuple(sum(weight * getattr(score, name) for weight, score in zip(weights, scores)) / total
                 for name in ("precision", "recall", "f1"))  # fmt: skip
