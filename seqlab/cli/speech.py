"""``seqlab speech``: train a CTC recogniser of spoken digits, evaluate it (WER, accuracy, confusions), transcribe WAVs.

This module parses and prints; it imports torch (through :mod:`seqlab.tasks.speech`) only when a
command runs, so that ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from seqlab.cli.sentence_commands import add_checkpoint_flags, add_train_command
from seqlab.models.acoustic_configs import AcousticConfig
from seqlab.tasks.speech.config import DataConfig
from seqlab.tasks.speech.presets import DEFAULT_PRESET, PRESETS
from seqlab.training.config import TrainConfig

DERIVED = {"input_size", "num_symbols", "blank", "corpus"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``speech`` command group (``train``, ``evaluate``, ``transcribe``) to ``subparsers``."""
    description = ("Speech recognition with CTC: train recurrent acoustic models on spoken digits (isolated or "
                   "connected), evaluate them, transcribe WAV files.")  # fmt: skip
    group = subparsers.add_parser("speech", help="speech recognition with CTC: spoken digit strings",
                                  description=description)  # fmt: skip
    commands = group.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_train_command(commands, task="speech", what="a CTC recogniser of spoken digits", presets=PRESETS,
                      default_preset=DEFAULT_PRESET,
                      sections={"model": [AcousticConfig], "training": [TrainConfig], "data": [DataConfig]},
                      skip=DERIVED, corpus_help="a folder of Free Spoken Digit Dataset recordings (or its name "
                      "under $SEQLAB_DATA); default: the preset's", measured="held-out WER and accuracy, on unseen "
                      "recordings and on the left-out speaker")  # fmt: skip

    evaluate = commands.add_parser(
        "evaluate",
        help="WER and accuracy on the run's held-out utterances, per part; a confusion matrix of isolated digits",
        description="Recognise the run's held-out utterances (unseen recordings of the training speakers, and the "
        "left-out speaker) and print WER with substitutions, deletions and insertions, and the share recognised "
        "exactly; --confusion draws isolated digits' confusions.",
    )
    add_checkpoint_flags(evaluate, task="speech")
    _add_decoding_flags(evaluate)
    evaluate.add_argument("--utterances", choices=["isolated", "connected"],
                          help="score on these utterances rather than the run's own (e.g. isolated digits with a "
                          "model trained on connected ones)")  # fmt: skip
    evaluate.add_argument("--confusion", type=Path, metavar="PNG", help="draw the confusion matrix here")
    evaluate.add_argument("--json", action="store_true", help="print the scores as JSON")
    evaluate.set_defaults(func=run_evaluate)

    transcribe = commands.add_parser(
        "transcribe",
        help="the digits spoken in WAV files",
        description="Transcribe WAV files (any rate, mixed down to mono and resampled to the model's): one line per "
        "file, its name and the digits heard; --alignment draws where each digit sits over the spectrogram.",
    )
    add_checkpoint_flags(transcribe, task="speech")
    transcribe.add_argument("files", nargs="+", type=Path, metavar="FILE.wav", help="recordings to transcribe")
    _add_decoding_flags(transcribe)
    transcribe.add_argument("--alignment", type=Path, metavar="PNG",
                            help="draw the first file's forced alignment over its spectrogram here")  # fmt: skip
    transcribe.add_argument("--json", action="store_true", help="one JSON object per file, with each digit's times")
    transcribe.set_defaults(func=run_transcribe)


def _add_decoding_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--beam", type=int, default=1, help="prefix beam search of this width (1: greedy)")
    parser.add_argument("--lm-order", type=int, default=0,
                        help="score prefixes with an n-gram model of the training digit strings (0: none)")  # fmt: skip
    parser.add_argument("--lm-weight", type=float, default=0.5, help="the language model's weight alpha")
    parser.add_argument("--digit-bonus", type=float, default=0.0, help="the bonus beta per recognised digit")


def _decoding(args: argparse.Namespace, config):
    from seqlab.errors import SeqlabError
    from seqlab.tasks.speech.recognising import digit_language_model
    from seqlab.tasks.speech.task import Decoding

    if args.beam < 1 or args.lm_order < 0:
        raise SeqlabError(f"--beam must be at least 1 and --lm-order at least 0, got {args.beam} and {args.lm_order}")
    lm = digit_language_model(config, args.lm_order) if args.lm_order else None
    return Decoding(beam=args.beam, lm=lm, alpha=args.lm_weight, beta=args.digit_bonus)


def _load(args: argparse.Namespace):
    from seqlab.tasks.speech.checkpoint import load_recogniser
    from seqlab.training.device import resolve_device

    return load_recogniser(args.checkpoint, device=resolve_device(args.device), which=args.weights)


def run_evaluate(args: argparse.Namespace) -> int:
    """``seqlab speech evaluate``: WER and accuracy per held-out part (or JSON), and the confusion matrix."""
    from seqlab.tasks.speech.recognising import evaluate_held_out, plot_confusion

    model, config = _load(args)
    if args.utterances:
        config = dataclasses.replace(config, utterances=args.utterances)
    report = evaluate_held_out(model, config, decoding=_decoding(args, config))
    if args.confusion:
        plot_confusion(report, args.confusion)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(report.text(), end="")
    return 0


def run_transcribe(args: argparse.Namespace) -> int:
    """``seqlab speech transcribe``: each file's digits (or JSON with their times)."""
    from seqlab.tasks.speech.recognising import plot_alignment, transcribe_files

    model, config = _load(args)
    transcriptions = transcribe_files(model, config, args.files, decoding=_decoding(args, config))
    for transcription in transcriptions:
        print(json.dumps(transcription.as_dict()) if args.json else f"{transcription.file}\t{transcription.text}")
    if args.alignment:
        plot_alignment(transcriptions[0], args.alignment)
    return 0
