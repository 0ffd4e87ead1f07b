"""A tagging run as a user meets it: trained from Python or the command line, resumed, distributed, with
transferred vectors; then evaluated as conlleval scores it, and used to tag text."""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from seqlab.cli.main import main
from seqlab.embeddings.formats import save_vectors
from seqlab.embeddings.keyed_vectors import KeyedVectors
from seqlab.errors import SeqlabError
from seqlab.metrics.conlleval import conlleval_report
from seqlab.tasks import tag
from seqlab.tasks.tag.checkpoint import load_tagger
from seqlab.tasks.tag.tagging import evaluate_file, tag_sentences
from tests.saved_weights import assert_same_weights, weights

NAMES = ["Peter Blackburn", "Mary", "John Smith", "Anna"]
PLACES = ["Paris", "Berlin", "New York", "Rome", "Brussels"]
MODEL = {"embedding_size": 8, "hidden_size": 8, "char_embedding_size": 4, "char_hidden_size": 4}
DATA = {"train_file": "train.txt", "valid_file": "dev.txt", "file_scheme": "IOB1", "batch_size": 8}
TINY = {"model": MODEL, "data": DATA, "training": {"epochs": 2, "device": "cpu", "max_minutes": None}}
FLAGS = ["--embedding-size", "8", "--hidden-size", "8", "--char-embedding-size", "4", "--char-hidden-size", "4",
         "--train-file", "train.txt", "--valid-file", "dev.txt", "--file-scheme", "IOB1", "--batch-size", "8",
         "--epochs", "2", "--device", "cpu", "--max-minutes", "none", "--no-progress"]  # fmt: skip


