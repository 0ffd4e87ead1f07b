"""``seqlab translate``: train translation models, translate text, draw attention maps.

This module only parses arguments and calls :mod:`seqlab.tasks.translate`; it imports torch only
when a command runs, so that ``--help`` answers at once.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys

from seqlab.cli.config_flags import add_config_flags, given_overrides
from seqlab.errors import SeqlabError
from seqlab.models.seq2seq_configs import Seq2SeqConfig
from seqlab.models.transformer_configs import TransformerConfig
from seqlab.tasks.translate.config import STOPPING_RULES, DataConfig, ObjectiveConfig
from seqlab.tasks.translate.presets import PRESETS
from seqlab.training.config import TrainConfig

SECTIONS = ["model", "training", "data", "objective"]
SAMPLING_TEMPERATURE = 0.8  # seqlab.decode.SamplingConfig's default, named without importing torch
SAMPLING_FLAGS = {"temperature": "--temperature", "top_k": "--top-k", "top_p": "--top-p", "samples": "--samples",
                  "seed": "--seed"}  # fmt: skip


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``translate`` command group (``train``, ``run``, ``attention``) to ``subparsers``."""
    group = subparsers.add_parser(
        "translate",
        help="sequence to sequence: train, translate, attention maps",
        description="Train encoder-decoder translation models (Multi30k, or the embedded dates task), "
        "translate text with greedy or beam search, and draw attention maps.",
    )
    commands = group.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_train_parser(commands)
    _add_run_parser(commands)
    _add_attention_parser(commands)
    _add_analyse_parser(commands)


def _add_train_parser(commands: argparse._SubParsersAction) -> None:
    presets = "; ".join(f"{name}: {preset.description}" for name, preset in PRESETS.items())
    parser = commands.add_parser(
        "train",
        help="train a translation model",
        description="Train a translation model. Without a data folder and preset, a small attention model "
        "learns to turn human-readable dates into ISO 8601 (generated, offline). A checkpoint, the resolved "
        "config, metrics.jsonl and curves.png are written to --out at every evaluation; held-out BLEU and "
        f"exact match are measured at each. Presets: {presets}.".replace("%", "%%"),
    )
    parser.add_argument("corpus", nargs="?", metavar="DATA_DIR",
                        help="a folder laid out as Multi30k (raw/ and tok/ with train, val and test_2016_flickr "
                        "files per language), or its name under $SEQLAB_DATA; default: the preset's")  # fmt: skip
    parser.add_argument("--src", dest="data:source_language", metavar="LANG", help="source language suffix (de)")
    parser.add_argument("--tgt", dest="data:target_language", metavar="LANG", help="target language suffix (en)")
    parser.add_argument("--out", required=True, metavar="DIR", help="checkpoint directory")
    parser.add_argument("--preset", choices=list(PRESETS), help="named configuration (default: dates)")
    parser.add_argument("--resume", action="store_true", help="continue the run saved in --out")
    parser.add_argument("--if-exists", choices=["error", "resume"], default="error",
                        help="when --out already holds a run: stop with an error, or resume it "
                        "(default: %(default)s)")  # fmt: skip
    sections = {"model": [Seq2SeqConfig, TransformerConfig], "training": [TrainConfig], "data": [DataConfig],
                "objective": [ObjectiveConfig]}  # fmt: skip
    add_config_flags(parser, sections, skip={"source_vocab_size", "target_vocab_size", "padding_id", "corpus",
                                             "source_language", "target_language"})  # fmt: skip
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run_train)


def _add_decoding_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--beam", type=int, help="beam width; 1 is greedy (default: the run's beam_size)")
    parser.add_argument("--alpha", type=float, help="length normalisation α of Wu et al. 2016 (default: the run's)")
    _add_stopping_flag(parser)
    _add_ensemble_flag(parser)
    parser.add_argument("--weights", choices=["best", "last"], default="best",
                        help="the best held-out evaluation, or the last checkpoint (default: %(default)s)")  # fmt: skip
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ... or auto (default: %(default)s)")


def _add_ensemble_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ensemble", action="append", default=[], metavar="DIR",
                        help="another run with the same vocabularies, decoded with the first as one model (repeat "
                        "for more): each step's next-token probabilities are the mean of the runs'")  # fmt: skip


def _add_stopping_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stopping", choices=STOPPING_RULES,
                        help="when beam search ends a sentence: once K hypotheses are finished (count, fairseq's "
                        "rule), or once no live one can beat the best finished (bound; the N-th best with --nbest N; "
                        "exact with α 0) (default: the run's)")  # fmt: skip
    parser.add_argument("--prune-relative", type=float, metavar="RP",
                        help="beam search drops candidates whose probability is at most RP times the best's "
                        "(Freitag & Al-Onaizan 2017; faster, not exact) (default: the run's, usually off)")  # fmt: skip
    parser.add_argument("--prune-absolute", type=float, metavar="AP",
                        help="beam search drops candidates AP nats or more below the best (Freitag & Al-Onaizan "
                        "2017) (default: the run's, usually off)")  # fmt: skip


