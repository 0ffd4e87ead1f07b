"""Scoring a text file with a trained language model: ``seqlab lm evaluate``.

Beside the loss, it says which weights scored the text and how much of the text the
vocabulary did not know: a word model scored on text from another corpus reads most words
as ``<unk>``, and its perplexity then measures little.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from seqlab.data.corpus import read_text_file
from seqlab.tasks.lm.checkpoint import load_language_model, read_history
from seqlab.tasks.lm.data import token_streams
from seqlab.tasks.lm.evaluation import Evaluation, evaluate
from seqlab.tasks.lm.neural_cache import CacheConfig, evaluate_with_cache
from seqlab.training.checkpoint import read_config
from seqlab.training.fit import ReportedWeights, available_weights, reported_weights
from seqlab.training.task import Selection

# Above this share of unknown tokens the summary warns that the score says little.
HIGH_UNKNOWN_RATE = 0.05


@dataclass(frozen=True)
class TextScore:
    """The scores of one text, and what they were computed with."""

    file: str
    evaluation: Evaluation
    weights: ReportedWeights  # which weights scored the text
    unknown: int  # tokens of the text not in the vocabulary, read as <unk>
    tokens: int  # all tokens of the text
    batch_size: int
    bptt: int
    cache: CacheConfig | None

    @property
    def unknown_rate(self) -> float:
        """The share of the text's tokens that the vocabulary did not know."""
        return self.unknown / self.tokens if self.tokens else 0.0

    def summary(self) -> str:
        """Two or three lines: the scores, the weights, and the unknown tokens."""
        unit = self.evaluation.unit
        cached = f", neural cache {dataclasses.asdict(self.cache)}" if self.cache else ""
        lines = [
            f"{self.file}: {self.evaluation.summary()} ({self.evaluation.tokens:,} {unit}s{cached})",
            f"weights: {self.weights}",
            f"out of vocabulary: {self.unknown:,} of {self.tokens:,} {unit}s ({100 * self.unknown_rate:.2f}%) "
            "read as <unk>",
        ]
        if self.unknown_rate > HIGH_UNKNOWN_RATE:
            lines.append(
                f"warning: {100 * self.unknown_rate:.0f}% of the text is outside the model's vocabulary; the "
                "loss mostly measures how well it predicts <unk>, and is not comparable with other texts"
            )
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            **self.evaluation.to_json(),
            "weights": self.weights.which,
            "weights_step": self.weights.record["step"] if self.weights.record else None,
            "out_of_vocabulary": self.unknown,
            "out_of_vocabulary_rate": self.unknown_rate,
            "batch_size": self.batch_size,
            "bptt": self.bptt,
            "cache": dataclasses.asdict(self.cache) if self.cache else None,
        }


def evaluate_text(
    checkpoint: str | Path,
    file: str | Path,
    *,
    weights: str | None = None,
    batch_size: int | None = None,
    bptt: int | None = None,
    cache: CacheConfig | None = None,
    device: str | torch.device = "cpu",
) -> TextScore:
    """Score a UTF-8 text file with the model in ``checkpoint``.

    Args:
        weights: "best" or "last"; None: best when the checkpoint has best weights.
        batch_size, bptt: parallel streams and window length; None: the run's held-out settings.
        cache: mix in the neural cache (Grave et al. 2017).
    """
    checkpoint = Path(checkpoint)
    which = weights or available_weights(checkpoint)
    model, vocab = load_language_model(checkpoint, device=device, which=which)
    saved = read_config(checkpoint)
    data = saved.get("data", {})
    batch_size = batch_size or data.get("eval_batch_size") or data.get("batch_size", 10)
    bptt = bptt or data.get("bptt", 35)
    text = read_text_file(file)
    tokens = torch.tensor(vocab.encode(text), dtype=torch.long)
    streams = token_streams(tokens, batch_size, torch.device(device), part=str(file))
    if cache is not None:
        evaluation = evaluate_with_cache(model, streams, bptt, cache, unit=vocab.level)
    else:
        evaluation = evaluate(model, streams, bptt, unit=vocab.level)
    history = read_history(checkpoint)
    if which == "best":
        used = reported_weights(checkpoint, history, Selection())
    else:
        used = ReportedWeights("last", history[-1] if history else None)
    return TextScore(str(file), evaluation, used, vocab.count_unknown(text), tokens.numel(), batch_size, bptt, cache)
