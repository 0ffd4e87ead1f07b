"""``seqlab lm``: train, evaluate and sample from word- and character-level language models.

This module only parses arguments and calls :mod:`seqlab.tasks.lm`; it imports torch only
when a command runs, so that ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import json

from seqlab.cli.config_flags import add_config_flags, given_overrides
from seqlab.models.lm_configs import MODEL_CONFIGS
from seqlab.tasks.lm.config import DataConfig
from seqlab.tasks.lm.presets import PRESETS
from seqlab.training.config import TrainConfig

DEFAULT_PRESET = "demo"
SAMPLING_DEFAULTS = {"temperature": 0.8, "top_k": None, "top_p": None}  # SamplingConfig()'s, without importing torch


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``lm`` command group, with ``train``, ``evaluate`` and ``generate``, to ``subparsers``."""
    group = subparsers.add_parser(
        "lm",
        help="language models: train, evaluate, generate",
        description="Train word- and character-level language models, score text, and sample.",
    )
    commands = group.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_train_parser(commands)
    _add_evaluate_parser(commands)
    _add_generate_parser(commands)


def _add_train_parser(commands: argparse._SubParsersAction) -> None:
    presets = "; ".join(f"{name}: {preset.description}" for name, preset in PRESETS.items())
    parser = commands.add_parser(
        "train",
        help="train a language model on a text file or corpus directory",
        description="Train a language model. Without a corpus and preset, a character LSTM trains for "
        "3 minutes on the source code of Python's standard library. A checkpoint, the resolved config, "
        "a metrics log (metrics.jsonl) and learning curves (curves.png) are written to --out at every "
        f"evaluation. Presets: {presets}.".replace("%", "%%"),
    )
    parser.add_argument(
        "corpus",
        nargs="?",
        metavar="CORPUS",
        help="a UTF-8 text file, or a directory with train.txt and valid.txt (optionally test.txt; "
        "ptb.train.txt-style names and a single .txt file work too); default: the Python standard library",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="checkpoint directory")
    parser.add_argument("--preset", choices=list(PRESETS), help=f"named configuration (default: {DEFAULT_PRESET})")
    parser.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    parser.add_argument(
        "--if-exists",
        choices=["error", "resume"],
        default="error",
        help="when --out already holds a run: stop with an error, or resume it (default: %(default)s)",
    )
    parser.add_argument(
        "--finetune-from",
        metavar="DIR",
        help="AWD-LSTM's fine-tuning stage: a new run from DIR's best weights and settings, averaging the "
        "weights from the first step (optimizer asgd) until validation stops improving (patience = nonmono)",
    )
    sections = {"model": list(MODEL_CONFIGS.values()), "training": [TrainConfig], "data": [DataConfig]}
    add_config_flags(parser, sections, skip={"vocab_size", "corpus"})
    output = parser.add_argument_group("output")
    output.add_argument("--samples", type=int, default=2, help="samples printed at the end (default: %(default)s)")
    output.add_argument("--sample-length", type=int, default=400, help="tokens per sample (default: %(default)s)")
    output.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run_train)


def _add_evaluate_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "evaluate",
        help="perplexity of a trained model on a text file",
        description="Score a UTF-8 text file with a model trained by `seqlab lm train`: cross-entropy, "
        "perplexity (and bits per character for character models), optionally with the neural cache "
        "of Grave et al. 2017, and the share of the text outside the model's vocabulary.",
    )
    parser.add_argument("checkpoint", metavar="DIR", help="checkpoint directory")
    parser.add_argument("file", metavar="FILE", help="UTF-8 text file to score")
    parser.add_argument("--batch-size", type=int, help="parallel streams (default: the run's eval_batch_size)")
    parser.add_argument("--bptt", type=int, help="window length (default: the run's bptt)")
    parser.add_argument("--cache", action="store_true", help="mix in the neural cache")
    parser.add_argument("--cache-window", type=int, default=500, help="cached positions (default: %(default)s)")
    parser.add_argument("--cache-theta", type=float, default=1.0, help="cache flatness θ (default: %(default)s)")
    parser.add_argument("--cache-lambda", type=float, default=0.1, help="cache weight λ (default: %(default)s)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ... or auto (default: %(default)s)")
    _add_weights_flag(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.set_defaults(func=run_evaluate)


def _add_generate_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "generate",
        help="sample text from a trained model",
        description="Sample text from a model trained with `seqlab lm train`; <unk> is never emitted.",
    )
    parser.add_argument("checkpoint", metavar="DIR", help="checkpoint directory")
    parser.add_argument("--prompt", default="", help="text to continue (default: a new line)")
    parser.add_argument("--length", type=int, default=500, help="tokens to generate (default: %(default)s)")
    parser.add_argument("--temperature", type=float, default=SAMPLING_DEFAULTS["temperature"],
                        help="sampling temperature; lower is more conservative (default: %(default)s)")  # fmt: skip
    parser.add_argument("--top-k", type=int, default=SAMPLING_DEFAULTS["top_k"],
                        help="sample among the k most likely tokens; 1 is greedy (default: all)")  # fmt: skip
    parser.add_argument("--top-p", type=float, default=SAMPLING_DEFAULTS["top_p"],
                        help="sample among the fewest tokens holding probability P (default: all)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: fresh)")
    parser.add_argument("--num-samples", type=int, default=1, help="how many samples (default: %(default)s)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ... or auto (default: %(default)s)")
    _add_weights_flag(parser)
    parser.set_defaults(func=run_generate)


def _add_weights_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--weights",
        choices=["best", "last"],
        help="the evaluation with the lowest held-out loss, or the last checkpoint (default: best when kept)",
    )


def run_train(args: argparse.Namespace) -> int:
    """``seqlab lm train``: returns the exit code. Under torchrun, every process runs this."""
    from seqlab.tasks import lm

    lm.train(args.out, preset=args.preset, corpus=args.corpus, overrides=given_overrides(args, ["model", "training",
             "data"]), resume=args.resume, finetune_from=args.finetune_from, if_exists=args.if_exists,
             samples=args.samples, sample_length=args.sample_length, progress=not args.no_progress)  # fmt: skip
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    """``seqlab lm evaluate``: prints the scores; returns the exit code."""
    from seqlab.tasks import lm
    from seqlab.training.device import resolve_device

    cache = None
    if args.cache:
        cache = lm.CacheConfig(window=args.cache_window, theta=args.cache_theta, interpolation=args.cache_lambda)
    score = lm.evaluate_text(args.checkpoint, args.file, weights=args.weights, batch_size=args.batch_size,
                             bptt=args.bptt, cache=cache, device=resolve_device(args.device))  # fmt: skip
    print(json.dumps({"checkpoint": str(args.checkpoint), **score.to_json()}) if args.json else score.summary())
    return 0


def run_generate(args: argparse.Namespace) -> int:
    """``seqlab lm generate``: prints the samples; returns the exit code."""
    from seqlab.decode import SamplingConfig, generate
    from seqlab.tasks import lm
    from seqlab.training.device import resolve_device
    from seqlab.training.fit import available_weights

    sampling = SamplingConfig(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p)
    which = args.weights or available_weights(args.checkpoint)
    model, vocab = lm.load_language_model(args.checkpoint, device=resolve_device(args.device), which=which)
    for index in range(args.num_samples):
        seed = None if args.seed is None else args.seed + index
        text = generate(model, vocab, prompt=args.prompt, length=args.length, sampling=sampling, seed=seed)
        if index:
            print("\n-----")
        print(vocab.join(args.prompt, text))
    return 0
