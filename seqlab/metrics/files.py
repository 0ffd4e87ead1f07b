"""Scoring files as sacrebleu's command line does: a hypothesis file against aligned reference files.

:func:`score_files` gives one system's corpus BLEU or chrF (a :class:`~seqlab.metrics.signature.Score`,
printed with ``format`` or ``to_json``); :func:`compare_files` runs the paired bootstrap test of a second
system against the first (a :class:`Comparison`). Both read the files with :func:`read_aligned_files`, which
raises a one-line :class:`~seqlab.errors.SeqlabError` naming the file and the line counts when they differ.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from seqlab.errors import SeqlabError
from seqlab.metrics import bleu, chrf
from seqlab.metrics.bootstrap import DEFAULT_SEED, BootstrapResult
from seqlab.metrics.signature import Score


def read_aligned_files(paths: Sequence[str | Path]) -> list[list[str]]:
    """The lines of each file (UTF-8, a final newline ends the last line); all must have as many as the first.

    Raises:
        SeqlabError: a file is missing or unreadable, or has another number of lines than the first, e.g.
            ``hyp.txt has 30 lines but ref.txt has 1``.
    """
    contents = []
    for path in map(Path, paths):
        try:
            contents.append(path.read_text(encoding="utf-8").split("\n"))
        except FileNotFoundError:
            raise SeqlabError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError) as error:
            raise SeqlabError(f"{path}: cannot read: {error}") from None
        if contents[-1][-1] == "":
            contents[-1].pop()
    for path, lines in zip(paths[1:], contents[1:]):
        if len(lines) != len(contents[0]):
            raise SeqlabError(f"{paths[0]} has {len(contents[0])} lines but {path} has {len(lines)}")
    return contents


class _Metric(NamedTuple):
    """What scoring a file needs from a metric, its options bound."""

    name: str  # "BLEU", "chrF2", "chrF2++"
    statistics: Callable[[list[str], list[list[str]]], list[list[int]]]  # one summable row per sentence
    score: Callable[..., Score]  # (summed row, signature="") -> Score
    signature: Callable[..., str]  # (nrefs, **bootstrap) -> signature


def _bleu(*, tokenize: str = "13a", lowercase: bool = False, smooth_method: str = "exp",
          smooth_value: float | None = None) -> _Metric:  # fmt: skip
    text = {"tokenize": tokenize, "lowercase": lowercase}
    options = {"smooth_method": smooth_method, "smooth_value": smooth_value}

    def statistics(hypotheses, references):
        return [row.as_list() for row in bleu.sentence_statistics(hypotheses, references, **text)]

    def score(row, signature=""):
        return bleu.bleu_from_statistics(bleu.BLEUStatistics.from_list(row), signature=signature, **options)

    def signature(nrefs, **bootstrap):
        return bleu.bleu_signature(nrefs, **text, **options, **bootstrap)

    return _Metric("BLEU", statistics, score, signature)


def _chrf(*, char_order: int = chrf.CHAR_ORDER, word_order: int = chrf.WORD_ORDER, beta: int = chrf.BETA,
          lowercase: bool = False, whitespace: bool = False, eps_smoothing: bool = False) -> _Metric:  # fmt: skip
    options = {"char_order": char_order, "word_order": word_order, "lowercase": lowercase, "whitespace": whitespace,
               "eps_smoothing": eps_smoothing}  # fmt: skip
    name = chrf.chrf_name(beta, word_order)

    def statistics(hypotheses, references):
        return chrf.chrf_statistics(hypotheses, references, beta=beta, **options)

    def score(row, signature=""):
        return Score(name, chrf.chrf_from_statistics(row, beta=beta, eps_smoothing=eps_smoothing), signature)

    def signature(nrefs, **bootstrap):
        return chrf.chrf_signature(nrefs, **options, **bootstrap)

    return _Metric(name, statistics, score, signature)


# metric name -> its options (keywords) -> what scoring needs; the options are those of corpus_bleu and corpus_chrf
METRICS: dict[str, Callable[..., _Metric]] = {"bleu": _bleu, "chrf": _chrf}


def _metric(metric: str, options: dict) -> _Metric:
    if metric not in METRICS:
        raise SeqlabError(f"unknown metric {metric!r}; choose from {', '.join(METRICS)}")
    return METRICS[metric](**options)


def score_files(metric: str, hypotheses: str | Path, references: Sequence[str | Path], **options) -> Score:
    """The corpus score of the hypothesis file against the reference files, with sacrebleu's signature.

    Args:
        metric: ``"bleu"`` or ``"chrf"``.
        hypotheses: system output, one sentence per line.
        references: one or more files, line by line aligned with ``hypotheses``.
        **options: for BLEU ``tokenize``, ``lowercase``, ``smooth_method``, ``smooth_value``; for chrF
            ``char_order``, ``word_order``, ``beta``, ``lowercase``, ``whitespace``, ``eps_smoothing``.

    Raises:
        SeqlabError: a file cannot be read, the line counts differ, or there is no line to score.
    """
    scorer = _metric(metric, options)
    system, *streams = read_aligned_files([hypotheses, *references])
    if not system:
        raise SeqlabError(f"{hypotheses}: no lines to score")
    total = [sum(column) for column in zip(*scorer.statistics(system, streams))]
    return scorer.score(total, scorer.signature(bleu.count_references(streams)))


@dataclass(frozen=True)
class Comparison:
    """The paired bootstrap test of two systems: each one's score, mean, 95% half-width and p-value."""

    name: str  # the metric's: "BLEU", "chrF2", ...
    signature: str  # with the bootstrap's fields (bs, seed)
    systems: list[tuple[str, BootstrapResult]]  # (file, result): the baseline, then the system compared

    def to_dict(self) -> dict[str, object]:
        """``name``, ``signature`` and, for each system, ``system``, ``score``, ``mean``, ``ci``, ``p_value``."""
        systems = [{"system": path, "score": result.score, "mean": result.mean, "ci": result.ci,
                    "p_value": result.p_value} for path, result in self.systems]  # fmt: skip
        return {"name": self.name, "signature": self.signature, "systems": systems}

    def to_json(self) -> str:
        """``to_dict`` with a one-space indent, non-ASCII kept (as sacrebleu writes JSON)."""
        return json.dumps(self.to_dict(), indent=1, ensure_ascii=False)

    def format(self, width: int = 1) -> str:
        """A line per system, ``hyp.txt: BLEU = 34.1 (μ = 34.0 ± 1.2) (p = 0.0010)``, then the signature."""
        lines = []
        for path, result in self.systems:
            p_value = "" if result.p_value is None else f" (p = {result.p_value:.4f})"
            lines.append(f"{path}: {self.name} = {result.score:.{width}f} (μ = {result.mean:.{width}f} ± "
                         f"{result.ci:.{width}f}){p_value}")  # fmt: skip
        return "\n".join([*lines, f"{self.name}|{self.signature}"])


