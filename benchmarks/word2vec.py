"""word2vec against gensim, side by side in one run: training speed and the quality of the vectors.

Both train with the same settings (dim 100, window 5, 5 negatives, min_count 5, 5 epochs,
subsampling 1e-3, learning rate 0.025 falling to 1e-4, 2 threads), skip-gram and CBOW; with
``--loss hierarchical`` both use hierarchical softmax instead of negative sampling (gensim's
``hs=1, negative=0``):

1. on wikitext-2's training text, once per seed: words/s of each, and the scores of each set of
   vectors by gensim's own evaluators (analogies, WordSim-353, SimLex-999);
2. on a synthetic Zipfian corpus (default 17M words, 100k word types), for speed alone.

Times are training only: gensim's ``build_vocab`` and our counting and encoding are left out of
both (they are printed). gensim reads its ``corpus_file`` mode, its fastest with several threads.
Words/s counts the words of the text (before min_count and subsampling) times epochs, per second.

Usage:
    python benchmarks/word2vec.py                       # both corpora, 6 seeds on wikitext-2 (~35 min)
    python benchmarks/word2vec.py --seeds 1 --synthetic-words 2000000
    python benchmarks/word2vec.py --loss hierarchical --epochs 2 --seeds 3 --synthetic-words 0
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import gensim
import numba
import numpy as np
from embedding_scores import as_gensim, data_folder, gensim_scores

from seqlab.embeddings.corpus import read_sentences
from seqlab.embeddings.word2vec import Word2VecConfig, train_word2vec

SETTINGS = {"dim": 100, "window": 5, "negative": 5, "min_count": 5, "epochs": 5, "sample": 1e-3, "loss": "negative"}


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=6, help="runs per model on wikitext-2")
    parser.add_argument("--synthetic-words", type=int, default=17_000_000, help="0 skips the synthetic corpus")
    parser.add_argument("--architectures", nargs="+", default=["skipgram", "cbow"])
    parser.add_argument("--loss", choices=("negative", "hierarchical"), default=SETTINGS["loss"], help="output layer")
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    parser.add_argument("--json", type=Path, metavar="OUT", help="also write the results as JSON")
    return parser.parse_args()


def train_ours(path: Path, architecture: str, threads: int, seed: int) -> tuple[float, dict, object]:
    """(training seconds, details, KeyedVectors) of seqlab's word2vec."""
    config = Word2VecConfig(architecture=architecture, alpha=0.025, threads=threads, seed=seed, **SETTINGS)
    began = time.perf_counter()
    model, report = train_word2vec(path, config)
    preparation = time.perf_counter() - began - report.seconds  # counting and encoding the text
    details = {"preparation_seconds": preparation, "losses": [epoch.loss for epoch in report.epochs]}
    return report.seconds, details, model.keyed_vectors()


def train_gensim(path: Path, architecture: str, threads: int, seed: int) -> tuple[float, dict, object]:
    """(training seconds, details, gensim KeyedVectors) of gensim's Word2Vec."""
    began = time.perf_counter()
    model = gensim.models.Word2Vec(
        vector_size=SETTINGS["dim"],
        window=SETTINGS["window"],
        negative=SETTINGS["negative"] if SETTINGS["loss"] == "negative" else 0,
        hs=int(SETTINGS["loss"] == "hierarchical"),
        min_count=SETTINGS["min_count"],
        sample=SETTINGS["sample"],
        workers=threads,
        seed=seed,
        sg=int(architecture == "skipgram"),
        alpha=0.025,
        min_alpha=1e-4,
    )
    model.build_vocab(corpus_file=str(path))
    preparation = time.perf_counter() - began
    began = time.perf_counter()
    model.train(
        corpus_file=str(path),
        total_examples=model.corpus_count,
        total_words=model.corpus_total_words,
        epochs=SETTINGS["epochs"],
    )
    return time.perf_counter() - began, {"preparation_seconds": preparation}, model.wv


def compare(path: Path, architecture: str, threads: int, seeds: int, score: bool) -> dict:
    """Train both ``seeds`` times, alternating which goes first; words/s and scores of each."""
    words = sum(len(sentence) for sentence in read_sentences(path)) * SETTINGS["epochs"]
    runs = {"seqlab": [], "gensim": []}
    for seed in range(1, seeds + 1):
        order = [("seqlab", train_ours), ("gensim", train_gensim)]
        for name, train in order if seed % 2 else order[::-1]:
            seconds, details, vectors = train(path, architecture, threads, seed)
            kv = as_gensim(vectors.index_to_key, vectors.vectors) if name == "seqlab" else vectors
            run = {"seconds": seconds, "words_per_second": words / seconds, **details}
            if score:
                run |= gensim_scores(kv)
            runs[name].append(run)
            print(
                f"  {architecture:8s} {name:6s} seed {seed}: "
                + ", ".join(f"{key} {value:.4g}" for key, value in run.items() if not isinstance(value, list)),
                flush=True,
            )
    summary = {
        name: {
            key: statistics.mean(run[key] for run in results)
            for key in results[0]
            if not isinstance(results[0][key], list)
        }
        for name, results in runs.items()
    }
    summary["speed_ratio"] = summary["seqlab"]["words_per_second"] / summary["gensim"]["words_per_second"]
    return {"runs": runs, "mean": summary}


def write_zipf_corpus(path: Path, words: int, types: int = 100_000, seed: int = 0) -> None:
    """A text of ``words`` words drawn from a Zipf(1) law over ``types`` word types, 20-word lines."""
    rng = np.random.default_rng(seed)
    probabilities = 1.0 / np.arange(1, types + 1)
    probabilities /= probabilities.sum()
    names = np.array([f"w{i}" for i in range(types)])
    with open(path, "w") as handle:
        for start in range(0, words, 1_000_000):
            ids = rng.choice(types, size=min(1_000_000, words - start), p=probabilities)
            lines = names[ids].reshape(-1, 20)
            handle.write("\n".join(" ".join(line) for line in lines) + "\n")


def main() -> None:
    args = parse_arguments()
    SETTINGS.update(loss=args.loss, epochs=args.epochs)  # read by both trainers
    print(
        f"settings: {json.dumps(SETTINGS)}, threads {args.threads}, alpha 0.025 -> 1e-4 | "
        f"numba {numba.__version__}, gensim {gensim.__version__}, numpy {np.__version__} | {platform.node()}"
    )
    results = {"settings": SETTINGS, "threads": args.threads}
    wikitext = data_folder() / "wikitext-2" / "train.txt"
    for architecture in args.architectures:
        print(f"wikitext-2 ({wikitext}), {architecture}:")
        results[f"wikitext-2/{architecture}"] = outcome = compare(
            wikitext, architecture, args.threads, args.seeds, True
        )
        print(f"  mean: {json.dumps(outcome['mean'])}", flush=True)
    if args.synthetic_words:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "zipf.txt"
            write_zipf_corpus(path, args.synthetic_words)
            for architecture in args.architectures:
                print(f"synthetic Zipf corpus, {args.synthetic_words:,} words, {architecture}:")
                outcome = compare(path, architecture, args.threads, 1, False)
                results[f"zipf/{architecture}"] = outcome
                print(f"  speed ratio seqlab / gensim: {outcome['mean']['speed_ratio']:.3f}", flush=True)
    for key, outcome in results.items():
        if isinstance(outcome, dict) and "mean" in outcome:
            print(f"{key:22s} words/s ratio seqlab / gensim = {outcome['mean']['speed_ratio']:.3f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
