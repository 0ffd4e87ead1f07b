"""``seqlab reference train``: train the NumPy character-level model on a text file.

The reference model is small and slow on purpose: it is there to be read, and to watch a
recurrent network learn. This module imports only the standard library, NumPy and
``seqlab.reference``, so it runs without torch.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path

from seqlab.errors import SeqlabError

CELL_KINDS = ("gru", "lstm", "rnn")  # the keys of seqlab.reference.char_lm.CELLS, without importing NumPy


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``reference`` command group and its sub-commands to ``subparsers``."""
    group = subparsers.add_parser(
        "reference",
        help="the NumPy float64 reference: a character-level RNN you can read",
        description="The NumPy float64 reference implementation (no torch).",
    )
    commands = group.add_subparsers(dest="command", metavar="COMMAND", required=True)
    train = commands.add_parser(
        "train",
        help="train a character-level language model on a text file",
        description="Train a character-level RNN language model in NumPy on a UTF-8 text "
        "file, printing the loss as it falls and samples as they improve.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    positive_int, positive_float = _positive(int), _positive(float)
    train.add_argument("file", type=Path, help="UTF-8 text file to learn from")
    train.add_argument("--cell", choices=CELL_KINDS, default="rnn", help="recurrent cell")
    train.add_argument("--hidden", type=positive_int, default=100, help="hidden size H")
    train.add_argument("--seq-length", type=positive_int, default=25, help="characters per BPTT window")
    train.add_argument("--lr", type=positive_float, default=0.1, help="SGD learning rate")
    train.add_argument("--max-grad-norm", type=positive_float, default=5.0, help="clip the gradient norm to this")
    train.add_argument("--steps", type=positive_int, default=2000, help="SGD steps to take")
    train.add_argument("--print-every", type=positive_int, default=100, help="print the mean loss every N steps")
    train.add_argument("--sample-every", type=positive_int, default=500, help="print a sample every N steps")
    train.add_argument("--sample-length", type=positive_int, default=200, help="characters per sample")
    train.add_argument("--temperature", type=positive_float, default=1.0, help="sampling temperature")
    train.add_argument("--seed", type=int, default=0, help="seed of initialisation and sampling")
    train.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    """Train, printing the loss and samples; returns the exit code."""
    import numpy as np

    from seqlab.reference import CharLM, CharVocabulary, read_text_file, train_char_lm

    text = read_text_file(args.file)
    if len(text) < 2:
        raise SeqlabError(f"{args.file}: needs at least 2 characters to learn from, has 1")
    vocab = CharVocabulary.from_text(text)
    init_rng, sample_rng = np.random.default_rng(args.seed).spawn(2)
    model = CharLM(vocab, cell=args.cell, hidden_size=args.hidden, rng=init_rng)
    print(
        f"{args.file}: {len(text)} characters, {vocab.size} distinct; {args.cell} with "
        f"{args.hidden} hidden units; guessing uniformly scores log V = {np.log(vocab.size):.4f}"
    )
    steps = train_char_lm(
        model,
        vocab.encode(text),
        steps=args.steps,
        seq_length=args.seq_length,
        learning_rate=args.lr,
        max_grad_norm=args.max_grad_norm,
    )
    interval_losses = []
    for report in steps:
        interval_losses.append(report.loss)
        last_step = report.step == args.steps
        if report.step % args.print_every == 0 or last_step:
            mean = np.mean(interval_losses)
            print(
                f"step {report.step:>6}  epoch {report.epoch:>3}  loss {mean:.4f}  "
                f"(mean of the last {len(interval_losses)} steps)"
            )
            interval_losses = []
        if report.step % args.sample_every == 0 or last_step:
            sample = model.sample(text[0], args.sample_length, rng=sample_rng, temperature=args.temperature)
            print(f"----- sample after step {report.step}, temperature {args.temperature} -----")
            print(text[0] + sample)
            print("-----")
    return 0


def _positive(number_type: type) -> Callable[[str], float]:
    """An argparse type for finite numbers > 0, so that bad values stop with a usage error."""

    def parse(text: str):
        try:
            value = number_type(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not (value > 0 and math.isfinite(value)):
            raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
        return value

    parse.__name__ = number_type.__name__  # argparse names the type in its messages
    return parse
