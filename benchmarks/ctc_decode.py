"""Speed of seqlab's CTC prefix beam search against pyctcdecode's, side by side on the same log-probabilities.

Both decoders search the same per-frame log-probabilities with the same beam width, the same
symbol pruning (``token_min_logp``: a symbol is tried at a frame when its log-probability reaches
it, or when it is the frame's best) and the same beam pruning (``beam_prune_logp``), without a
language model, so that both rank prefixes by their CTC probability alone (pyctcdecode adds no
partial-word score without a language model). pyctcdecode wants its labels as strings: symbol k
becomes one letter, the blank ''. There is no space symbol, so pyctcdecode sees one growing word.

The log-probabilities are read from ``--logits FILE``, an ``.npz`` with ``log_probs`` (B, T, K)
(or ``logits``, log-softmaxed here) with the blank as symbol 0, ``lengths`` (B,), and optionally
``targets`` (B, L) with ``target_lengths`` (B,) for the error rates. Without a file they are made
up, as a trained model's look: each of 2–7 digits is a spike of 1–3 frames among blanks, at random
places in 100–200 frames, with noise, a weak spike now and then and a second-best digit close
behind on some frames; the targets are drawn from these distributions (a path sampled frame by
frame, then collapsed), so that the made-up model is calibrated and the most probable labelling is
the best guess. ``--flat`` makes tables of random scores instead, far less peaked than a model's,
where the two beams part more often (which best labelling is the more probable is then the measure
of the two searches).

The script times seqlab's batched call and pyctcdecode's loop over utterances round-robin after an
untimed round (numba compiles in it), and prints the median times, the ratio ``pyctcdecode time /
seqlab time`` (2.00 = twice as fast), how often the best labellings agree, which of two different
best labellings is the more probable (p(l|x) by the reference's forward algorithm), and the symbol
error rate of greedy decoding and of both beam searches against the targets. Target (issue 12): a
ratio of at least 2 at the same beam width, with the same or a lower error rate.

Usage:
    python benchmarks/ctc_decode.py                                  # 500 made-up utterances, beam 25
    python benchmarks/ctc_decode.py --utterances 200 --beam 50 --token-min-logp=-8 --beam-prune-logp=-inf
    python benchmarks/ctc_decode.py --flat 3 --frames 50 100 --utterances 200       # random tables
    python benchmarks/ctc_decode.py --logits outputs.npz
"""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import platform
import statistics
import string
import time
from collections.abc import Callable

import numpy as np
import pyctcdecode

from seqlab.decode import ctc_greedy, ctc_prefix_beam_search
from seqlab.metrics.edit_distance import edit_statistics
from seqlab.metrics.wer import word_error_rate
from seqlab.reference import ctc_collapse, ctc_forward

LETTERS = string.ascii_lowercase + string.ascii_uppercase  # symbol k > 0 is LETTERS[k - 1] for pyctcdecode


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--logits", help=".npz of log_probs (or logits), lengths [, targets, target_lengths]")
    parser.add_argument("--utterances", type=int, default=500, help="made-up utterances (without --logits)")
    parser.add_argument("--frames", type=int, nargs=2, default=(100, 200), help="the range of T, made-up")
    parser.add_argument("--symbols", type=int, default=11, help="K, the blank and ten digits, made-up")
    parser.add_argument("--flat", type=float, help="made-up tables log_softmax(N(0, FLAT²)) instead, no targets")
    parser.add_argument("--beam", type=int, default=25, help="beam width of both decoders")
    parser.add_argument("--token-min-logp", type=float, default=-5.0, help="pyctcdecode's default: -5")
    parser.add_argument("--beam-prune-logp", type=float, default=-10.0, help="pyctcdecode's default: -10; =-inf: off")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds (median taken)")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def make_utterances(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, list[list[int]]]:
    """Made-up float32 log-probabilities (B, T, K) with spikes where digits are, their lengths, and targets drawn
    from them: one path sampled frame by frame, collapsed (the made-up model is calibrated)."""
    rng = np.random.default_rng(args.seed)
    low, high = args.frames
    logits = rng.normal(scale=1.0, size=(args.utterances, high, args.symbols))
    logits[:, :, 0] += rng.uniform(7.0, 12.0, size=(args.utterances, high))  # blanks, mostly
    lengths = rng.integers(low, high + 1, size=args.utterances)
    for b, steps in enumerate(lengths):
        digits = rng.integers(1, args.symbols, size=rng.integers(2, 8))
        starts = np.sort(rng.choice(np.arange(0, steps - 3, 4), size=len(digits), replace=False))
        for digit, start in zip(digits, starts):
            frames = slice(start, start + rng.integers(1, 4))
            logits[b, frames, digit] += rng.uniform(9.0, 15.0) if rng.random() > 0.1 else rng.uniform(5.0, 9.0)
            if rng.random() < 0.2:  # a confusable digit close behind
                logits[b, frames, rng.integers(1, args.symbols)] += rng.uniform(7.0, 13.0)
    log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    cumulative = np.exp(log_probs).cumsum(axis=-1)
    paths = (rng.random(size=(args.utterances, high, 1)) > cumulative).sum(axis=-1).clip(max=args.symbols - 1)
    targets = [ctc_collapse(path[:steps].tolist()) for path, steps in zip(paths, lengths)]
    return log_probs.astype(np.float32), lengths, targets


