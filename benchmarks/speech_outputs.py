"""Save a trained recogniser's outputs on its held-out utterances, for ``benchmarks/ctc_decode.py --logits``.

Runs the model of a ``seqlab speech train`` run over the run's held-out utterances (unseen
recordings and the left-out speaker, made again from its data settings) and writes an ``.npz``
with ``log_probs`` (B, T, K) float32, ``lengths`` (B,), ``targets`` (B, L) and ``target_lengths``
(B,), so that the decoders are compared on what a real model outputs rather than on made-up tables.

Usage:
    python benchmarks/speech_outputs.py runs/digits-connected --out outputs.npz [--utterances connected]
"""

from __future__ import annotations

import argparse
import dataclasses

import numpy as np
import torch

from seqlab.tasks.speech.checkpoint import load_recogniser
from seqlab.tasks.speech.data import prepare_speech_data
from seqlab.tasks.speech.task import SpeechTask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run", help="a directory written by `seqlab speech train`")
    parser.add_argument("--out", required=True, help="the .npz to write")
    parser.add_argument("--utterances", choices=["isolated", "connected"], help="default: the run's own")
    args = parser.parse_args()
    model, config = load_recogniser(args.run)
    if args.utterances:
        config = dataclasses.replace(config, utterances=args.utterances)
    task = SpeechTask(prepare_speech_data(config), config, torch.device("cpu"), seed=0)
    rows: list[tuple[np.ndarray, list[int]]] = []
    with torch.no_grad():
        for indices in task.plans["valid"].evaluation_share(0, 1):
            batch = task.collate("valid", indices)
            out = model(batch.features, batch.lengths)
            for row, (length, target_length) in enumerate(zip(out.lengths.tolist(), batch.target_lengths.tolist())):
                rows.append((out.log_probs[row, :length].numpy(), batch.targets[row, :target_length].tolist()))
    frames, longest = max(len(lp) for lp, _ in rows), max(len(target) for _, target in rows)
    log_probs = np.zeros((len(rows), frames, model.config.num_symbols), dtype=np.float32)
    targets = np.zeros((len(rows), longest), dtype=np.int64)
    for index, (values, target) in enumerate(rows):
        log_probs[index, : len(values)] = values
        targets[index, : len(target)] = target
    np.savez(args.out, log_probs=log_probs, lengths=np.array([len(lp) for lp, _ in rows]), targets=targets,
             target_lengths=np.array([len(target) for _, target in rows]))  # fmt: skip
    print(f"{args.out}: {len(rows)} utterances, up to {frames} frames, {model.config.num_symbols} symbols")


if __name__ == "__main__":
    main()
