"""Checkpoints: safetensors + JSON, exact round trips, atomic writes, clear errors."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch

from seqlab.data import CharVocab, WordVocab
from seqlab.errors import SeqlabError
from seqlab.models import RNNLanguageModel, RNNLMConfig, load_language_model, model_section
from seqlab.training import (
    TrainConfig,
    TrainingRun,
    TrainingState,
    make_optimizer,
    read_config,
    read_vocab,
    restore_training_state,
    save_checkpoint,
    train_step,
)
from seqlab.training.checkpoint import MODEL_FILES, TRAINING_STATE_FILE


def model_config(vocab, **overrides) -> RNNLMConfig:
    settings = {"embedding_size": 6, "hidden_size": 8, "num_layers": 2, **overrides}
    return RNNLMConfig(vocab_size=len(vocab), **settings)


def trained_run(corpus_text: str, *, averaged: bool = False):
    """A run after two real training steps (and, if ``averaged``, weight averaging over them)."""
    vocab = CharVocab.from_text(corpus_text)
    torch.manual_seed(0)
    config = model_config(vocab)
    model = RNNLanguageModel(config)
    run = TrainingRun.start(model, make_optimizer(model.parameters(), TrainConfig()))
    tokens = torch.tensor(vocab.encode(corpus_text[:65])).view(13, 5)  # (T, B)
    for _ in range(2):
        _, run.carry = train_step(model, run.optimizer, tokens[:-1], tokens[1:], run.carry, grad_clip=1.0)
        if averaged:
            run.averager.update()
    run.state = TrainingState(step=2, epoch=0, position=24, tokens_seen=120, history=[{"valid_loss": 3.5}])
    if averaged:
        run.state.averaging_since = 0
    config_json = {"model": model_section(config), "note": "anything JSON"}
    return run, vocab, config_json


def save(directory: Path, corpus_text: str, **extra):
    run, vocab, config_json = trained_run(corpus_text)
    save_checkpoint(directory, model=run.model, config=config_json, vocab=vocab, run=run, **extra)
    return run, vocab, config_json


def fresh_run(vocab) -> TrainingRun:
    model = RNNLanguageModel(model_config(vocab))
    return TrainingRun.start(model, make_optimizer(model.parameters(), TrainConfig()))


def test_directory_holds_safetensors_and_json_only(tmp_path, corpus_text):
    save(tmp_path / "ckpt", corpus_text)
    names = sorted(path.name for path in (tmp_path / "ckpt").iterdir())
    assert names == sorted([*MODEL_FILES, TRAINING_STATE_FILE])


def test_model_config_and_vocab_round_trip(tmp_path, corpus_text):
    run, vocab, config_json = save(tmp_path / "ckpt", corpus_text)
    loaded, loaded_vocab = load_language_model(tmp_path / "ckpt", device="cpu")
    assert loaded_vocab == vocab == read_vocab(tmp_path / "ckpt")
    assert loaded.config == run.model.config
    assert read_config(tmp_path / "ckpt") == config_json
    loaded_weights = loaded.state_dict()
    for name, expected in run.model.state_dict().items():
        assert torch.equal(expected, loaded_weights[name]), name
    assert not loaded.training


def test_a_word_vocabulary_round_trips_as_a_word_vocabulary(tmp_path):
    vocab = WordVocab.from_text("the cat sat on the mat\nthe end\n")
    model = RNNLanguageModel(model_config(vocab))
    save_checkpoint(tmp_path / "ckpt", model=model, config={"model": model_section(model.config)}, vocab=vocab)
    _, loaded_vocab = load_language_model(tmp_path / "ckpt")
    assert isinstance(loaded_vocab, WordVocab) and loaded_vocab == vocab


def test_tied_weights_are_saved_once_and_stay_tied(tmp_path, corpus_text):
    vocab = CharVocab.from_text(corpus_text)
    model = RNNLanguageModel(model_config(vocab, tie_weights=True, embedding_size=8))
    save_checkpoint(tmp_path / "ckpt", model=model, config={"model": model_section(model.config)}, vocab=vocab)
    loaded, _ = load_language_model(tmp_path / "ckpt")
    assert loaded.head.weight is loaded.embedding.weight
    assert torch.equal(loaded.embedding.weight, model.embedding.weight)


def test_training_state_round_trips_exactly(tmp_path, corpus_text):
    run, vocab, _ = save(tmp_path / "ckpt", corpus_text)
    expected_rng = torch.get_rng_state()
    torch.manual_seed(12345)  # disturb the RNG: restoring must bring the saved state back
    restored = fresh_run(vocab)
    restore_training_state(tmp_path / "ckpt", restored, "cpu")
    assert restored.state == run.state
    assert torch.equal(torch.get_rng_state(), expected_rng)
    assert len(restored.carry) == 2  # one (h, c) per layer
    for layer, expected in zip(restored.carry, run.carry):
        assert isinstance(layer, tuple) and all(torch.equal(a, b) for a, b in zip(layer, expected))
    saved, loaded = run.optimizer.state_dict(), restored.optimizer.state_dict()
    assert saved["param_groups"] == loaded["param_groups"]
    for param_id, entries in saved["state"].items():
        for name, value in entries.items():
            assert torch.equal(loaded["state"][param_id][name], value), (param_id, name)


def test_an_averaging_run_saves_the_averages_as_the_model_and_resumes_from_its_raw_weights(tmp_path, corpus_text):
    run, vocab, config_json = trained_run(corpus_text, averaged=True)
    raw = {name: value.clone() for name, value in run.model.state_dict().items()}
    save_checkpoint(tmp_path / "ckpt", model=run.model, config=config_json, vocab=vocab, run=run)
    assert all(torch.equal(value, raw[name]) for name, value in run.model.state_dict().items())  # put back

    saved_model, _ = load_language_model(tmp_path / "ckpt")
    for (name, _), average in zip(run.model.named_parameters(), run.averager.averages):
        assert torch.equal(saved_model.state_dict()[name], average), name
    assert not torch.equal(run.averager.averages[0], run.model.embedding.weight)

    restored = fresh_run(vocab)
    restored.model.load_state_dict(saved_model.state_dict())
    restore_training_state(tmp_path / "ckpt", restored, "cpu")
    assert all(torch.equal(value, raw[name]) for name, value in restored.model.state_dict().items())
    assert restored.averager.count == 2
    assert all(torch.equal(a, b) for a, b in zip(restored.averager.averages, run.averager.averages))


def test_extra_files_are_written_into_the_checkpoint(tmp_path, corpus_text):
    save(tmp_path / "ckpt", corpus_text, extra_files={"metrics.jsonl": "{}\n", "curves.png": b"\x89PNG"})
    assert (tmp_path / "ckpt" / "metrics.jsonl").read_text() == "{}\n"
    assert (tmp_path / "ckpt" / "curves.png").read_bytes() == b"\x89PNG"


def test_loading_never_unpickles(tmp_path, corpus_text, monkeypatch):
    save(tmp_path / "ckpt", corpus_text)

    def refuse(*args, **kwargs):
        raise AssertionError("a checkpoint must load without unpickling")

    monkeypatch.setattr(torch, "load", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    model, vocab = load_language_model(tmp_path / "ckpt")
    restore_training_state(tmp_path / "ckpt", fresh_run(vocab), "cpu")


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
        load_language_model(tmp_path / "ckpt")


def test_a_missing_directory_is_named(tmp_path):
    with pytest.raises(SeqlabError, match="checkpoint directory not found: .*nothere"):
        load_language_model(tmp_path / "nothere")


def test_resuming_needs_the_training_state(tmp_path, corpus_text):
    run, *_ = save(tmp_path / "ckpt", corpus_text)
    (tmp_path / "ckpt" / TRAINING_STATE_FILE).unlink()
    with pytest.raises(SeqlabError, match=f"missing {TRAINING_STATE_FILE}"):
        restore_training_state(tmp_path / "ckpt", run, "cpu")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"hidden_size": 9}, "weights do not match config.json"),
        ({"vocab_size": 5}, "vocab_size is 5 but vocab.json has"),
        ({"colour": "red"}, "unknown RNNLMConfig keys"),
        ({"architecture": "transformer"}, "architecture must be one of"),
    ],
)
def test_a_config_that_does_not_match_is_reported(tmp_path, corpus_text, change, message):
    save(tmp_path / "ckpt", corpus_text)
    path = tmp_path / "ckpt" / "config.json"
    config = json.loads(path.read_text())
    config["model"].update(change)
    path.write_text(json.dumps(config))
    with pytest.raises(SeqlabError, match=message):
        load_language_model(tmp_path / "ckpt")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_checkpoint_saved_on_gpu_loads_on_cpu(tmp_path, corpus_text):
    run, vocab, config_json = trained_run(corpus_text)
    run.model.cuda()
    run.optimizer = make_optimizer(run.model.parameters(), TrainConfig())
    run.carry = [tuple(part.cuda() for part in layer) for layer in run.carry]
    save_checkpoint(tmp_path / "ckpt", model=run.model, config=config_json, vocab=vocab, run=run)
    loaded, _ = load_language_model(tmp_path / "ckpt", device="cpu")
    assert all(parameter.device.type == "cpu" for parameter in loaded.parameters())
    restored = fresh_run(vocab)
    restore_training_state(tmp_path / "ckpt", restored, "cpu")
    assert restored.carry[0][0].device.type == "cpu"