def make_flat_tables(args: argparse.Namespace) -> tuple[np.ndarray, np.ndarray, None]:
    """Tables of random scores, no spikes: far more labellings close to the best than a model gives."""
    rng = np.random.default_rng(args.seed)
    logits = rng.normal(scale=args.flat, size=(args.utterances, args.frames[1], args.symbols))
    lengths = rng.integers(args.frames[0], args.frames[1] + 1, size=args.utterances)
    log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    return log_probs.astype(np.float32), lengths, None


def read_utterances(path: str) -> tuple[np.ndarray, np.ndarray, list[list[int]] | None]:
    """Log-probabilities (B, T, K), lengths (B,) and, if the file has them, the targets."""
    arrays = np.load(path)
    if "log_probs" in arrays:
        log_probs = arrays["log_probs"]
    else:
        logits = arrays["logits"].astype(np.float64)
        top = logits.max(axis=-1, keepdims=True)
        log_probs = logits - top - np.log(np.exp(logits - top).sum(axis=-1, keepdims=True))
    targets = None
    if "targets" in arrays:
        targets = [row[:length].tolist() for row, length in zip(arrays["targets"], arrays["target_lengths"])]
    return log_probs, arrays["lengths"].astype(np.int64), targets


def time_side_by_side(steps: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median seconds per call of each step, timed round-robin after one untimed round."""
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for round_index in range(rounds + 1):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            if round_index:
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def error_rate(targets: list[list[int]] | None, hypotheses: list[list[int]]) -> str:
    if targets is None:
        return "-"
    return f"{100 * word_error_rate(sum(edit_statistics(t, h) for t, h in zip(targets, hypotheses))):.2f}"


def main() -> None:
    args = parse_arguments()
    logging.getLogger("pyctcdecode").setLevel(logging.ERROR)  # no space token, no kenlm: known and fine here
    if args.logits:
        log_probs, lengths, targets = read_utterances(args.logits)
    elif args.flat:
        log_probs, lengths, targets = make_flat_tables(args)
    else:
        log_probs, lengths, targets = make_utterances(args)
    num_symbols = log_probs.shape[2]
    decoder = pyctcdecode.build_ctcdecoder(["", *LETTERS[: num_symbols - 1]])
    utterances = [log_probs[b, :length] for b, length in enumerate(lengths)]
    options = dict(beam_width=args.beam, token_min_logp=args.token_min_logp, beam_prune_logp=args.beam_prune_logp)
    outputs: dict[str, list[list[int]]] = {}

    def theirs() -> None:
        beams = [decoder.decode_beams(u, prune_history=False, **options)[0][0] for u in utterances]
        outputs["pyctcdecode"] = [[LETTERS.index(c) + 1 for c in text] for text in beams]

    def ours() -> None:
        found = ctc_prefix_beam_search(log_probs, lengths, **options)
        outputs["seqlab"] = [hypotheses[0].symbols for hypotheses in found]

    def greedy() -> None:
        outputs["greedy"] = ctc_greedy(log_probs, lengths)

    times = time_side_by_side({"pyctcdecode": theirs, "seqlab": ours, "greedy": greedy}, args.rounds)
    differ = [b for b, (x, y) in enumerate(zip(outputs["seqlab"], outputs["pyctcdecode"])) if x != y]
    more_probable = {"seqlab": 0, "pyctcdecode": 0, "neither": 0}
    for b in differ:  # which best labelling has the higher p(l|x), by the reference's forward algorithm
        utterance = utterances[b].astype(np.float64)
        ours_log_p, theirs_log_p = (ctc_forward(utterance, outputs[name][b])[1] for name in ("seqlab", "pyctcdecode"))
        winner = "seqlab" if ours_log_p > theirs_log_p else "pyctcdecode" if theirs_log_p > ours_log_p else "neither"
        more_probable[winner] += 1
    machine = platform.processor() or platform.machine()
    print(
        f"# pyctcdecode {importlib.metadata.version('pyctcdecode')}, {machine}, {len(utterances)} utterances of "
        f"{lengths.min()}..{lengths.max()} frames, K = {num_symbols}, beam {args.beam}, token_min_logp "
        f"{args.token_min_logp}, beam_prune_logp {args.beam_prune_logp}, no LM, median of {args.rounds}"
    )
    print("| decoder | ms (all utterances) | symbol error rate % |")
    print("|---|---|---|")
    for name in ("pyctcdecode", "seqlab", "greedy"):
        print(f"| {name} | {times[name] * 1e3:.1f} | {error_rate(targets, outputs[name])} |")
    print(f"ratio pyctcdecode / seqlab: {times['pyctcdecode'] / times['seqlab']:.2f}")
    same = len(utterances) - len(differ)
    print(f"best labellings equal: {same}/{len(utterances)} ({100 * same / len(utterances):.1f}%)")
    print(f"where they differ, the more probable p(l|x): {more_probable}")


if __name__ == "__main__":
    main()
