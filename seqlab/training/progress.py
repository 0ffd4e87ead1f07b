"""Progress of a training epoch: a bar on a terminal, plain periodic lines in a log.

On a terminal, a tqdm bar shows tokens per second and a running loss. When standard error is
not a terminal (a log file, a pipe, a batch job), a bar's carriage-return updates would fill
the log with thousands of fragments, so a plain line is written instead every
``LOG_INTERVAL_SECONDS`` (and at the end of the epoch)::

    epoch 3 |  42.0% | 390,000/929,589 words | 3,212 words/s | loss 4.8123 | ppl 123.0
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable

# Weight of the newest step in the running loss: about the last 50 steps count.
RUNNING_LOSS_WEIGHT = 0.02
# Seconds between two plain progress lines when not on a terminal.
LOG_INTERVAL_SECONDS = 60.0


class EpochProgress:
    """The progress of one epoch in tokens, with tokens/s and the running training loss.

    Args:
        epoch: the epoch number to show, counting from 1.
        total_tokens: the training tokens in one epoch.
        done_tokens: the tokens of this epoch already trained on (when resuming).
        enabled: False shows nothing.
        unit: what the epoch is counted in ("word", "frame", ...).
        loss_unit: what the loss is per: per character it is also shown as bits per character,
            per counted unit as perplexity; a loss per anything else (a sentence, an utterance)
            is shown alone. None: the same as ``unit``.
        log: where plain lines go when standard error is not a terminal.
        terminal: draw a bar (True) or write plain lines (False); None asks standard error.
        interval: seconds between plain lines.
    """

    def __init__(
        self,
        epoch: int,
        total_tokens: int,
        done_tokens: int,
        *,
        enabled: bool,
        unit: str = "token",
        loss_unit: str | None = None,
        log: Callable[[str], None] | None = None,
        terminal: bool | None = None,
        interval: float = LOG_INTERVAL_SECONDS,
    ):
        self.running_loss: float | None = None
        self._epoch, self._total, self._done, self._unit = epoch, total_tokens, done_tokens, unit
        self._loss_unit = unit if loss_unit is None else loss_unit
        self._terminal = sys.stderr.isatty() if terminal is None else terminal
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self._interval, self._enabled = interval, enabled
        self._started = self._last_line = time.monotonic() if enabled else 0.0
        self._done_at_start = done_tokens
        self._bar = None
        if enabled and self._terminal:
            from tqdm import tqdm

            self._bar = tqdm(total=total_tokens, initial=done_tokens, desc=f"epoch {epoch}", unit="tok",
                             unit_scale=True)  # fmt: skip

    def __enter__(self) -> EpochProgress:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self._enabled and self._done > self._done_at_start:
            self._write_line(time.monotonic())

    def update(self, tokens: int, loss: float) -> None:
        """Count ``tokens`` more trained on, with ``loss`` (nats per token) on them."""
        if self.running_loss is None or not math.isfinite(self.running_loss):
            self.running_loss = loss
        else:
            self.running_loss += RUNNING_LOSS_WEIGHT * (loss - self.running_loss)
        self._done += tokens
        if self._bar is not None:
            self._bar.update(tokens)
            self._bar.set_postfix(self._scores(), refresh=False)
        elif self._enabled and (now := time.monotonic()) - self._last_line >= self._interval:
            self._write_line(now)

    def _scores(self) -> dict[str, str]:
        scores = {"loss": f"{self.running_loss:.3f}"}
        if self._loss_unit == "char":
            scores["bpc"] = f"{self.running_loss / math.log(2):.3f}"
        elif self._loss_unit == self._unit:
            scores["ppl"] = f"{math.exp(min(self.running_loss, 50.0)):.1f}"
        return scores

    def _write_line(self, now: float) -> None:
        rate = (self._done - self._done_at_start) / max(now - self._started, 1e-9)
        share = 100.0 * self._done / self._total if self._total else 100.0
        unit = f"{self._unit}s"
        scores = " | ".join(f"{name} {value}" for name, value in self._scores().items())
        self._log(f"epoch {self._epoch} | {share:5.1f}% | {self._done:,}/{self._total:,} {unit} | "
                  f"{rate:,.0f} {unit}/s | {scores}")  # fmt: skip
        self._last_line = now
