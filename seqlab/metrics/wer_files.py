"""Scoring a file of recognised transcripts against a file of reference ones, a sentence per line.

``seqlab wer`` calls :func:`score_transcripts`. The files are read by
:func:`seqlab.metrics.files.read_aligned_files`, which raises a one-line ``SeqlabError`` for a missing or
undecodable file and for line counts that differ.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from seqlab.errors import SeqlabError
from seqlab.metrics.edit_distance import EditStatistics
from seqlab.metrics.wer import (
    character_statistics,
    match_error_rate,
    word_error_rate,
    word_information_lost,
    word_information_preserved,
    word_statistics,
)


def _counts(statistics: EditStatistics) -> dict[str, int]:
    return {"hits": statistics.hits, "substitutions": statistics.substitutions, "deletions": statistics.deletions,
            "insertions": statistics.insertions, "reference_length": statistics.reference_length,
            "hypothesis_length": statistics.hypothesis_length}  # fmt: skip


def _line(name: str, statistics: EditStatistics, unit: str) -> str:
    return (f"{name} = {100 * word_error_rate(statistics):.2f}% (S = {statistics.substitutions}, D = "
            f"{statistics.deletions}, I = {statistics.insertions}, N = {statistics.reference_length} {unit}, "
            f"hits = {statistics.hits})")  # fmt: skip


@dataclass(frozen=True)
class TranscriptScore:
    """The word counts of a pair of transcript files, and their character counts if asked for."""

    reference: Path
    hypothesis: Path
    sentences: int  # lines scored
    words: EditStatistics
    characters: EditStatistics | None = None

    def as_dict(self) -> dict[str, object]:
        """Rates as fractions (as jiwer gives them) and the word counts; with characters, ``cer`` and theirs."""
        result: dict[str, object] = {
            "reference": str(self.reference), "hypothesis": str(self.hypothesis), "sentences": self.sentences,
            "wer": word_error_rate(self.words), "mer": match_error_rate(self.words),
            "wil": word_information_lost(self.words), "wip": word_information_preserved(self.words),
            **_counts(self.words),
        }  # fmt: skip
        if self.characters is not None:
            result |= {"cer": word_error_rate(self.characters), "characters": _counts(self.characters)}
        return result

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=1, ensure_ascii=False)

    def format(self) -> str:
        """``WER = 12.50% (S = 3, D = 1, I = 1, N = 40 words, hits = 36)``, then the CER line if any."""
        lines = [_line("WER", self.words, "words")]
        if self.characters is not None:
            lines.append(_line("CER", self.characters, "characters"))
        return "\n".join(lines)


def score_transcripts(reference: str | Path, hypothesis: str | Path, *, cer: bool = False) -> TranscriptScore:
    """The corpus WER (and with ``cer`` the CER) of a hypothesis file against a reference file.

    Args:
        reference: what was said, one sentence per line (UTF-8).
        hypothesis: what was recognised, line by line aligned with ``reference``.
        cer: count characters as well.

    Raises:
        SeqlabError: a file is missing or cannot be read as UTF-8, the line counts differ, or there is no
            line to score.
    """
    from seqlab.metrics.files import read_aligned_files

    references, hypotheses = read_aligned_files([reference, hypothesis])
    if not references:
        raise SeqlabError(f"{reference}: no lines to score")
    characters = character_statistics(references, hypotheses) if cer else None
    return TranscriptScore(Path(reference), Path(hypothesis), len(references),
                           word_statistics(references, hypotheses), characters)  # fmt: skip
