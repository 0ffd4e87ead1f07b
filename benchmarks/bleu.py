"""seqlab's corpus BLEU and chrF against sacrebleu's on Multi30k: identical scores, and the time ratio.

References are the first N lines of raw/train.en; hypotheses a seeded corruption of them (words dropped,
replaced and swapped). The two implementations run interleaved, several rounds; medians are compared.

    python benchmarks/bleu.py [--lines 3000] [--rounds 7]   # data: $SEQLAB_DATA/multi30k or ../shared/data
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from pathlib import Path

import sacrebleu

from seqlab.metrics import corpus_bleu, corpus_chrf


def data_dir() -> Path:
    root = os.environ.get("SEQLAB_DATA")
    return Path(root) / "multi30k" if root else Path(__file__).resolve().parents[2] / "shared" / "data" / "multi30k"


def corrupt(lines: list[str], seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    vocabulary = sorted({word for line in lines for word in line.split()})
    output = []
    for line in lines:
        words = [rng.choice(vocabulary) if rng.random() < 0.1 else w for w in line.split() if rng.random() > 0.1]
        if len(words) > 2 and rng.random() < 0.3:
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
        output.append(" ".join(words))
    return output


def compare(name, ours, theirs, rounds: int) -> None:
    times, scores = {"seqlab": [], "sacrebleu": []}, {}
    for _ in range(rounds):
        for label, function in (("sacrebleu", theirs), ("seqlab", ours)):
            started = time.perf_counter()
            score = function()
            times[label].append(time.perf_counter() - started)
            scores[label] = score
        assert abs(scores["seqlab"] - scores["sacrebleu"]) <= 1e-8, scores
    median = {label: statistics.median(values) for label, values in times.items()}
    print(f"{name}: score {scores['seqlab']:.6f} (equal), sacrebleu {median['sacrebleu'] * 1e3:.1f} ms, "
          f"seqlab {median['seqlab'] * 1e3:.1f} ms, ratio {median['sacrebleu'] / median['seqlab']:.1f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    references = (data_dir() / "raw" / "train.en").read_text(encoding="utf-8").splitlines()[: args.lines]
    hypotheses = corrupt(references)
    print(f"{len(references)} sentence pairs, {args.rounds} interleaved rounds (medians)")
    compare("BLEU 13a", lambda: corpus_bleu(hypotheses, [references]).score,
            lambda: sacrebleu.corpus_bleu(hypotheses, [references]).score, args.rounds)  # fmt: skip
    compare("chrF", lambda: corpus_chrf(hypotheses, [references]).score,
            lambda: sacrebleu.corpus_chrf(hypotheses, [references]).score, args.rounds)  # fmt: skip
    val = data_dir() / "raw" / "val.en"
    if val.exists():
        lines = val.read_text(encoding="utf-8").splitlines()
        corrupted = corrupt(lines, 1)
        compare("BLEU val.en", lambda: corpus_bleu(corrupted, [lines]).score,
                lambda: sacrebleu.corpus_bleu(corrupted, [lines]).score, args.rounds)  # fmt: skip


if __name__ == "__main__":
    main()
