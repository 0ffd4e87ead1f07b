"""``seqlab lm``: train a character-level LSTM language model, and sample from it.

``seqlab lm train [CORPUS] --out DIR`` trains on a UTF-8 text file, or by default on the
source code of Python's standard library, and writes a checkpoint to DIR at every
evaluation; ``seqlab lm generate DIR`` samples text from that checkpoint.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from seqlab import __version__
from seqlab.data import CharVocab, batchify, load_corpus, split_train_valid
from seqlab.decode import SamplingConfig, generate
from seqlab.errors import SeqlabError
from seqlab.models import CharLM, CharLMConfig, load_char_lm
from seqlab.training import (
    DataConfig,
    TrainConfig,
    TrainingState,
    load_weights,
    make_optimizer,
    read_config,
    read_vocab,
    restore_training_state,
    save_checkpoint,
    seed_everything,
    train,
)
from seqlab.training.checkpoint import CONFIG_FILE, require_checkpoint
from seqlab.training.config import LR_SCHEDULES, OPTIMIZERS, from_dict, replace_fields
from seqlab.training.cpu_memory import keep_freed_memory

# Settings a resumed run may change: how long it goes on and where it runs. Every other
# setting given with --resume must equal the checkpoint's, or the run would not continue.
RESUMABLE_SETTINGS = frozenset({"epochs", "max_steps", "max_minutes", "eval_every", "device"})

# (flag, config section, field, int/float/choices/metavar, help). Defaults come from the
# dataclasses, so flags left out are told apart from flags given (and checked against a
# resumed checkpoint).
_CONFIG_FLAGS = [
    ("--embedding-size", "model", "embedding_size", int, "character embedding size"),
    ("--hidden-size", "model", "hidden_size", int, "LSTM hidden size"),
    ("--num-layers", "model", "num_layers", int, "stacked LSTM layers"),
    ("--dropout", "model", "dropout", float, "dropout probability"),
    ("--forget-bias", "model", "forget_bias", float, "initial LSTM forget-gate bias"),
    ("--batch-size", "training", "batch_size", int, "parallel text streams per step"),
    ("--bptt", "training", "bptt", int, "characters per back-propagation window"),
    ("--lr", "training", "lr", float, "peak learning rate"),
    ("--optimizer", "training", "optimizer", OPTIMIZERS, "the optimiser"),
    ("--momentum", "training", "momentum", float, "SGD momentum"),
    ("--weight-decay", "training", "weight_decay", float, "weight decay"),
    ("--grad-clip", "training", "grad_clip", float, "max global gradient norm (0: off)"),
    ("--warmup-steps", "training", "warmup_steps", int, "linear learning-rate warm-up steps"),
    ("--lr-schedule", "training", "lr_schedule", LR_SCHEDULES, "after warm-up"),
    ("--epochs", "training", "epochs", int, "passes over the training text"),
    ("--max-steps", "training", "max_steps", int, "stop after this many steps in all"),
    ("--max-minutes", "training", "max_minutes", float, "stop after this many minutes"),
    ("--eval-every", "training", "eval_every", int, "steps between evaluations"),
    ("--seed", "training", "seed", int, "random seed (same seed, same run on CPU)"),
    ("--device", "training", "device", "DEVICE", "auto, cpu, cuda, cuda:1, ..."),
    ("--valid-fraction", "data", "valid_fraction", float, "held-out tail of the text"),
    ("--stdlib-max-chars", "data", "stdlib_max_chars", int, "size of the default corpus"),
]
_SECTIONS = {"model": CharLMConfig, "training": TrainConfig, "data": DataConfig}


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``lm`` command group, with ``train`` and ``generate``, to ``subparsers``."""
    group = subparsers.add_parser(
        "lm",
        help="character-level LSTM language model: train, generate",
        description="Train a character-level LSTM language model and sample from it.",
    )
    commands = group.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_train_parser(commands)
    _add_generate_parser(commands)


def _add_train_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "train",
        help="train a model on a text file (default: Python's standard library source)",
        description="Train a character-level LSTM language model. The defaults train for "
        "3 minutes on the source code of Python's standard library, so the model learns "
        "to write Python. A checkpoint is written to --out at every evaluation.",
    )
    parser.add_argument(
        "corpus",
        nargs="?",
        metavar="CORPUS_FILE",
        help="UTF-8 text file to train on (default: the Python standard library's source)",
    )
    parser.add_argument("--out", required=True, metavar="DIR", help="checkpoint directory")
    parser.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    parser.add_argument(
        "--tie-weights",
        dest="model:tie_weights",
        action="store_const",
        const=True,
        help="share the embedding and output matrices (needs equal sizes)",
    )
    for flag, section, field, kind, text in _CONFIG_FLAGS:
        default = _field_default(_SECTIONS[section], field)
        if kind in (int, float):
            how = {"type": kind, "metavar": "N" if kind is int else "X"}
        elif isinstance(kind, tuple):
            how = {"choices": kind}
        else:
            how = {"metavar": kind}
        parser.add_argument(flag, dest=f"{section}:{field}", help=f"{text} (default: {default})", **how)
    parser.add_argument("--samples", type=int, default=2, help="samples printed at the end (default: %(default)s)")
    parser.add_argument(
        "--sample-length",
        type=int,
        default=400,
        help="characters per sample (default: %(default)s)",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run_train)


