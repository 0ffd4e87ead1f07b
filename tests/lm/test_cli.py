"""`seqlab lm train`, `evaluate` and `generate`, end to end on tiny corpora."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from seqlab.cli import lm
from seqlab.cli.main import main
from seqlab.errors import SeqlabError
from seqlab.training import read_config
from tests.lm.commands import TINY_TRAIN_FLAGS, TINY_WORD_FLAGS, run_lm
from tests.lm.conftest import WORDS
from tests.saved_weights import assert_same_weights


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
        (b"abc", ".*is too short"),
    ],
)
def test_bad_corpora_are_named_in_the_error(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(SeqlabError, match=f"bad.txt{'' if message.startswith('.') else ': '}{message}"):
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
    assert result.stderr.endswith("nothere.txt: no such file or directory\n")
    assert result.stderr.count("\n") == 1


def test_a_word_preset_trains_on_a_corpus_directory_and_writes_its_logs(word_corpus, tmp_path, capsys):
    out = tmp_path / "run"
    assert run_lm("train", word_corpus, "--preset", "zaremba-small", "--out", out, "--epochs", "2",
                  *TINY_WORD_FLAGS) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "vocabulary of 12" in printed and "nats/word" in printed and "bpc" not in printed
    assert "test: loss" in printed  # a finished run with a test file reports it
    config = read_config(out)
    assert config["preset"] == "zaremba-small" and config["data"]["level"] == "word"
    assert config["model"]["init_range"] == 0.1 and config["training"]["lr_schedule"] == "step"
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [record["epoch"] for record in records] == [1, 2] and all(record["epoch_end"] for record in records)
    assert (out / "curves.png").read_bytes().startswith(b"\x89PNG")


def test_evaluate_prints_perplexity_as_json_with_and_without_the_cache(word_corpus, tmp_path, capsys):
    run_lm("train", word_corpus, "--preset", "zaremba-small", "--out", tmp_path / "run", "--epochs", "1",
           *TINY_WORD_FLAGS)  # fmt: skip
    capsys.readouterr()
    assert run_lm("evaluate", tmp_path / "run", word_corpus / "test.txt", "--json") == 0
    plain = json.loads(capsys.readouterr().out)
    assert plain["perplexity"] == pytest.approx(2.718281828 ** plain["loss"]) and plain["unit"] == "word"
    assert plain["tokens"] == (len((WORDS * 4).split()) + 12) // 2 * 2 - 2  # 2 streams, one target fewer each
    run_lm("evaluate", tmp_path / "run", word_corpus / "test.txt", "--json", "--cache", "--cache-window", "50",
           "--cache-lambda", "0.0")  # fmt: skip
    cached = json.loads(capsys.readouterr().out)
    assert cached["perplexity"] == pytest.approx(plain["perplexity"], rel=1e-5)  # lambda 0: the model alone
    assert cached["cache"]["window"] == 50
    run_lm("evaluate", tmp_path / "run", word_corpus / "test.txt")
    assert "ppl" in capsys.readouterr().out


def test_the_bengio_baseline_trains_from_the_same_command(word_corpus, tmp_path, capsys):
    flags = ["--hidden-size", "12", "--embedding-size", "8", "--batch-size", "4", "--eval-batch-size", "2",
             "--bptt", "8", "--device", "cpu", "--samples", "1", "--sample-length", "5", "--no-progress"]  # fmt: skip
    assert run_lm("train", word_corpus, "--preset", "bengio-ptb", "--out", tmp_path / "run", "--epochs", "1",
                  "--context-size", "3", *flags) == 0  # fmt: skip
    assert "fixed-window model, 3 tokens of context" in capsys.readouterr().out
    assert read_config(tmp_path / "run")["model"]["architecture"] == "fixed-window"


def test_a_flag_of_another_architecture_is_rejected(word_corpus, tmp_path):
    with pytest.raises(SeqlabError, match="--context-size: not a setting of RNNLMConfig"):
        run_lm("train", word_corpus, "--preset", "zaremba-small", "--out", tmp_path / "run", "--context-size", "3")


def test_a_diverging_run_stops_cleanly_and_says_where(corpus_file, tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["lm", "train", str(corpus_file), "--out", str(out), *TINY_TRAIN_FLAGS, "--optimizer", "sgd", "--lr",
                 "inf", "--grad-clip", "0", "--warmup-steps", "0", "--max-steps", "50"])  # fmt: skip
    assert code == 1
    error = capsys.readouterr().err
    assert "training diverged: the loss is" in error and "at step" in error and "--resume" in error


def test_a_run_killed_at_any_moment_resumes_to_the_same_result(corpus_file, tmp_path):
    flags = [*map(str, TINY_TRAIN_FLAGS), "--dropout", "0.2", "--epochs", "3", "--eval-every", "10", "--samples", "0",
             "--variable-bptt"]  # fmt: skip
    whole = seqlab("lm", "train", corpus_file, "--out", tmp_path / "whole", *flags, cwd=tmp_path)
    assert whole.returncode == 0, whole.stderr
    env = {**os.environ, "PYTHONPATH": str(Path(lm.__file__).parents[2])}
    command = [sys.executable, "-m", "seqlab", "lm", "train", str(corpus_file), "--out", str(tmp_path / "parts")]
    process = subprocess.Popen([*command, *flags], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while not (tmp_path / "parts" / "model.safetensors").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)  # into the run, wherever it is: training, evaluating or writing
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    resumed = seqlab("lm", "train", corpus_file, "--out", tmp_path / "parts", "--resume", *flags, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_weights(tmp_path / "whole", tmp_path / "parts")
    assert (tmp_path / "whole" / "metrics.jsonl").read_text().count("\n") == (
        tmp_path / "parts" / "metrics.jsonl"
    ).read_text().count("\n")


def test_the_best_epoch_is_kept_and_evaluated_by_default(word_corpus, tmp_path, capsys):
    out = tmp_path / "run"
    run_lm("train", word_corpus, "--preset", "zaremba-small", "--out", out, "--epochs", "3", "--lr", "40",
           *TINY_WORD_FLAGS)  # fmt: skip
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    best_epoch = min(records, key=lambda record: record["valid_loss"])
    capsys.readouterr()
    scores = {}
    for which in ("best", "last", None):
        flags = ["--weights", which] if which else []
        run_lm("evaluate", out, word_corpus / "valid.txt", "--json", "--batch-size", "2", *flags)
        scores[which] = json.loads(capsys.readouterr().out)["loss"]
    assert scores[None] == scores["best"]
    assert scores["best"] == pytest.approx(best_epoch["valid_loss"], rel=1e-6)
    assert scores["last"] == pytest.approx(records[-1]["valid_loss"], rel=1e-6)


def test_finetuning_starts_from_a_run_and_averages_from_the_first_step(word_corpus, tmp_path, capsys):
    run_lm("train", word_corpus, "--preset", "zaremba-small", "--out", tmp_path / "run", "--epochs", "1",
           *TINY_WORD_FLAGS)  # fmt: skip
    capsys.readouterr()
    assert run_lm("train", "--finetune-from", tmp_path / "run", "--out", tmp_path / "tuned", "--epochs", "2",
                  "--no-progress", "--samples", "0") == 0  # fmt: skip
    assert f"fine-tuning the best weights of {tmp_path / 'run'}" in capsys.readouterr().out
    config = read_config(tmp_path / "tuned")
    assert config["training"]["optimizer"] == "asgd" and config["training"]["patience"] == 5
    assert config["model"] == read_config(tmp_path / "run")["model"]
    records = [json.loads(line) for line in (tmp_path / "tuned" / "metrics.jsonl").read_text().splitlines()]
    assert all(record["averaging"] for record in records)
    with pytest.raises(SeqlabError, match="keeps the model"):
        run_lm("train", "--finetune-from", tmp_path / "run", "--out", tmp_path / "other", "--hidden-size", "3")
