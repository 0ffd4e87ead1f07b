"""Lample et al.'s tagger reads a training word seen once as <unk> with probability p, batch by batch."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import torch

from seqlab.errors import SeqlabError
from seqlab.tasks import tag
from seqlab.tasks.tag.config import DataConfig
from seqlab.tasks.tag.data import prepare_tagging_data
from seqlab.tasks.tag.task import TaggingTask
from tests.saved_weights import assert_same_weights, weights

TRAIN = [
    "Mary visited Paris in 1999 .",
    "Mary visited Rome in 2001 .",  # 1999 and 2001 are both read as 0000: not a singleton
    "John Smith visited Rome yesterday .",
    "Anna left Paris .",
]
TAGS = {"Mary": "I-PER", "John": "I-PER", "Smith": "I-PER", "Anna": "I-PER", "Paris": "I-LOC", "Rome": "I-LOC"}
DEV = ["Anna visited Oslo ."]
SINGLETONS = {"John", "Smith", "yesterday", "Anna", "left"}


def write(path: Path, sentences: list[str]) -> None:
    lines = []
    for sentence in sentences:
        lines += [f"{word} {TAGS.get(word, 'O')}" for word in sentence.split()] + [""]
    path.write_text("\n".join(lines), encoding="utf-8")


def config(folder: Path, singleton_unk: float) -> DataConfig:
    return DataConfig(corpus=str(folder), train_file="train.txt", valid_file="dev.txt", file_scheme="IOB1",
                      singleton_unk=singleton_unk, batch_size=8)  # fmt: skip


@pytest.fixture
def folder(tmp_path) -> Path:
    write(tmp_path / "train.txt", TRAIN)
    write(tmp_path / "dev.txt", DEV)
    return tmp_path


def batch_words(folder: Path, singleton_unk: float, split: str = "train") -> tuple[torch.Tensor, torch.Tensor, list]:
    """The (B, T) word ids of one batch of the whole split, as collated and as encoded; the vocabulary."""
    data = prepare_tagging_data(config(folder, singleton_unk))
    task = TaggingTask(data, config(folder, singleton_unk), torch.device("cpu"), seed=0)
    batch = task.collate(split, list(range(len(data.examples[split]))))
    plain = torch.full_like(batch.words, data.word_vocab.pad_id)
    for row, index in enumerate(batch.indices):
        ids = data.examples[split][index].words
        plain[row, : len(ids)] = torch.tensor(ids)
    return batch.words, plain, data.word_vocab.tokens


def test_the_singletons_are_the_training_words_seen_exactly_once(folder):
    counts = Counter(word.replace("1999", "0000").replace("2001", "0000") for line in TRAIN for word in line.split())
    data = prepare_tagging_data(config(folder, 0.5))
    assert {data.word_vocab.tokens[index] for index in data.singletons} == {w for w, n in counts.items() if n == 1}
    assert {data.word_vocab.tokens[index] for index in data.singletons} == SINGLETONS


def test_with_probability_one_every_singleton_and_nothing_else_becomes_unk(folder):
    words, plain, tokens = batch_words(folder, 1.0)
    singleton = torch.tensor([[tokens[i] in SINGLETONS for i in row]
                              for row in plain.tolist()])  # fmt: skip
    assert singleton.sum() == 5
    assert (words[singleton] == 0).all() and tokens[0] == "<unk>"
    assert torch.equal(words[~singleton], plain[~singleton])


def test_held_out_batches_and_probability_zero_are_read_as_written(folder):
    for singleton_unk, split in ((1.0, "valid"), (0.0, "train")):
        words, plain, _ = batch_words(folder, singleton_unk, split)
        assert torch.equal(words, plain)


def test_each_occurrence_is_replaced_with_the_given_probability_afresh_for_every_batch(folder):
    torch.manual_seed(0)
    draws = torch.stack([batch_words(folder, 0.3)[0] for _ in range(400)])  # (400, B, T)
    _, plain, tokens = batch_words(folder, 0.3)
    singleton = torch.tensor([[tokens[i] in SINGLETONS for i in row]
                              for row in plain.tolist()])  # fmt: skip
    replaced = (draws[:, singleton] == 0).float()  # (400, 5)
    assert replaced.mean() == pytest.approx(0.3, abs=0.04)  # 2,000 draws: 5 standard errors
    assert 0 < replaced.sum(0).min() and replaced.sum(0).max() < 400  # no occurrence always or never replaced


@pytest.mark.parametrize("value", [-0.1, 1.5])
def test_a_probability_outside_zero_to_one_is_refused_by_name(value):
    with pytest.raises(SeqlabError, match="singleton_unk must be a probability"):
        DataConfig(singleton_unk=value)


def test_a_run_that_replaces_singletons_resumes_to_the_same_weights(folder, tmp_path):
    """The replacements are drawn from the generator the checkpoint saves, so a resumed run redraws them."""
    model = {"embedding_size": 8, "hidden_size": 8, "char_embedding_size": 4, "char_hidden_size": 4}
    data = {"train_file": "train.txt", "valid_file": "dev.txt", "file_scheme": "IOB1", "batch_size": 1}
    settings = {"model": model, "data": {**data, "singleton_unk": 0.5},
                "training": {"epochs": 2, "device": "cpu", "max_minutes": None}}  # fmt: skip

    def train(out: Path, overrides: dict, resume: bool = False) -> None:
        tag.train(out, corpus=None if resume else folder, overrides=overrides, resume=resume, progress=False,
                  log=lambda line: None)  # fmt: skip

    train(tmp_path / "whole", settings)
    train(tmp_path / "parts", {**settings, "training": {**settings["training"], "max_steps": 3}})
    train(tmp_path / "parts", {"training": {"max_steps": None}}, resume=True)
    assert_same_weights(tmp_path / "whole", tmp_path / "parts")
    train(tmp_path / "never", {**settings, "data": {**data, "singleton_unk": 0.0}})
    assert not torch.equal(
        weights(tmp_path / "whole")["embedding.weight"], weights(tmp_path / "never")["embedding.weight"]
    )
