"""A classification run as a user meets it: trained on treebank files from Python or the command line, resumed,
distributed, with transferred vectors; evaluated with a per-class report and a confusion matrix; used to classify."""

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
from sklearn.metrics import accuracy_score, f1_score

from seqlab.cli.main import main
from seqlab.embeddings.formats import save_vectors
from seqlab.embeddings.keyed_vectors import KeyedVectors
from seqlab.errors import SeqlabError
from seqlab.tasks import classify
from seqlab.tasks.classify.checkpoint import load_classifier
from seqlab.tasks.classify.classifying import classify_sentences
from seqlab.tasks.classify.config import DataConfig
from seqlab.tasks.classify.data import prepare_classification_data
from seqlab.tasks.classify.task import confusion_scores
from tests.saved_weights import assert_same_weights, weights

WORDS = {
    0: ["awful", "dreadful"],
    1: ["dull", "weak"],
    2: ["long", "plain"],
    3: ["good", "nice"],
    4: ["superb", "great"],
}
MODEL = {"embedding_size": 8, "hidden_size": 8}
TINY = {"model": MODEL, "data": {"batch_size": 8}, "training": {"epochs": 2, "device": "cpu", "max_minutes": None}}
FLAGS = ["--embedding-size", "8", "--hidden-size", "8", "--batch-size", "8", "--epochs", "2", "--device", "cpu",
         "--max-minutes", "none", "--no-progress"]  # fmt: skip


def tree(rng: random.Random) -> str:
    """``(c (2 the) (c (2 film) (c WORD)))``: a sentence whose class is its sentiment word's."""
    label = rng.randrange(5)
    word = rng.choice(WORDS[label])
    return f"({label} (2 the) ({label} (2 film) ({label} {word})))"


def write_treebank(folder: Path, seed: int = 0) -> Path:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for name, count in (("train.txt", 80), ("dev.txt", 30)):
        (folder / name).write_text("\n".join(tree(rng) for _ in range(count)) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write_treebank(tmp_path_factory.mktemp("data") / "sst")


@pytest.fixture(scope="module")
def trained(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "sst"
    classify.train(out, corpus=corpus, overrides=TINY, progress=False, log=lambda line: None)
    return out


def test_python_and_the_command_line_start_the_same_run_and_write_the_same_files(corpus, trained, tmp_path):
    assert main(["classify", "train", str(corpus), "--out", str(tmp_path / "cli"), *FLAGS]) == 0
    names = sorted(path.name for path in trained.iterdir())
    assert names == sorted(path.name for path in (tmp_path / "cli").iterdir())
    assert {"vocab.json", "config.json", "metrics.jsonl", "curves.png"} <= set(names)
    assert_same_weights(trained, tmp_path / "cli")
    saved = json.loads((trained / "config.json").read_text())
    assert (saved["task"], saved["preset"], saved["model"]["num_classes"]) == ("classify", "bilstm-sst", 5)


def test_a_run_stopped_part_way_and_resumed_trains_the_same_weights(corpus, trained, tmp_path):
    part = {**TINY, "training": {**TINY["training"], "max_steps": 3}}
    classify.train(tmp_path / "parts", corpus=corpus, overrides=part, progress=False, log=lambda line: None)
    report = classify.train(tmp_path / "parts", overrides={"training": {"max_steps": None}}, resume=True,
                            progress=False, log=lambda line: None)  # fmt: skip
    assert report.stop_reason == "finished 2 epoch(s)"
    assert_same_weights(trained, tmp_path / "parts")


def test_the_scores_are_sklearns_accuracy_and_macro_f1():
    rng = np.random.default_rng(0)
    reference, predicted = rng.integers(0, 5, 300), rng.integers(0, 5, 300)
    predicted[predicted == 4] = 3  # a class never predicted: its precision is 0
    confusion = np.zeros((5, 5), dtype=np.int64)
    np.add.at(confusion, (reference, predicted), 1)
    scores = confusion_scores(confusion)
    assert scores["accuracy"] == pytest.approx(100 * accuracy_score(reference, predicted), abs=1e-10)
    macro = f1_score(reference, predicted, average="macro", labels=range(5), zero_division=0)
    assert scores["macro_f1"] == pytest.approx(100 * macro, abs=1e-10)
    per_class = f1_score(reference, predicted, average=None, labels=range(5), zero_division=0)
    assert [scores[f"f1_{i}"] for i in range(5)] == pytest.approx(100 * per_class, abs=1e-10)


def test_evaluate_reports_what_training_measured_and_draws_the_confusion_matrix(trained, tmp_path, capsys):
    held_out = [json.loads(line) for line in (trained / "metrics.jsonl").read_text().splitlines()][-1]
    png = tmp_path / "confusion.png"
    assert main(["classify", "evaluate", str(trained), "--weights", "last", "--json", "--confusion", str(png)]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["accuracy"] == pytest.approx(held_out["valid_accuracy"])
    assert np.array(scored["confusion"]).sum() == 30
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["classify", "evaluate", str(trained), "--weights", "last"]) == 0
    report = capsys.readouterr().out
    assert "very negative" in report and f"accuracy {held_out['valid_accuracy']:.2f}%" in report


def test_a_trained_classifier_learns_the_sentiment_words(corpus, tmp_path):
    longer = {"model": {**MODEL, "dropout": 0.0}, "data": {"batch_size": 8},
              "training": {"epochs": 30, "lr": 0.01, "device": "cpu", "max_minutes": None}}  # fmt: skip
    classify.train(tmp_path / "long", corpus=corpus, overrides=longer, progress=False, log=lambda line: None)
    model, vocab, config = load_classifier(tmp_path / "long")
    sentences = [["the", "film", word] for label in range(5) for word in WORDS[label]]
    predicted = [p.label for p in classify_sentences(model, vocab, config, sentences)]
    assert predicted == [label for label in range(5) for _ in WORDS[label]]


def test_binary_labels_drop_neutral_sentences_and_phrases_add_examples(corpus):
    fine = prepare_classification_data(DataConfig(corpus=str(corpus)))
    binary = prepare_classification_data(DataConfig(corpus=str(corpus), labels="binary"))
    neutral = sum(label == 2 for _, label in fine.examples["valid"])
    assert len(binary.examples["valid"]) == len(fine.examples["valid"]) - neutral
    assert {label for _, label in binary.examples["train"]} == {0, 1}
    phrases = prepare_classification_data(DataConfig(corpus=str(corpus), phrases=True))
    # each tree adds "the", "film" (both neutral) and its word, and "film WORD"; the distinct ones only
    distinct = {tuple(words) for words in phrases.texts["train"]}
    assert len(distinct) == len(phrases.texts["train"]) and ("the",) in distinct and ("film",) in distinct
    assert phrases.texts["valid"] == fine.texts["valid"]  # held out: the sentences alone, whatever is trained on
    assert [label for _, label in phrases.examples["valid"]] == [label for _, label in fine.examples["valid"]]


def test_transferred_vectors_start_the_embedding_and_frozen_ones_stay(corpus, tmp_path):
    vectors = KeyedVectors(["the", "film", "superb", "awful"], np.arange(32, dtype=np.float32).reshape(4, 8) / 32)
    save_vectors(vectors, tmp_path / "vectors.txt", format="word2vec-text")
    settings = {**TINY, "data": {"batch_size": 8, "vectors": str(tmp_path / "vectors.txt")},
                "model": {**MODEL, "freeze_embeddings": True}}  # fmt: skip
    lines = []
    classify.train(tmp_path / "run", corpus=corpus, overrides=settings, progress=False, log=lines.append)
    assert "vectors: 4 of" in "\n".join(lines)
    model, vocab, _ = load_classifier(tmp_path / "run", which="last")
    for word in ("the", "superb"):
        np.testing.assert_array_equal(model.embedding.weight[vocab.tokens.index(word)].numpy(), vectors[word])


def test_the_progress_of_an_epoch_is_counted_in_words_and_its_loss_per_sentence_has_no_perplexity(corpus, tmp_path):
    lines = []
    classify.train(tmp_path / "run", corpus=corpus, overrides={**TINY, "training": {**TINY["training"], "epochs": 1}},
                   progress=True, log=lines.append)  # fmt: skip
    progress = [line for line in lines if line.startswith("epoch 1 |")]
    words = sum(len(re.findall(r"[^()\s]+\)", line)) for line in (corpus / "train.txt").read_text().splitlines())
    assert progress and progress[-1].startswith(f"epoch 1 | 100.0% | {words:,}/{words:,} words |")
    assert all("ppl" not in line for line in progress)


@pytest.mark.skipif(not torch.distributed.is_available(), reason="needs torch.distributed")
def test_two_processes_share_the_batches_and_train_to_the_end(corpus, trained, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(classify.__file__).parents[3])}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "seqlab",
               "classify", "train", str(corpus), "--out", str(tmp_path / "two"), *FLAGS]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("stopped:") == 1  # rank 0 alone reports
    assert weights(tmp_path / "two").keys() == weights(trained).keys()