def _add_run_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "run",
        help="translate a file or standard input, one sentence per line",
        description="Translate one sentence per line, from INPUT or standard input, to standard output: the best "
        "translations found by greedy or beam search or, with --sample, translations drawn at random from the model.",
    )
    parser.add_argument("checkpoint", metavar="DIR", help="a run written by `seqlab translate train`")
    parser.add_argument("input", nargs="?", metavar="INPUT", help="a UTF-8 file; default: standard input")
    _add_decoding_flags(parser)
    parser.add_argument("--nbest", type=int, default=1, help="translations printed per line (default: %(default)s)")
    parser.add_argument("--json", action="store_true",
                        help="one JSON object per line: the source, and each translation with its scores and "
                        "attention weights")  # fmt: skip
    sampling = parser.add_argument_group("sampling", "draw each next token from the model's distribution instead of "
                                         "searching; the other flags here need --sample")  # fmt: skip
    sampling.add_argument("--sample", action="store_true",
                          help="draw translations at random instead of searching (not with --beam above 1, nor "
                          "--nbest: see --samples)")  # fmt: skip
    sampling.add_argument("--temperature", type=float, metavar="T",
                          help="divides the log-probabilities: below 1 sharper, above 1 flatter, near 0 greedy "
                          f"(default: {SAMPLING_TEMPERATURE})")  # fmt: skip
    sampling.add_argument("--top-k", type=int, metavar="K",
                          help="draw among the K most likely tokens only; 1 is greedy (default: all)")  # fmt: skip
    sampling.add_argument("--top-p", type=float, metavar="P",
                          help="draw among the fewest most likely tokens whose probabilities sum to P or more, "
                          "in (0, 1] (nucleus sampling; default: all)")  # fmt: skip
    sampling.add_argument("--samples", type=int, metavar="N",
                          help="translations drawn per line, printed as --nbest prints, best score first "
                          "(default: 1)")  # fmt: skip
    sampling.add_argument("--seed", type=int, metavar="SEED",
                          help="seed of the draws: the same seed gives the same samples of the same input "
                          "(default: a fresh seed each run)")  # fmt: skip
    parser.set_defaults(func=run_translate)


def _add_attention_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "attention",
        help="draw the attention map of one translation as a PNG",
        description="Translate SENTENCE and draw the attention weights (source tokens across, output tokens "
        "down) to --out.",
    )
    parser.add_argument("checkpoint", metavar="DIR", help="a run written by `seqlab translate train`")
    parser.add_argument("sentence", metavar="SENTENCE", help="the source sentence")
    parser.add_argument("--out", required=True, metavar="PNG", help="the image to write")
    _add_decoding_flags(parser)
    parser.set_defaults(func=run_attention)


def _add_analyse_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "analyse",
        help="beam-search error analysis: is the search or the model to blame for each wrong translation?",
        description="Translate SOURCE (one sentence per line) and, for each output that differs from its line of "
        "REFERENCE, score both under the model: a reference the model prefers is a search error, an output "
        "it prefers a model error. Reports the shares for each beam width and length normalisation, and "
        "examples of each kind.",
    )
    parser.add_argument("checkpoint", metavar="DIR", help="a run written by `seqlab translate train`")
    parser.add_argument("source", metavar="SOURCE", help="source sentences, one per line")
    parser.add_argument("reference", metavar="REFERENCE", help="their reference translations, line by line")
    parser.add_argument("--beams", type=int, nargs="+", default=[1, 5, 10], help="beam widths (default: 1 5 10)")
    parser.add_argument("--alphas", type=float, nargs="+", default=[0.0],
                        help="length normalisations α of Wu et al. 2016 (default: 0)")  # fmt: skip
    _add_stopping_flag(parser)
    _add_ensemble_flag(parser)
    parser.add_argument("--examples", type=int, default=3, help="examples of each kind (default: %(default)s)")
    parser.add_argument("--weights", choices=["best", "last"], default="best",
                        help="the best held-out evaluation, or the last checkpoint (default: %(default)s)")  # fmt: skip
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ... or auto (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="one JSON object per setting instead of text")
    parser.set_defaults(func=run_analyse, beam=None, alpha=None)


def run_train(args: argparse.Namespace) -> int:
    """``seqlab translate train``; under torchrun every process runs this."""
    from seqlab.tasks import translate

    translate.train(args.out, preset=args.preset, corpus=args.corpus, overrides=given_overrides(args, SECTIONS),
                    resume=args.resume, if_exists=args.if_exists, progress=not args.no_progress)  # fmt: skip
    return 0