def write_corpus(folder: Path, seed: int = 0) -> Path:
    """CoNLL-2003-style IOB1 files: a document marker, four columns, one B- where two names meet."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name, count in (("train.txt", 48), ("dev.txt", 16)):
        lines = ["-DOCSTART- -X- O O", ""]
        for _ in range(count):
            person, place = rng.choice(NAMES).split(), rng.choice(PLACES).split()
            words = [*person, "visited", *place, "in", str(rng.randint(1990, 2020)), "."]
            tags = ["I-PER"] * len(person) + ["O"] + ["I-LOC"] * len(place) + ["O", "O", "O"]
            if rng.random() < 0.2:  # two persons side by side: IOB1 marks the second one's first word B-
                words, tags = ["Mary", *words], ["I-PER", "B-PER", *tags[1:]]
            lines += [f"{word} NNP I-NP {t}" for word, t in zip(words, tags)] + [""]
        (folder / name).write_text("\n".join(lines), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("data") / "ner")


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "ner"
    tag.train(out, corpus=corpus, overrides=TINY, progress=False, log=lambda line: None)
    return out


def test_python_and_the_command_line_start_the_same_run_and_write_the_same_files(corpus, trained, tmp_path):
    assert main(["tag", "train", str(corpus), "--out", str(tmp_path / "cli"), *FLAGS]) == 0
    names = sorted(path.name for path in trained.iterdir())
    assert names == sorted(path.name for path in (tmp_path / "cli").iterdir())
    assert {"word_vocab.json", "char_vocab.json", "config.json", "metrics.jsonl", "curves.png"} <= set(names)
    assert_same_weights(trained, tmp_path / "cli")
    saved = json.loads((trained / "config.json").read_text())
    assert saved["task"] == "tag" and saved["model"]["scheme"] == "BIOES"
    assert saved["model"]["tags"][0] == "O" and len(saved["model"]["tags"]) == 9  # O + 4 prefixes x {LOC, PER}


def test_a_run_stopped_part_way_and_resumed_trains_the_same_weights(corpus, trained, tmp_path):
    part = {**TINY, "training": {**TINY["training"], "max_steps": 3}}
    tag.train(tmp_path / "parts", corpus=corpus, overrides=part, progress=False, log=lambda line: None)
    report = tag.train(tmp_path / "parts", overrides={"training": {"max_steps": None}}, resume=True, progress=False,
                       log=lambda line: None)  # fmt: skip
    assert report.stop_reason == "finished 2 epoch(s)"
    assert_same_weights(trained, tmp_path / "parts")


def test_the_held_out_f1_of_training_is_what_conlleval_reports_for_the_dev_file(corpus, trained, tmp_path, capsys):
    held_out = [json.loads(line) for line in (trained / "metrics.jsonl").read_text().splitlines()][-1]
    assert main(["tag", "evaluate", str(trained), "--weights", "last", "--output", str(tmp_path / "out.txt")]) == 0
    report = capsys.readouterr().out
    assert f"FB1: {held_out['valid_f1']:6.2f}" in report.splitlines()[1]
    with (tmp_path / "out.txt").open() as stream:  # the written predictions, scored by the Perl script
        from tests.metrics.test_entity_f1 import conlleval_script

        perl = subprocess.run(["perl", str(conlleval_script())], stdin=stream, capture_output=True, text=True)
    assert perl.stdout == report


def test_predict_prints_tags_or_json_with_entity_spans(trained, tmp_path, capsys):
    (tmp_path / "in.txt").write_text("Mary visited New York in 2001 .\nJohn Smith visited Rome\n", encoding="utf-8")
    assert main(["tag", "predict", str(trained), str(tmp_path / "in.txt"), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["words"][0] for line in lines] == ["Mary", "John"]
    for line in lines:
        for entity in line["entities"]:
            assert entity["text"] == " ".join(line["words"][entity["start"] : entity["end"]])
    assert main(["tag", "predict", str(trained), str(tmp_path / "in.txt"), "--scheme", "BIOES"]) == 0
    first = capsys.readouterr().out.splitlines()[0].split()
    assert [token.rsplit("/", 1)[0] for token in first] == "Mary visited New York in 2001 .".split()


def test_sentences_tagged_in_batches_of_any_size_come_back_in_order_with_the_same_tags(trained):
    model, words, chars, config = load_tagger(trained)
    sentences = ["Rome".split(), "Mary visited New York in 2001 .".split(), "John Smith visited Rome".split(),
                 "Anna visited Paris".split(), "Peter Blackburn visited Berlin in 1999 .".split()]  # fmt: skip
    one_by_one = [tag_sentences(model, words, chars, config, [sentence])[0] for sentence in sentences]
    for batch_size in (2, 3, 64):
        together = tag_sentences(model, words, chars, config, sentences, batch_size=batch_size)
        assert [tagged.words for tagged in together] == sentences
        assert together == one_by_one


def test_a_trained_tagger_learns_the_entities_of_the_toy_corpus(corpus, tmp_path):
    longer = {**TINY, "training": {**TINY["training"], "epochs": 30, "lr": 0.01},
              "model": {**MODEL, "hidden_size": 16, "dropout": 0.1}}  # fmt: skip
    tag.train(tmp_path / "long", corpus=corpus, overrides=longer, progress=False, log=lambda line: None)
    model, words, chars, config = load_tagger(tmp_path / "long")
    statistics, _ = evaluate_file(model, words, chars, config, corpus / "dev.txt")
    assert "FB1: 100.00" in conlleval_report(statistics).splitlines()[1]
    (tagged,) = tag_sentences(model, words, chars, config, [["Peter", "Blackburn", "visited", "Berlin"]])
    assert [(span.start, span.end, span.type) for span in tagged.entities] == [(0, 2, "PER"), (3, 4, "LOC")]


def test_transferred_vectors_start_the_embedding_and_frozen_ones_stay(corpus, tmp_path):
    words = ["visited", "paris", "berlin", "in", "0000"]  # digits are looked up as 0, words also lower-cased
    vectors = KeyedVectors(words, np.arange(40, dtype=np.float32).reshape(5, 8) / 40)
    save_vectors(vectors, tmp_path / "vectors.txt", format="word2vec-text")
    settings = {**TINY, "data": {**DATA, "vectors": str(tmp_path / "vectors.txt")},
                "model": {**MODEL, "freeze_embeddings": True}}  # fmt: skip
    lines = []
    tag.train(tmp_path / "run", corpus=corpus, overrides=settings, progress=False, log=lines.append)
    assert any(line.startswith("vectors: ") for line in lines)
    model, vocab, _, _ = load_tagger(tmp_path / "run", which="last")
    ids = vocab.tokens
    np.testing.assert_array_equal(model.embedding.weight[ids.index("visited")].numpy(), vectors["visited"])
    np.testing.assert_array_equal(model.embedding.weight[ids.index("Paris")].numpy(), vectors["paris"])
    np.testing.assert_array_equal(model.embedding.weight[ids.index("0000")].numpy(), vectors["0000"])


@pytest.mark.skipif(not torch.distributed.is_available(), reason="needs torch.distributed")
def test_two_processes_share_the_batches_and_train_to_the_end(corpus, trained, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(tag.__file__).parents[3])}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "seqlab",
               "tag", "train", str(corpus), "--out", str(tmp_path / "two"), *FLAGS]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("stopped:") == 1  # rank 0 alone reports
    assert weights(tmp_path / "two").keys() == weights(trained).keys()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("EU NNP I-NP O\nPeter NNP I-PER\n", r"train\.txt, line 2: 3 columns, expected 4"),
        ("Peter NNP I-NP PER\n", r"train\.txt, line 1: unknown tag 'PER' in the IOB1 scheme"),
        ("Peter NNP I-NP O\n", r"train\.txt: no entity in the training sentences"),
    ],
)
def test_bad_training_files_are_one_line_errors_naming_file_and_line(tmp_path, capsys, content, message):
    folder = write_corpus(tmp_path / "bad")
    (folder / "train.txt").write_text(content, encoding="utf-8")
    assert main(["tag", "train", str(folder), "--out", str(tmp_path / "run"), *FLAGS]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and re.search(message, error), error


def test_a_translation_checkpoint_is_refused_by_name(tmp_path, capsys):
    from seqlab.tasks import translate

    translate.train(tmp_path / "dates", progress=False, log=lambda line: None,
                    overrides={"model": {"embedding_size": 4, "hidden_size": 4, "attention_size": 4},
                               "data": {"dates_train": 16, "dates_valid": 4, "dates_test": 4},
                               "training": {"max_steps": 1, "device": "cpu"}})  # fmt: skip
    with pytest.raises(SeqlabError, match="a checkpoint of the 'translate' task, not a tagger"):
        load_tagger(tmp_path / "dates")
    assert main(["tag", "evaluate", str(tmp_path / "dates")]) == 2
    assert "not a tagger" in capsys.readouterr().err


def test_an_empty_sentence_to_predict_is_named(trained, tmp_path, capsys):
    (tmp_path / "in.txt").write_text("Mary visited Rome\n\nJohn\n", encoding="utf-8")
    assert main(["tag", "predict", str(trained), str(tmp_path / "in.txt")]) == 2
    assert "sentence 2 is empty" in capsys.readouterr().err
