"""Word and character error rates as jiwer 4.0 computes them, from summed alignment counts.

A corpus's hits H, substitutions S, deletions D and insertions I are the sums of its sentences' (see
``seqlab.metrics.edit_distance`` for the alignment, which is jiwer's to the tie), and the rates are computed
once from the sums, with N = H + S + D reference words and P = H + S + I hypothesis words:

- WER = (S + D + I) / N, the word error rate (CER: the same on characters);
- MER = (S + D + I) / (H + S + D + I), the match error rate (Morris et al. 2004);
- WIP = (H / N) (H / P), word information preserved, 0 when P = 0; WIL = 1 - WIP, lost.

Text is split as jiwer's default transforms split it. Words (``wer_default``): runs of two or more
whitespace characters become one space, the ends are stripped, and the words are what lies between
spaces (so a lone tab does not separate words). Characters (``cer_default``): the stripped line's
characters, inner spaces included. An empty line is a sentence of no words.

A corpus with no reference word (N = 0) is scored as jiwer 4 scores it: WER is the number of inserted
words I (0 when nothing was said and nothing recognised), MER is 1 if anything was recognised else 0,
WIP 0 if anything was recognised else 1. jiwer 3 raised ``ValueError`` on an empty reference instead.

Example:
    >>> corpus_wer(["one two three", "four"], ["one too three", "four five"])
    0.5
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from seqlab.metrics.edit_distance import AlignmentChunk, EditStatistics, align, chunk_statistics, edit_statistics

_SPACES = re.compile(r"\s\s+")  # jiwer's RemoveMultipleSpaces: two or more, so a lone tab stays


def words(text: str) -> list[str]:
    """The words of a line as jiwer's ``wer_default`` splits them."""
    return [word for word in _SPACES.sub(" ", text).strip().split(" ") if word]


def characters(text: str) -> list[str]:
    """The characters of a line as jiwer's ``cer_default`` splits them: stripped, inner spaces kept."""
    return list(text.strip())


def word_error_rate(statistics: EditStatistics) -> float:
    """(S + D + I) / N; I when N = 0 (jiwer 4's convention). CER is this on character counts."""
    if statistics.reference_length == 0:
        return float(statistics.insertions)
    return statistics.errors / statistics.reference_length


def match_error_rate(statistics: EditStatistics) -> float:
    """(S + D + I) / (H + S + D + I); with N = 0, 1 if anything was recognised, else 0."""
    if statistics.reference_length == 0:
        return float(statistics.hypothesis_length > 0)
    return statistics.errors / (statistics.reference_length + statistics.insertions)


def word_information_preserved(statistics: EditStatistics) -> float:
    """(H / N) (H / P); 0 when P = 0, and with N = 0, 1 if nothing was recognised, else 0."""
    if statistics.reference_length == 0:
        return float(statistics.hypothesis_length == 0)
    if statistics.hypothesis_length == 0:
        return 0.0
    return (statistics.hits / statistics.reference_length) * (statistics.hits / statistics.hypothesis_length)


def word_information_lost(statistics: EditStatistics) -> float:
    """1 - WIP."""
    return 1.0 - word_information_preserved(statistics)


@dataclass(frozen=True)
class ProcessedCorpus:
    """The split sentences, each one's alignment, and the summed counts: jiwer's ``WordOutput``.

    The rates are properties computed from ``statistics``; ``cer`` is ``wer`` under the name it has
    when the items are characters (jiwer's ``CharacterOutput.cer``).
    """

    references: list[list[str]]  # each reference sentence's words (or characters)
    hypotheses: list[list[str]]
    alignments: list[list[AlignmentChunk]]  # one alignment per sentence
    statistics: EditStatistics  # summed over the sentences

    @property
    def wer(self) -> float:
        return word_error_rate(self.statistics)

    @property
    def cer(self) -> float:
        return word_error_rate(self.statistics)

    @property
    def mer(self) -> float:
        return match_error_rate(self.statistics)

    @property
    def wil(self) -> float:
        return word_information_lost(self.statistics)

    @property
    def wip(self) -> float:
        return word_information_preserved(self.statistics)


def _split_corpus(
    references: str | Sequence[str], hypotheses: str | Sequence[str], split: Callable[[str], list[str]]
) -> tuple[list[list[str]], list[list[str]]]:
    references = [references] if isinstance(references, str) else references
    hypotheses = [hypotheses] if isinstance(hypotheses, str) else hypotheses
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} reference sentences but {len(hypotheses)} hypotheses")
    return [split(line) for line in references], [split(line) for line in hypotheses]


def _process(references, hypotheses, split: Callable[[str], list[str]]) -> ProcessedCorpus:
    reference_items, hypothesis_items = _split_corpus(references, hypotheses, split)
    alignments = [align(reference, hypothesis) for reference, hypothesis in zip(reference_items, hypothesis_items)]
    statistics = sum((chunk_statistics(chunks) for chunks in alignments), EditStatistics())
    return ProcessedCorpus(reference_items, hypothesis_items, alignments, statistics)


def process_words(references: str | Sequence[str], hypotheses: str | Sequence[str]) -> ProcessedCorpus:
    """Align each hypothesis sentence to its reference word by word, as ``jiwer.process_words``.

    Args:
        references: one sentence per entry (a string: one sentence).
        hypotheses: as many, in the same order.

    Raises:
        ValueError: the numbers of sentences differ.

    Example:
        >>> result = process_words("the cat sat", "the cat sat down")
        >>> result.statistics.insertions, round(result.wer, 4)
        (1, 0.3333)
    """
    return _process(references, hypotheses, words)


def process_characters(references: str | Sequence[str], hypotheses: str | Sequence[str]) -> ProcessedCorpus:
    """Align each hypothesis sentence to its reference character by character, as ``jiwer.process_characters``."""
    return _process(references, hypotheses, characters)


def word_statistics(references: str | Sequence[str], hypotheses: str | Sequence[str]) -> EditStatistics:
    """The summed word counts of a corpus, without keeping the alignments (``process_words``' arguments)."""
    return sum(map(edit_statistics, *_split_corpus(references, hypotheses, words)), EditStatistics())


def character_statistics(references: str | Sequence[str], hypotheses: str | Sequence[str]) -> EditStatistics:
    """The summed character counts of a corpus (``process_characters``' arguments)."""
    return sum(map(edit_statistics, *_split_corpus(references, hypotheses, characters)), EditStatistics())


def corpus_wer(references: str | Sequence[str], hypotheses: str | Sequence[str]) -> float:
    """The word error rate of a corpus, a fraction (``jiwer.wer``): errors summed, then divided once."""
    return word_error_rate(word_statistics(references, hypotheses))


def corpus_cer(references: str | Sequence[str], hypotheses: str | Sequence[str]) -> float:
    """The character error rate of a corpus, a fraction (``jiwer.cer``)."""
    return word_error_rate(character_statistics(references, hypotheses))
