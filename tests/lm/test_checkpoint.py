"""Checkpoints: safetensors + JSON, exact round trips, atomic writes, checksums, clear errors."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import pickle
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

import seqlab.training.checkpoint as checkpoint  # the modules whose calls to safetensors a kill may interrupt
import seqlab.training.training_state_file as training_state_file
from seqlab.checksums import MANIFEST_FILE, CorruptFileError, file_digest, read_manifest, verify_file, write_manifest
from seqlab.data import CharVocab, WordVocab
from seqlab.errors import SeqlabError
from seqlab.models import RNNLanguageModel, RNNLMConfig, model_section
from seqlab.tasks.lm.checkpoint import VOCAB_FILE, load_language_model, read_vocab
from seqlab.training import (
    TrainConfig,
    TrainingRun,
    TrainingState,
    load_weights,
    make_optimizer,
    read_config,
    require_checkpoint,
    restore_training_state,
    save_checkpoint,
)
from seqlab.training.checkpoint import (
    BEST_WEIGHTS_FILE,
    CONFIG_FILE,
    MODEL_FILES,
    TRAINING_STATE_FILE,
    WEIGHTS_FILE,
)
from tests.lm.conftest import PYTHON_SNIPPET


def model_config(vocab, **overrides) -> RNNLMConfig:
    settings = {"embedding_size": 6, "hidden_size": 8, "num_layers": 2, **overrides}
    return RNNLMConfig(vocab_size=len(vocab), **settings)


def train_steps(run: TrainingRun, tokens: torch.Tensor, steps: int, *, averaged: bool = False) -> None:
    """``steps`` real optimiser steps on the same window, carrying the state as truncated BPTT does."""
    for _ in range(steps):
        output = run.model(tokens[:-1], run.carry, tokens[1:])
        run.optimizer.zero_grad()
        output.loss.backward()
        run.optimizer.step()
        run.carry = [tuple(part.detach() for part in layer) for layer in output.state]
        if averaged:
            run.averager.update()


def trained_run(corpus_text: str, *, averaged: bool = False):
    """A run after two real training steps (and, if ``averaged``, weight averaging over them)."""
    vocab = CharVocab.from_text(corpus_text)
    torch.manual_seed(0)
    config = model_config(vocab)
    model = RNNLanguageModel(config)
    run = TrainingRun.start(model, make_optimizer(model.parameters(), TrainConfig()))
    train_steps(run, tokens_of(vocab, corpus_text), 2, averaged=averaged)
    run.state = TrainingState(step=2, epoch=0, position=24, tokens_seen=120, history=[{"valid_loss": 3.5}])
    if averaged:
        run.state.averaging_since = 0
    config_json = {"model": model_section(config), "note": "anything JSON"}
    return run, vocab, config_json


def tokens_of(vocab, corpus_text: str) -> torch.Tensor:
    return torch.tensor(vocab.encode(corpus_text[:65])).view(13, 5)  # (T, B)


def save(directory: Path, corpus_text: str, *, extra_files: dict | None = None, **options):
    run, vocab, config_json = trained_run(corpus_text)
    files = {VOCAB_FILE: vocab.to_bytes(), **(extra_files or {})}
    save_checkpoint(directory, model=run.model, config=config_json, run=run, extra_files=files, **options)
    return run, vocab, config_json


def fresh_run(vocab) -> TrainingRun:
    model = RNNLanguageModel(model_config(vocab))
    return TrainingRun.start(model, make_optimizer(model.parameters(), TrainConfig()))


def test_directory_holds_safetensors_and_json_only(tmp_path, corpus_text):
    save(tmp_path / "ckpt", corpus_text)
    names = sorted(path.name for path in (tmp_path / "ckpt").iterdir())
    assert names == sorted([*MODEL_FILES, TRAINING_STATE_FILE, VOCAB_FILE, MANIFEST_FILE])


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
    save_checkpoint(tmp_path / "ckpt", model=model, config={"model": model_section(model.config)},
                    extra_files={VOCAB_FILE: vocab.to_bytes()})  # fmt: skip
    _, loaded_vocab = load_language_model(tmp_path / "ckpt")
    assert isinstance(loaded_vocab, WordVocab) and loaded_vocab == vocab


def test_tied_weights_are_saved_once_and_stay_tied(tmp_path, corpus_text):
    vocab = CharVocab.from_text(corpus_text)
    model = RNNLanguageModel(model_config(vocab, tie_weights=True, embedding_size=8))
    save_checkpoint(tmp_path / "ckpt", model=model, config={"model": model_section(model.config)},
                    extra_files={VOCAB_FILE: vocab.to_bytes()})  # fmt: skip
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
    save_checkpoint(tmp_path / "ckpt", model=run.model, config=config_json, run=run,
                    extra_files={VOCAB_FILE: vocab.to_bytes()})  # fmt: skip
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


@pytest.mark.parametrize("name", [WEIGHTS_FILE, BEST_WEIGHTS_FILE, CONFIG_FILE, TRAINING_STATE_FILE, MANIFEST_FILE])
def test_an_extra_file_may_not_replace_one_the_checkpoint_writes(tmp_path, corpus_text, name):
    with pytest.raises(ValueError, match=f"may not replace the checkpoint's own {re.escape(name)}"):
        save(tmp_path / "ckpt", corpus_text, extra_files={name: b"mine"})
    assert not (tmp_path / "ckpt").exists()


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

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Path, "write_text", crash)  # config.json is written as text
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
    write_manifest(path.parent, [name for name in os.listdir(path.parent) if name != MANIFEST_FILE])  # as if saved so
    with pytest.raises(SeqlabError, match=message):
        load_language_model(tmp_path / "ckpt")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_checkpoint_saved_on_gpu_loads_on_cpu(tmp_path, corpus_text):
    run, vocab, config_json = trained_run(corpus_text)
    run.model.cuda()
    run.optimizer = make_optimizer(run.model.parameters(), TrainConfig())
    run.carry = [tuple(part.cuda() for part in layer) for layer in run.carry]
    save_checkpoint(tmp_path / "ckpt", model=run.model, config=config_json, run=run,
                    extra_files={VOCAB_FILE: vocab.to_bytes()})  # fmt: skip
    loaded, _ = load_language_model(tmp_path / "ckpt", device="cpu")
    assert all(parameter.device.type == "cpu" for parameter in loaded.parameters())
    restored = fresh_run(vocab)
    restore_training_state(tmp_path / "ckpt", restored, "cpu")
    assert restored.carry[0][0].device.type == "cpu"


# Corruption: every file is checked before it is read ------------------------------------------

RUN_FILES = {"metrics.jsonl": '{"step": 2, "valid_loss": 3.5}\n', "curves.png": b"\x89PNG\r\n\x1a\n" + bytes(40)}
EVERY_FILE = sorted([*MODEL_FILES, BEST_WEIGHTS_FILE, TRAINING_STATE_FILE, VOCAB_FILE, *RUN_FILES, MANIFEST_FILE])


def open_everything(directory: Path) -> None:
    """Open a checkpoint as ``--resume`` and ``evaluate --weights best`` do: every file is read or checked."""
    require_checkpoint(directory, for_resume=True)
    vocab = read_vocab(directory)
    read_config(directory)
    load_language_model(directory, which="best")
    restore_training_state(directory, fresh_run(vocab), "cpu")
    load_language_model(directory, which="last")


@pytest.fixture(scope="module")
def full_checkpoint_to_copy(tmp_path_factory) -> Path:
    """A checkpoint holding every kind of file: weights, best weights, state, vocabulary, log, plot."""
    directory = tmp_path_factory.mktemp("full") / "ckpt"
    save(directory, PYTHON_SNIPPET * 12, extra_files=RUN_FILES, best=True)
    assert sorted(os.listdir(directory)) == EVERY_FILE
    return directory


@pytest.fixture
def full_checkpoint(tmp_path, full_checkpoint_to_copy) -> Path:
    """A copy of the full checkpoint, to damage."""
    shutil.copytree(full_checkpoint_to_copy, tmp_path / "ckpt")
    return tmp_path / "ckpt"


def flip_byte(path: Path, position: int) -> None:
    """Change the lowest bit of the byte at ``position`` (ASCII stays ASCII: text stays readable text)."""
    data = bytearray(path.read_bytes())
    data[position] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name", EVERY_FILE)
def test_a_flipped_byte_in_any_file_is_reported_as_corruption_of_that_file(full_checkpoint, name):
    path = full_checkpoint / name
    original = path.read_bytes()
    for position in (0, len(original) // 2, len(original) - 1):
        flip_byte(path, position)
        with pytest.raises(CorruptFileError, match=rf"^{re.escape(str(path))}: corrupt"):
            open_everything(full_checkpoint)
        path.write_bytes(original)
    open_everything(full_checkpoint)


@pytest.mark.parametrize("name", EVERY_FILE)
def test_a_truncated_file_is_reported_as_truncated(full_checkpoint, name):
    path = full_checkpoint / name
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CorruptFileError, match=rf"^{re.escape(str(path))}: corrupt \(truncated\)"):
        open_everything(full_checkpoint)


@pytest.mark.parametrize(
    ("name", "reader"),
    [
        (WEIGHTS_FILE, lambda directory: load_language_model(directory)),
        (BEST_WEIGHTS_FILE, lambda directory: load_language_model(directory, which="best")),
        (CONFIG_FILE, read_config),
        (VOCAB_FILE, read_vocab),
        (TRAINING_STATE_FILE, lambda path: restore_training_state(path, fresh_run(read_vocab(path)), "cpu")),
        ("metrics.jsonl", lambda directory: require_checkpoint(directory, for_resume=True)),
        ("curves.png", lambda directory: require_checkpoint(directory, for_resume=True)),
    ],
)
def test_each_file_is_checked_by_the_function_that_reads_it(full_checkpoint, name, reader):
    """Not only by opening everything: evaluating the last weights checks them though it reads no state."""
    flip_byte(full_checkpoint / name, os.path.getsize(full_checkpoint / name) // 2)
    with pytest.raises(CorruptFileError, match=rf"{re.escape(name)}: corrupt"):
        reader(full_checkpoint)


def test_a_checkpoint_written_before_checksums_still_loads(full_checkpoint):
    (full_checkpoint / MANIFEST_FILE).unlink()
    open_everything(full_checkpoint)


def test_truncated_weights_without_checksums_are_not_blamed_on_the_config(full_checkpoint):
    (full_checkpoint / MANIFEST_FILE).unlink()
    path = full_checkpoint / WEIGHTS_FILE
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(SeqlabError, match=rf"{re.escape(str(path))}: not a readable safetensors file \(truncated"):
        load_language_model(full_checkpoint)


def test_the_best_weights_passed_on_are_checked_and_listed(full_checkpoint, corpus_text):
    best = (full_checkpoint / BEST_WEIGHTS_FILE).read_bytes()
    save(full_checkpoint, corpus_text)  # not the best: the best weights are passed on
    assert (full_checkpoint / BEST_WEIGHTS_FILE).read_bytes() == best
    assert read_manifest(full_checkpoint)[BEST_WEIGHTS_FILE] == file_digest(full_checkpoint / BEST_WEIGHTS_FILE)

    flip_byte(full_checkpoint / BEST_WEIGHTS_FILE, len(best) // 2)
    before = {name: (full_checkpoint / name).read_bytes() for name in os.listdir(full_checkpoint)}
    with pytest.raises(CorruptFileError, match=rf"{re.escape(BEST_WEIGHTS_FILE)}: corrupt"):
        save(full_checkpoint, corpus_text)
    assert {name: (full_checkpoint / name).read_bytes() for name in os.listdir(full_checkpoint)} == before
    assert os.listdir(full_checkpoint.parent) == ["ckpt"]


def test_best_weights_passed_on_from_a_checkpoint_without_checksums_are_listed(full_checkpoint, corpus_text):
    (full_checkpoint / MANIFEST_FILE).unlink()
    save(full_checkpoint, corpus_text)
    assert read_manifest(full_checkpoint)[BEST_WEIGHTS_FILE] == file_digest(full_checkpoint / BEST_WEIGHTS_FILE)
    open_everything(full_checkpoint)


# Killed at any instant: every state a save can be interrupted in resumes -----------------------


class Killed(BaseException):
    """The process died here. Nothing after it runs in the dead process; the test copied the disk first."""


# Every call by which a save or a recovery changes the file system (Path's methods call these too).
FILESYSTEM_CALLS = [
    *[(os, name) for name in ("open", "mkdir", "rename", "replace", "link", "unlink", "rmdir", "fsync", "chmod")],
    (shutil, "copyfile"),
    (Path, "write_text"),
    (Path, "write_bytes"),
    (training_state_file, "save_file"),
    (checkpoint, "save_model"),
]
WRITES = {"copyfile": 1, "write_text": 0, "write_bytes": 0, "save_file": 1, "save_model": 1}  # argument: the file


class DiesAt:
    """Kills the code it watches at its ``n``-th file-system event, after copying ``root`` as the kill leaves it.

    Each watched call is an event just before it runs; a write is one more halfway through,
    where the copy holds the first half of the file. The copy is what the next process
    finds: whatever the dead one would have done afterwards (its ``except`` and ``finally``
    blocks included, which a SIGKILL never runs) does not reach it.
    """

    def __init__(self, n: int, root: Path, copy: Path):
        self.n, self.root, self.copy = n, root, copy
        self.events = 0
        self.dead = False

    def watch(self, monkeypatch) -> None:
        for owner, name in FILESYSTEM_CALLS:
            monkeypatch.setattr(owner, name, self._watched(getattr(owner, name), name))

    def _watched(self, function: Callable, name: str) -> Callable:
        def watched(*args, **kwargs):
            self._event()
            result = function(*args, **kwargs)
            if name in WRITES:
                self._event(half_written=Path(args[WRITES[name]]))
            return result

        return watched

    def _event(self, half_written: Path | None = None) -> None:
        if self.dead:
            return
        self.events += 1
        if self.events == self.n:
            self.dead = True
            shutil.copytree(self.root, self.copy, symlinks=True)
            if half_written is not None:
                copied = self.copy / half_written.relative_to(self.root)
                os.truncate(copied, copied.stat().st_size // 2)
            raise Killed


def killed_at_every_event(action: Callable[[Path], object], root: Path, scratch: Path, monkeypatch) -> Iterator[Path]:
    """Run ``action`` on a copy of ``root`` once per event, killed there; yield each copy as the kill left it.

    Ends with the copy of a run that was not killed (``action`` had no more events).
    """
    for n in itertools.count(1):
        work, left = scratch / f"work-{n}", scratch / f"killed-{n}"
        shutil.copytree(root, work, symlinks=True)
        killer = DiesAt(n, work, left)
        with monkeypatch.context() as patch:
            killer.watch(patch)
            try:
                action(work)
            except Killed:
                yield left
                continue
        yield work
        return


@dataclasses.dataclass
class Saved:
    """What a checkpoint was saved with, to recognise it when it is opened again."""

    weights: dict[str, torch.Tensor]
    best: dict[str, torch.Tensor] | None  # None: no best weights yet
    state: TrainingState
    files: dict[str, bytes]  # the extra files


def save_version(directory: Path, run, vocab, config_json, note: str, *, best: bool, best_weights=None) -> Saved:
    files = {VOCAB_FILE: vocab.to_bytes(), "metrics.jsonl": f"{note}\n".encode(), "curves.png": note.encode() * 9}
    save_checkpoint(directory, model=run.model, config={**config_json, "note": note}, run=run, extra_files=files,
                    best=best)  # fmt: skip
    weights = {name: value.clone() for name, value in run.model.state_dict().items()}
    return Saved(weights, weights if best else best_weights, dataclasses.replace(run.state), files)


def resumed_version(directory: Path, versions: dict[str, Saved]) -> str:
    """Open ``directory`` as ``--resume`` does; it must be one of ``versions``, whole and intact. Which one.

    Raises:
        SeqlabError: there is no checkpoint to resume.
    """
    require_checkpoint(directory, for_resume=True)
    note = read_config(directory)["note"]
    saved = versions[note]
    vocab = read_vocab(directory)
    best = [BEST_WEIGHTS_FILE] if saved.best is not None else []
    assert sorted(os.listdir(directory)) == sorted([*MODEL_FILES, TRAINING_STATE_FILE, *best, *saved.files,
                                                    MANIFEST_FILE])  # fmt: skip
    for name in read_manifest(directory):
        verify_file(directory / name)
    for which, expected in (("last", saved.weights), ("best", saved.best)):
        if expected is None:
            continue
        model = RNNLanguageModel(model_config(vocab))
        load_weights(model, directory, "cpu", which=which)
        assert all(torch.equal(value, expected[name]) for name, value in model.state_dict().items()), which
    run = fresh_run(vocab)
    restore_training_state(directory, run, "cpu")
    assert run.state == saved.state
    assert {name: (directory / name).read_bytes() for name in saved.files} == saved.files
    return note


def opened_after_a_kill(directory: Path, versions: dict[str, Saved]) -> str:
    """Which version a process finds in ``directory`` left by a kill: ``"none"`` only when there never was one."""
    try:
        return resumed_version(directory, versions)
    except SeqlabError as error:
        assert str(error) == f"checkpoint directory not found: {directory}", error
        return "none"


@pytest.fixture
def two_versions(tmp_path, corpus_text):
    """A root directory with checkpoint A in ``ckpt`` (its best weights too), and a save of B to run over it."""
    run, vocab, config_json = trained_run(corpus_text)
    root = tmp_path / "root"
    root.mkdir()
    versions = {"A": save_version(root / "ckpt", run, vocab, config_json, "A", best=True)}
    best_of_a = versions["A"].best
    train_steps(run, tokens_of(vocab, corpus_text), 2)
    run.state = dataclasses.replace(run.state, step=4, history=[{"valid_loss": 3.5}, {"valid_loss": 3.4}])
    return (
        root,
        versions,
        lambda directory, note, best: save_version(
            directory, run, vocab, config_json, note, best=best, best_weights=best_of_a
        ),
    )


@pytest.mark.parametrize(
    "case", ["replacing", "replacing with new best weights", "first save"], ids=["replace", "replace-best", "first"]
)
def test_a_save_killed_at_any_instant_leaves_a_checkpoint_to_resume(tmp_path, two_versions, case, monkeypatch):
    """A kill at each file-system call of a save, and halfway through each write: the old or the new checkpoint.

    Each state is opened as ``--resume`` opens it, and separately, a next save is made over
    it without opening it first: that save must find the same checkpoint (it passes its best
    weights on) and leave no leftovers.
    """
    root, versions, save_b = two_versions
    best = case != "replacing"
    if case == "first save":
        shutil.rmtree(root / "ckpt")
        versions.pop("A")
    versions["B"] = save_b(tmp_path / "b" / "ckpt", "B", best)  # what B holds, saved where nothing is in the way
    found = []
    for left in killed_at_every_event(lambda work: save_b(work / "ckpt", "B", best), root, tmp_path, monkeypatch):
        untouched = tmp_path / f"{left.name}-next-save"
        shutil.copytree(left, untouched, symlinks=True)
        found.append(opened_after_a_kill(left / "ckpt", versions))
        assert_a_next_save_continues(untouched, versions, found[-1], save_b)
    assert set(found) == {"B", "none" if case == "first save" else "A"}
    assert found == sorted(found, key=["none", "A", "B"].index)  # once the new one is whole, always the new one
    assert len(found) > 30


def assert_a_next_save_continues(root: Path, versions: dict[str, Saved], found: str, save_b) -> None:
    """A save over the state a kill left: it passes on the best weights of the checkpoint found there."""
    saved = save_b(root / "ckpt", "C", False)
    passed_on = versions[found].best if found != "none" else None
    assert resumed_version(root / "ckpt", {"C": dataclasses.replace(saved, best=passed_on)}) == "C"
    assert os.listdir(root) == ["ckpt"]


def test_a_recovery_killed_at_any_instant_leaves_a_checkpoint_to_resume(tmp_path, two_versions, monkeypatch):
    """The recoveries that put the new checkpoint in place, killed at each step: the next one still does.

    Two states need them: a save killed just before its first rename (the new checkpoint
    complete beside the old one), and one killed between the two renames.
    """
    root, versions, save_b = two_versions
    versions["B"] = save_b(tmp_path / "b" / "ckpt", "B", False)
    states = list(killed_at_every_event(lambda work: save_b(work / "ckpt", "B", False), root, tmp_path, monkeypatch))
    between = [number for number, left in enumerate(states) if not (left / "ckpt").exists()]
    assert len(between) == 1
    to_finish = [states[between[0] - 1], states[between[0]]]
    assert json.loads((to_finish[0] / "ckpt" / CONFIG_FILE).read_text())["note"] == "A"
    for number, left in enumerate(to_finish):
        scratch = tmp_path / f"recovery-{number}"
        scratch.mkdir()
        outcomes = {
            opened_after_a_kill(after / "ckpt", versions)
            for after in killed_at_every_event(
                lambda work: require_checkpoint(work / "ckpt", for_resume=True), left, scratch, monkeypatch
            )
        }
        assert outcomes == {"B"}, left.name  # the new checkpoint was complete: every recovery finishes the save


def test_a_reader_waits_for_a_save_in_progress_rather_than_recover_it(tmp_path, two_versions, monkeypatch):
    """A process opening the checkpoint while another saves it, between the two renames, waits and reads the new one.

    It must not take the saving process's staging directory, or the old checkpoint renamed
    aside, for the leftovers of a killed save.
    """
    root, versions, save_b = two_versions
    versions["B"] = save_b(tmp_path / "b" / "ckpt", "B", False)
    between_renames, go_on = threading.Event(), threading.Event()
    rename = os.rename

    def slow_rename(source, target):
        rename(source, target)
        if Path(target).name.startswith(".ckpt.old-"):
            between_renames.set()
            go_on.wait(timeout=60)

    monkeypatch.setattr(os, "rename", slow_rename)
    outcomes = []
    saver = threading.Thread(target=lambda: outcomes.append(save_b(root / "ckpt", "B", False) and "saved"))
    saver.start()
    assert between_renames.wait(timeout=60)
    reader = threading.Thread(target=lambda: outcomes.append(opened_after_a_kill(root / "ckpt", versions)))
    reader.start()
    reader.join(timeout=0.5)
    assert reader.is_alive() and not (root / "ckpt").exists()
    go_on.set()
    saver.join(timeout=60)
    reader.join(timeout=60)
    assert sorted(outcomes) == ["B", "saved"]  # either thread may finish first once the save goes on
    assert os.listdir(root) == ["ckpt"]
