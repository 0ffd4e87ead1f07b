"""Held-out evaluation of a language model: loss, perplexity and bits per character."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from seqlab.data.batching import get_window, num_windows


@dataclass(frozen=True)
class Evaluation:
    """The mean next-token loss on held-out text and the measures derived from it."""

    loss: float  # mean cross-entropy, nats per character
    tokens: int  # how many predictions were scored

    @property
    def perplexity(self) -> float:
        """``exp(loss)``: the effective number of equally likely next characters."""
        return math.exp(self.loss)

    @property
    def bits_per_char(self) -> float:
        """``loss / ln 2``: the average code length per character, in bits."""
        return self.loss / math.log(2)

    def summary(self) -> str:
        """One line, e.g. ``loss 1.2345 nats/char | ppl 3.44 | bpc 1.781``."""
        return f"loss {self.loss:.4f} nats/char | ppl {self.perplexity:.2f} | bpc {self.bits_per_char:.3f}"


@torch.no_grad()
def evaluate(model: nn.Module, streams: torch.Tensor, bptt: int) -> Evaluation:
    """Score ``model`` on every window of ``streams``, carrying its state across windows.

    The model is called as ``model(inputs, state, targets) -> (logits, state, loss)`` with
    ``loss`` the mean over the window; it is put in eval mode (no dropout) and back.

    Args:
        model: a language model following the call convention above.
        streams: held-out token ids from :func:`~seqlab.data.batchify`, on the model's device.
        bptt: the window length.

    Shape:
        - streams: ``(T, B)``

    Returns:
        The mean loss over all ``(T - 1) * B`` predictions.
    """
    was_training = model.training
    model.eval()
    total = torch.zeros((), dtype=torch.float64, device=streams.device)
    state = None
    for index in range(num_windows(streams, bptt)):
        inputs, targets = get_window(streams, index, bptt)  # (L, B)
        _, state, loss = model(inputs, state, targets)
        # Summing on the device and reading once keeps a GPU from waiting every window.
        total += loss.double() * targets.numel()
    model.train(was_training)
    tokens = (streams.size(0) - 1) * streams.size(1)
    return Evaluation(loss=total.item() / tokens, tokens=tokens)
