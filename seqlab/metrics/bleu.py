"""BLEU (Papineni et al. 2002) as sacrebleu 2.6.0 computes it: sufficient statistics, then the score.

The statistics of a corpus are the sums of its sentences' (``BLEUStatistics`` adds), so processes that
score parts of a test set add theirs and compute the score once (``bleu_from_statistics``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from seqlab.metrics.ngrams import ngram_matches
from seqlab.metrics.signature import Score, format_signature
from seqlab.metrics.tokenizers import tokenize_lines

MAX_NGRAM_ORDER = 4
# Chen & Cherry (2014)'s values for the smoothing methods that take one; None: the method takes none
SMOOTH_DEFAULTS: dict[str, float | None] = {"none": None, "floor": 0.1, "add-k": 1, "exp": None}
_LOG_OF_ZERO = -9999999999  # sacrebleu's floor for log(0): the score becomes exp(-huge) = 0


@dataclass(frozen=True)
class BLEUStatistics:
    """What BLEU needs from a corpus: n-gram matches and totals per order, and the two lengths.

    Example:
        >>> a = BLEUStatistics(counts=(3, 1, 0, 0), totals=(4, 3, 2, 1), sys_len=4, ref_len=5)
        >>> (a + a).counts
        (6, 2, 0, 0)
    """

    counts: tuple[int, ...]  # clipped n-gram matches, n = 1..N (Papineni et al. §2.1)
    totals: tuple[int, ...]  # hypothesis n-grams, n = 1..N
    sys_len: int  # hypothesis words (c in §2.2.1)
    ref_len: int  # for each sentence the reference length closest to its hypothesis, summed (r in §2.2.1)

    def __add__(self, other: BLEUStatistics) -> BLEUStatistics:
        return BLEUStatistics(
            tuple(map(sum, zip(self.counts, other.counts))),
            tuple(map(sum, zip(self.totals, other.totals))),
            self.sys_len + other.sys_len,
            self.ref_len + other.ref_len,
        )

    def __radd__(self, other: object) -> BLEUStatistics:
        if other == 0:  # so that sum(statistics) works
            return self
        return NotImplemented

    def as_list(self) -> list[int]:
        """sacrebleu's flat layout: ``[sys_len, ref_len, *counts, *totals]``."""
        return [self.sys_len, self.ref_len, *self.counts, *self.totals]

    @classmethod
    def from_list(cls, values: Sequence[float]) -> BLEUStatistics:
        """The inverse of ``as_list`` (values may be floats holding integers, as summed arrays are)."""
        order = (len(values) - 2) // 2
        whole = [round(value) for value in values]
        return cls(tuple(whole[2 : 2 + order]), tuple(whole[2 + order :]), whole[0], whole[1])


def _closest_length(hypothesis_length: int, reference_lengths: list[int]) -> int:
    """The reference length nearest the hypothesis's, the shorter on a tie (mteval's effective length)."""
    return min(reference_lengths, key=lambda length: (abs(hypothesis_length - length), length))


def _preprocess(lines: Sequence[str | None], tokenize: str, lowercase: bool) -> list[list[str]]:
    present = ["" if line is None else line for line in lines]
    if lowercase:
        present = [line.lower() for line in present]
    return tokenize_lines([line.rstrip() for line in present], tokenize)


def _streams(hypotheses: Sequence[str], references: Sequence[Sequence[str | None]]) -> None:
    if isinstance(hypotheses, str) or any(isinstance(stream, str) for stream in references):
        raise TypeError("hypotheses is a sequence of strings and references a sequence of streams of strings")
    for index, stream in enumerate(references):
        if len(stream) != len(hypotheses):
            raise ValueError(f"reference stream {index} has {len(stream)} lines, the hypotheses {len(hypotheses)}")


