"""A language-model run as a user meets it: from Python or the command line, rerun, reported, scored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from seqlab.data import CharVocab, WordVocab
from seqlab.errors import SeqlabError
from seqlab.tasks import lm
from seqlab.tasks.lm.presets import get_preset
from tests.lm.commands import TINY_TRAIN_FLAGS, TINY_WORD_FLAGS, run_lm

TINY = {"model": {"hidden_size": 16, "embedding_size": 8},
        "data": {"batch_size": 4, "eval_batch_size": 4, "bptt": 16, "valid_fraction": 0.1},
        "training": {"eval_every": 5, "device": "cpu", "max_steps": 7}}  # fmt: skip


def test_python_and_the_command_line_start_the_same_run_and_write_the_same_files(corpus_file, tmp_path, capsys):
    report = lm.train(tmp_path / "python", corpus=corpus_file, overrides=TINY, samples=1, sample_length=20,
                      progress=False)  # fmt: skip
    run_lm("train", corpus_file, "--out", tmp_path / "cli", "--max-steps", "7", *TINY_TRAIN_FLAGS)
    python, cli = tmp_path / "python", tmp_path / "cli"
    assert sorted(path.name for path in python.iterdir()) == sorted(path.name for path in cli.iterdir())
    expected, actual = load_file(str(cli / "model.safetensors")), load_file(str(python / "model.safetensors"))
    assert all(torch.equal(expected[name], actual[name]) for name in expected)
    assert json.loads((python / "config.json").read_text()) == json.loads((cli / "config.json").read_text())
    assert report.stop_reason == "reached max_steps=7" and report.steps == 7
    assert report.held_out["loss"] == json.loads((cli / "metrics.jsonl").read_text().splitlines()[-1])["valid_loss"]


def test_the_log_says_which_settings_a_run_uses_and_where_they_came_from(corpus_file, tmp_path, capsys):
    run_lm("train", corpus_file, "--out", tmp_path / "run", "--max-steps", "2", *TINY_TRAIN_FLAGS)
    printed = capsys.readouterr().out
    assert "settings: preset 'demo' (the default, as no preset was named), overridden by " in printed
    assert "hidden_size=16" in printed
    run_lm("train", corpus_file, "--out", tmp_path / "run", "--resume", "--max-steps", "3", *TINY_TRAIN_FLAGS)
    assert f"settings: {tmp_path / 'run' / 'config.json'}, the run being resumed" in capsys.readouterr().out


def test_the_main_job_can_be_run_again_and_says_it_continued_the_earlier_run(corpus_file, tmp_path, capsys):
    flags = [*TINY_TRAIN_FLAGS, "--if-exists", "resume", "--max-steps"]
    run_lm("train", corpus_file, "--out", tmp_path / "run", *flags, "3")
    assert "holds an earlier run" not in capsys.readouterr().out
    run_lm("train", corpus_file, "--out", tmp_path / "run", *flags, "5")
    printed = capsys.readouterr().out
    assert f"{tmp_path / 'run'} holds an earlier run: continuing it" in printed
    assert "resuming" in printed and "stopped: reached max_steps=5" in printed
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("not a run")
    with pytest.raises(SeqlabError, match="not empty \\(it holds files\\)"):
        run_lm("train", corpus_file, "--out", tmp_path / "other", *flags, "3")


def test_the_end_of_training_reports_the_weights_evaluate_uses(word_corpus, tmp_path, capsys):
    out = tmp_path / "run"
    run_lm("train", word_corpus, "--preset", "zaremba-small", "--out", out, "--epochs", "3", "--lr", "40",
           *TINY_WORD_FLAGS)  # fmt: skip
    printed = capsys.readouterr().out
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    best = min(records, key=lambda record: record["valid_loss"])
    assert f"weights: best (epoch {round(best['epoch'])}, step {best['step']:,})" in printed
    held_out = next(line for line in printed.splitlines() if line.startswith("held-out: "))
    assert f"loss {best['valid_loss']:.4f} nats/word" in held_out
    run_lm("evaluate", out, word_corpus / "valid.txt", "--json", "--batch-size", "2")
    scored = json.loads(capsys.readouterr().out)
    assert scored["weights"] == "best" and scored["weights_step"] == best["step"]
    assert scored["loss"] == pytest.approx(best["valid_loss"], rel=1e-6)
    test_line = next(line for line in printed.splitlines() if line.startswith("test: "))
    run_lm("evaluate", out, word_corpus / "test.txt", "--batch-size", "2")
    assert test_line.removeprefix("test: ") in capsys.readouterr().out  # the same weights score the test text


def test_evaluate_says_how_much_of_the_text_the_vocabulary_does_not_know(word_corpus, tmp_path, capsys):
    run_lm("train", word_corpus, "--preset", "zaremba-small", "--out", tmp_path / "run", "--epochs", "1",
           *TINY_WORD_FLAGS)  # fmt: skip
    foreign = tmp_path / "foreign.txt"
    foreign.write_text("the zebra ate a quince\nthe yak sat on the mat\n" * 5)  # 4 of 13 tokens unknown
    capsys.readouterr()
    run_lm("evaluate", tmp_path / "run", foreign, "--batch-size", "2", "--json")
    scored = json.loads(capsys.readouterr().out)
    assert (scored["out_of_vocabulary"], scored["out_of_vocabulary_rate"]) == (20, pytest.approx(20 / 65))
    run_lm("evaluate", tmp_path / "run", foreign, "--batch-size", "2")
    printed = capsys.readouterr().out
    assert "out of vocabulary: 20 of 65 words (30.77%) read as <unk>" in printed
    assert "warning: 31% of the text is outside the model's vocabulary" in printed
    run_lm("evaluate", tmp_path / "run", word_corpus / "test.txt", "--batch-size", "2")
    printed = capsys.readouterr().out
    assert "out of vocabulary: 0 of" in printed and "warning" not in printed


def test_a_literal_unk_in_the_text_is_a_known_token():
    words = WordVocab.from_text("a b <unk> c\n")
    assert words.count_unknown("a <unk> zebra\n") == 1  # zebra; <eos> and <unk> are the vocabulary's own
    assert CharVocab.from_text("abc").count_unknown("abcz") == 1


def test_zaremba_presets_decay_the_learning_rate_as_the_paper_says():
    # Zaremba et al. 2014, section 4.1: "We train the medium ... for 39 epochs with a learning rate
    # of 1, and after 6 epochs we decrease it by a factor of 1.2 after each epoch"; the large one
    # "for 55 epochs with a learning rate of 1; after 14 epochs we start to reduce the learning rate
    # by a factor of 1.15 after each epoch"; the small one "after 4 epochs ... by a factor of 2".
    for name, epochs, start, factor in (("zaremba-small", 13, 4, 2.0), ("zaremba-medium", 39, 6, 1.2),
                                        ("zaremba-large", 55, 14, 1.15)):  # fmt: skip
        training = get_preset(name).training
        assert (training.epochs, training.lr_decay_start) == (epochs, start), name
        assert 1 / training.lr_decay == pytest.approx(factor), name


def test_old_names_of_the_engine_are_not_left_behind():
    # The language model's pieces live in its task folder; the engine has none of them.
    import seqlab.training as engine

    for name in ("DataConfig", "PRESETS", "evaluate_with_cache", "read_vocab"):
        assert not hasattr(engine, name), name
    assert Path(lm.__file__).parent.name == "lm"