def compare_files(metric: str, baseline: str | Path, system: str | Path, references: Sequence[str | Path], *,
                  n_samples: int = 1000, seed: int | None = DEFAULT_SEED, **options) -> Comparison:  # fmt: skip
    """Paired bootstrap resampling (Koehn 2004) of ``system`` against ``baseline``, as sacrebleu's ``--paired-bs``.

    Args:
        metric: ``"bleu"`` or ``"chrf"``.
        baseline: the first system's output, one sentence per line.
        system: the second system's, on the same sentences.
        references: one or more files, line by line aligned with both.
        n_samples: resamples.
        seed: of the resampling (sacrebleu's default); None draws from the operating system.
        **options: the metric's, as :func:`score_files` takes them.

    Raises:
        SeqlabError: a file cannot be read, the line counts differ, or there is no line to score.
    """
    from seqlab.metrics.bootstrap import paired_bootstrap

    scorer = _metric(metric, options)
    first, second, *streams = read_aligned_files([baseline, system, *references])
    if not first:
        raise SeqlabError(f"{baseline}: no lines to score")
    rows = [scorer.statistics(hypotheses, streams) for hypotheses in (first, second)]
    results = paired_bootstrap(*rows, lambda row: scorer.score(row).score, n_samples=n_samples, seed=seed)
    signature = scorer.signature(bleu.count_references(streams), n_bootstrap=n_samples, seed=seed)
    return Comparison(scorer.name, signature, [(str(baseline), results[0]), (str(system), results[1])])
