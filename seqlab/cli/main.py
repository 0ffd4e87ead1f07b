"""Entry point of the ``seqlab`` console script.

Each command group lives in its own module exposing ``register(subparsers)``, which adds
its sub-commands and sets ``func`` on their parsers; ``func(args)`` returns an exit code.
The modules import torch, numba and the rest of the library only inside ``func``, so that
``seqlab --help`` (and every command's ``--help``) answers at once.
"""

from __future__ import annotations

import argparse
import sys

from seqlab import __version__
from seqlab.cli import classify, embed, lm, metrics, reference, speech, tag, translate, trigger
from seqlab.errors import SeqlabError, TrainingDiverged

COMMAND_GROUPS = {
    "lm": lm, "translate": translate, "classify": classify, "tag": tag, "speech": speech, "trigger": trigger,
    "embed": embed, "reference": reference, "metrics": metrics,
}  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seqlab", description="Recurrent sequence models: train, evaluate, generate.")
    parser.add_argument("--version", action="version", version=f"seqlab {__version__}")
    groups = parser.add_subparsers(dest="group", metavar="COMMAND", required=True)
    for module in COMMAND_GROUPS.values():
        module.register(groups)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except TrainingDiverged as error:
        print(f"seqlab: training diverged: {error}", file=sys.stderr)
        return 1
    except SeqlabError as error:
        print(f"seqlab: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("seqlab: interrupted", file=sys.stderr)
        return 130
