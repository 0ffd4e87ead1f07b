"""Decoding speed of a trained translation model: greedy against beam search, batched against one sentence at a time.

Targets (issue 10): beam 5 costs at most 2.5× greedy, and batched beam search is at least 10× faster
than decoding one sentence at a time with a per-sentence beam. All three decode the same source
sentences with the same model and the same search code (:func:`seqlab.decode.search`); only the
batching and the beam differ. Sentences are batched in order of length, as ``seqlab translate run``
batches them. Times are wall-clock medians of ``--rounds`` rounds, the settings interleaved.

Usage:
    python benchmarks/decode_speed.py RUN_DIR                       # a run of seqlab translate train
    python benchmarks/decode_speed.py RUN_DIR --split valid --single 100 --beam 5 --rounds 3
    python benchmarks/decode_speed.py RUN_DIR --prune-relative 0.6 --prune-absolute 2.5   # Freitag's pruning
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import statistics
import time

import torch

from seqlab.tasks.translate.checkpoint import load_translation_model
from seqlab.tasks.translate.config import STOPPING_RULES
from seqlab.tasks.translate.data import prepare_translation_data
from seqlab.tasks.translate.translator import translate_lines


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="a checkpoint directory written by seqlab translate train")
    parser.add_argument("--split", default="test", choices=["train", "valid", "test"], help="whose sources to decode")
    parser.add_argument("--beam", type=int, default=5)
    parser.add_argument("--stopping", choices=STOPPING_RULES, help="beam search's stopping rule (default: the run's)")
    parser.add_argument("--prune-relative", type=float, help="beam search's relative threshold rp (default: the run's)")
    parser.add_argument("--prune-absolute", type=float, help="beam search's absolute threshold ap (default: the run's)")
    parser.add_argument("--batch-size", type=int, default=128, help="sentences per batch (batched settings)")
    parser.add_argument("--single", type=int, default=100, help="sentences decoded one at a time (a subset)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    return parser.parse_args()


def sentences_per_second(decode, sources: list[str], rounds: int) -> float:
    """Median sentences/s of ``decode(sources)`` over ``rounds`` timed calls (after one warm-up)."""
    decode(sources[: min(len(sources), 8)])
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        decode(sources)
        times.append(time.perf_counter() - start)
    return len(sources) / statistics.median(times)


def main() -> None:
    arguments = parse_arguments()
    torch.set_num_threads(arguments.threads)
    model, source_vocab, target_vocab, data, objective = load_translation_model(arguments.run)
    sources = prepare_translation_data(data, vocabularies=(source_vocab, target_vocab)).sources[arguments.split]
    stopping = arguments.stopping or objective.stopping
    greedy = dataclasses.replace(objective, beam_size=1)
    thresholds = {"prune_relative": arguments.prune_relative, "prune_absolute": arguments.prune_absolute}
    pruning = {name: value for name, value in thresholds.items() if value is not None}
    beam = dataclasses.replace(objective, beam_size=arguments.beam, stopping=stopping, **pruning)
    common = {"source_vocab": source_vocab, "target_vocab": target_vocab, "data": data}

    def batched(setting):
        return lambda lines: translate_lines(model, lines, objective=setting, batch_size=arguments.batch_size, **common)

    def one_at_a_time(lines):
        for line in lines:
            translate_lines(model, [line], objective=beam, batch_size=1, **common)

    print(f"# torch {torch.__version__}, {platform.machine()}, {arguments.threads} threads; {arguments.run}, "
          f"{len(sources)} {arguments.split} sentences (one at a time: the first {arguments.single}); "
          f"beam search stops by {stopping!r}, pruned by rp {beam.prune_relative}, ap {beam.prune_absolute}; "
          f"median of {arguments.rounds} rounds")  # fmt: skip
    rates = {
        "greedy, batched": sentences_per_second(batched(greedy), sources, arguments.rounds),
        f"beam {arguments.beam}, batched": sentences_per_second(batched(beam), sources, arguments.rounds),
        f"beam {arguments.beam}, one sentence at a time": sentences_per_second(
            one_at_a_time, sources[: arguments.single], arguments.rounds
        ),
    }
    print("| decoding | sentences/s |")
    print("|---|---|")
    for name, rate in rates.items():
        print(f"| {name} | {rate:,.1f} |")
    greedy_rate, beam_rate, single_rate = rates.values()
    print(f"beam {arguments.beam} costs {greedy_rate / beam_rate:.2f}x greedy (target <= 2.5x)")
    print(f"batched beam is {beam_rate / single_rate:.1f}x one sentence at a time (target >= 10x)")


if __name__ == "__main__":
    main()
