"""The files a training run writes beside its checkpoint: metrics log, curves, TensorBoard.

All are made from ``TrainingState.history`` (one record per evaluation), which the
checkpoint itself holds, so they always agree with the checkpoint they are saved with,
also after a crash and ``--resume``.
"""

from __future__ import annotations

import io
import json
import math
import tempfile
from pathlib import Path
from typing import Any

METRICS_FILE = "metrics.jsonl"
CURVES_FILE = "curves.png"
TENSORBOARD_FILE = "events.out.tfevents.seqlab"


def metrics_jsonl(history: list[dict[str, Any]]) -> str:
    """One JSON object per line and per evaluation, in order."""
    return "".join(json.dumps(record) + "\n" for record in history)


def learning_curves_png(history: list[dict[str, Any]], *, title: str, headline: str = "perplexity") -> bytes:
    """A PNG of training and held-out loss (nats per token) and a held-out score against epochs.

    Args:
        history: the records of the evaluations (see :mod:`seqlab.training.evaluation`).
        title: the figure's title.
        headline: the score drawn in the second panel: the history's ``valid_{headline}``.

    The step where weight averaging started (NT-ASGD) is marked.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(10, 4), dpi=100)
    loss_axes, score_axes = figure.subplots(1, 2)
    epochs = [record["epoch"] for record in history]
    trained = [(record["epoch"], record["train_loss"]) for record in history if record["train_loss"] is not None]
    if trained:
        loss_axes.plot(*zip(*trained), label="training (mean since last evaluation)")
    loss_axes.plot(epochs, [record["valid_loss"] for record in history], marker=".", label="held-out")
    loss_axes.set(xlabel="epoch", ylabel="cross-entropy (nats per token)", title="loss")
    scores = [min(record[f"valid_{headline}"], 1e30) for record in history]
    name = headline.replace("_", " ")
    score_axes.plot(epochs, scores, marker=".", color="tab:orange")
    score_axes.set(xlabel="epoch", ylabel=name, title=f"held-out {name}")
    if scores and min(scores) > 0 and max(scores) / min(scores) > 10:
        score_axes.set_yscale("log")
    averaging = next((record["epoch"] for record in history if record.get("averaging")), None)
    if averaging is not None:
        for axes in (loss_axes, score_axes):
            axes.axvline(averaging, color="grey", linestyle=":", label="weight averaging starts")
    for axes in (loss_axes, score_axes):
        axes.grid(alpha=0.3)
    loss_axes.legend()
    figure.suptitle(title)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def tensorboard_events(history: list[dict[str, Any]]) -> bytes | None:
    """A TensorBoard event file of the history's losses, held-out scores and learning rate by step.

    None without ``tensorboard``.
    """
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as directory:
        writer = SummaryWriter(log_dir=directory, filename_suffix=".seqlab")
        for record in history:
            for name, value in record.items():
                if not (name in ("train_loss", "lr") or name.startswith("valid_")):
                    continue
                if value is not None and math.isfinite(value):
                    writer.add_scalar(name, value, record["step"])
        writer.close()
        (path,) = Path(directory).iterdir()
        return path.read_bytes()


def run_files(history: list[dict[str, Any]], *, title: str, headline: str = "perplexity") -> dict[str, str | bytes]:
    """The files to save with a checkpoint, by name."""
    files: dict[str, str | bytes] = {METRICS_FILE: metrics_jsonl(history)}
    if history:
        files[CURVES_FILE] = learning_curves_png(history, title=title, headline=headline)
    events = tensorboard_events(history)
    if events is not None:
        files[TENSORBOARD_FILE] = events
    return files
