"""conlleval (CoNLL-2000 shared task, version 2004-01-26): its counts and its report, line for line.

conlleval reads a token per line (…, reference tag, predicted tag; sentences apart by blank lines)
and counts chunks as it goes, with two rules about neighbouring tags (Tjong Kim Sang 2000):

    a chunk ENDS between two tokens when    B→B, B→O, I→B, I→O, E→E, E→I, E→O,
                                            or the earlier token is in a chunk and the type changes
    a chunk STARTS at a token when          B→B, I→B, O→B, O→I, E→E, E→I, O→E,
                                            or the token is in a chunk and the type changes

(a tag ``B-PER`` has prefix B and type PER; O and ``.`` are outside). Every start is a chunk. A
predicted chunk is correct when it starts where a reference chunk starts, with the same type, and
both end together, with neither ending before. Tags with other prefixes (S) follow only the
type rule, so BIOES output is not scored as BIOES: conlleval was written for IOB1, BIO and IOE.
``conlleval_statistics`` runs those rules over sentences and gives the same counts, so the same
report (``conlleval_report``), as the Perl script.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from seqlab.metrics.entity_counts import EntityStatistics, entity_scores

_OUTSIDE = ("O", "")  # the tag conlleval gives a sentence boundary, in the reference and the prediction


def conlleval_statistics(sentences: Iterable[Sequence[tuple[str, str]]]) -> EntityStatistics:
    """Count as conlleval does over ``sentences``, each a sequence of (reference tag, predicted tag).

    Example:
        >>> stats = conlleval_statistics([[("B-PER", "B-PER"), ("I-PER", "O"), ("O", "O")]])
        >>> stats.gold, stats.predicted, stats.correct
        ({'PER': 1}, {'PER': 1}, {})
    """
    gold, predicted, correct = Counter(), Counter(), Counter()
    tokens = correct_tags = 0
    last_gold = last_guess = _OUTSIDE
    in_correct = False  # a reference and a predicted chunk started together and neither has ended
    for sentence in sentences:
        for pair in [*sentence, None]:  # None: the boundary after the sentence, tagged O on both sides
            now_gold, now_guess = (_parts(pair[0]), _parts(pair[1])) if pair is not None else (_OUTSIDE, _OUTSIDE)
            gold_ends, guess_ends = _chunk_ends(last_gold, now_gold), _chunk_ends(last_guess, now_guess)
            if in_correct:
                if gold_ends and guess_ends and last_guess[1] == last_gold[1]:
                    in_correct = False
                    correct[last_gold[1]] += 1
                elif gold_ends != guess_ends or now_guess[1] != now_gold[1]:
                    in_correct = False
            gold_starts, guess_starts = _chunk_starts(last_gold, now_gold), _chunk_starts(last_guess, now_guess)
            if gold_starts and guess_starts and now_guess[1] == now_gold[1]:
                in_correct = True
            gold[now_gold[1]] += gold_starts
            predicted[now_guess[1]] += guess_starts
            if pair is not None:
                tokens += 1
                correct_tags += now_gold == now_guess
            last_gold, last_guess = now_gold, now_guess
    if in_correct:  # a chunk no boundary closed (a prefix outside B, I, E, O and no type), as the script counts it
        correct[last_gold[1]] += 1
    return EntityStatistics(tokens, correct_tags, _positive(gold), _positive(predicted), _positive(correct))


def conlleval_report(stats: EntityStatistics) -> str:
    """The text conlleval prints for these counts (without its LaTeX option), ending in a newline."""
    scores = entity_scores(stats)
    overall = scores.overall
    lines = [
        f"processed {stats.tokens} tokens with {overall.gold} phrases; "
        f"found: {overall.predicted} phrases; correct: {overall.correct}."
    ]
    if stats.tokens:
        lines.append(
            f"accuracy: {scores.accuracy:6.2f}%; precision: {overall.precision:6.2f}%; "
            f"recall: {overall.recall:6.2f}%; FB1: {overall.f1:6.2f}"
        )
    for name, type_scores in scores.by_type.items():
        lines.append(
            f"{name:>17}: precision: {type_scores.precision:6.2f}%; recall: {type_scores.recall:6.2f}%; "
            f"FB1: {type_scores.f1:6.2f}  {type_scores.predicted}"
        )
    return "\n".join(lines) + "\n"


def _parts(tag: str) -> tuple[str, str]:
    """conlleval's split of a tag at its first hyphen: ``"B-PER"`` → ("B", "PER"), ``"O"`` → ("O", "")."""
    prefix, hyphen, type_ = tag.partition("-")
    return (prefix, type_) if hyphen else (tag, "")


def _chunk_ends(previous: tuple[str, str], current: tuple[str, str]) -> bool:
    """conlleval's endOfChunk: whether a chunk ends between ``previous`` and ``current``."""
    (before, before_type), (after, after_type) = previous, current
    return (
        (before, after) in _END_MOVES
        or (before not in ("O", ".") and before_type != after_type)
        or before in ("[", "]")  # the script's one-token chunks
    )


def _chunk_starts(previous: tuple[str, str], current: tuple[str, str]) -> bool:
    """conlleval's startOfChunk: whether a chunk starts at ``current``, after ``previous``."""
    (before, before_type), (after, after_type) = previous, current
    return (
        (before, after) in _START_MOVES
        or (after not in ("O", ".") and before_type != after_type)
        or after in ("[", "]")
    )


_END_MOVES = {("B", "B"), ("B", "O"), ("I", "B"), ("I", "O"), ("E", "E"), ("E", "I"), ("E", "O")}
_START_MOVES = {("B", "B"), ("I", "B"), ("O", "B"), ("O", "I"), ("E", "E"), ("E", "I"), ("O", "E")}


def _positive(counts: Counter) -> dict[str, int]:
    return {name: count for name, count in sorted(counts.items()) if count}
