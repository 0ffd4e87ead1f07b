"""The engine on a task of independent padded examples: batches, resume, data parallelism, divergence.

The language-model task's tests (tests/lm) cover the engine on carried state; these cover what
tasks of sentences and utterances need.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import torch

from seqlab.errors import SeqlabError
from seqlab.training import TrainConfig, TrainingRun, make_optimizer, train
from seqlab.training.distributed import ProcessGroup
from seqlab.training.evaluation import evaluate_split
from seqlab.training.step import train_step
from seqlab.training.task import StepLoss, Task
from tests.saved_weights import assert_same_weights, record_weights_after_each_step
from tests.training.toy_task import ToyClassification, ToyClassifier, make_examples

ROOT = Path(__file__).parents[2]
TOY = ROOT / "tests" / "training" / "toy_task.py"


def toy(*argv, processes: int = 1, cwd: Path, check: bool = True, timeout: int = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"] if processes > 1 else []
    command = [sys.executable, *launcher, str(TOY), *map(str, argv)]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def trained_examples(result: subprocess.CompletedProcess) -> list[list[int]]:
    lines = [line for line in result.stdout.splitlines() if " trained on " in line]
    return [json.loads(line.split(" trained on ")[1]) for line in sorted(lines)]


def quiet_toy_run(epochs=2, **settings):
    torch.manual_seed(0)
    splits = {"train": make_examples(60, 0), "valid": make_examples(21, 1)}
    task = ToyClassification(splits, seed=0, **settings)
    model = ToyClassifier()
    config = TrainConfig(epochs=epochs, eval_every=1000, lr=1e-2, warmup_steps=0)
    run = TrainingRun.start(model, make_optimizer(model.parameters(), config))
    return run, task, config


def test_every_example_is_trained_on_once_per_epoch_in_length_sorted_batches():
    run, task, config = quiet_toy_run(epochs=2)
    train(run, task, config, log=lambda line: None, progress=False)
    batches = [indices for split, indices in task.seen if split == "train"]
    lengths = [len(tokens) for tokens, _ in task.splits["train"]]
    per_epoch = len(batches) // 2
    for epoch in (batches[:per_epoch], batches[per_epoch:]):
        assert sorted(index for batch in epoch for index in batch) == list(range(60))
    assert batches[:per_epoch] != batches[per_epoch:]  # a new order each epoch
    padded = sum(len(batch) * max(lengths[i] for i in batch) for batch in batches[:per_epoch])
    assert sum(lengths) / padded > 0.8  # little padding: neighbours in a batch have similar lengths
    assert run.state.tokens_seen == 120  # the task counts examples: each epoch's 60 once


def test_evaluation_statistics_are_sums_over_every_held_out_example():
    run, task, _ = quiet_toy_run()
    statistics = task.evaluate(run.model.eval(), "valid")
    assert statistics["examples"] == 21
    assert 0 <= statistics["correct"] <= 21
    assert task.scores(statistics)["accuracy"] == statistics["correct"] / 21


def test_the_objective_is_reweighted_so_ddp_averages_over_all_real_tokens(monkeypatch):
    class Fixed(Task):
        """A task whose loss is ``3 * w`` over 3 tokens on this process (of 10 on both)."""

        equal_shares = False

        def loss(self, model, data, carry):
            objective = 3.0 * model.weight.sum()
            return StepLoss(objective, objective.detach(), 3)

        train_batches = progress = steps_per_epoch = evaluate = scores = None

    model = torch.nn.Linear(1, 1, bias=False)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    exchanged = []

    def summed(values, group, device):
        exchanged.append(values)
        return [10.0] if values == [3] else [0.0]  # the other process holds 7 of the 10 tokens; no failures

    monkeypatch.setattr("seqlab.training.step.sum_over_processes", summed)
    train_step(Fixed(), model, optimizer, None, None, grad_clip=0.0, group=ProcessGroup(0, 2))
    # DDP divides the summed gradients by 2: 2 * 3/10 * d(3w)/dw / 2 is this process's share of the
    # gradient of the mean over all 10 tokens.
    assert model.weight.grad.item() == pytest.approx(3.0 * 3 * 2 / 10)
    assert exchanged[0] == [3]


def test_an_interrupted_run_resumes_exactly(tmp_path):
    toy(tmp_path / "whole", "--dropout", "0.2", cwd=tmp_path)
    toy(tmp_path / "parts", "--dropout", "0.2", "--max-steps", "11", cwd=tmp_path)  # mid-epoch, between evaluations
    toy(tmp_path / "parts", "--dropout", "0.2", "--resume", cwd=tmp_path)
    assert_same_weights(tmp_path / "whole", tmp_path / "parts")
    records = [json.loads(line) for line in (tmp_path / "parts" / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["valid_accuracy"] > 0.6 and "valid_loss" in records[-1]
    assert (tmp_path / "parts" / "curves.png").read_bytes().startswith(b"\x89PNG")


def test_average_from_averages_every_step_after_that_epoch_and_evaluates_the_average():
    run, task, config = quiet_toy_run(epochs=3)
    config.average_from = 1
    snapshots = record_weights_after_each_step(run)
    train(run, task, config, log=lambda line: None, progress=False)
    per_epoch = task.steps_per_epoch()
    assert run.state.averaging_since == per_epoch and run.averager.count == 2 * per_epoch
    for index, average in enumerate(run.averager.averages):
        expected = torch.stack([snapshot[index] for snapshot in snapshots[per_epoch:]]).mean(0)
        torch.testing.assert_close(average, expected, rtol=1e-5, atol=1e-6)
    assert [record["averaging"] for record in run.state.history] == [False, True, True]
    with run.averager.applied():
        averaged = evaluate_split(task, run.model, "valid")["loss"]
    assert run.state.history[-1]["valid_loss"] == pytest.approx(averaged)
    assert evaluate_split(task, run.model, "valid")["loss"] != pytest.approx(averaged)  # the raw weights differ


@pytest.mark.parametrize("settings", [{"average_from": 0}, {"average_from": 2, "optimizer": "nt-asgd"}])
def test_average_from_is_a_positive_epoch_count_for_optimisers_that_do_not_average_themselves(settings):
    with pytest.raises(SeqlabError, match="average_from"):
        TrainConfig(**settings)


def test_a_run_killed_while_averaging_resumes_exactly(tmp_path):
    toy(tmp_path / "whole", "--epochs", "3", "--average-from", "1", cwd=tmp_path)
    toy(tmp_path / "parts", "--epochs", "3", "--average-from", "1", "--max-steps", "30", cwd=tmp_path)  # in epoch 2
    toy(tmp_path / "parts", "--epochs", "3", "--average-from", "1", "--resume", cwd=tmp_path)
    assert_same_weights(tmp_path / "whole", tmp_path / "parts")
    records = [json.loads(line) for line in (tmp_path / "parts" / "metrics.jsonl").read_text().splitlines()]
    assert records[0]["averaging"] is False and records[-1]["averaging"] is True


@pytest.mark.skipif(not torch.distributed.is_available(), reason="needs torch.distributed")
def test_two_processes_share_the_batches_and_resume_exactly(tmp_path):
    one = toy(tmp_path / "one", "--examples", "60", cwd=tmp_path)
    two = toy(tmp_path / "two", "--examples", "60", processes=2, cwd=tmp_path)
    (alone,), (first, second) = trained_examples(one), trained_examples(two)
    together, extra = Counter(first + second), Counter(first + second) - Counter(alone)
    assert all(together[index] >= 2 for index in range(60))  # both epochs: every example, on one process or other
    assert sum(extra.values()) <= 2 * 8  # and at most one repeated batch per epoch, to even out the last round
    steps = {run: int(result.stdout.split("; step ")[1].split(";")[0]) for run, result in (("one", one), ("two", two))}
    assert steps["two"] * 2 >= steps["one"] > steps["two"]  # each process takes every other batch
    toy(tmp_path / "parts", "--examples", "60", "--max-steps", "5", processes=2, cwd=tmp_path)
    toy(tmp_path / "parts", "--examples", "60", "--resume", processes=2, cwd=tmp_path)
    assert_same_weights(tmp_path / "two", tmp_path / "parts")


@pytest.mark.skipif(not torch.distributed.is_available(), reason="needs torch.distributed")
def test_a_nan_on_one_process_stops_every_process_even_without_clipping(tmp_path):
    result = toy(tmp_path / "run", "--nan-at-step", "3", "--grad-clip", "0", processes=2, cwd=tmp_path, check=False,
                 timeout=120)  # fmt: skip
    assert result.returncode != 0
    assert "the loss is nan at step 3" in result.stderr  # the process whose loss it is
    assert "not finite on another of the 2 processes at step 3" in result.stderr  # and the other, at the same step
