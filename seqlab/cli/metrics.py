"""``seqlab bleu`` and ``seqlab chrf``: score a hypothesis file against references, as sacrebleu's command line.

Option names are sacrebleu's. The text line and the ``--json`` object have sacrebleu's format; the
signature's ``version`` names seqlab (see ``seqlab.metrics.signature``). Imports only the standard library
here; the metrics (and NumPy) are imported when a command runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from seqlab.errors import SeqlabError

TOKENIZERS = ("13a", "intl", "char", "none")  # seqlab.metrics.tokenizers.TOKENIZERS, without importing it
SMOOTH_METHODS = ("exp", "floor", "add-k", "none")  # the keys of seqlab.metrics.bleu.SMOOTH_DEFAULTS


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``bleu`` and ``chrf`` commands to ``subparsers``."""
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


def read_lines(paths: list[Path]) -> list[list[str]]:
    """The lines of each file; every file must have as many as the first."""
    contents = []
    for path in paths:
        try:
            contents.append(path.read_text(encoding="utf-8").split("\n"))
        except FileNotFoundError:
            raise SeqlabError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError) as error:
            raise SeqlabError(f"{path}: cannot read: {error}") from None
        if contents[-1][-1] == "":
            contents[-1].pop()
    for path, lines in zip(paths[1:], contents[1:]):
        if len(lines) != len(contents[0]):
            raise SeqlabError(f"{paths[0]} has {len(contents[0])} lines but {path} has {len(lines)}")
    return contents


def run_bleu(args: argparse.Namespace) -> int:
    """Print corpus BLEU; returns the exit code."""
    from seqlab.metrics import bleu

    options = {"smooth_method": args.smooth_method, "smooth_value": args.smooth_value}
    text = {"tokenize": args.tokenize, "lowercase": args.lowercase}

    def statistics(hypotheses, references):
        return [row.as_list() for row in bleu.sentence_statistics(hypotheses, references, **text)]

    def score(row, signature=""):
        return bleu.bleu_from_statistics(bleu.BLEUStatistics.from_list(row), signature=signature, **options)

    return _report(args, statistics, score, lambda nrefs, **more: bleu.bleu_signature(nrefs, **text, **options, **more))


def run_chrf(args: argparse.Namespace) -> int:
    """Print corpus chrF; returns the exit code."""
    from seqlab.metrics import chrf
    from seqlab.metrics.signature import Score

    options = {"char_order": args.chrf_char_order, "word_order": args.chrf_word_order, "lowercase": args.lowercase,
               "whitespace": args.chrf_whitespace, "eps_smoothing": args.chrf_eps_smoothing}  # fmt: skip
    name = chrf.chrf_name(args.chrf_beta, args.chrf_word_order)

    def score(row, signature=""):
        value = chrf.chrf_from_statistics(row, beta=args.chrf_beta, eps_smoothing=args.chrf_eps_smoothing)
        return Score(name, value, signature)

    def statistics(hypotheses, references):
        return chrf.chrf_statistics(hypotheses, references, beta=args.chrf_beta, **options)

    return _report(args, statistics, score, lambda nrefs, **more: chrf.chrf_signature(nrefs, **options, **more))


def _report(args, statistics, score, signature) -> int:
    from seqlab.metrics.bleu import count_references

    paths = [args.hypotheses, *([args.compare] if args.compare else []), *args.references]
    contents = read_lines(paths)
    systems, references = contents[: 1 + bool(args.compare)], contents[1 + bool(args.compare) :]
    nrefs = count_references(references)
    if args.paired_bs != bool(args.compare):
        raise SeqlabError("--paired-bs and --compare OTHER go together")
    rows = [statistics(hypotheses, references) for hypotheses in systems]
    if not args.compare:
        if not rows[0]:
            raise SeqlabError(f"{args.hypotheses}: no lines to score")
        total = [sum(column) for column in zip(*rows[0])]
        result = score(total, signature(nrefs))
        print(result.to_json(args.width) if args.json else result.format(args.width, score_only=args.score_only))
        return 0
    from seqlab.metrics.bootstrap import paired_bootstrap

    sign = signature(nrefs, n_bootstrap=args.paired_bs_n, seed=args.seed)
    results = paired_bootstrap(*rows, lambda row: score(row).score, n_samples=args.paired_bs_n, seed=args.seed)
    report = [{"system": str(path), "score": result.score, "mean": result.mean, "ci": result.ci,
               "p_value": result.p_value} for path, result in zip(paths, results)]  # fmt: skip
    name = score([0] * len(rows[0][0])).name
    if args.json:
        print(json.dumps({"name": name, "signature": sign, "systems": report}, indent=1, ensure_ascii=False))
        return 0
    w = args.width
    for entry in report:
        p_value = "" if entry["p_value"] is None else f" (p = {entry['p_value']:.4f})"
        print(f"{entry['system']}: {name} = {entry['score']:.{w}f} (μ = {entry['mean']:.{w}f} ± {entry['ci']:.{w}f})"
              f"{p_value}")  # fmt: skip
    print(f"{name}|{sign}")
    return 0