def sentence_statistics(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str | None]],
    *,
    tokenize: str = "13a",
    lowercase: bool = False,
    max_ngram_order: int = MAX_NGRAM_ORDER,
    per_sentence: bool = True,
) -> list[BLEUStatistics]:
    """The BLEU statistics of each sentence (or, with ``per_sentence=False``, one for the corpus).

    Args:
        hypotheses: one line per sentence.
        references: reference streams, each one line per sentence; ``None`` where a sentence has fewer.
        tokenize: ``13a``, ``intl``, ``char`` or ``none``.
        lowercase: compare lower-cased text.
        max_ngram_order: N, the largest n-gram order.
        per_sentence: one entry per sentence; False sums them in one pass (faster).

    Returns:
        One ``BLEUStatistics`` per sentence, or a list holding the corpus's.
    """
    _streams(hypotheses, references)
    hypothesis_tokens = _preprocess(hypotheses, tokenize, lowercase)
    reference_tokens = [_preprocess(stream, tokenize, lowercase) for stream in references]
    hypothesis_lengths = list(map(len, hypothesis_tokens))
    if len(references) == 1:
        reference_lengths = list(map(len, reference_tokens[0]))
    else:
        reference_lengths = []
        for index, length in enumerate(hypothesis_lengths):
            lengths = [
                len(stream[index]) for stream, lines in zip(reference_tokens, references) if lines[index] is not None
            ]
            if not lengths:
                raise ValueError(f"sentence {index} has no reference")
            reference_lengths.append(_closest_length(length, lengths))
    matches = ngram_matches(hypothesis_tokens, reference_tokens, max_ngram_order, per_sentence=per_sentence)
    orders = range(max_ngram_order)
    if not per_sentence:
        totals = tuple(sum(max(length - n, 0) for length in hypothesis_lengths) for n in orders)
        return [BLEUStatistics(tuple(map(int, matches[0])), totals, sum(hypothesis_lengths), sum(reference_lengths))]
    return [
        BLEUStatistics(tuple(row), tuple(max(length - n, 0) for n in orders), length, reference_length)
        for row, length, reference_length in zip(matches.tolist(), hypothesis_lengths, reference_lengths)
    ]


def corpus_statistics(
    hypotheses: Sequence[str], references: Sequence[Sequence[str | None]], **kwargs
) -> BLEUStatistics:
    """The statistics of the whole corpus (``sentence_statistics``' keywords), summed in one pass."""
    return sentence_statistics(hypotheses, references, per_sentence=False, **kwargs)[0]


def bleu_precisions(
    statistics: BLEUStatistics, *, smooth_method: str = "exp", smooth_value: float | None = None
) -> tuple[list[float], int]:
    """The smoothed modified precisions p_n in percent (Chen & Cherry 2014), and the orders that count.

    ``exp`` halves the credit of each successive order without a match (mteval's NIST smoothing, their
    method 3); ``floor`` credits a matchless order ``smooth_value`` matches (method 1); ``add-k`` adds
    ``smooth_value`` to the matches and totals of orders 2 and above (method 2); ``none`` leaves p_n = 0.
    An order with no hypothesis n-gram ends the list; its index is the effective order.
    """
    value = SMOOTH_DEFAULTS[smooth_method] if smooth_value is None else smooth_value
    precisions = [0.0] * len(statistics.counts)
    halvings, effective = 1.0, 0
    for n, (matched, total) in enumerate(zip(statistics.counts, statistics.totals), start=1):
        if smooth_method == "add-k" and n > 1:
            matched, total = matched + value, total + value
        if total == 0:
            break
        effective = n
        if matched:
            precisions[n - 1] = 100.0 * matched / total
        elif smooth_method == "exp":
            halvings *= 2
            precisions[n - 1] = 100.0 / (halvings * total)
        elif smooth_method == "floor":
            precisions[n - 1] = 100.0 * value / total
    return precisions, effective


def bleu_from_statistics(
    statistics: BLEUStatistics,
    *,
    smooth_method: str = "exp",
    smooth_value: float | None = None,
    effective_order: bool = False,
    signature: str = "",
) -> BLEUScore:
    """BLEU = BP * exp(sum_n log p_n / N) (Papineni et al. eq. in §2.3), in percent.

    BP = 1 if c > r else exp(1 - r / c) (§2.2.2), with c the hypothesis and r the reference length. With
    ``effective_order``, N counts only the orders that have hypothesis n-grams (for sentence BLEU).

    Args:
        statistics: summed over the corpus.
        smooth_method: ``exp``, ``floor``, ``add-k`` or ``none``.
        smooth_value: for ``floor`` and ``add-k``; None takes ``SMOOTH_DEFAULTS``.
        effective_order: average over the effective orders only.
        signature: carried into the score.
    """
    if smooth_method not in SMOOTH_DEFAULTS:
        raise ValueError(f"unknown smooth_method {smooth_method!r}; choose from {', '.join(SMOOTH_DEFAULTS)}")
    sys_len, ref_len = statistics.sys_len, statistics.ref_len
    brevity_penalty = 1.0
    if sys_len < ref_len:
        brevity_penalty = math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0
    if not any(statistics.counts):
        precisions, score = [0.0] * len(statistics.counts), 0.0
    else:
        precisions, effective = bleu_precisions(statistics, smooth_method=smooth_method, smooth_value=smooth_value)
        order = effective if effective_order else len(precisions)
        log_sum = sum([math.log(p) if p else _LOG_OF_ZERO for p in precisions[:order]])
        score = brevity_penalty * math.exp(log_sum / order)
    return BLEUScore("BLEU", score, signature, statistics=statistics, precisions=precisions, bp=brevity_penalty)


