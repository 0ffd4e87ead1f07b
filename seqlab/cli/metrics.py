"""``seqlab bleu`` and ``seqlab chrf``: score a hypothesis file against references, as sacrebleu's command line;
``seqlab wer``: the word (and character) error rate of a transcript file, as jiwer computes it.

For BLEU and chrF, option names are sacrebleu's. The text line and the ``--json`` object have sacrebleu's
format; the signature's ``version`` names seqlab (see ``seqlab.metrics.signature``). ``wer`` takes the
reference first, as jiwer does. This module parses and prints; the files are read and scored by
``seqlab.metrics.files`` and ``seqlab.metrics.wer_files``, imported (with NumPy) when a command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from seqlab.errors import SeqlabError

TOKENIZERS = ("13a", "intl", "char", "none")  # seqlab.metrics.tokenizers.TOKENIZERS, without importing it
SMOOTH_METHODS = ("exp", "floor", "add-k", "none")  # the keys of seqlab.metrics.bleu.SMOOTH_DEFAULTS


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bleu``, ``chrf`` and ``wer`` commands to ``subparsers``."""
    bleu = _command(subparsers, "bleu", "corpus BLEU of a hypothesis file against references (sacrebleu's)")
    bleu.add_argument("--tokenize", "-tok", choices=TOKENIZERS, default="13a", help="tokeniser")
    bleu.add_argument("--smooth-method", "-s", choices=SMOOTH_METHODS, default="exp", help="smoothing")
    bleu.add_argument("--smooth-value", "-sv", type=float, default=None, help="for floor (0.1) and add-k (1)")
    bleu.add_argument("--force", action="store_true", help="accepted for sacrebleu's sake: no warning is given")
    bleu.set_defaults(func=run_bleu)
    chrf = _command(subparsers, "chrf", "corpus chrF / chrF++ of a hypothesis file against references (sacrebleu's)")
    chrf.add_argument("--chrf-char-order", "-cc", type=int, default=6, help="character n-gram order")
    chrf.add_argument("--chrf-word-order", "-cw", type=int, default=0, help="word n-gram order (2: chrF++)")
    chrf.add_argument("--chrf-beta", type=int, default=2, help="weight of recall")
    chrf.add_argument("--chrf-whitespace", action="store_true", help="keep spaces in character n-grams")
    chrf.add_argument("--chrf-eps-smoothing", action="store_true", help="chrF++.py's epsilon smoothing")
    chrf.set_defaults(func=run_chrf)
    _register_wer(subparsers)


def _register_wer(subparsers: argparse._SubParsersAction) -> None:
    help_text = "word error rate of recognised transcripts against reference ones (jiwer's)"
    description = ("Word error rate (S + D + I) / N of recognised transcripts against reference ones, summed over "
                   "the corpus, with jiwer's alignment and word splitting. Rates in --json are fractions.")  # fmt: skip
    wer = subparsers.add_parser("wer", help=help_text, description=description)
    wer.add_argument("reference", metavar="REFERENCE", type=Path, help="what was said, one sentence per line")
    wer.add_argument("hypothesis", metavar="HYPOTHESIS", type=Path, help="what was recognised, aligned by line")
    wer.add_argument("--cer", action="store_true", help="also the character error rate (spaces count)")
    wer.add_argument("--json", action="store_true", help="print a JSON object: rates and S, D, I, hits, N")
    wer.set_defaults(func=run_wer)


def _command(subparsers: argparse._SubParsersAction, name: str, help_text: str) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".",
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)  # fmt: skip
    parser.add_argument("hypotheses", type=Path, help="system output, one sentence per line")
    parser.add_argument("references", type=Path, nargs="+", help="one or more reference files, aligned")
    parser.add_argument("--lowercase", "-lc", action="store_true", help="compare lower-cased text")
    parser.add_argument("--width", "-w", type=int, default=1, help="decimals of the score")
    parser.add_argument("--score-only", "-b", action="store_true", help="print the number only")
    parser.add_argument("--json", action="store_true", help="print sacrebleu's JSON object")
    parser.add_argument("--compare", type=Path, metavar="OTHER", help="a second system, compared by --paired-bs")
    parser.add_argument("--paired-bs", action="store_true", help="paired bootstrap test of --compare against it")
    parser.add_argument("--paired-bs-n", type=int, default=1000, help="bootstrap resamples")
    parser.add_argument("--seed", type=int, default=12345, help="seed of the resampling (sacrebleu's default)")
    return parser


def run_bleu(args: argparse.Namespace) -> int:
    """Print corpus BLEU; returns the exit code."""
    options = {"tokenize": args.tokenize, "lowercase": args.lowercase, "smooth_method": args.smooth_method,
               "smooth_value": args.smooth_value}  # fmt: skip
    return _report(args, "bleu", options)


def run_chrf(args: argparse.Namespace) -> int:
    """Print corpus chrF; returns the exit code."""
    options = {"char_order": args.chrf_char_order, "word_order": args.chrf_word_order, "beta": args.chrf_beta,
               "lowercase": args.lowercase, "whitespace": args.chrf_whitespace,
               "eps_smoothing": args.chrf_eps_smoothing}  # fmt: skip
    return _report(args, "chrf", options)


def _report(args: argparse.Namespace, metric: str, options: dict) -> int:
    if args.paired_bs != bool(args.compare):
        raise SeqlabError("--paired-bs and --compare OTHER go together")
    from seqlab.metrics.files import compare_files, score_files

    if args.compare:
        comparison = compare_files(metric, args.hypotheses, args.compare, args.references, n_samples=args.paired_bs_n,
                                   seed=args.seed, **options)  # fmt: skip
        print(comparison.to_json() if args.json else comparison.format(args.width))
        return 0
    score = score_files(metric, args.hypotheses, args.references, **options)
    print(score.to_json(args.width) if args.json else score.format(args.width, score_only=args.score_only))
    return 0


def run_wer(args: argparse.Namespace) -> int:
    """Print the corpus WER (and CER); returns the exit code."""
    from seqlab.metrics.wer_files import score_transcripts

    score = score_transcripts(args.reference, args.hypothesis, cer=args.cer)
    print(score.to_json() if args.json else score.format())
    return 0
