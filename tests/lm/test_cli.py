"""`seqlab lm train` and `seqlab lm generate`, end to end on a tiny corpus."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from seqlab.cli import lm
from seqlab.errors import SeqlabError
from seqlab.training import read_config

# Command-line flags that make `seqlab lm train` run in a fraction of a second.
TINY_TRAIN_FLAGS = [
    "--hidden-size",
    "16",
    "--embedding-size",
    "8",
    "--batch-size",
    "4",
    "--bptt",
    "16",
    "--eval-every",
    "5",
    "--valid-fraction",
    "0.1",
    "--device",
    "cpu",
    "--samples",
    "1",
    "--sample-length",
    "20",
    "--no-progress",
]


def run_lm(*argv: str | Path) -> int:
    """Run `seqlab lm ...` in this process; SeqlabError propagates for pytest.raises."""
    parser = argparse.ArgumentParser(prog="seqlab")
    lm.register(parser.add_subparsers(required=True))
    args = parser.parse_args(["lm", *map(str, argv)])
    return args.func(args)


def weights(directory: Path) -> dict[str, torch.Tensor]:
    return load_file(str(directory / "model.safetensors"))


def assert_same_weights(first: Path, second: Path) -> None:
    expected, actual = weights(first), weights(second)
    assert expected.keys() == actual.keys()
    for name in expected:
        assert torch.equal(expected[name], actual[name]), name


def test_train_prints_the_corpus_model_scores_and_samples(corpus_file, tmp_path, capsys):
    assert run_lm("train", corpus_file, "--out", tmp_path / "run", "--max-steps", "6", *TINY_TRAIN_FLAGS) == 0
    out = capsys.readouterr().out
    assert f"corpus: {corpus_file}" in out
    assert "parameters, on cpu" in out
    assert "nats/char" in out and "ppl" in out and "bpc" in out
    assert "stopped: reached max_steps=6" in out
    assert "----- sample 1 -----" in out
    config = read_config(tmp_path / "run")
    assert config["model"]["hidden_size"] == 16
    assert config["training"]["max_steps"] == 6
    assert config["data"]["corpus"] == str(corpus_file.resolve())


SAMPLING_FLAGS = (
    "--prompt",
    "def ",
    "--length",
    "40",
    "--seed",
    "1",
    "--top-k",
    "5",
    "--top-p",
    "0.9",
    "--temperature",
    "0.7",
)


def test_generate_continues_the_prompt(corpus_file, tmp_path, capsys):
    run_lm("train", corpus_file, "--out", tmp_path / "run", "--max-steps", "3", *TINY_TRAIN_FLAGS)
    capsys.readouterr()
    run_lm("generate", tmp_path / "run", *SAMPLING_FLAGS)
    first = capsys.readouterr().out
    assert first.startswith("def ") and len(first) == len("def ") + 40 + 1
    run_lm("generate", tmp_path / "run", *SAMPLING_FLAGS)
    assert capsys.readouterr().out == first


def test_same_seed_same_run(corpus_file, tmp_path):
    for name in ("a", "b"):
        run_lm(
            "train", corpus_file, "--out", tmp_path / name, "--max-steps", "8", "--dropout", "0.2", *TINY_TRAIN_FLAGS
        )
    assert_same_weights(tmp_path / "a", tmp_path / "b")


def test_an_interrupted_and_resumed_run_matches_an_uninterrupted_one(corpus_file, tmp_path, capsys):
    # Two epochs of 37 windows; the interruption falls mid-epoch, between evaluations, so
    # the carried LSTM state, the optimiser and the dropout RNG must all be restored.
    flags = [*TINY_TRAIN_FLAGS, "--dropout", "0.2", "--epochs", "2", "--samples", "0"]
    run_lm("train", corpus_file, "--out", tmp_path / "whole", *flags)
    run_lm("train", corpus_file, "--out", tmp_path / "parts", "--max-steps", "43", *flags)
    capsys.readouterr()
    run_lm("train", corpus_file, "--out", tmp_path / "parts", "--resume", "--max-steps", "1000", *flags)
    assert "resuming" in capsys.readouterr().out
    assert_same_weights(tmp_path / "whole", tmp_path / "parts")
    steps = [read_config(tmp_path / name)["training"]["epochs"] for name in ("whole", "parts")]
    assert steps == [2, 2]


def test_resume_rejects_changed_settings(corpus_file, tmp_path):
    run_lm("train", corpus_file, "--out", tmp_path / "run", "--max-steps", "2", *TINY_TRAIN_FLAGS)
    with pytest.raises(SeqlabError, match="hidden_size=32 \\(checkpoint: 16\\)"):
        run_lm(
            "train",
            corpus_file,
            "--out",
            tmp_path / "run",
            "--resume",
            "--max-steps",
            "4",
            *TINY_TRAIN_FLAGS,
            "--hidden-size",
            "32",
        )


def test_resume_rejects_a_changed_corpus(corpus_file, tmp_path):
    run_lm("train", corpus_file, "--out", tmp_path / "run", "--max-steps", "2", *TINY_TRAIN_FLAGS)
    corpus_file.write_text(corpus_file.read_text() + "# one more line\n")
    with pytest.raises(SeqlabError, match="is not the text .* was trained on"):
        run_lm("train", corpus_file, "--out", tmp_path / "run", "--resume", "--max-steps", "4", *TINY_TRAIN_FLAGS)


def test_resume_needs_a_checkpoint(corpus_file, tmp_path):
    with pytest.raises(SeqlabError, match="checkpoint directory not found"):
        run_lm("train", corpus_file, "--out", tmp_path / "nothere", "--resume", *TINY_TRAIN_FLAGS)


def test_a_new_run_will_not_overwrite_a_checkpoint(corpus_file, tmp_path):
    run_lm("train", corpus_file, "--out", tmp_path / "run", "--max-steps", "2", *TINY_TRAIN_FLAGS)
    with pytest.raises(SeqlabError, match="pass --resume"):
        run_lm("train", corpus_file, "--out", tmp_path / "run", *TINY_TRAIN_FLAGS)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "file is empty"),
        (b"ok\n\xff\xfe", "not valid UTF-8 at byte offset 3 \\(line 2,"),
        (b"abc", "corpus too short"),
    ],
)
def test_bad_corpora_are_named_in_the_error(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(SeqlabError, match=f"bad.txt: {message}"):
        run_lm("train", path, "--out", tmp_path / "run", *TINY_TRAIN_FLAGS)


def test_a_missing_corpus_is_named(tmp_path):
    with pytest.raises(SeqlabError, match="nothere.txt: no such file"):
        run_lm("train", tmp_path / "nothere.txt", "--out", tmp_path / "run", *TINY_TRAIN_FLAGS)


def seqlab(*argv: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(lm.__file__).parents[2])}
    return subprocess.run(
        [sys.executable, "-m", "seqlab", *map(str, argv)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_command_line_smoke(corpus_file, tmp_path):
    trained = seqlab(
        "lm", "train", corpus_file.name, "--out", "run", "--max-steps", "4", *TINY_TRAIN_FLAGS, cwd=tmp_path
    )
    assert trained.returncode == 0, trained.stderr
    assert "bpc" in trained.stdout
    generated = seqlab("lm", "generate", "run", "--length", "30", "--seed", "0", cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    assert len(generated.stdout) == 31


def test_command_line_errors_are_one_line(tmp_path):
    result = seqlab("lm", "train", "nothere.txt", "--out", "run", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.endswith("nothere.txt: no such file\n")
    assert result.stderr.count("\n") == 1
