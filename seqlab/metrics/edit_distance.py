"""The Levenshtein alignment of a hypothesis to a reference sequence, as jiwer 4 gets it from rapidfuzz.

Substitutions, deletions and insertions each cost 1. Among the alignments of least cost, the one chosen is
rapidfuzz's (``Levenshtein.editops``, Hyyrö 2004's bit-parallel matrix walked back from the end), so that
the counts, not only their sum, equal jiwer's:

1. a common prefix and then a common suffix are matched first, and the rest is aligned;
2. walking back from the end of the rest through the distance matrix ``D`` (``D[i][j]``: the distance of
   the reference's first ``i`` items to the hypothesis's first ``j``), it deletes ``reference[i - 1]``
   whenever that is optimal (``D[i][j] == D[i - 1][j] + 1``); else it inserts ``hypothesis[j - 1]`` when
   ``D[i][j - 1] < D[i - 1][j - 1]`` (then the insertion is optimal, even where a match would be too);
   else it matches or substitutes ``reference[i - 1]`` with ``hypothesis[j - 1]``.

rapidfuzz switches to Hirschberg's divide and conquer when the rest is large (``2 * n * m // 8`` at least
2**20, i.e. about 2,048 items on each side), which may split the same distance otherwise between S, D
and I; below that, alignments equal jiwer's (tests/metrics/test_wer.py).

The items may be anything hashable: words, characters, token ids.

Example:
    >>> edit_statistics("a b c d".split(), "a x c d e".split())
    EditStatistics(hits=3, substitutions=1, deletions=0, insertions=1)
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

# the kinds of AlignmentChunk, named as jiwer names them (rapidfuzz's "replace" is "substitute")
EQUAL, SUBSTITUTE, DELETE, INSERT = "equal", "substitute", "delete", "insert"


@dataclass(frozen=True)
class AlignmentChunk:
    """A run of one kind of operation: ``reference[ref_start_idx:ref_end_idx]`` against ``hypothesis[hyp_...]``.

    The fields are jiwer's ``AlignmentChunk``'s. An ``insert`` chunk has an empty reference span, a
    ``delete`` chunk an empty hypothesis span; ``equal`` and ``substitute`` spans have the same length.
    """

    type: str  # EQUAL, SUBSTITUTE, DELETE or INSERT
    ref_start_idx: int
    ref_end_idx: int
    hyp_start_idx: int
    hyp_end_idx: int


@dataclass(frozen=True)
class EditStatistics:
    """The counts of an alignment; those of a corpus are the sums of its sentences' (``EditStatistics`` adds).

    The reference has ``hits + substitutions + deletions`` items, the hypothesis ``hits + substitutions +
    insertions``, so the four counts are all that WER, MER, WIL and WIP need (``seqlab.metrics.wer``).

    Example:
        >>> a = EditStatistics(hits=3, substitutions=1, deletions=0, insertions=2)
        >>> sum([a, a]).reference_length
        8
    """

    hits: int = 0  # reference items matched by an equal hypothesis item
    substitutions: int = 0
    deletions: int = 0  # reference items the hypothesis lacks
    insertions: int = 0  # hypothesis items the reference lacks

    def __add__(self, other: EditStatistics) -> EditStatistics:
        return EditStatistics(*(a + b for a, b in zip(self.as_list(), other.as_list())))

    def __radd__(self, other: object) -> EditStatistics:
        if other == 0:  # so that sum(statistics) works
            return self
        return NotImplemented

    @property
    def errors(self) -> int:
        """S + D + I: the edit distance."""
        return self.substitutions + self.deletions + self.insertions

    @property
    def reference_length(self) -> int:
        """N = H + S + D."""
        return self.hits + self.substitutions + self.deletions

    @property
    def hypothesis_length(self) -> int:
        """H + S + I."""
        return self.hits + self.substitutions + self.insertions

    def as_list(self) -> list[int]:
        """``[hits, substitutions, deletions, insertions]``, for summing as arrays (across workers, say)."""
        return [self.hits, self.substitutions, self.deletions, self.insertions]

    @classmethod
    def from_list(cls, values: Sequence[float]) -> EditStatistics:
        """The inverse of ``as_list`` (values may be floats holding integers, as summed arrays are)."""
        return cls(*(round(value) for value in values))


def _common_affix(reference: Sequence, hypothesis: Sequence) -> tuple[int, int]:
    """The lengths of the common prefix and of the common suffix of what follows it."""
    shorter = min(len(reference), len(hypothesis))
    prefix = 0
    while prefix < shorter and reference[prefix] == hypothesis[prefix]:
        prefix += 1
    suffix = 0
    while suffix < shorter - prefix and reference[-1 - suffix] == hypothesis[-1 - suffix]:
        suffix += 1
    return prefix, suffix


def _distance_matrix(reference: Sequence, hypothesis: Sequence) -> list[list[int]]:
    """``D[i][j]``: the Levenshtein distance of ``reference[:i]`` to ``hypothesis[:j]``, (n + 1) x (m + 1)."""
    previous = list(range(len(hypothesis) + 1))
    matrix = [previous]
    for i, item in enumerate(reference, start=1):
        current = [i]
        for j, other in enumerate(hypothesis, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (item != other)))
        matrix.append(current)
        previous = current
    return matrix


def edit_operations(reference: Sequence[Hashable], hypothesis: Sequence[Hashable]) -> list[tuple[str, int, int]]:
    """The edits that turn ``reference`` into ``hypothesis``, in order: rapidfuzz's ``Levenshtein.editops``.

    Returns:
        ``(kind, reference position, hypothesis position)`` for each edit, ``kind`` one of ``"substitute"``,
        ``"delete"`` and ``"insert"``; matches are left out. An insertion's reference position is the one it
        goes before, a deletion's hypothesis position likewise.
    """
    prefix, suffix = _common_affix(reference, hypothesis)
    reference = reference[prefix : len(reference) - suffix]
    hypothesis = hypothesis[prefix : len(hypothesis) - suffix]
    distance = _distance_matrix(reference, hypothesis)
    edits = []
    i, j = len(reference), len(hypothesis)
    while i and j:  # walking back; the order of the tests is rapidfuzz's tie-breaking
        if distance[i][j] == distance[i - 1][j] + 1:
            i -= 1
            edits.append((DELETE, i, j))
        elif distance[i][j - 1] < distance[i - 1][j - 1]:
            j -= 1
            edits.append((INSERT, i, j))
        else:
            i, j = i - 1, j - 1
            if reference[i] != hypothesis[j]:
                edits.append((SUBSTITUTE, i, j))
    edits += [(DELETE, k, 0) for k in reversed(range(i))]
    edits += [(INSERT, 0, k) for k in reversed(range(j))]
    return [(kind, i + prefix, j + prefix) for kind, i, j in reversed(edits)]


def chunks_from_edits(
    edits: Iterable[tuple[str, int, int]], reference_length: int, hypothesis_length: int
) -> list[AlignmentChunk]:
    """Runs of edits of one kind, with ``equal`` chunks between them: rapidfuzz's ``Editops.as_opcodes``."""
    chunks: list[AlignmentChunk] = []
    i = j = 0
    run: list = []  # [kind, reference start, hypothesis start] of the run being extended

    def close_run() -> None:
        if run:
            chunks.append(AlignmentChunk(run[0], run[1], i, run[2], j))

    for kind, at_i, at_j in edits:
        if not (run and run[0] == kind and (at_i, at_j) == (i, j)):
            close_run()
            if (at_i, at_j) != (i, j):  # the items skipped over are matches
                chunks.append(AlignmentChunk(EQUAL, i, at_i, j, at_j))
                i, j = at_i, at_j
            run = [kind, i, j]
        i += kind != INSERT
        j += kind != DELETE
    close_run()
    if i < reference_length or j < hypothesis_length:
        chunks.append(AlignmentChunk(EQUAL, i, reference_length, j, hypothesis_length))
    return chunks


