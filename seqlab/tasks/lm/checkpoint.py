"""Loading a trained language model, its vocabulary and its history from a checkpoint directory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from seqlab.checksums import verified_bytes
from seqlab.data.vocab import Vocab
from seqlab.errors import SeqlabError
from seqlab.models.lm_configs import model_config
from seqlab.models.registry import build_model
from seqlab.training.checkpoint import CONFIG_FILE, load_weights, read_config, require_checkpoint
from seqlab.training.metrics_files import METRICS_FILE

VOCAB_FILE = "vocab.json"


def read_vocab(directory: str | Path) -> Vocab:
    """The vocabulary saved in a checkpoint's ``vocab.json``, of whichever kind it is, checked against its checksum."""
    path = require_checkpoint(directory) / VOCAB_FILE
    return Vocab.from_json_bytes(verified_bytes(path), source=str(path))


def read_history(directory: str | Path) -> list[dict[str, Any]]:
    """The evaluations recorded in a checkpoint's ``metrics.jsonl`` (empty if it has none)."""
    path = Path(directory) / METRICS_FILE
    if not path.is_file():
        return []
    lines = verified_bytes(path).decode("utf-8").splitlines()
    try:
        return [json.loads(line) for line in lines if line.strip()]
    except ValueError as error:
        raise SeqlabError(f"{path}: not a metrics log: {error}") from None


def load_language_model(
    directory: str | Path, *, device: str | torch.device = "cpu", which: str = "last"
) -> tuple[nn.Module, Vocab]:
    """The model and vocabulary saved in a checkpoint directory, in eval mode, on ``device``.

    Weights saved on any device load on any other. ``which`` picks the ``"last"`` weights
    or the ``"best"`` (those of the evaluation with the best held-out score).

    Raises:
        SeqlabError: a file is missing or corrupt, or the config, vocabulary and weights disagree.
    """
    config_path = Path(directory) / CONFIG_FILE
    saved = read_config(directory)
    if saved.get("task", "lm") != "lm":
        raise SeqlabError(f"{directory}: a checkpoint of the {saved['task']!r} task, not a language model")
    config = model_config(saved.get("model") or {}, source=str(config_path))
    vocab = read_vocab(directory)
    if config.vocab_size != len(vocab):
        raise SeqlabError(f"{config_path}: vocab_size is {config.vocab_size} but {VOCAB_FILE} has {len(vocab)} tokens")
    model = build_model(config)
    load_weights(model, directory, device, which=which)
    return model.eval(), vocab
