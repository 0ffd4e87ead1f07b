"""``seqlab tag score``: entity precision, recall and F1 of a file in conlleval's input format.

The default is conlleval's own counting and report; ``--lenient`` reads the tags as seqeval's
default mode, ``--strict`` as its strict mode with ``--scheme``. This module parses and prints; the
file is read and scored by ``seqlab.metrics.tag_files`` when the command runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from seqlab.errors import SeqlabError

SCHEMES = ("IOB1", "BIO", "BIOES")  # seqlab.data.tag_schemes.SCHEMES, without importing NumPy


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``tag`` command group and its sub-commands to ``subparsers``."""
    group = subparsers.add_parser("tag", help="sequence tagging: named entities",
                                  description="Sequence tagging: score tagged files.")  # fmt: skip
    commands = group.add_subparsers(dest="command", metavar="COMMAND", required=True)
    score = commands.add_parser(
        "score",
        help="entity F1 of a conlleval-format file (token ... reference predicted)",
        description="Score a file in conlleval's input format (a token per line, the reference and the predicted "
        "tag in the last two columns, a blank line between sentences) with conlleval's counts and report.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    score.add_argument("file", type=Path, help="the tagged file")
    reading = score.add_mutually_exclusive_group()
    reading.add_argument("--strict", action="store_true",
                         help="seqeval's strict mode: an entity only as --scheme writes one")  # fmt: skip
    reading.add_argument("--lenient", action="store_true",
                         help="seqeval's default mode (as conlleval for B/I/O, and reads BIOES)")  # fmt: skip
    score.add_argument("--scheme", choices=SCHEMES, help="the tagging scheme of --strict (default: from the tags)")
    score.add_argument("--json", action="store_true", help="print overall and per-type scores as JSON")
    score.set_defaults(func=run_score)


def run_score(args: argparse.Namespace) -> int:
    """Print the report (or JSON) of one file; returns the exit code."""
    if args.scheme and not args.strict:
        raise SeqlabError("--scheme is used by --strict only")
    from seqlab.metrics.tag_files import score_tag_file

    mode = "strict" if args.strict else "lenient" if args.lenient else "conlleval"
    scored = score_tag_file(args.file, mode=mode, scheme=args.scheme)
    print(json.dumps(scored.as_dict(), indent=2) if args.json else scored.report(), end="\n" if args.json else "")
    return 0
