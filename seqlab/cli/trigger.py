"""``seqlab trigger``: train a trigger-word detector, evaluate it (event F1, false alarms per hour), detect in WAVs.

This module parses and prints; it imports torch (through :mod:`seqlab.tasks.trigger`) only when a
command runs, so that ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from seqlab.cli.sentence_commands import add_checkpoint_flags, add_train_command
from seqlab.models.trigger_configs import TriggerConfig
from seqlab.tasks.trigger.config import DataConfig
from seqlab.tasks.trigger.presets import DEFAULT_PRESET, PRESETS
from seqlab.training.config import TrainConfig

DERIVED = {"input_size", "corpus"}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``trigger`` command group (``train``, ``evaluate``, ``detect``) to ``subparsers``."""
    description = ("Trigger-word detection: train a causal Conv1D + GRU detector of one spoken digit among the others "
                   "and noise, evaluate it by events, detect the word in a WAV file as a stream.")  # fmt: skip
    group = subparsers.add_parser("trigger", help="trigger-word detection over a stream: one spoken digit",
                                  description=description)  # fmt: skip
    commands = group.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_train_command(commands, task="trigger", what="a trigger-word detector", presets=PRESETS,
                      default_preset=DEFAULT_PRESET,
                      sections={"model": [TriggerConfig], "training": [TrainConfig], "data": [DataConfig]},
                      skip=DERIVED, corpus_help="a folder of Free Spoken Digit Dataset recordings (or its name "
                      "under $SEQLAB_DATA); default: the preset's", measured="held-out event F1 and false alarms per "
                      "hour, on clips of unseen recordings and of the left-out speaker")  # fmt: skip

    evaluate = commands.add_parser(
        "evaluate",
        help="event precision, recall, F1 and false alarms per hour on the run's held-out clips; the miss curve",
        description="Run the detector over the run's held-out clips (of unseen recordings of the training speakers, "
        "and of the left-out speaker), match its firings to the triggers and print precision, recall, F1 and false "
        "alarms per hour at the threshold; --curve draws misses against false alarms per hour over thresholds.",
    )
    add_checkpoint_flags(evaluate, task="trigger")
    evaluate.add_argument("--threshold", type=float, help="fire at this output (default: the run's)")
    evaluate.add_argument("--curve", type=Path, metavar="PNG", help="draw misses against false alarms per hour here")
    evaluate.add_argument("--json", action="store_true", help="print the scores and the curve as JSON")
    evaluate.set_defaults(func=run_evaluate)

    detect = commands.add_parser(
        "detect",
        help="the times at which the trigger is heard in a WAV file, a chime mixed in at each",
        description="Stream a WAV file (any rate, mixed down to mono and resampled to 8 kHz) through the detector "
        "chunk by chunk; print each time the trigger is heard (seconds), write the recording with a chime at each "
        "and a picture of the detector's output over time.",
    )
    add_checkpoint_flags(detect, task="trigger")
    detect.add_argument("file", type=Path, metavar="FILE.wav", help="the recording")
    detect.add_argument("--threshold", type=float, help="fire at this output (default: the run's)")
    detect.add_argument("--refractory", type=float, help="seconds after a firing without another (default: the run's)")
    detect.add_argument("--chunk-seconds", type=float, default=0.5, help="audio per chunk (default: %(default)s)")
    detect.add_argument("--chimed", type=Path, metavar="WAV",
                        help="write the recording with the chimes here (default: FILE.chime.wav)")  # fmt: skip
    detect.add_argument("--plot", type=Path, metavar="PNG",
                        help="draw the detector's output here (default: FILE.trigger.png)")  # fmt: skip
    detect.add_argument("--json", action="store_true", help="print one JSON object")
    detect.set_defaults(func=run_detect)


def _load(args: argparse.Namespace):
    from seqlab.tasks.trigger.checkpoint import load_detector
    from seqlab.training.device import resolve_device

    return load_detector(args.checkpoint, device=resolve_device(args.device), which=args.weights)


def run_evaluate(args: argparse.Namespace) -> int:
    """``seqlab trigger evaluate``: the event scores per held-out part (or JSON), and the miss curve."""
    from seqlab.tasks.trigger.detecting import evaluate_held_out
    from seqlab.tasks.trigger.plots import plot_miss_false_alarms

    model, config = _load(args)
    report = evaluate_held_out(model, config, threshold=args.threshold)
    if args.curve:
        plot_miss_false_alarms(report.curves, args.curve, threshold=report.threshold)
    print(json.dumps(report.as_dict(), indent=2) if args.json else report.text(), end="\n" if args.json else "")
    return 0


def run_detect(args: argparse.Namespace) -> int:
    """``seqlab trigger detect``: a line per time the trigger was heard (or JSON); the chimed WAV and the picture."""
    from seqlab.tasks.trigger.detecting import detect_file, write_chimed
    from seqlab.tasks.trigger.plots import plot_detector_output

    model, config = _load(args)
    detection, samples = detect_file(model, config, args.file, chunk_seconds=args.chunk_seconds,
                                     threshold=args.threshold, refractory=args.refractory)  # fmt: skip
    stem = args.file.with_suffix("")
    chimed = write_chimed(args.chimed or Path(f"{stem}.chime.wav"), samples, detection.times)
    plot = plot_detector_output(detection, args.plot or Path(f"{stem}.trigger.png"), samples)
    if args.json:
        print(json.dumps({**detection.as_dict(), "chimed": str(chimed), "plot": str(plot)}))
    else:
        for time in detection.times:
            print(f"{time:.2f}")
        print(f"{args.file}: heard {len(detection.times)} time(s); wrote {chimed} and {plot}", file=sys.stderr)
    return 0
