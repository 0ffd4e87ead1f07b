"""Data-parallel training under torchrun (gloo on the CPU): each process trains its own streams."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from seqlab.cli import lm
from seqlab.training.distributed import ProcessGroup, _concatenate, own_carry, own_streams
from tests.saved_weights import weights

FLAGS = ["--hidden-size", "16", "--embedding-size", "8", "--batch-size", "4", "--bptt", "16", "--eval-every", "10",
         "--valid-fraction", "0.1", "--device", "cpu", "--samples", "0", "--no-progress", "--epochs", "2"]  # fmt: skip


def test_the_blocks_of_streams_of_all_processes_make_the_whole_batch():
    streams = torch.arange(30).view(5, 6)  # (T, B)
    blocks = [own_streams(streams, ProcessGroup(rank, 3)) for rank in range(3)]
    assert [block.shape for block in blocks] == [(5, 2)] * 3
    assert torch.equal(torch.cat(blocks, dim=1), streams)


def test_a_gathered_carry_splits_back_into_each_process_block():
    full = [(torch.randn(1, 6, 3), torch.randn(1, 6, 3)), (torch.randn(1, 6, 3), torch.randn(1, 6, 3))]
    blocks = [own_carry(full, ProcessGroup(rank, 2)) for rank in range(2)]
    assert blocks[0][1][0].shape == (1, 3, 3)
    rebuilt = _concatenate(blocks)
    for layer, expected in zip(rebuilt, full):
        assert all(torch.equal(a, b) for a, b in zip(layer, expected))


def seqlab(*argv, processes: int, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(Path(lm.__file__).parents[2])}
    launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}"] if processes > 1 else []
    command = [sys.executable, *launcher, "-m", "seqlab", *map(str, argv)]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.skipif(not torch.distributed.is_available(), reason="needs torch.distributed")
def test_two_processes_train_the_same_model_as_one_and_resume_exactly(corpus_file, tmp_path):
    one = seqlab("lm", "train", corpus_file, "--out", tmp_path / "one", *FLAGS, processes=1, cwd=tmp_path)
    two = seqlab("lm", "train", corpus_file, "--out", tmp_path / "two", *FLAGS, processes=2, cwd=tmp_path)
    assert "x 2 processes" in two.stdout and two.stdout.count("stopped:") == 1  # rank 0 alone reports
    counts = [next(line for line in run.stdout.splitlines() if line.startswith("stopped:")) for run in (one, two)]
    assert counts[0].split(" min, ")[1] == counts[1].split(" min, ")[1]  # the same steps and characters seen
    expected = weights(tmp_path / "one")
    for name, value in weights(tmp_path / "two").items():
        # The same batch, split in two and its gradients averaged: equal up to float rounding.
        torch.testing.assert_close(value, expected[name], rtol=1e-4, atol=1e-5, msg=name)

    seqlab("lm", "train", corpus_file, "--out", tmp_path / "parts", *FLAGS, "--max-steps", "37", processes=2,
           cwd=tmp_path)  # fmt: skip
    seqlab("lm", "train", corpus_file, "--out", tmp_path / "parts", *FLAGS, "--resume", "--max-steps", "100000",
           processes=2, cwd=tmp_path)  # fmt: skip
    whole = weights(tmp_path / "two")
    for name, value in weights(tmp_path / "parts").items():
        assert torch.equal(value, whole[name]), name


def test_a_batch_that_does_not_split_evenly_is_refused(corpus_file, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(lm.__file__).parents[2])}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "seqlab",
               "lm", "train", str(corpus_file), "--out", "run", *FLAGS, "--batch-size", "5"]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "batch_size 5 does not split evenly over 2 processes" in result.stderr
