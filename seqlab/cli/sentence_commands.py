"""The command-line pieces ``seqlab classify`` and ``seqlab tag`` share: ``train``'s flags, the checkpoint
flags of ``evaluate`` and ``predict``, and how ``train`` calls the task.

Torch-free: the task's ``train`` is imported by name only when the command runs.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Mapping

from seqlab.cli.config_flags import add_config_flags, given_overrides

SECTIONS = ["model", "training", "data"]


def add_train_command(commands: argparse._SubParsersAction, *, task: str, what: str, presets: Mapping,
                      default_preset: str, sections: dict[str, list[type]], skip: set[str], corpus_help: str,
                      measured: str) -> argparse.ArgumentParser:  # fmt: skip
    """``seqlab TASK train``: a corpus, --out, --preset, --resume, --if-exists and a flag per config field.

    Args:
        task: the task module under ``seqlab.tasks`` (its ``train`` is called); what: the model, in words.
        measured: what each evaluation measures, in words, for the description.
    """
    described = "; ".join(f"{name}: {preset.description}" for name, preset in presets.items())
    parser = commands.add_parser(
        "train",
        help=f"train {what}",
        description=f"Train {what}. A checkpoint, the resolved config, metrics.jsonl and curves.png are written to "
        f"--out at every evaluation, with {measured}. Presets: {described}.".replace("%", "%%"),
    )
    parser.add_argument("corpus", nargs="?", metavar="DATA_DIR", help=corpus_help)
    parser.add_argument("--out", required=True, metavar="DIR", help="checkpoint directory")
    parser.add_argument("--preset", choices=list(presets), help=f"named configuration (default: {default_preset})")
    parser.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    parser.add_argument("--if-exists", choices=["error", "resume"], default="error",
                        help="when --out already holds a run: stop with an error, or resume it "
                        "(default: %(default)s)")  # fmt: skip
    add_config_flags(parser, sections, skip=skip)
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run_train, task=task)
    return parser


def run_train(args: argparse.Namespace) -> int:
    """``seqlab TASK train``; under torchrun every process runs this."""
    task = importlib.import_module(f"seqlab.tasks.{args.task}")
    task.train(args.out, preset=args.preset, corpus=args.corpus, overrides=given_overrides(args, SECTIONS),
               resume=args.resume, if_exists=args.if_exists, progress=not args.no_progress)  # fmt: skip
    return 0


def add_checkpoint_flags(parser: argparse.ArgumentParser, *, task: str) -> None:
    """The run to use (``DIR``), which of its weights, and on which device."""
    parser.add_argument("checkpoint", metavar="DIR", help=f"a run written by `seqlab {task} train`")
    parser.add_argument("--weights", choices=["best", "last"], default="best",
                        help="the best held-out evaluation, or the last checkpoint (default: %(default)s)")  # fmt: skip
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ... or auto (default: %(default)s)")