def _add_generate_parser(commands: argparse._SubParsersAction) -> None:
    defaults = SamplingConfig()
    parser = commands.add_parser(
        "generate",
        help="sample text from a trained model",
        description="Sample text from a model trained with `seqlab lm train`.",
    )
    parser.add_argument("checkpoint", metavar="DIR", help="checkpoint directory")
    parser.add_argument("--prompt", default="", help="text to continue (default: a new line)")
    parser.add_argument("--length", type=int, default=500, help="characters to generate (default: %(default)s)")
    parser.add_argument(
        "--temperature",
        type=float,
        default=defaults.temperature,
        help="sampling temperature; lower is more conservative (default: %(default)s)",
    )
    parser.add_argument(
        "--top-k",
        type=int,
        default=defaults.top_k,
        help="sample among the k most likely characters; 1 is greedy (default: all)",
    )
    parser.add_argument(
        "--top-p",
        type=float,
        default=defaults.top_p,
        help="sample among the fewest characters holding probability P (default: all)",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: fresh)")
    parser.add_argument("--num-samples", type=int, default=1, help="how many samples (default: %(default)s)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ... or auto (default: %(default)s)")
    parser.set_defaults(func=run_generate)


def run_train(args: argparse.Namespace) -> int:
    """``seqlab lm train``: returns the exit code."""
    out = Path(args.out)
    resume_from = out if args.resume else None
    model_fields, train_config, data_config = _resolve_configs(args, out)
    device = resolve_device(train_config.device)
    if device.type == "cpu":
        keep_freed_memory()
    seed_everything(train_config.seed)
    text = _load_text(data_config, train_config.batch_size, device, resume_from=resume_from)
    vocab = text.vocab

    model_config = replace_fields(CharLMConfig(vocab_size=len(vocab)), model_fields, what="model config")
    model = CharLM(model_config).to(device)
    optimizer = make_optimizer(model.parameters(), train_config)
    state, carry = TrainingState(), None
    if resume_from is not None:
        load_weights(model, out, device)
        state, carry = restore_training_state(out, optimizer, device)
        print(f"resuming {out} at step {state.step} (epoch {state.epoch + 1})")
    print(f"model: {_describe(model_config)}, {model.num_parameters():,} parameters, on {device}")

    config_json = {
        "seqlab_version": __version__,
        "model": dataclasses.asdict(model_config),
        "data": dataclasses.asdict(data_config),
        "training": dataclasses.asdict(train_config),
        "corpus": text.fingerprint,
    }

    def save(state: TrainingState, carry: Any) -> None:
        save_checkpoint(
            out, model=model, config=config_json, vocab=vocab, optimizer=optimizer, state=state, carry=carry
        )

    started = time.monotonic()
    result = train(
        model,
        optimizer,
        text.train_streams,
        text.valid_streams,
        train_config,
        state,
        carry=carry,
        save=save,
        progress=not args.no_progress,
    )
    minutes = (time.monotonic() - started) / 60
    print(
        f"stopped: {result.stop_reason} after {minutes:.1f} min, step {state.step}, "
        f"{state.tokens_seen:,} characters seen"
    )
    print(f"held-out: {result.evaluation.summary()}")
    print(f"checkpoint: {out}  (sample with: seqlab lm generate {out})")
    for index in range(args.samples):
        sample = generate(model, vocab, length=args.sample_length, seed=train_config.seed + index)
        print(f"\n----- sample {index + 1} -----\n{sample}")
    return 0


def run_generate(args: argparse.Namespace) -> int:
    """``seqlab lm generate``: prints the samples; returns the exit code."""
    sampling = SamplingConfig(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p)
    model, vocab = load_char_lm(args.checkpoint, device=resolve_device(args.device))
    for index in range(args.num_samples):
        seed = None if args.seed is None else args.seed + index
        text = generate(model, vocab, prompt=args.prompt, length=args.length, sampling=sampling, seed=seed)
        if index:
            print("\n-----")
        print(args.prompt + text)
    return 0