def _load(args: argparse.Namespace):
    from seqlab.tasks.translate.checkpoint import load_translation_ensemble
    from seqlab.training.device import resolve_device

    model, source_vocab, target_vocab, data, objective = load_translation_ensemble(
        [args.checkpoint, *args.ensemble], device=resolve_device(args.device), which=args.weights
    )
    given = (("beam_size", args.beam), ("length_alpha", args.alpha), ("stopping", args.stopping),
             ("prune_relative", args.prune_relative), ("prune_absolute", args.prune_absolute))  # fmt: skip
    changes = {key: value for key, value in given if value is not None}
    objective = dataclasses.replace(objective, **changes)
    return model, {"source_vocab": source_vocab, "target_vocab": target_vocab, "data": data, "objective": objective}


def run_translate(args: argparse.Namespace) -> int:
    """``seqlab translate run``: prints the translations; returns the exit code."""
    from seqlab.data.parallel_text import read_lines
    from seqlab.tasks.translate.translator import translate_lines

    sampling = _sampling(args)
    lines = read_lines(args.input, side="input") if args.input else [line.rstrip("\n") for line in sys.stdin]
    model, setup = _load(args)
    nbest = sampling.get("num_samples", args.nbest)  # with --sample, every sample is printed
    results = translate_lines(model, lines, nbest=nbest, with_attention=args.json, **sampling, **setup)
    for line, translations in zip(lines, results):
        if args.json:
            entries = [{"text": t.text, "log_prob": t.log_prob, "score": t.score, "attention": t.attention}
                       for t in translations]  # fmt: skip
            print(json.dumps({"source": line, "translations": entries}, ensure_ascii=False))
        else:
            print("\n".join(t.text for t in translations))
    return 0


def _sampling(args: argparse.Namespace) -> dict:
    """``translate_lines``' sampling keywords from the flags (none without --sample); refuses contradictions."""
    given = [flag for name, flag in SAMPLING_FLAGS.items() if getattr(args, name) is not None]
    if not args.sample:
        if given:
            raise SeqlabError(f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} for sampling: add --sample")
        return {}
    if args.beam is not None and args.beam > 1:
        raise SeqlabError(f"--sample draws instead of searching: it does not go with --beam {args.beam}")
    if args.nbest != 1:
        raise SeqlabError("--nbest ranks the translations a search finds; with --sample, --samples N draws N per line")
    from seqlab.decode import SamplingConfig

    options = {"temperature": args.temperature, "top_k": args.top_k, "top_p": args.top_p}
    config = SamplingConfig(**{name: value for name, value in options.items() if value is not None})
    return {"sampling": config, "num_samples": 1 if args.samples is None else args.samples, "seed": args.seed}


def run_attention(args: argparse.Namespace) -> int:
    """``seqlab translate attention``: writes the PNG and prints the translation."""
    from seqlab.tasks.translate.attention_map import plot_attention
    from seqlab.tasks.translate.translator import source_text, translate_lines

    model, setup = _load(args)
    best = translate_lines(model, [args.sentence], with_attention=True, **setup)[0][0]
    if best.attention is None:
        which = "a run of the ensemble has" if args.ensemble else "the model has"
        raise SeqlabError(f"{args.checkpoint}: {which} no attention (attention 'none'): no map to draw")
    source_tokens = _pieces(setup["source_vocab"], source_text(args.sentence, setup["data"]))
    target_tokens = [*_pieces(setup["target_vocab"], best.text), "<eos>"][: len(best.attention)]
    plot_attention(best.attention, source_tokens, target_tokens, args.out, title=f"{args.sentence} → {best.text}")
    print(best.text)
    return 0


def _pieces(vocab, text: str) -> list[str]:
    """The units ``text`` is cut into, as shown on an attention map's axis."""
    return vocab.encode_pieces(text) if hasattr(vocab, "encode_pieces") else vocab.split(text)


def run_analyse(args: argparse.Namespace) -> int:
    """``seqlab translate analyse``: prints the share of search and model errors per setting."""
    from seqlab.data.parallel_text import read_parallel_text
    from seqlab.tasks.translate.error_analysis import analyse_errors

    pairs = read_parallel_text(args.source, args.reference)
    model, setup = _load(args)
    for beam in args.beams:
        for alpha in args.alphas:
            analysis = analyse_errors(model, pairs.sources, pairs.targets, beam_size=beam, alpha=alpha,
                                      examples=args.examples, **setup)  # fmt: skip
            if args.json:
                print(json.dumps(analysis.to_json(), ensure_ascii=False))
                continue
            print(analysis.report())
    return 0
