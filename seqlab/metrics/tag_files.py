"""Scoring a file in conlleval's input format: a token per line, the reference and predicted tags last.

::

    Harry NNP B-PER B-PER
    Potter NNP I-PER O
    invented VBD O O
                            <- a blank line (or a line starting with -X-) ends a sentence

Every line has the same number of columns, at least three (the token, any others, the two tags).
Lines such as ``-DOCSTART- -X- -X- O O`` are tokens to conlleval, and are scored as it scores them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seqlab.errors import SeqlabError
from seqlab.metrics.conlleval import conlleval_report
from seqlab.metrics.entity_counts import EntityScores, EntityStatistics, entity_scores
from seqlab.metrics.entity_f1 import entity_statistics
from seqlab.metrics.entity_spans import detect_scheme
from seqlab.text_file import read_text_file

BOUNDARY = "-X-"  # conlleval's sentence boundary, as the first field of a line


@dataclass(frozen=True)
class TagFileScore:
    """The counts and scores of one file, and how its tags were read."""

    path: Path
    mode: str  # "conlleval", "lenient" or "strict" (seqlab.metrics.entity_f1.MODES)
    scheme: str | None  # the scheme of the strict mode
    statistics: EntityStatistics

    @property
    def scores(self) -> EntityScores:
        return entity_scores(self.statistics)

    def report(self) -> str:
        """conlleval's report of these counts (its very text in the conlleval mode)."""
        return conlleval_report(self.statistics)

    def as_dict(self) -> dict:
        return {"file": str(self.path), "mode": self.mode, "scheme": self.scheme, "tokens": self.statistics.tokens,
                **self.scores.as_dict()}  # fmt: skip


def read_tag_pairs(path: str | Path) -> tuple[list[list[tuple[str, str]]], list[int]]:
    """The sentences of a conlleval file as (reference tag, predicted tag) pairs, and each one's first line.

    Raises:
        SeqlabError: the file cannot be read, a line has fewer than three columns or not as many as
            the first line (named by file and line number).
    """
    path = Path(path)
    sentences: list[list[tuple[str, str]]] = []
    first_lines: list[int] = []
    sentence: list[tuple[str, str]] | None = None  # the sentence being read; None between sentences
    columns = None
    for number, line in enumerate(read_text_file(path).splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0] == BOUNDARY:
            sentence = None
            continue
        columns = columns or len(fields)
        if len(fields) < 3 or len(fields) != columns:
            expected = "at least 3" if len(fields) < 3 else f"{columns}, as the first tagged line"
            raise SeqlabError(f"{path}, line {number}: {len(fields)} columns, expected {expected} "
                              f"(token, ..., reference tag, predicted tag): {line.strip()!r}")  # fmt: skip
        if sentence is None:
            sentence = []
            sentences.append(sentence)
            first_lines.append(number)
        sentence.append((fields[-2], fields[-1]))
    return sentences, first_lines


def score_tag_file(path: str | Path, *, mode: str = "conlleval", scheme: str | None = None) -> TagFileScore:
    """Entity counts of the predicted tags against the reference tags of a conlleval file.

    ``scheme`` is used by the strict mode only; left out, it is detected from the tags (BIOES where
    E- or S- tags occur, else BIO).

    Raises:
        SeqlabError: a malformed line, or (strict) a tag the scheme does not have, named by file and line.
    """
    path = Path(path)
    sentences, first_lines = read_tag_pairs(path)
    gold = [[pair[0] for pair in sentence] for sentence in sentences]
    predicted = [[pair[1] for pair in sentence] for sentence in sentences]
    if mode == "strict" and scheme is None:
        try:
            scheme = detect_scheme(gold + predicted)
        except SeqlabError as error:
            raise SeqlabError(f"{path}: {error}") from None
    if mode != "strict":
        scheme = None
    total = EntityStatistics()
    for index, (truth, guess) in enumerate(zip(gold, predicted)):
        try:
            total += entity_statistics([truth], [guess], mode=mode, scheme=scheme)
        except SeqlabError as error:
            raise SeqlabError(f"{path}, sentence at line {first_lines[index]}: {error}") from None
    return TagFileScore(path, mode, scheme, total)
