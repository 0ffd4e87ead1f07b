"""GloVe on a real corpus: counting and training cost, then analogy and similarity scores.

Trains seqlab's GloVe (dim 100, window 10, min_count 5, x_max 100 or --x-max, 2 threads, float32
parameters or --dtype float64) and prints the settings, the co-occurrence counting time and
nonzeros, the seconds and cost (glove.c's J / 2M) of each epoch, the median epoch's nanoseconds
per entry of X (wall-clock time, the epoch's shuffle included, over all threads together), the
peak memory (ru_maxrss of the process), then the scores of the vectors by gensim's own evaluators:
accuracy on the Google analogies (questions-words.txt, 30,000 most frequent words) and Spearman
correlation on WordSim-353 and SimLex-999.

Data: ``$SEQLAB_DATA`` is the shared data folder (default ``../shared/data`` next to the
repository); the corpus defaults to ``wikitext-2/train.txt`` in it, the test sets are read from
``embedding-eval/``.

Usage:
    python benchmarks/glove.py                          # wikitext-2, 15 epochs
    python benchmarks/glove.py --x-max 10 --dtype float64
    python benchmarks/glove.py --x-max 10 --threads 1   # ns per entry of one thread
    python benchmarks/glove.py --epochs 1 --max-lines 2000
    python benchmarks/glove.py path/to/corpus.txt --epochs 25 --json glove.json
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import platform
from pathlib import Path

import gensim
import numpy as np
from embedding_scores import as_gensim, data_folder, gensim_scores

from seqlab.embeddings.corpus import read_sentences
from seqlab.embeddings.glove import EpochReport, GloVeConfig, train_glove


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", type=Path, help="text file, one sentence per line")
    parser.add_argument("--epochs", type=int, default=15, help="the Stanford demo's 15")
    parser.add_argument("--x-max", type=float, default=100.0, help="the paper's 100; the Stanford demo uses 10")
    parser.add_argument("--window", type=int, default=10, help="words on each side")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32", help="float64: glove.c's")
    parser.add_argument("--max-lines", type=int, help="train on the first lines only (a quick check)")
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    return parser.parse_args()


def main() -> None:
    args = parse_arguments()
    corpus = args.corpus or data_folder() / "wikitext-2" / "train.txt"
    config = GloVeConfig(
        dim=100,
        window=args.window,
        min_count=5,
        x_max=args.x_max,
        epochs=args.epochs,
        threads=args.threads,
        dtype=args.dtype,
    )
    settings = {"corpus": str(corpus), "max_lines": args.max_lines, **dataclasses.asdict(config)}
    print("settings:", json.dumps(settings), f"| numpy {np.__version__}, gensim {gensim.__version__}", platform.node())

    text = list(itertools.islice(read_sentences(corpus), args.max_lines)) if args.max_lines else corpus

    def report(epoch: EpochReport) -> None:
        print(f"epoch {epoch.epoch:3d}  cost {epoch.cost:.6f}  {epoch.seconds:.2f} s", flush=True)

    result = train_glove(text, config, progress=report)
    print(f"vocabulary: {len(result.vectors)} words in {result.vocabulary_seconds:.2f} s")
    print(f"counting: {result.counting_seconds:.2f} s, {result.nonzeros} nonzeros")
    print(f"seconds per epoch: {np.mean(result.epoch_seconds):.2f} (mean of {len(result.epoch_seconds)})")
    ns_per_entry = float(np.median(result.epoch_seconds)) / result.nonzeros * 1e9
    threads = f"{config.threads} thread" + ("s" if config.threads > 1 else "")
    print(f"ns per entry: {ns_per_entry:.0f} (median epoch / nonzeros; {threads}, {config.dtype})")
    print(f"peak memory: {result.peak_memory_bytes / 2**20:.0f} MiB")
    scores = gensim_scores(as_gensim(result.vectors.index_to_key, result.vectors.vectors))
    for name, value in scores.items():
        print(f"{name}: {value:.4f}")
    if args.json:
        fields = {name: getattr(result, name) for name in ("losses", "vocabulary_seconds", "counting_seconds")}
        fields |= {name: getattr(result, name) for name in ("epoch_seconds", "peak_memory_bytes", "nonzeros")}
        payload = {"settings": settings, "vocabulary_size": len(result.vectors), **fields, **scores}
        payload["ns_per_entry"] = ns_per_entry
        args.json.write_text(json.dumps(payload, indent=2) + "\n")


if __name__ == "__main__":
    main()
