"""Running `seqlab lm` in the test process, with settings that make it take a fraction of a second."""

from __future__ import annotations

import argparse
from pathlib import Path

from seqlab.cli import lm

# Command-line flags that make `seqlab lm train` run in a fraction of a second.
TINY_TRAIN_FLAGS = [
    "--hidden-size",
    "16",
    "--embedding-size",
    "8",
    "--batch-size",
    "4",
    "--eval-batch-size",
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


TINY_WORD_FLAGS = ["--hidden-size", "12", "--embedding-size", "8", "--batch-size", "4", "--eval-batch-size", "2",
                   "--bptt", "8", "--device", "cpu", "--samples", "1", "--sample-length", "10",
                   "--no-progress"]  # fmt: skip