def resolve_device(name: str) -> torch.device:
    """The torch device ``name`` means; ``"auto"`` is CUDA when available, else CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise SeqlabError(f"unknown device {name!r}; try cpu, cuda or auto") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SeqlabError(f"device {name!r} asked for, but CUDA is not available here")
    return device


def _resolve_configs(args: argparse.Namespace, out: Path) -> tuple[dict[str, Any], TrainConfig, DataConfig]:
    """The model settings (all but ``vocab_size``) and the training and data configs.

    A new run takes the dataclass defaults with the flags given; a resumed run takes the
    checkpoint's settings, of which only :data:`RESUMABLE_SETTINGS` may be changed.
    """
    given: dict[str, dict[str, Any]] = {section: {} for section in _SECTIONS}
    for key, value in vars(args).items():
        if ":" in key and value is not None:
            section, field = key.split(":")
            given[section][field] = value
    if args.corpus is not None:
        # Absolute, so that --resume finds the file from any working directory.
        given["data"]["corpus"] = str(Path(args.corpus).resolve())
    if args.resume:
        saved = _read_resumable_config(out)
        for section, fields in given.items():
            _check_unchanged(section, fields, saved[section], out)
        data = from_dict(DataConfig, saved["data"], source=str(out / CONFIG_FILE))
        training = from_dict(TrainConfig, saved["training"], source=str(out / CONFIG_FILE))
        model_fields = {key: value for key, value in saved["model"].items() if key != "vocab_size"}
    else:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise SeqlabError(
                f"{out} is not empty: pass --resume to continue the checkpoint there, or choose another --out"
            )
        data, training, model_fields = DataConfig(), TrainConfig(), given["model"]
    data = replace_fields(data, given["data"], what="data config")
    training = replace_fields(training, given["training"], what="training config")
    return model_fields, training, data


def _read_resumable_config(out: Path) -> dict[str, dict[str, Any]]:
    saved = read_config(require_checkpoint(out, for_resume=True))
    for section in _SECTIONS:
        if not isinstance(saved.get(section), dict):
            raise SeqlabError(f"{out / CONFIG_FILE}: no {section!r} section")
    return saved


def _check_unchanged(section: str, given: dict, saved: dict, out: Path) -> None:
    changed = [
        f"{field}={value!r} (checkpoint: {saved.get(field)!r})"
        for field, value in given.items()
        if field not in RESUMABLE_SETTINGS and saved.get(field) != value
    ]
    if changed:
        raise SeqlabError(f"--resume: {out} was trained with other {section} settings: " + ", ".join(changed))


@dataclass
class _TrainingText:
    """The corpus made ready for training."""

    vocab: CharVocab  # built from the training text, or the resumed checkpoint's
    train_streams: torch.Tensor  # (T, B) token ids on the training device
    valid_streams: torch.Tensor  # (T', B) held-out token ids on the training device
    fingerprint: dict[str, Any]  # identifies the text, saved in config.json


def _load_text(config: DataConfig, batch_size: int, device: torch.device, *, resume_from: Path | None) -> _TrainingText:
    """Read, split, encode and batch the corpus; print what it is.

    Args:
        resume_from: the checkpoint being resumed, whose vocabulary is reused and whose
            corpus fingerprint must match; None for a new run.
    """
    corpus = load_corpus(config.corpus, stdlib_max_chars=config.stdlib_max_chars)
    fingerprint = _fingerprint(corpus.text)
    if resume_from is not None:
        _check_same_corpus(resume_from, corpus.source, fingerprint)
    train_text, valid_text = split_train_valid(corpus.text, config.valid_fraction)
    vocab = read_vocab(resume_from) if resume_from else CharVocab.from_text(train_text)
    train_streams = _streams(train_text, vocab, batch_size, device, part="training text", source=corpus.source)
    valid_streams = _streams(valid_text, vocab, batch_size, device, part="held-out text", source=corpus.source)
    print(f"corpus: {corpus.source}")
    print(
        f"  {len(train_text):,} training and {len(valid_text):,} held-out characters, "
        f"{len(vocab)} tokens in the vocabulary"
    )
    return _TrainingText(vocab, train_streams, valid_streams, fingerprint)


def _fingerprint(text: str) -> dict[str, Any]:
    """What identifies a corpus's text, saved so --resume can tell it has not changed."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return {"characters": len(text), "sha256": digest}


def _check_same_corpus(out: Path, source: str, fingerprint: dict[str, Any]) -> None:
    saved = read_config(out).get("corpus")
    if saved != fingerprint:
        raise SeqlabError(
            f"--resume: {source} is not the text {out} was trained on "
            f"(its size or SHA-256 differs from {out / CONFIG_FILE})"
        )


def _streams(
    text: str, vocab: CharVocab, batch_size: int, device: torch.device, *, part: str, source: str
) -> torch.Tensor:
    """``text``, the ``part`` of the corpus ``source``, batched into ``(T, B)`` streams."""
    if len(text) < 2 * batch_size:
        raise SeqlabError(
            f"{source}: corpus too short: its {part} ({len(text):,} characters) cannot fill "
            f"{batch_size} streams of at least 2 characters; use a smaller --batch-size"
        )
    tokens = torch.tensor(vocab.encode(text), dtype=torch.long)  # (N,)
    return batchify(tokens, batch_size).to(device)  # (N // B, B)


def _describe(config: CharLMConfig) -> str:
    layers = "layer" if config.num_layers == 1 else "layers"
    return (
        f"{config.num_layers} LSTM {layers} of {config.hidden_size}, embedding "
        f"{config.embedding_size}, vocabulary {config.vocab_size}"
    )


def _field_default(config_class: type, name: str) -> Any:
    return next(field.default for field in dataclasses.fields(config_class) if field.name == name)
