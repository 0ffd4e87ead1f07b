"""``seqlab classify``: train a sentence classifier, evaluate it (report and confusion matrix), classify text.

This module parses and prints; it imports torch (through :mod:`seqlab.tasks.classify`) only when
a command runs, so that ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from seqlab.cli.sentence_commands import add_checkpoint_flags, add_train_command
from seqlab.models.classifier_configs import ClassifierConfig
from seqlab.tasks.classify.config import DataConfig
from seqlab.tasks.classify.presets import DEFAULT_PRESET, PRESETS
from seqlab.training.config import TrainConfig

DERIVED = {"vocab_size", "num_classes", "padding_id", "corpus"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``classify`` command group (``train``, ``evaluate``, ``predict``) to ``subparsers``."""
    group = subparsers.add_parser("classify", help="sentence classification: sentiment on the Sentiment Treebank",
                                  description="Sentence classification: train averaged-vector or recurrent "
                                  "classifiers on the Sentiment Treebank, evaluate them, classify text.")  # fmt: skip
    commands = group.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_train_command(commands, task="classify", what="a sentence classifier", presets=PRESETS,
                      default_preset=DEFAULT_PRESET,
                      sections={"model": [ClassifierConfig], "training": [TrainConfig], "data": [DataConfig]},
                      skip=DERIVED, corpus_help="a folder of Sentiment Treebank files (or its name under "
                      "$SEQLAB_DATA); default: the preset's", measured="held-out accuracy and macro-F1")  # fmt: skip

    evaluate = commands.add_parser(
        "evaluate",
        help="accuracy, macro-F1 and per-class scores on a treebank file (default: the run's held-out file)",
        description="Classify the sentences of a treebank file and print each class's precision, recall and F1, "
        "accuracy and macro-F1; --confusion draws the confusion matrix.",
    )
    add_checkpoint_flags(evaluate, task="classify")
    evaluate.add_argument("file", nargs="?", type=Path, help="a Sentiment Treebank file (one tree per line)")
    evaluate.add_argument("--confusion", type=Path, metavar="PNG", help="draw the confusion matrix here")
    evaluate.add_argument("--json", action="store_true", help="print the scores and the confusion matrix as JSON")
    evaluate.set_defaults(func=run_evaluate)

    predict = commands.add_parser(
        "predict",
        help="classify text: one sentence of space-separated words per line",
        description="Classify one sentence per line (words apart by spaces, tokenised as the training text) from "
        "INPUT or standard input; print its class (or, with --json, every class's probability).",
    )
    add_checkpoint_flags(predict, task="classify")
    predict.add_argument("input", nargs="?", type=Path, metavar="INPUT", help="a UTF-8 file; default: standard input")
    predict.add_argument("--json", action="store_true", help="one JSON object per sentence, with the probabilities")
    predict.set_defaults(func=run_predict)


def _load(args: argparse.Namespace):
    from seqlab.tasks.classify import load_classifier
    from seqlab.training.device import resolve_device

    return load_classifier(args.checkpoint, device=resolve_device(args.device), which=args.weights)


def run_evaluate(args: argparse.Namespace) -> int:
    """``seqlab classify evaluate``: the per-class report (or JSON), and the confusion matrix if asked."""
    from seqlab.tasks.classify.classifying import class_report, evaluate_file, plot_confusion

    model, vocab, config = _load(args)
    path = args.file or Path(config.corpus) / config.valid_file
    confusion, scores = evaluate_file(model, vocab, config, path)
    if args.confusion:
        plot_confusion(confusion, config.class_names, args.confusion, title=f"{Path(path).name}: "
                       f"accuracy {scores['accuracy']:.1f}%")  # fmt: skip
    if args.json:
        print(json.dumps({"file": str(path), "classes": list(config.class_names), **scores,
                          "confusion": confusion.tolist()}, indent=2))  # fmt: skip
    else:
        print(class_report(confusion, config.class_names), end="")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    """``seqlab classify predict``: the class (or JSON with probabilities) of each input line."""
    from seqlab.tasks.classify.classifying import classify_sentences
    from seqlab.text_file import read_text_file

    text = read_text_file(args.input) if args.input else sys.stdin.read()
    model, vocab, config = _load(args)
    for prediction in classify_sentences(model, vocab, config, [line.split() for line in text.splitlines()]):
        print(json.dumps(prediction.as_dict(), ensure_ascii=False) if args.json else prediction.name)
    return 0
