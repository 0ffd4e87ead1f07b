"""A small task on independent variable-length examples, to test the engine on padded batches.

Each example is a sequence of 3 to 20 token ids from 0..5; its label says whether token 1
occurs more often than token 2. A GRU reads the packed batch and a linear layer classifies its
last state. ``python tests/training/toy_task.py OUT [options]`` trains it through
:func:`seqlab.training.fit` (under ``torchrun`` too), as a task's ``train`` function would.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import seqlab.nn as snn
from seqlab.data.padded_batches import BucketedBatches, pack, pad_sequences
from seqlab.training.config import TrainConfig
from seqlab.training.distributed import SINGLE_PROCESS, end_process_group, start_process_group
from seqlab.training.example_task import ExampleTask
from seqlab.training.fit import fit
from seqlab.training.rng import seed_everything
from seqlab.training.task import StepLoss

VOCAB = 6


def make_examples(count: int, seed: int) -> list[tuple[torch.Tensor, int]]:
    generator = torch.Generator().manual_seed(seed)
    examples = []
    for _ in range(count):
        length = int(torch.randint(3, 21, (), generator=generator))
        tokens = torch.randint(VOCAB, (length,), generator=generator)
        examples.append((tokens, int((tokens == 1).sum() > (tokens == 2).sum())))
    return examples


class ToyClassifier(nn.Module):
    def __init__(self, hidden: int = 16, dropout: float = 0.0):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, hidden)
        self.gru = snn.GRU(hidden, hidden)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, 2)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        _, last = self.gru(pack(self.dropout(self.embedding(tokens)), lengths))  # (1, B, H)
        return self.head(last[-1])  # (B, 2)


class ToyClassification(ExampleTask):
    unit = "token"
    headline = "accuracy"
    statistic_names = ("nll", "correct", "examples")

    def __init__(self, splits, *, batch_size=8, seed=0, group=SINGLE_PROCESS, nan_at_step=None):
        plans = {"train": BucketedBatches([len(x) for x, _ in splits["train"]], batch_size=batch_size, seed=seed,
                                          bucket_batches=4)}  # fmt: skip
        for split in splits:
            if split != "train":
                plans[split] = BucketedBatches([len(x) for x, _ in splits[split]], batch_size=batch_size,
                                               shuffle=False)  # fmt: skip
        super().__init__(plans, group)
        self.splits, self.nan_at_step, self.steps, self.seen = splits, nan_at_step, 0, []

    def collate(self, split, indices):
        self.seen.append((split, tuple(indices)))
        tokens, lengths = pad_sequences([self.splits[split][index][0] for index in indices])
        labels = torch.tensor([self.splits[split][index][1] for index in indices])
        return tokens, lengths, labels

    def loss(self, model, data, carry):
        tokens, lengths, labels = data
        loss = F.cross_entropy(model(tokens, lengths), labels)
        self.steps += 1
        if self.nan_at_step is not None and self.steps >= self.nan_at_step:
            loss = loss * float("nan")
        return StepLoss(loss, loss.detach(), len(labels))

    def batch_statistics(self, model, data):
        tokens, lengths, labels = data
        logits = model(tokens, lengths)
        return {"nll": F.cross_entropy(logits, labels, reduction="sum").item(),
                "correct": float((logits.argmax(-1) == labels).sum()), "examples": float(len(labels))}  # fmt: skip

    def scores(self, statistics):
        return {"loss": statistics["nll"] / statistics["examples"],
                "accuracy": statistics["correct"] / statistics["examples"]}  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-steps", type=int)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--grad-clip", type=float, default=1.0)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--nan-at-step", type=int, help="the loss turns NaN from this step on, on the last process")
    parser.add_argument("--examples", type=int, default=150)
    parser.add_argument("--average-from", type=int)
    args = parser.parse_args(argv)
    config = TrainConfig(epochs=args.epochs, max_steps=args.max_steps, grad_clip=args.grad_clip, eval_every=7,
                         lr=1e-2, warmup_steps=0, device="cpu", seed=3,
                         average_from=args.average_from)  # fmt: skip
    group, device = start_process_group(torch.device("cpu"))
    try:
        seed_everything(config.seed, rank=group.rank)
        splits = {"train": make_examples(args.examples, 0), "valid": make_examples(41, 1)}
        nan_at = args.nan_at_step if group.rank == group.world_size - 1 else None
        task = ToyClassification(splits, seed=config.seed, group=group, nan_at_step=nan_at)
        model = ToyClassifier(dropout=args.dropout)
        log = print if group.is_main else lambda line: None
        fitted = fit(task, model, config, args.out, saved_config={"task": "toy"}, artefacts={}, resume=args.resume,
                     group=group, device=device, progress=False, log=log)  # fmt: skip
        if group.is_main:
            print(f"stopped: {fitted.result.stop_reason}; step {fitted.run.state.step}; "
                  f"examples seen {fitted.run.state.tokens_seen}")  # fmt: skip
        print(f"rank {group.rank} trained on {sorted(i for s, b in task.seen if s == 'train' for i in b)}")
    finally:
        end_process_group(group)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
