"""The progress bar of a training epoch: tokens per second and a running loss."""

from __future__ import annotations

import math

from tqdm import tqdm

# Weight of the newest step in the running loss: about the last 50 steps count.
RUNNING_LOSS_WEIGHT = 0.02


class EpochProgress:
    """A tqdm bar over one epoch's tokens, showing tokens/s and the running training loss.

    Args:
        epoch: the epoch number to show, counting from 1.
        total_tokens: the training tokens in one epoch.
        done_tokens: the tokens of this epoch already trained on (when resuming).
        enabled: False draws nothing.
        unit: what a token is; characters also show bits per character.
    """

    def __init__(self, epoch: int, total_tokens: int, done_tokens: int, *, enabled: bool, unit: str = "token"):
        self._bar = tqdm(
            total=total_tokens,
            initial=done_tokens,
            desc=f"epoch {epoch}",
            unit="tok",
            unit_scale=True,
            disable=not enabled,
        )
        self.running_loss: float | None = None
        self._unit = unit

    def __enter__(self) -> EpochProgress:
        return self

    def __exit__(self, *exc_info) -> None:
        self._bar.close()

    def update(self, tokens: int, loss: float) -> None:
        """Count ``tokens`` more trained on, with ``loss`` (nats per token) on them."""
        if self.running_loss is None or not math.isfinite(self.running_loss):
            self.running_loss = loss
        else:
            self.running_loss += RUNNING_LOSS_WEIGHT * (loss - self.running_loss)
        self._bar.update(tokens)
        scores = {"loss": f"{self.running_loss:.3f}"}
        if self._unit == "char":
            scores["bpc"] = f"{self.running_loss / math.log(2):.3f}"
        else:
            scores["ppl"] = f"{math.exp(min(self.running_loss, 50.0)):.1f}"
        self._bar.set_postfix(scores, refresh=False)
