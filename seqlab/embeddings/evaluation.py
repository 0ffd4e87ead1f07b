"""Intrinsic evaluation of word vectors: analogy questions and word-pair similarities.

Both follow gensim 4.4's ``evaluate_word_analogies`` and ``evaluate_word_pairs`` rule for rule, so
the numbers agree with it:

* Only the first ``restrict_vocab`` words (the most frequent) count as known. With
  ``case_insensitive``, words are compared upper-cased and each upper-cased form stands for its
  first, most frequent spelling.
* A question or pair with an unknown word is skipped and counted as out-of-vocabulary (OOV).
* An analogy "a b c d" asks for d among the known words other than a, b and c, ranked by 3CosAdd
  (or 3CosMul). Like gensim, the best five are scanned for the first whose upper-cased form is
  not one of the question's words.
* Sections start with ``": name"`` lines; those whose name starts with ``gram`` are syntactic,
  the others semantic (as in word2vec's ``compute-accuracy``). Lines starting with ``#`` and
  blank lines are skipped in both kinds of file.

Where gensim silently skips a malformed line, these functions stop with an error naming it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from seqlab.embeddings.keyed_vectors import ANALOGY_METHODS, KeyedVectors, cosmul_scores, shifted_cosine, top_k
from seqlab.errors import SeqlabError

SYNTACTIC_PREFIX = "gram"
"""Sections of the analogy file whose name starts with this are syntactic (gram1-adjective-to-adverb...)."""

_CANDIDATES_SCANNED = 5  # gensim asks most_similar for the best 5 and takes the first usable one
_SCORES_PER_CHUNK = 1 << 22  # (questions x words) scores held at once, ~16 MB of float32


@dataclass(frozen=True)
class SectionScore:
    """Analogy results over one section (or a group of sections).

    Attributes:
        name: the section's name from its ``": name"`` line.
        correct: questions answered right.
        total: questions asked, those with all four words known.
        oov: questions skipped because a word is unknown.
    """

    name: str
    correct: int
    total: int
    oov: int

    @property
    def accuracy(self) -> float:
        """correct / total, or 0.0 when no question was asked (as gensim)."""
        return self.correct / self.total if self.total else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "accuracy": self.accuracy}


@dataclass(frozen=True)
class AnalogyResult:
    """The outcome of :func:`evaluate_analogies`: one score per section, and their sums.

    Example:
        >>> family, plurals = SectionScore("family", 3, 4, oov=1), SectionScore("gram8-plural", 1, 4, oov=0)
        >>> result = AnalogyResult("questions.txt", (family, plurals), "add", 300_000, case_insensitive=True)
        >>> result.total.correct, result.syntactic.accuracy, result.oov_ratio
        (4, 0.25, 0.1111111111111111)
    """

    path: str
    sections: tuple[SectionScore, ...]
    method: str
    restrict_vocab: int | None
    case_insensitive: bool

    @property
    def total(self) -> SectionScore:
        """All sections together; ``total.accuracy`` is gensim's overall score."""
        return _combined("Total accuracy", self.sections)

    @property
    def accuracy(self) -> float:
        """The overall accuracy, the score gensim returns."""
        return self.total.accuracy

    @property
    def semantic(self) -> SectionScore:
        return _combined("Semantic", [s for s in self.sections if not s.name.startswith(SYNTACTIC_PREFIX)])

    @property
    def syntactic(self) -> SectionScore:
        return _combined("Syntactic", [s for s in self.sections if s.name.startswith(SYNTACTIC_PREFIX)])

    @property
    def questions(self) -> int:
        """Every question in the file, asked or skipped."""
        return self.total.total + self.total.oov

    @property
    def oov_ratio(self) -> float:
        """The fraction of questions skipped for unknown words, in [0, 1] (gensim logs 100 times this)."""
        return self.total.oov / self.questions if self.questions else 0.0

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "method": self.method,
            "restrict_vocab": self.restrict_vocab,
            "case_insensitive": self.case_insensitive,
            "accuracy": self.total.accuracy,
            "questions": self.questions,
            "oov_questions": self.total.oov,
            "oov_ratio": self.oov_ratio,
            "total": self.total.to_dict(),
            "semantic": self.semantic.to_dict(),
            "syntactic": self.syntactic.to_dict(),
            "sections": [section.to_dict() for section in self.sections],
        }

    def format(self) -> str:
        """A table: one row per section, then the semantic, syntactic and total sums."""
        rows = [*self.sections, self.semantic, self.syntactic, self.total]
        width = max(len(row.name) for row in rows)
        header = f"{'section':<{width}}  {'correct':>7}  {'total':>7}  {'accuracy':>8}  {'oov':>7}"
        lines = [
            f"analogies {self.path} (method {self.method}, restrict_vocab {self.restrict_vocab}, "
            f"case_insensitive {self.case_insensitive})",
            header,
        ]
        for index, row in enumerate(rows):
            if index == len(self.sections):
                lines.append("-" * len(header))
            lines.append(
                f"{row.name:<{width}}  {row.correct:>7}  {row.total:>7}  {100 * row.accuracy:>7.2f}%  {row.oov:>7}"
            )
        lines.append(
            f"questions with unknown words: {self.total.oov} of {self.questions} ({100 * self.oov_ratio:.1f}%)"
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


@dataclass(frozen=True)
class WordPairResult:
    """The outcome of :func:`evaluate_word_pairs`.

    Attributes:
        pearson: Pearson correlation of the model's cosines with the human scores.
        spearman: Spearman rank correlation (ties get their average rank).
        pairs: pairs with both words known, the ones correlated.
        oov_pairs: pairs skipped because a word is unknown.
    """

    path: str
    pearson: float
    spearman: float
    pairs: int
    oov_pairs: int
    restrict_vocab: int | None
    case_insensitive: bool

    @property
    def oov_ratio(self) -> float:
        """The fraction of pairs skipped, in [0, 1] (gensim returns 100 times this)."""
        return self.oov_pairs / (self.pairs + self.oov_pairs)

    def to_dict(self) -> dict:
        return {**asdict(self), "oov_ratio": self.oov_ratio}

    def format(self) -> str:
        return (
            f"word pairs {self.path} (restrict_vocab {self.restrict_vocab}, case_insensitive {self.case_insensitive})\n"
            f"pearson   {self.pearson:.4f}\n"
            f"spearman  {self.spearman:.4f}\n"
            f"pairs     {self.pairs} used, {self.oov_pairs} with unknown words ({100 * self.oov_ratio:.1f}%)"
        )

    def __str__(self) -> str:
        return self.format()


def evaluate_analogies(
    kv: KeyedVectors,
    path: str | os.PathLike,
    restrict_vocab: int | None = 300_000,
    case_insensitive: bool = True,
    method: str = "add",
) -> AnalogyResult:
    """Accuracy on analogy questions "a b c d" (a is to b as c is to d), e.g. ``questions-words.txt``.

    Args:
        kv: the word vectors, most frequent word first.
        path: the questions, in sections opened by ``": name"`` lines.
        restrict_vocab: only the first this many words are known and searched; None for all.
        case_insensitive: compare words upper-cased (see the module docstring).
        method: ``"add"`` (3CosAdd, gensim's and word2vec's) or ``"mul"`` (3CosMul).

    Returns:
        Per-section and total counts; the numbers equal gensim's for ``"add"``.

    Raises:
        SeqlabError: unknown method, or a malformed file (the message names file and line).
    """
    if method not in ANALOGY_METHODS:
        raise SeqlabError(f"unknown analogy method {method!r}; choose one of {', '.join(ANALOGY_METHODS)}")
    known, spelling_of_row = _known_words(kv, restrict_vocab, case_insensitive)
    unit = kv.unit_vectors[: len(spelling_of_row)]  # (N, D), the searched words
    scores = []
    for name, questions in _read_analogy_sections(Path(path), case_insensitive):
        asked = [[known[word] for word in question] for question in questions if all(w in known for w in question)]
        rows = np.array(asked, dtype=np.int64).reshape(-1, 4)  # (Q, 4) rows of a, b, c, expected
        correct = _answer_analogies(unit, rows, spelling_of_row, method)
        scores.append(SectionScore(name, int(correct.sum()), len(rows), len(questions) - len(rows)))
    return AnalogyResult(str(path), tuple(scores), method, restrict_vocab, case_insensitive)


def evaluate_word_pairs(
    kv: KeyedVectors,
    path: str | os.PathLike,
    restrict_vocab: int | None = 300_000,
    case_insensitive: bool = True,
    delimiter: str | None = "\t",
) -> WordPairResult:
    """Correlation of cosine similarities with human similarity scores, e.g. ``wordsim353.tsv``.

    Args:
        kv: the word vectors, most frequent word first.
        path: lines ``word1<delimiter>word2<delimiter>score``.
        restrict_vocab: only the first this many words are known; None for all.
        case_insensitive: compare words upper-cased (see the module docstring).
        delimiter: the field separator (None: any whitespace).

    Returns:
        Pearson and Spearman correlations over the pairs with known words, and the OOV count.

    Raises:
        SeqlabError: a malformed file (naming file and line), or no pair with both words known.
    """
    known, _ = _known_words(kv, restrict_vocab, case_insensitive)
    pairs = list(_read_word_pairs(Path(path), delimiter, case_insensitive))
    used = [(known[a], known[b], score) for a, b, score in pairs if a in known and b in known]
    if not used:
        raise SeqlabError(f"{path}: none of its {len(pairs)} pairs has both words in the vocabulary")
    rows_a, rows_b, human = (np.array(column) for column in zip(*used))
    unit = kv.unit_vectors
    model = np.einsum("ij,ij->i", unit[rows_a], unit[rows_b])  # (P,) float32 cosines
    return WordPairResult(
        path=str(path),
        pearson=pearson(human, model),
        spearman=spearman(human, model),
        pairs=len(used),
        oov_pairs=len(pairs) - len(used),
        restrict_vocab=restrict_vocab,
        case_insensitive=case_insensitive,
    )


def pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of two (P,) samples, computed in float64; NaN if either is constant."""
    x = np.asarray(x, dtype=np.float64) - np.mean(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64) - np.mean(y, dtype=np.float64)
    denominator = np.sqrt(np.dot(x, x) * np.dot(y, y))
    return float(np.clip(np.dot(x, y) / denominator, -1.0, 1.0)) if denominator > 0 else float("nan")


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rank correlation of two (P,) samples: Pearson of their ranks, ties sharing the average rank."""
    return pearson(average_ranks(x), average_ranks(y))


def average_ranks(values: np.ndarray) -> np.ndarray:
    """(P,) float64 ranks 1..P of ``values`` (P,); equal values get the mean of the ranks they span."""
    values = np.asarray(values)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts_group = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    group = np.cumsum(starts_group) - 1  # (P,) group number of each sorted position
    first_position = np.flatnonzero(starts_group)  # 0-based start of each group
    group_size = np.diff(np.append(first_position, len(values)))
    mean_rank = first_position + (group_size + 1) / 2  # mean of ranks first+1 .. first+size
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = mean_rank[group]
    return ranks


def _known_words(kv: KeyedVectors, restrict_vocab: int | None, case_insensitive: bool) -> tuple[dict, np.ndarray]:
    """The words an evaluation may use, as gensim's ``ok_vocab``.

    Returns:
        known: word (upper-cased if ``case_insensitive``) -> row of its first spelling among the
            first ``restrict_vocab`` rows.
        spelling_of_row: (N,) for each of those rows, the row that its word stands for.
    """
    if restrict_vocab is not None and restrict_vocab < 1:
        raise SeqlabError(f"restrict_vocab must be a positive number of words or None, got {restrict_vocab}")
    searched = kv.index_to_key[:restrict_vocab]
    known: dict[str, int] = {}
    spelling_of_row = np.empty(len(searched), dtype=np.int64)
    for row, word in enumerate(searched):
        spelling_of_row[row] = known.setdefault(word.upper() if case_insensitive else word, row)
    return known, spelling_of_row


def _answer_analogies(unit: np.ndarray, rows: np.ndarray, spelling_of_row: np.ndarray, method: str) -> np.ndarray:
    """(Q,) bool, whether each question is answered right, as gensim decides it.

    Args:
        unit: (N, D) unit vectors of the searched words.
        rows: (Q, 4) rows of a, b, c and the expected answer (each its word's first spelling).
        spelling_of_row: (N,) the first-spelling row of each searched row.
        method: "add" or "mul".
    """
    correct = np.zeros(len(rows), dtype=bool)
    chunk = max(1, _SCORES_PER_CHUNK // max(1, len(unit)))
    for start in range(0, len(rows), chunk):
        a, b, c, expected = rows[start : start + chunk].T  # each (B,)
        if method == "add":
            scores = _cos_add_scores(unit, a, b, c)
        else:
            # questions in a row share words (a section's pairs recur), so each word's cosines are computed once
            words, position = np.unique(np.stack([b, c, a]), return_inverse=True)
            shifted = shifted_cosine(unit[words] @ unit.T)[position.reshape(3, -1)]  # (3, B, N)
            scores = cosmul_scores(shifted[:2], shifted[2:])
        questions = np.arange(len(a))[:, np.newaxis]
        scores[questions, np.stack([a, b, c], axis=1)] = -np.inf  # the question's own words are never answers
        best = top_k(scores, _CANDIDATES_SCANNED)  # (B, K)
        offered = np.take_along_axis(scores, best, axis=1) > -np.inf
        spellings = spelling_of_row[best]
        usable = offered & (spellings != a[:, None]) & (spellings != b[:, None]) & (spellings != c[:, None])
        # gensim takes the first usable candidate; if none is, it keeps the last one it looked at
        last_offered = offered.sum(axis=1) - 1
        chosen = np.where(usable.any(axis=1), usable.argmax(axis=1), last_offered)
        predicted = np.where(last_offered >= 0, spellings[questions[:, 0], chosen], -1)
        correct[start : start + chunk] = predicted == expected
    return correct


def _cos_add_scores(unit: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """(B, N) cosines of every word with ``b - a + c`` normalised (3CosAdd, as ``most_similar``)."""
    queries = unit[b] + unit[c] - unit[a]  # (B, D)
    norms = np.linalg.norm(queries, axis=1, keepdims=True)
    return (queries / np.where(norms > 0, norms, 1)) @ unit.T


def _read_analogy_sections(path: Path, case_insensitive: bool) -> list[tuple[str, list[tuple[str, ...]]]]:
    """The sections of an analogy file as (name, questions), each question 4 words (upper-cased if asked)."""
    sections: list[tuple[str, list[tuple[str, ...]]]] = []
    for line_no, line in _numbered_lines(path):
        if line.startswith(": "):
            sections.append((line.lstrip(": ").strip(), []))
            continue
        words = line.split()
        if not words or line.startswith("#"):
            continue
        if not sections:
            raise SeqlabError(f"{path}, line {line_no}: a question before the first ': section name' line")
        if len(words) != 4:
            raise SeqlabError(
                f"{path}, line {line_no}: expected 4 words 'a b c d', found {len(words)}: {line.strip()!r}"
            )
        sections[-1][1].append(tuple(word.upper() for word in words) if case_insensitive else tuple(words))
    if not sections:
        raise SeqlabError(f"{path}: no ': section name' line and no questions; is this an analogy file?")
    return sections


def _read_word_pairs(path: Path, delimiter: str | None, case_insensitive: bool) -> Iterator[tuple[str, str, float]]:
    """(word1, word2, human score) per line (words upper-cased if asked); blank and ``#`` lines skipped."""
    for line_no, line in _numbered_lines(path):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.rstrip("\r\n").split(delimiter)
        if len(fields) != 3:
            raise SeqlabError(
                f"{path}, line {line_no}: expected 'word1{delimiter or ' '}word2{delimiter or ' '}score' "
                f"(3 fields separated by {delimiter!r}), found {len(fields)}"
            )
        try:
            score = float(fields[2])
        except ValueError:
            raise SeqlabError(f"{path}, line {line_no}: the score {fields[2]!r} is not a number") from None
        a, b = fields[:2]
        yield (a.upper(), b.upper(), score) if case_insensitive else (a, b, score)


def _numbered_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number from 1, line) of a UTF-8 file, each line with its newline."""
    try:
        handle = open(path, "rb")
    except FileNotFoundError:
        raise SeqlabError(f"{path}: no such file") from None
    except OSError as error:
        raise SeqlabError(f"{path}: cannot read: {error.strerror}") from None
    with handle:
        for line_no, raw in enumerate(handle, start=1):
            try:
                yield line_no, raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise SeqlabError(
                    f"{path}, line {line_no}: not valid UTF-8 at byte {error.start + 1} of the line"
                ) from None


def _combined(name: str, sections: list[SectionScore] | tuple[SectionScore, ...]) -> SectionScore:
    return SectionScore(
        name,
        correct=sum(s.correct for s in sections),
        total=sum(s.total for s in sections),
        oov=sum(s.oov for s in sections),
    )
