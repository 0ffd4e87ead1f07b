"""Held-out evaluation of a language model: loss, perplexity and bits per character.

The statistics are sums (the negative log-likelihood in nats and the number of predictions),
so that the engine can add them over processes; the scores follow from the sums.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import torch
from torch import nn

from seqlab.data.batching import get_window, num_windows
from seqlab.training.task import Scores, Statistics


@dataclass(frozen=True)
class Evaluation:
    """The mean next-token loss on held-out text and the measures derived from it."""

    loss: float  # mean cross-entropy, nats per token
    tokens: int  # how many predictions were scored
    unit: str = "token"  # what a token is: "char", "word" or "token", for the summary

    @classmethod
    def from_statistics(cls, statistics: Statistics, unit: str = "token") -> Evaluation:
        """The evaluation whose sums are ``{"nll": nats, "tokens": predictions}``."""
        return cls(loss=statistics["nll"] / statistics["tokens"], tokens=int(statistics["tokens"]), unit=unit)

    @property
    def perplexity(self) -> float:
        """``exp(loss)``: the effective number of equally likely next tokens (inf past float range)."""
        return math.exp(self.loss) if self.loss < math.log(sys.float_info.max) else math.inf

    @property
    def bits_per_char(self) -> float:
        """``loss / ln 2``: the average code length per token in bits (per character for a character model)."""
        return self.loss / math.log(2)

    def scores(self) -> Scores:
        """Loss and perplexity, and bits per character for character models."""
        scores = {"loss": self.loss, "perplexity": self.perplexity}
        if self.unit == "char":
            scores["bits_per_char"] = self.bits_per_char
        return scores

    def summary(self) -> str:
        """One line, e.g. ``loss 1.2345 nats/char | ppl 3.44 | bpc 1.781``; bpc for characters only."""
        line = f"loss {self.loss:.4f} nats/{self.unit} | ppl {self.perplexity:.2f}"
        return line + (f" | bpc {self.bits_per_char:.3f}" if self.unit == "char" else "")

    def to_json(self) -> dict:
        """The scores as a JSON-ready dict (``bits_per_char`` for character models only)."""
        return {**self.scores(), "tokens": self.tokens, "unit": self.unit}


def language_model_scores(statistics: Statistics, unit: str) -> Scores:
    """Loss, perplexity (and bits per character) from summed statistics."""
    return Evaluation.from_statistics(statistics, unit).scores()


def summary(scores: Scores, unit: str) -> str:
    """The one-line summary of :meth:`Evaluation.summary` for scores."""
    return Evaluation(loss=scores["loss"], tokens=0, unit=unit).summary()


@torch.no_grad()
def stream_statistics(model: nn.Module, streams: torch.Tensor, bptt: int) -> Statistics:
    """The summed cross-entropy and the number of predictions on every window of ``streams``.

    The model's state is carried across windows, as in training. The model is called as
    ``model(inputs, state, targets)`` and returns a
    :class:`~seqlab.models.output.LanguageModelOutput`; call it in eval mode.

    Shape:
        - streams: ``(T, B)``, on the model's device

    Returns:
        ``{"nll": nats, "tokens": (T - 1) * B}``.
    """
    total = torch.zeros((), dtype=torch.float64, device=streams.device)
    state = None
    for index in range(num_windows(streams, bptt)):
        inputs, targets = get_window(streams, index, bptt)  # (L, B)
        output = model(inputs, state, targets)
        state = output.state
        # Summing on the device and reading once keeps a GPU from waiting every window.
        total += output.cross_entropy.double() * targets.numel()
    return {"nll": total.item(), "tokens": float((streams.size(0) - 1) * streams.size(1))}


@torch.no_grad()
def evaluate(model: nn.Module, streams: torch.Tensor, bptt: int, *, unit: str = "token") -> Evaluation:
    """Score ``model`` on every window of ``streams``, carrying its state across windows.

    The model is put in eval mode (no dropout) and back.

    Args:
        model: a language model called as ``model(inputs, state, targets)``.
        streams: held-out token ids from :func:`~seqlab.data.batchify`, on the model's device.
        bptt: the window length.
        unit: what a token is, for :meth:`Evaluation.summary`.

    Shape:
        - streams: ``(T, B)``

    Returns:
        The mean cross-entropy over all ``(T - 1) * B`` predictions.
    """
    was_training = model.training
    model.eval()
    try:
        return Evaluation.from_statistics(stream_statistics(model, streams, bptt), unit)
    finally:
        model.train(was_training)