class BLEUScore(Score):
    """A BLEU score with its statistics, precisions and brevity penalty, printed as sacrebleu prints it."""

    def __init__(self, name, score, signature, *, statistics: BLEUStatistics, precisions: list[float], bp: float):
        self.statistics, self.precisions, self.bp = statistics, precisions, bp
        self.counts, self.totals = list(statistics.counts), list(statistics.totals)
        self.sys_len, self.ref_len = statistics.sys_len, statistics.ref_len
        self.ratio = self.sys_len / self.ref_len if self.ref_len else 0
        verbose = (
            f"{'/'.join(f'{p:.1f}' for p in precisions)} (BP = {bp:.3f} ratio = {self.ratio:.3f} "
            f"hyp_len = {self.sys_len:d} ref_len = {self.ref_len:d})"
        )
        super().__init__(name, score, signature, verbose)


def bleu_signature(
    nrefs: int | str,
    *,
    tokenize: str = "13a",
    lowercase: bool = False,
    smooth_method: str = "exp",
    smooth_value: float | None = None,
    effective_order: bool = False,
    **bootstrap,
) -> str:
    """sacrebleu's BLEU signature, e.g. ``nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:seqlab-0.1.0``."""
    smooth = smooth_method
    if SMOOTH_DEFAULTS.get(smooth_method) is not None:
        smooth += f"[{SMOOTH_DEFAULTS[smooth_method] if smooth_value is None else smooth_value:.2f}]"
    fields = {"case": "lc" if lowercase else "mixed", "eff": "yes" if effective_order else "no", "tok": tokenize}
    return format_signature(nrefs, {**fields, "smooth": smooth}, **bootstrap)


def count_references(references: Sequence[Sequence[str | None]]) -> int | str:
    """References per segment, or ``"var"`` when some segments have fewer (``None`` entries)."""
    counts = {sum(stream[i] is not None for stream in references) for i in range(len(references[0]))}
    return counts.pop() if len(counts) == 1 else "var"


def corpus_bleu(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str | None]],
    *,
    smooth_method: str = "exp",
    smooth_value: float | None = None,
    tokenize: str = "13a",
    lowercase: bool = False,
    effective_order: bool = False,
    max_ngram_order: int = MAX_NGRAM_ORDER,
) -> BLEUScore:
    """Corpus BLEU of ``hypotheses`` against reference streams, as ``sacrebleu.corpus_bleu``.

    Args:
        hypotheses: one line per sentence.
        references: one or more streams, each one line per sentence (``references[k][i]``).
        smooth_method, smooth_value, effective_order: see ``bleu_from_statistics``.
        tokenize, lowercase, max_ngram_order: see ``sentence_statistics``.

    Example:
        >>> corpus_bleu(["the cat sat on the mat"], [["the cat sat on a mat"]]).format(1, signature=False)
        'BLEU = 53.7 83.3/60.0/50.0/33.3 (BP = 1.000 ratio = 1.000 hyp_len = 6 ref_len = 6)'
    """
    if smooth_method not in SMOOTH_DEFAULTS:
        raise ValueError(f"unknown smooth_method {smooth_method!r}; choose from {', '.join(SMOOTH_DEFAULTS)}")
    statistics = corpus_statistics(
        hypotheses, references, tokenize=tokenize, lowercase=lowercase, max_ngram_order=max_ngram_order
    )
    options = {"smooth_method": smooth_method, "smooth_value": smooth_value, "effective_order": effective_order}
    signature = bleu_signature(count_references(references), tokenize=tokenize, lowercase=lowercase, **options)
    return bleu_from_statistics(statistics, signature=signature, **options)


def sentence_bleu(hypothesis: str, references: Sequence[str], *, effective_order: bool = True, **kwargs) -> BLEUScore:
    """BLEU of one sentence against its references, as ``sacrebleu.sentence_bleu`` (effective order by default).

    Args:
        hypothesis: the sentence.
        references: its references (strings).
        effective_order: average over the orders the sentence has (sacrebleu's default here).
        **kwargs: ``corpus_bleu``'s other keywords.
    """
    if isinstance(references, str):
        raise TypeError("references is a sequence of strings")
    return corpus_bleu(
        [hypothesis], [[reference] for reference in references], effective_order=effective_order, **kwargs
    )
