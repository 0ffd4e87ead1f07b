"""chrF and chrF++ (Popović 2015, 2017) as sacrebleu 2.6.0 computes them.

For each order, the statistics are (hypothesis n-grams, reference n-grams, matches); character n-grams up
to ``char_order`` (spaces removed unless ``whitespace``) and, for chrF++, word n-grams up to ``word_order``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from seqlab.metrics.signature import Score, format_signature

CHAR_ORDER, WORD_ORDER, BETA = 6, 0, 2
_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_EPSILON = 1e-16  # chrF++.py's smoothing of an empty precision or recall


def split_punctuation(line: str) -> list[str]:
    """Words with one punctuation mark split off the end, else off the start (chrF++.py; sacrebleu issue 124)."""
    words = []
    for word in line.split():
        if len(word) > 1 and word[-1] in _PUNCTUATION:
            words += [word[:-1], word[-1]]
        elif len(word) > 1 and word[0] in _PUNCTUATION:
            words += [word[0], word[1:]]
        else:
            words.append(word)
    return words


def extract_ngrams(line: str, *, char_order: int, word_order: int, whitespace: bool) -> list[Counter]:
    """The character n-grams (n = 1..char_order), then the word n-grams (n = 1..word_order), of a line."""
    characters = line if whitespace else "".join(line.split())
    counters = [
        Counter(characters[i : i + n] for i in range(len(characters) - n + 1)) for n in range(1, char_order + 1)
    ]
    if word_order:
        words = split_punctuation(line)
        counters += [
            Counter(" ".join(words[i : i + n]) for i in range(len(words) - n + 1)) for n in range(1, word_order + 1)
        ]
    return counters


def _match_statistics(hypothesis: list[Counter], reference: list[Counter]) -> list[int]:
    statistics = []
    for hyp, ref in zip(hypothesis, reference):
        matched = sum(min(count, ref[ngram]) for ngram, count in hyp.items() if ngram in ref)
        statistics += [sum(hyp.values()) if ref else 0, sum(ref.values()), matched]
    return statistics


def chrf_from_statistics(statistics: Sequence[float], *, beta: float = BETA, eps_smoothing: bool = False) -> float:
    """The F-beta score in percent from ``[hyp, ref, match] * orders`` (Popović 2015, eq. 1).

    F_beta = (1 + beta^2) P R / (beta^2 P + R). By default P and R are averaged over the orders where both
    sides have n-grams (sacrebleu's effective order); ``eps_smoothing`` averages the per-order F scores
    instead, with empty precisions and recalls set to 1e-16 (chrF++.py, Moses, NLTK).
    """
    factor = beta**2
    f_sum = precision_sum = recall_sum = 0.0
    effective = 0
    orders = len(statistics) // 3
    for i in range(orders):
        hyp, ref, matched = statistics[3 * i : 3 * i + 3]
        precision = matched / hyp if hyp > 0 else _EPSILON
        recall = matched / ref if ref > 0 else _EPSILON
        denominator = factor * precision + recall
        f_sum += ((1 + factor) * precision * recall / denominator) if denominator > 0 else _EPSILON
        if hyp > 0 and ref > 0:
            precision_sum, recall_sum, effective = precision_sum + precision, recall_sum + recall, effective + 1
    if eps_smoothing:
        return 100 * f_sum / orders
    if effective:
        precision_sum, recall_sum = precision_sum / effective, recall_sum / effective
    else:
        precision_sum = recall_sum = 0.0
    if not precision_sum + recall_sum:
        return 0.0
    return 100 * ((1 + factor) * precision_sum * recall_sum) / ((factor * precision_sum) + recall_sum)


def chrf_statistics(
    hypotheses: Sequence[str],
    references: Sequence[Sequence[str | None]],
    *,
    char_order: int = CHAR_ORDER,
    word_order: int = WORD_ORDER,
    beta: float = BETA,
    lowercase: bool = False,
    whitespace: bool = False,
    eps_smoothing: bool = False,
) -> list[list[int]]:
    """Each sentence's ``[hyp, ref, match]`` per order, against the reference with the best sentence chrF.

    Returns:
        One list of ``3 * (char_order + word_order)`` integers per sentence; sum them for the corpus.
    """
    for index, stream in enumerate(references):
        if len(stream) != len(hypotheses):
            raise ValueError(f"reference stream {index} has {len(stream)} lines, the hypotheses {len(hypotheses)}")
    options = {"char_order": char_order, "word_order": word_order, "whitespace": whitespace}
    rows = []
    for index, hypothesis in enumerate(hypotheses):
        hyp = extract_ngrams(hypothesis.lower() if lowercase else hypothesis, **options)
        best, best_f = [], -1.0
        for stream in references:
            if stream[index] is None:
                continue
            ref = extract_ngrams(stream[index].lower() if lowercase else stream[index], **options)
            statistics = _match_statistics(hyp, ref)
            f_score = chrf_from_statistics(statistics, beta=beta, eps_smoothing=eps_smoothing)
            if f_score > best_f:
                best, best_f = statistics, f_score
        rows.append(best)
    return rows


def chrf_signature(nrefs: int | str, *, char_order=CHAR_ORDER, word_order=WORD_ORDER, lowercase=False,
                   whitespace=False, eps_smoothing=False, **bootstrap) -> str:  # fmt: skip
    """sacrebleu's chrF signature, e.g. ``nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:seqlab-0.1.0``."""
    fields = {"case": "lc" if lowercase else "mixed", "eff": "no" if eps_smoothing else "yes", "nc": char_order}
    return format_signature(nrefs, {**fields, "nw": word_order, "space": "yes" if whitespace else "no"}, **bootstrap)


def chrf_name(beta: float, word_order: int) -> str:
    """``chrF2``, or ``chrF2++`` with word bigrams."""
    return f"chrF{beta}" + "+" * word_order


def corpus_chrf(hypotheses: Sequence[str], references: Sequence[Sequence[str | None]], **options) -> Score:
    """Corpus chrF (chrF++ with ``word_order=2``), as ``sacrebleu.corpus_chrf``.

    Args:
        hypotheses: one line per sentence.
        references: one or more streams, each one line per sentence.
        **options: ``char_order``, ``word_order``, ``beta``, ``lowercase``, ``whitespace``, ``eps_smoothing``.

    Example:
        >>> round(corpus_chrf(["the cat sat"], [["the cat sat down"]]).score, 4)
        66.0176
    """
    from seqlab.metrics.bleu import count_references

    rows = chrf_statistics(hypotheses, references, **options)
    total = [sum(column) for column in zip(*rows)]
    beta, eps = options.get("beta", BETA), options.get("eps_smoothing", False)
    signature_options = {key: value for key, value in options.items() if key != "beta"}
    signature = chrf_signature(count_references(references), **signature_options)
    name = chrf_name(beta, options.get("word_order", WORD_ORDER))
    return Score(name, chrf_from_statistics(total, beta=beta, eps_smoothing=eps), signature)


def sentence_chrf(hypothesis: str, references: Sequence[str], **options) -> Score:
    """chrF of one sentence against its references (strings), as ``sacrebleu.sentence_chrf``."""
    if isinstance(references, str):
        raise TypeError("references is a sequence of strings")
    return corpus_chrf([hypothesis], [[reference] for reference in references], **options)
