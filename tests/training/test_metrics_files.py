"""The files a run writes beside its checkpoint: metrics log, learning curves, TensorBoard events."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

from seqlab.training.metrics_files import (
    CURVES_FILE,
    METRICS_FILE,
    TENSORBOARD_FILE,
    learning_curves_png,
    metrics_jsonl,
    run_files,
    tensorboard_events,
)

HISTORY = [
    {"step": 10, "epoch": 0.5, "epoch_end": False, "train_loss": None, "valid_loss": 5.0,
     "valid_perplexity": 148.4, "lr": 1.0, "averaging": False},
    {"step": 20, "epoch": 1.0, "epoch_end": True, "train_loss": 4.5, "valid_loss": 4.6,
     "valid_perplexity": 99.5, "lr": 1.0, "averaging": True},
]  # fmt: skip


def test_the_metrics_log_is_one_json_object_per_evaluation():
    lines = metrics_jsonl(HISTORY).splitlines()
    assert [json.loads(line) for line in lines] == HISTORY


def test_the_curves_are_a_png():
    assert learning_curves_png(HISTORY, title="test").startswith(b"\x89PNG\r\n\x1a\n")


def test_tensorboard_events_need_tensorboard(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # as if not installed
    assert tensorboard_events(HISTORY) is None
    assert sorted(run_files(HISTORY, title="t")) == [CURVES_FILE, METRICS_FILE]


def test_tensorboard_events_hold_every_finite_scalar_by_step(monkeypatch):
    written = []

    class SummaryWriter:
        def __init__(self, log_dir, filename_suffix):
            self.path = Path(log_dir) / f"events.out.tfevents.1{filename_suffix}"

        def add_scalar(self, name, value, step):
            written.append((name, value, step))

        def close(self):
            self.path.write_bytes(b"events")

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", types.SimpleNamespace(SummaryWriter=SummaryWriter))
    assert tensorboard_events(HISTORY) == b"events"
    assert ("valid_loss", 5.0, 10) in written and ("train_loss", 4.5, 20) in written
    assert not any(name == "train_loss" and step == 10 for name, _, step in written)  # None is skipped
    assert TENSORBOARD_FILE in run_files(HISTORY, title="t")


def test_the_curves_show_the_tasks_headline_score_and_any_extra_scores_go_to_tensorboard(monkeypatch):
    history = [{**record, "valid_accuracy": accuracy} for record, accuracy in zip(HISTORY, (0.5, 0.7))]
    for record in history:
        del record["valid_perplexity"]
    assert learning_curves_png(history, title="toy", headline="accuracy").startswith(b"\x89PNG")
    written = []

    class SummaryWriter:
        def __init__(self, log_dir, filename_suffix):
            self.path = Path(log_dir) / f"events.out.tfevents.1{filename_suffix}"

        def add_scalar(self, name, value, step):
            written.append(name)

        def close(self):
            self.path.write_bytes(b"events")

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", types.SimpleNamespace(SummaryWriter=SummaryWriter))
    tensorboard_events(history)
    assert "valid_accuracy" in written and "lr" in written and "epoch" not in written