def align(reference: Sequence[Hashable], hypothesis: Sequence[Hashable]) -> list[AlignmentChunk]:
    """The alignment of ``hypothesis`` to ``reference`` as jiwer's chunks (empty when both are empty).

    Example (two substitutions would cost as much; rapidfuzz's tie-breaking picks this):
        >>> [chunk.type for chunk in align(["a", "b"], ["b", "a"])]
        ['insert', 'equal', 'delete']
    """
    return chunks_from_edits(edit_operations(reference, hypothesis), len(reference), len(hypothesis))


def chunk_statistics(chunks: Iterable[AlignmentChunk]) -> EditStatistics:
    """The hits, substitutions, deletions and insertions of an alignment."""
    counts = {EQUAL: 0, SUBSTITUTE: 0, DELETE: 0, INSERT: 0}
    for chunk in chunks:
        counts[chunk.type] += max(chunk.ref_end_idx - chunk.ref_start_idx, chunk.hyp_end_idx - chunk.hyp_start_idx)
    return EditStatistics(counts[EQUAL], counts[SUBSTITUTE], counts[DELETE], counts[INSERT])


def edit_statistics(reference: Sequence[Hashable], hypothesis: Sequence[Hashable]) -> EditStatistics:
    """The counts of ``align(reference, hypothesis)``: what a training loop sums over its batches.

    Args:
        reference: the items said, e.g. a list of words or of token ids.
        hypothesis: the items recognised.
    """
    edits = edit_operations(reference, hypothesis)
    counts = {SUBSTITUTE: 0, DELETE: 0, INSERT: 0}
    for kind, _, _ in edits:
        counts[kind] += 1
    hits = len(reference) - counts[SUBSTITUTE] - counts[DELETE]
    return EditStatistics(hits, counts[SUBSTITUTE], counts[DELETE], counts[INSERT])
