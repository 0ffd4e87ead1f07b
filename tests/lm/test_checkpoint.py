"""Checkpoints: safetensors + JSON, exact round trips, atomic writes, clear errors."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

from seqlab.data import CharVocab
from seqlab.errors import SeqlabError
from seqlab.models import CharLM, CharLMConfig, load_char_lm
from seqlab.training import (
    TrainConfig,
    TrainingState,
    make_optimizer,
    read_config,
    read_vocab,
    restore_training_state,
    save_checkpoint,
    train_step,
)
from seqlab.training.checkpoint import MODEL_FILES, TRAINING_STATE_FILE


def trained_run(corpus_text: str):
    """A model, optimiser and carried state after two real training steps."""
    vocab = CharVocab.from_text(corpus_text)
    torch.manual_seed(0)
    config = CharLMConfig(vocab_size=len(vocab), embedding_size=6, hidden_size=8, num_layers=2)
    model = CharLM(config)
    optimizer = make_optimizer(model.parameters(), TrainConfig())
    tokens = torch.tensor(vocab.encode(corpus_text[:65])).view(13, 5)  # (T, B)
    carry = None
    for _ in range(2):
        _, carry = train_step(model, optimizer, tokens[:-1], tokens[1:], carry, grad_clip=1.0)
    config_json = {"model": vars(config), "note": "anything JSON"}
    return model, optimizer, vocab, carry, config_json


def save(directory: Path, corpus_text: str, **extra):
    model, optimizer, vocab, carry, config_json = trained_run(corpus_text)
    state = TrainingState(step=2, epoch=0, window=2, tokens_seen=120)
    save_checkpoint(
        directory, model=model, config=config_json, vocab=vocab, optimizer=optimizer, state=state, carry=carry, **extra
    )
    return model, optimizer, vocab, carry, config_json, state


def test_directory_holds_safetensors_and_json_only(tmp_path, corpus_text):
    save(tmp_path / "ckpt", corpus_text)
    names = sorted(path.name for path in (tmp_path / "ckpt").iterdir())
    assert names == sorted([*MODEL_FILES, TRAINING_STATE_FILE])


def test_model_config_and_vocab_round_trip(tmp_path, corpus_text):
    model, _, vocab, _, config_json, _ = save(tmp_path / "ckpt", corpus_text)
    loaded, loaded_vocab = load_char_lm(tmp_path / "ckpt", device="cpu")
    assert loaded_vocab == vocab == read_vocab(tmp_path / "ckpt")
    assert loaded.config == model.config
    assert read_config(tmp_path / "ckpt") == config_json
    loaded_weights = loaded.state_dict()
    for name, expected in model.state_dict().items():
        assert torch.equal(expected, loaded_weights[name]), name
    assert not loaded.training


def test_tied_weights_are_saved_once_and_stay_tied(tmp_path, corpus_text):
    vocab = CharVocab.from_text(corpus_text)
    config = CharLMConfig(vocab_size=len(vocab), embedding_size=8, hidden_size=8, tie_weights=True)
    model = CharLM(config)
    save_checkpoint(tmp_path / "ckpt", model=model, config={"model": vars(config)}, vocab=vocab)
    loaded, _ = load_char_lm(tmp_path / "ckpt")
    assert loaded.head.weight is loaded.embedding.weight
    assert torch.equal(loaded.embedding.weight, model.embedding.weight)


def test_training_state_round_trips_exactly(tmp_path, corpus_text):
    _, optimizer, vocab, carry, _, state = save(tmp_path / "ckpt", corpus_text)
    expected_rng = torch.get_rng_state()
    torch.manual_seed(12345)  # disturb the RNG: restoring must bring the saved state back
    config = CharLMConfig(vocab_size=len(vocab), embedding_size=6, hidden_size=8, num_layers=2)
    fresh_optimizer = make_optimizer(CharLM(config).parameters(), TrainConfig())
    restored_state, restored_carry = restore_training_state(tmp_path / "ckpt", fresh_optimizer, "cpu")
    assert restored_state == state
    assert torch.equal(torch.get_rng_state(), expected_rng)
    assert all(torch.equal(a, b) for a, b in zip(restored_carry, carry))
    saved, restored = optimizer.state_dict(), fresh_optimizer.state_dict()
    assert saved["param_groups"] == restored["param_groups"]
    for param_id, entries in saved["state"].items():
        for name, value in entries.items():
            assert torch.equal(restored["state"][param_id][name], value), (param_id, name)


def test_loading_never_unpickles(tmp_path, corpus_text, monkeypatch):
    save(tmp_path / "ckpt", corpus_text)

    def refuse(*args, **kwargs):
        raise AssertionError("a checkpoint must load without unpickling")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    model, _ = load_char_lm(tmp_path / "ckpt")
    optimizer = make_optimizer(model.parameters(), TrainConfig())
    restore_training_state(tmp_path / "ckpt", optimizer, "cpu")


def test_writes_leave_no_temporary_directories(tmp_path, corpus_text):
    save(tmp_path / "ckpt", corpus_text)
    save(tmp_path / "ckpt", corpus_text)  # replacing an existing checkpoint
    assert [path.name for path in tmp_path.iterdir()] == ["ckpt"]


def test_a_failed_write_keeps_the_previous_checkpoint(tmp_path, corpus_text, monkeypatch):
    save(tmp_path / "ckpt", corpus_text)
    before = {path.name: path.read_bytes() for path in (tmp_path / "ckpt").iterdir()}

    def crash(self, path):
        raise OSError("disk full")

    monkeypatch.setattr(CharVocab, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        save(tmp_path / "ckpt", corpus_text)
    after = {path.name: path.read_bytes() for path in (tmp_path / "ckpt").iterdir()}
    assert after == before
    assert [path.name for path in tmp_path.iterdir()] == ["ckpt"]


def test_a_directory_of_other_files_is_never_replaced(tmp_path, corpus_text):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    with pytest.raises(SeqlabError, match="not a seqlab checkpoint"):
        save(tmp_path / "notes", corpus_text)
    assert (tmp_path / "notes" / "todo.txt").read_text() == "keep me"


@pytest.mark.parametrize("missing", [*MODEL_FILES])
def test_a_missing_file_is_named(tmp_path, corpus_text, missing):
    save(tmp_path / "ckpt", corpus_text)
    (tmp_path / "ckpt" / missing).unlink()
    with pytest.raises(SeqlabError, match=f"incomplete checkpoint, missing {missing}"):
        load_char_lm(tmp_path / "ckpt")


def test_a_missing_directory_is_named(tmp_path):
    with pytest.raises(SeqlabError, match="checkpoint directory not found: .*nothere"):
        load_char_lm(tmp_path / "nothere")


def test_resuming_needs_the_training_state(tmp_path, corpus_text):
    model, optimizer, *_ = save(tmp_path / "ckpt", corpus_text)
    (tmp_path / "ckpt" / TRAINING_STATE_FILE).unlink()
    with pytest.raises(SeqlabError, match=f"missing {TRAINING_STATE_FILE}"):
        restore_training_state(tmp_path / "ckpt", optimizer, "cpu")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hidden_size": 9}, "weights do not match config.json"),
        ({"vocab_size": 5}, "vocab_size is 5 but vocab.json has"),
        ({"colour": "red"}, "unknown CharLMConfig keys"),
    ],
)
def test_a_config_that_does_not_match_is_reported(tmp_path, corpus_text, change, message):
    save(tmp_path / "ckpt", corpus_text)
    path = tmp_path / "ckpt" / "config.json"
    config = json.loads(path.read_text())
    config["model"].update(change)
    path.write_text(json.dumps(config))
    with pytest.raises(SeqlabError, match=message):
        load_char_lm(tmp_path / "ckpt")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_checkpoint_saved_on_gpu_loads_on_cpu(tmp_path, corpus_text):
    model, optimizer, vocab, carry, config_json = trained_run(corpus_text)
    model.cuda()
    gpu_optimizer = make_optimizer(model.parameters(), TrainConfig())
    gpu_carry = tuple(part.cuda() for part in carry)
    save_checkpoint(
        tmp_path / "ckpt",
        model=model,
        config=config_json,
        vocab=vocab,
        optimizer=gpu_optimizer,
        state=TrainingState(),
        carry=gpu_carry,
    )
    loaded, _ = load_char_lm(tmp_path / "ckpt", device="cpu")
    assert all(parameter.device.type == "cpu" for parameter in loaded.parameters())
    _, restored_carry = restore_training_state(
        tmp_path / "ckpt", make_optimizer(loaded.parameters(), TrainConfig()), "cpu"
    )
    assert restored_carry[0].device.type == "cpu"
