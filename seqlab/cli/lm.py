"""``seqlab lm``: train, evaluate and sample from word- and character-level language models.

``seqlab lm train [CORPUS] --preset NAME --out DIR`` trains on a text file or a corpus
directory (by default, at character level, on the source code of Python's standard
library) and writes a checkpoint to DIR at every evaluation; ``seqlab lm evaluate DIR
FILE`` scores a text (optionally with the neural cache); ``seqlab lm generate DIR`` samples.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from seqlab import __version__
from seqlab.cli.config_flags import add_config_flags, check_fields, given_overrides
from seqlab.data import read_text_file
from seqlab.decode import SamplingConfig, generate
from seqlab.errors import SeqlabError
from seqlab.models import ARCHITECTURES, build_model, load_language_model, model_config, model_section
from seqlab.training import (
    DataConfig,
    TrainConfig,
    load_weights,
    make_optimizer,
    read_config,
    read_vocab,
    restore_training_state,
    save_checkpoint,
    seed_everything,
    train,
)
from seqlab.training.checkpoint import BEST_WEIGHTS_FILE, CONFIG_FILE, WEIGHTS, require_checkpoint
from seqlab.training.config import from_dict, replace_fields
from seqlab.training.cpu_memory import keep_freed_memory
from seqlab.training.distributed import (
    check_divisible,
    end_process_group,
    gather_carry,
    gather_objects,
    own_carry,
    own_streams,
    start_process_group,
)
from seqlab.training.evaluate import evaluate
from seqlab.training.lm_data import prepare_lm_data, token_streams
from seqlab.training.loop import TrainingDiverged, TrainingRun
from seqlab.training.metrics_files import run_files
from seqlab.training.neural_cache import CacheConfig, evaluate_with_cache
from seqlab.training.presets import PRESETS, get_preset
from seqlab.training.rng import capture_rng_states

# Settings a resumed run may change: how long it goes on and where it runs. Every other
# setting given with --resume must equal the checkpoint's, or the run would not continue.
RESUMABLE_SETTINGS = frozenset({"epochs", "max_steps", "max_minutes", "eval_every", "device", "patience"})
SECTIONS = ("model", "training", "data")
DEFAULT_PRESET = "demo"


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
        f"evaluation. Presets: {presets}.",
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
        "--finetune-from",
        metavar="DIR",
        help="AWD-LSTM's fine-tuning stage: a new run from DIR's best weights and settings, averaging the "
        "weights from the first step (optimizer asgd) until validation stops improving (patience = nonmono)",
    )
    sections = {
        "model": [config_class for config_class, _ in ARCHITECTURES.values()],
        "training": [TrainConfig],
        "data": [DataConfig],
    }
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
        "of Grave et al. 2017.",
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
    defaults = SamplingConfig()
    parser = commands.add_parser(
        "generate",
        help="sample text from a trained model",
        description="Sample text from a model trained with `seqlab lm train`; <unk> is never emitted.",
    )
    parser.add_argument("checkpoint", metavar="DIR", help="checkpoint directory")
    parser.add_argument("--prompt", default="", help="text to continue (default: a new line)")
    parser.add_argument("--length", type=int, default=500, help="tokens to generate (default: %(default)s)")
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
        help="sample among the k most likely tokens; 1 is greedy (default: all)",
    )
    parser.add_argument(
        "--top-p",
        type=float,
        default=defaults.top_p,
        help="sample among the fewest tokens holding probability P (default: all)",
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: fresh)")
    parser.add_argument("--num-samples", type=int, default=1, help="how many samples (default: %(default)s)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ... or auto (default: %(default)s)")
    _add_weights_flag(parser)
    parser.set_defaults(func=run_generate)


def _add_weights_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--weights",
        choices=list(WEIGHTS),
        help="the epoch end with the lowest held-out loss, or the last checkpoint (default: best when kept)",
    )


def _which_weights(args: argparse.Namespace) -> str:
    """``--weights``, or best when the checkpoint has best weights and last otherwise."""
    if args.weights is not None:
        return args.weights
    return "best" if (Path(args.checkpoint) / BEST_WEIGHTS_FILE).is_file() else "last"


def run_train(args: argparse.Namespace) -> int:
    """``seqlab lm train``: returns the exit code. Under torchrun, every process runs this."""
    out = Path(args.out)
    preset_name, model_fields, train_config, data_config = _resolve_configs(args, out)
    group, device = start_process_group(resolve_device(train_config.device))
    try:
        return _train(args, out, preset_name, model_fields, train_config, data_config, group, device)
    finally:
        end_process_group(group)


def _train(args, out, preset_name, model_fields, train_config, data_config, group, device) -> int:
    say = print if group.is_main else _silent
    check_divisible(train_config.batch_size, group)
    if device.type == "cpu":
        keep_freed_memory()
    seed_everything(train_config.seed, rank=group.rank)
    origin = out if args.resume else (Path(args.finetune_from) if args.finetune_from else None)
    data = prepare_lm_data(data_config, vocab=read_vocab(origin) if origin else None)
    if origin is not None:
        _check_same_corpus(origin, data.source, data.fingerprint)
    say(f"corpus: {data.source}")
    say(f"  {data.describe()}")
    unit = data_config.level
    train_streams = token_streams(data.train, train_config.batch_size, device, part=f"{data.source}: the training text")
    valid_streams = token_streams(
        data.valid, train_config.held_out_batch_size, device, part=f"{data.source}: the held-out text"
    )

    config = model_config({**model_fields, "vocab_size": len(data.vocab)}, source=f"preset {preset_name!r}")
    model = build_model(config).to(device)
    run = TrainingRun.start(model, make_optimizer(model.parameters(), train_config))
    if args.resume:
        load_weights(model, out, device)
        restore_training_state(out, run, device, rank=group.rank)
        run.carry = own_carry(run.carry, group)
        say(f"resuming {out} at step {run.state.step} (epoch {run.state.epoch + 1})")
    elif args.finetune_from:
        which = "best" if (origin / BEST_WEIGHTS_FILE).is_file() else "last"
        load_weights(model, origin, device, which=which)
        say(f"fine-tuning the {which} weights of {origin}")
    processes = f" x {group.world_size} processes" if group.distributed else ""
    say(f"model: {_describe(config)}, {model.num_parameters():,} parameters, on {device}{processes}")

    config_json = {
        "seqlab_version": __version__,
        "preset": preset_name,
        "model": model_section(config),
        "data": dataclasses.asdict(data_config),
        "training": dataclasses.asdict(train_config),
        "corpus": data.fingerprint,
    }
    title = f"{preset_name}: {Path(data_config.corpus).name if data_config.corpus else 'standard library'}"

    def save(run: TrainingRun) -> None:
        carry, rng_states = gather_carry(run.carry, group), gather_objects(capture_rng_states(), group)
        if group.is_main:
            files = run_files(run.state.history, title=title)
            save_checkpoint(out, model=model, config=config_json, vocab=data.vocab, extra_files=files,
                            run=dataclasses.replace(run, carry=carry), rng_states=rng_states,
                            best=_is_best(run.state.history))  # fmt: skip

    forward_model = model
    if group.distributed:
        forward_model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    started = time.monotonic()
    try:
        result = train(run, own_streams(train_streams, group), own_streams(valid_streams, group), train_config,
                       save=save, log=tqdm.write if group.is_main else _silent, unit=unit, group=group,
                       progress=group.is_main and not args.no_progress, forward_model=forward_model)  # fmt: skip
    except TrainingDiverged as error:
        history = run.state.history
        last = f"from step {history[-1]['step']}" if history and out.exists() else "none was written"
        if group.is_main:
            print(f"seqlab: training diverged: {error}.\nThe last checkpoint in {out} is {last}; resume from it "
                  "with --resume and a lower --lr or --grad-clip.", file=sys.stderr)  # fmt: skip
        return 1
    if group.is_main:
        _report(args, out, run, result, data, train_config, unit, device, minutes=(time.monotonic() - started) / 60)
    return 0


def _report(args, out, run, result, data, train_config, unit, device, *, minutes: float) -> None:
    """The end of a run: how it stopped, the test score of a finished run, and samples."""
    print(f"stopped: {result.stop_reason} after {minutes:.1f} min, step {run.state.step}, "
          f"{run.state.tokens_seen:,} {unit}s seen")  # fmt: skip
    print(f"held-out: {result.evaluation.summary()}")
    if data.test is not None and result.stop_reason.startswith("finished"):
        test_streams = token_streams(
            data.test, train_config.held_out_batch_size, device, part=f"{data.source}: the test text"
        )
        with run.averager.applied():
            print(f"test: {evaluate(run.model, test_streams, train_config.bptt, unit=unit).summary()}")
    print(f"checkpoint: {out}  (sample with: seqlab lm generate {out})")
    with run.averager.applied():
        for index in range(args.samples):
            sample = generate(run.model, data.vocab, length=args.sample_length, seed=train_config.seed + index)
            print(f"\n----- sample {index + 1} -----\n{sample}")


def _silent(*args: Any, **kwargs: Any) -> None:
    """Prints nothing: what every process but rank 0 of a distributed run says."""


def run_evaluate(args: argparse.Namespace) -> int:
    """``seqlab lm evaluate``: prints the scores; returns the exit code."""
    device = resolve_device(args.device)
    model, vocab = load_language_model(args.checkpoint, device=device, which=_which_weights(args))
    training = read_config(args.checkpoint).get("training", {})
    batch_size = args.batch_size or training.get("eval_batch_size") or training.get("batch_size", 10)
    bptt = args.bptt or training.get("bptt", 35)
    tokens = torch.tensor(vocab.encode(read_text_file(args.file)), dtype=torch.long)
    streams = token_streams(tokens, batch_size, device, part=str(args.file))
    unit = vocab.level
    if args.cache:
        cache = CacheConfig(window=args.cache_window, theta=args.cache_theta, interpolation=args.cache_lambda)
        evaluation = evaluate_with_cache(model, streams, bptt, cache, unit=unit)
    else:
        evaluation = evaluate(model, streams, bptt, unit=unit)
    if args.json:
        scores = {"checkpoint": str(args.checkpoint), "file": str(args.file), **evaluation.to_json()}
        scores |= {"batch_size": batch_size, "bptt": bptt, "cache": dataclasses.asdict(cache) if args.cache else None}
        print(json.dumps(scores))
    else:
        cached = f", neural cache {dataclasses.asdict(cache)}" if args.cache else ""
        print(f"{args.file}: {evaluation.summary()} ({evaluation.tokens:,} {unit}s{cached})")
    return 0


def run_generate(args: argparse.Namespace) -> int:
    """``seqlab lm generate``: prints the samples; returns the exit code."""
    sampling = SamplingConfig(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p)
    model, vocab = load_language_model(args.checkpoint, device=resolve_device(args.device), which=_which_weights(args))
    for index in range(args.num_samples):
        seed = None if args.seed is None else args.seed + index
        text = generate(model, vocab, prompt=args.prompt, length=args.length, sampling=sampling, seed=seed)
        if index:
            print("\n-----")
        print(vocab.join(args.prompt, text))
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


def _resolve_configs(args: argparse.Namespace, out: Path) -> tuple[str, dict[str, Any], TrainConfig, DataConfig]:
    """The preset's name, the model section (without ``vocab_size``), and the training and data configs.

    A new run takes the preset with the flags given; a resumed run takes the checkpoint's
    settings, of which only :data:`RESUMABLE_SETTINGS` may be changed.
    """
    given = given_overrides(args, list(SECTIONS))
    if args.corpus is not None:
        # Absolute, so that --resume finds the corpus from any working directory.
        given["data"]["corpus"] = str(Path(args.corpus).resolve())
    if args.resume and args.finetune_from:
        raise SeqlabError("--resume continues a run and --finetune-from starts one: give one of them")
    if args.resume:
        saved = _read_resumable_config(out)
        if args.preset is not None and args.preset != saved.get("preset"):
            raise SeqlabError(f"--resume: {out} was trained with preset {saved.get('preset')!r}, not {args.preset!r}")
        for section, fields in given.items():
            _check_unchanged(section, fields, saved[section], out)
        source = str(out / CONFIG_FILE)
        preset_name = saved.get("preset", DEFAULT_PRESET)
        data = from_dict(DataConfig, saved["data"], source=source)
        training = from_dict(TrainConfig, saved["training"], source=source)
        model_fields = {key: value for key, value in saved["model"].items() if key != "vocab_size"}
    else:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise SeqlabError(
                f"{out} is not empty: pass --resume to continue the checkpoint there, or choose another --out"
            )
        if args.finetune_from:
            preset_name, model_fields, training, data = _finetuning_configs(Path(args.finetune_from), args, given)
        else:
            preset_name = args.preset or DEFAULT_PRESET
            preset = get_preset(preset_name)
            check_fields("model", given["model"], ARCHITECTURES[preset.architecture][0])
            data, training = preset.data, preset.training
            model_fields = {"architecture": preset.architecture, **preset.model, **given["model"]}
    data = replace_fields(data, given["data"], what="data config")
    training = replace_fields(training, given["training"], what="training config")
    return preset_name, model_fields, training, data


def _finetuning_configs(
    origin: Path, args: argparse.Namespace, given: dict[str, dict[str, Any]]
) -> tuple[str, dict[str, Any], TrainConfig, DataConfig]:
    """The settings of the run in ``origin``, switched to averaged SGD that stops when validation stalls."""
    saved = read_config(require_checkpoint(origin))
    if given["model"]:
        raise SeqlabError("--finetune-from keeps the model of the run it starts from; drop the model flags")
    if args.preset is not None and args.preset != saved.get("preset"):
        raise SeqlabError(f"--finetune-from: {origin} was trained with preset {saved.get('preset')!r}")
    source = str(origin / CONFIG_FILE)
    training = from_dict(TrainConfig, saved.get("training"), source=source)
    training = dataclasses.replace(training, optimizer="asgd", patience=training.patience or training.nonmono)
    data = from_dict(DataConfig, saved.get("data"), source=source)
    model_fields = {key: value for key, value in saved["model"].items() if key != "vocab_size"}
    return saved.get("preset", DEFAULT_PRESET), model_fields, training, data


def _is_best(history: list[dict[str, Any]]) -> bool:
    """Whether the last evaluation ends an epoch with the lowest held-out loss of all epoch ends."""
    if not history or not history[-1]["epoch_end"]:
        return False
    return history[-1]["valid_loss"] <= min(record["valid_loss"] for record in history if record["epoch_end"])


def _read_resumable_config(out: Path) -> dict[str, Any]:
    saved = read_config(require_checkpoint(out, for_resume=True))
    for section in SECTIONS:
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


def _check_same_corpus(out: Path, source: str, fingerprint: dict[str, Any]) -> None:
    saved = read_config(out).get("corpus")
    if saved != fingerprint:
        raise SeqlabError(
            f"--resume: {source} is not the text {out} was trained on "
            f"(its size or SHA-256 differs from {out / CONFIG_FILE})"
        )


def _describe(config: Any) -> str:
    section = model_section(config)
    if section["architecture"] == "fixed-window":
        return (
            f"fixed-window model, {config.context_size} tokens of context, embedding {config.embedding_size}, "
            f"hidden {config.hidden_size}, vocabulary {config.vocab_size}"
        )
    sizes = "/".join(str(hidden) for _, hidden in config.layer_sizes())
    tied = ", tied" if config.tie_weights else ""
    return f"{config.cell.upper()} {sizes}, embedding {config.embedding_size}{tied}, vocabulary {config.vocab_size}"
