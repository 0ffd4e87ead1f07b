"""``seqlab tag``: train a tagger, evaluate it, tag text, and score conlleval files.

``score`` is conlleval's own counting and report; ``--lenient`` reads the tags as seqeval's default
mode, ``--strict`` as its strict mode with ``--scheme``. This module parses and prints; it imports
torch (through :mod:`seqlab.tasks.tag`) only when a command runs, so that ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from seqlab.cli.sentence_commands import add_checkpoint_flags, add_train_command
from seqlab.errors import SeqlabError
from seqlab.models.tagger_configs import TaggerConfig
from seqlab.tasks.tag.config import SCHEMES, DataConfig
from seqlab.tasks.tag.presets import DEFAULT_PRESET, PRESETS
from seqlab.training.config import TrainConfig

DERIVED = {"vocab_size", "char_vocab_size", "tags", "scheme", "padding_id", "char_padding_id", "corpus"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``tag`` command group and its sub-commands to ``subparsers``."""
    group = subparsers.add_parser("tag", help="sequence tagging: named entities with a BiLSTM-CRF",
                                  description="Sequence tagging: train a BiLSTM-CRF or softmax tagger on CoNLL files, "
                                  "evaluate it with conlleval's scores, tag text, score tagged files.")  # fmt: skip
    commands = group.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_train_parser(commands)
    _add_evaluate_parser(commands)
    _add_predict_parser(commands)
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


def _add_train_parser(commands: argparse._SubParsersAction) -> None:
    add_train_command(commands, task="tag", what="a tagger on CoNLL files", presets=PRESETS,
                      default_preset=DEFAULT_PRESET,
                      sections={"model": [TaggerConfig], "training": [TrainConfig], "data": [DataConfig]},
                      skip=DERIVED, corpus_help="a folder of CoNLL files (or its name under $SEQLAB_DATA); default: "
                      "the preset's", measured="conlleval's entity F1 on the held-out file")  # fmt: skip


def _add_evaluate_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "evaluate",
        help="conlleval's report of a tagger on a CoNLL file (default: the run's held-out file)",
        description="Tag a CoNLL file with a trained tagger and print conlleval's report of the result.",
    )
    add_checkpoint_flags(parser, task="tag")
    parser.add_argument("file", nargs="?", type=Path, help="a CoNLL file in the training files' scheme")
    parser.add_argument("--output", type=Path, metavar="FILE",
                        help="also write conlleval's input (word gold predicted), for `seqlab tag score`")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print overall and per-type scores as JSON")
    parser.set_defaults(func=run_evaluate)


def _add_predict_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "predict",
        help="tag text: one sentence of space-separated words per line",
        description="Tag one sentence per line (words apart by spaces) from INPUT or standard input; print each "
        "word with its tag (or, with --json, the words, tags and entities with their spans).",
    )
    add_checkpoint_flags(parser, task="tag")
    parser.add_argument("input", nargs="?", type=Path, metavar="INPUT", help="a UTF-8 file; default: standard input")
    parser.add_argument(
        "--scheme", choices=SCHEMES, help="the scheme of the printed tags (default: the training files')"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per sentence, with its entities")
    parser.set_defaults(func=run_predict)


def _load(args: argparse.Namespace):
    from seqlab.tasks.tag import load_tagger
    from seqlab.training.device import resolve_device

    return load_tagger(args.checkpoint, device=resolve_device(args.device), which=args.weights)


def run_evaluate(args: argparse.Namespace) -> int:
    """``seqlab tag evaluate``: conlleval's report (or JSON) of the tagger on a file."""
    from seqlab.metrics.conlleval import conlleval_report
    from seqlab.metrics.entity_counts import entity_scores
    from seqlab.tasks.tag.tagging import conll_lines, evaluate_file

    model, word_vocab, char_vocab, config = _load(args)
    path = args.file or Path(config.corpus) / config.files()[1]
    statistics, rows = evaluate_file(model, word_vocab, char_vocab, config, path)
    if args.output:
        from seqlab.atomic_file import atomic_path

        with atomic_path(args.output) as temporary:
            temporary.write_text(conll_lines(rows), encoding="utf-8")
    if args.json:
        print(json.dumps({"file": str(path), **entity_scores(statistics).as_dict()}, indent=2))
    else:
        print(conlleval_report(statistics), end="")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    """``seqlab tag predict``: the tags (or JSON with entities) of each input line."""
    from seqlab.tasks.tag.tagging import tag_sentences
    from seqlab.text_file import read_text_file

    text = read_text_file(args.input) if args.input else sys.stdin.read()
    sentences = [line.split() for line in text.splitlines()]
    model, word_vocab, char_vocab, config = _load(args)
    for tagged in tag_sentences(model, word_vocab, char_vocab, config, sentences, scheme=args.scheme):
        if args.json:
            print(json.dumps(tagged.as_dict(), ensure_ascii=False))
        else:
            print(" ".join(f"{word}/{tag}" for word, tag in zip(tagged.words, tagged.tags)))
    return 0


def run_score(args: argparse.Namespace) -> int:
    """Print the report (or JSON) of one file; returns the exit code."""
    if args.scheme and not args.strict:
        raise SeqlabError("--scheme is used by --strict only")
    from seqlab.metrics.tag_files import score_tag_file

    mode = "strict" if args.strict else "lenient" if args.lenient else "conlleval"
    scored = score_tag_file(args.file, mode=mode, scheme=args.scheme)
    print(json.dumps(scored.as_dict(), indent=2) if args.json else scored.report(), end="\n" if args.json else "")
    return 0