def test_predict_prints_a_class_per_line_or_json_with_probabilities(trained, tmp_path, capsys):
    (tmp_path / "in.txt").write_text("the film superb\nthe film awful\n", encoding="utf-8")
    assert main(["classify", "predict", str(trained), str(tmp_path / "in.txt"), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["text"] for line in lines] == ["the film superb", "the film awful"]
    assert all(sum(line["probabilities"]) == pytest.approx(1.0) for line in lines)
    (tmp_path / "bad.txt").write_text("the film\n\nsuperb\n", encoding="utf-8")
    assert main(["classify", "predict", str(trained), str(tmp_path / "bad.txt")]) == 2
    assert "sentence 2 is empty" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("(3 (2 a) (4 b)\n", r"train\.txt, line 1: the line ends before the tree closes"),
        ("(3 (2 a)) (2 b)\n(7 x)\n", r"train\.txt, line 1: text after the tree"),
        ("(2 (2 a) (2 b))\n", None),  # only neutral sentences: nothing to learn in SST-2
    ],
)
def test_bad_treebank_files_are_one_line_errors(tmp_path, capsys, content, message):
    folder = write_treebank(tmp_path / "bad")
    (folder / "train.txt").write_text(content, encoding="utf-8")
    extra = ["--labels", "binary"] if message is None else []
    assert main(["classify", "train", str(folder), "--out", str(tmp_path / "run"), *FLAGS, *extra]) == 2
    error = capsys.readouterr().err
    expected = message or r"train\.txt: no sentence with a binary label"
    assert error.count("\n") == 1 and re.search(expected, error), error


def test_a_classifier_checkpoint_is_refused_by_the_tagger_and_the_translator(trained, capsys):
    from seqlab.tasks.tag.checkpoint import load_tagger
    from seqlab.tasks.translate.checkpoint import load_translation_model

    with pytest.raises(SeqlabError, match="a checkpoint of the 'classify' task, not a tagger"):
        load_tagger(trained)
    with pytest.raises(SeqlabError, match="a checkpoint of the 'classify' task, not a translation model"):
        load_translation_model(trained)
    assert main(["tag", "evaluate", str(trained)]) == 2
    assert "not a tagger" in capsys.readouterr().err
