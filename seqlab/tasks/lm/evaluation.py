"""Held-out evaluation of a language model: loss, perplexity and bits per character."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

import torch
from torch import nn

from seqlab.data.batching import get_window, num_windows


@dataclass(frozen=True)
class Evaluation:
    """The mean next-token loss on held-out text and the measures derived from it."""

    loss: float  # mean cross-entropy, nats per token
    tokens: int  # how many predictions were scored
    unit: str = "token"  # what a token is: "char", "word" or "token", for the summary

    @property
    def perplexity(self) -> float:
        """``exp(loss)``: the effective number of equally likely next tokens (inf past float range)."""
        return math.exp(self.loss) if self.loss < math.log(sys.float_info.max) else math.inf

    @property
    def bits_per_char(self) -> float:
        """``loss / ln 2``: the average code length per token in bits (per character for a character model)."""
        return self.loss / math.log(2)

    def summary(self) -> str:
        """One line, e.g. ``loss 1.2345 nats/char | ppl 3.44 | bpc 1.781``; bpc for characters only."""
        line = f"loss {self.loss:.4f} nats/{self.unit} | ppl {self.perplexity:.2f}"
        return line + (f" | bpc {self.bits_per_char:.3f}" if self.unit == "char" else "")

    def to_json(self) -> dict:
        """The scores as a JSON-ready dict (``bits_per_char`` for character models only)."""
        scores = {"loss": self.loss, "perplexity": self.perplexity, "tokens": self.tokens, "unit": self.unit}
        if self.unit == "char":
            scores["bits_per_char"] = self.bits_per_char
        return scores


@torch.no_grad()
def evaluate(model: nn.Module, streams: torch.Tensor, bptt: int, *, unit: str = "token") -> Evaluation:
    """Score ``model`` on every window of ``streams``, carrying its state across windows.

    The model is called as ``model(inputs, state, targets)`` and returns a
    :class:`~seqlab.models.output.LanguageModelOutput`; it is put in eval mode (no dropout)
    and back.

    Args:
        model: a language model following the call convention above.
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
    total = torch.zeros((), dtype=torch.float64, device=streams.device)
    state = None
    for index in range(num_windows(streams, bptt)):
        inputs, targets = get_window(streams, index, bptt)  # (L, B)
        output = model(inputs, state, targets)
        state = output.state
        # Summing on the device and reading once keeps a GPU from waiting every window.
        total += output.cross_entropy.double() * targets.numel()
    model.train(was_training)
    tokens = (streams.size(0) - 1) * streams.size(1)
    return Evaluation(loss=total.item() / tokens, tokens=tokens, unit=unit)
