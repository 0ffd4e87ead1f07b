"""Speed of seqlab.nn.LinearChainCRF against pytorch-crf (``torchcrf.CRF``), side by side in one run.

Both layers hold the same parameters and see the same emissions, tags and mask; the sentence
lengths are drawn between half the length and the full length (one sentence at full length), so
that padding is handled as in training. Two things are timed:

* loss + backward: the NLL summed over the batch, then ``.backward()`` into the emissions and the
  transition scores (pytorch-crf's ``forward`` returns the log-likelihood: it is negated);
* Viterbi: the best path of every sentence as Python lists of tags, which is what pytorch-crf's
  ``decode`` returns (ours returns a padded tensor; ``.tolist()`` is included in its time).

The layers run round-robin after two untimed rounds, so that the machine's noise hits them alike;
the script prints the median times and the ratio ``pytorch-crf time / seqlab time`` (3.00 = three
times faster). Target (issue 11): at least 3 for both at batch 32, length 40, 17 tags, 2 threads.

Usage:
    python benchmarks/crf.py                                   # batch 32, length 40, 17 tags
    python benchmarks/crf.py --batch 64 --length 60 --tags 9 --repeats 50 --threads 2
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import torch
import torchcrf

from seqlab.nn import LinearChainCRF


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=32, help="sentences per batch")
    parser.add_argument("--length", type=int, default=40, help="T, the length of the longest sentence")
    parser.add_argument("--tags", type=int, default=17, help="K, the number of tags (17: CoNLL-2003 under BIOES)")
    parser.add_argument("--repeats", type=int, default=30, help="timed rounds (median taken)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args()


def time_side_by_side(steps: dict[str, Callable[[], object]], repeats: int, warmup: int = 2) -> dict[str, float]:
    """Median seconds per call of each step, timed round-robin after ``warmup`` untimed rounds."""
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for round_index in range(repeats + warmup):
        for name, step in steps.items():
            start = time.perf_counter()
            step()
            if round_index >= warmup:
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def make_inputs(args: argparse.Namespace) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Emissions (B, T, K) that require a gradient, gold tags (B, T) and a mask (B, T) of prefixes."""
    generator = torch.Generator().manual_seed(args.seed)
    emissions = torch.randn(args.batch, args.length, args.tags, generator=generator).requires_grad_()
    tags = torch.randint(args.tags, (args.batch, args.length), generator=generator)
    lengths = torch.randint((args.length + 1) // 2, args.length + 1, (args.batch,), generator=generator)
    lengths[0] = args.length
    return emissions, tags, torch.arange(args.length) < lengths.unsqueeze(1)


def main() -> None:
    args = parse_arguments()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    ours = LinearChainCRF(args.tags)
    theirs = torchcrf.CRF(args.tags, batch_first=True)
    theirs.load_state_dict(ours.state_dict())
    emissions, tags, mask = make_inputs(args)
    assert ours.decode(emissions, mask).tolist() == theirs.decode(emissions, mask), "the layers disagree"

    def loss_backward(layer: torch.nn.Module, nll: Callable[[], torch.Tensor]) -> Callable[[], None]:
        def step() -> None:
            layer.zero_grad(set_to_none=True)
            emissions.grad = None
            nll().backward()

        return step

    loss_steps = {
        "pytorch-crf": loss_backward(theirs, lambda: -theirs(emissions, tags, mask, reduction="sum")),
        "seqlab": loss_backward(ours, lambda: ours(emissions, tags, mask, reduction="sum")),
    }
    viterbi_steps = {
        "pytorch-crf": lambda: theirs.decode(emissions, mask),
        "seqlab": lambda: ours.decode(emissions, mask).tolist(),
    }
    machine = platform.processor() or platform.machine()
    print(
        f"# torch {torch.__version__}, pytorch-crf {torchcrf.__version__}, {machine}, {args.threads} threads, "
        f"batch {args.batch}, length {args.length} (lengths {mask.sum(1).min().item()}..{args.length}), "
        f"{args.tags} tags, median of {args.repeats}"
    )
    print("| pass | pytorch-crf ms | seqlab ms | ratio |")
    print("|---|---|---|---|")
    for name, steps in (("loss + backward", loss_steps), ("Viterbi", viterbi_steps)):
        times = time_side_by_side(steps, args.repeats)
        print(
            f"| {name} | {times['pytorch-crf'] * 1e3:.2f} | {times['seqlab'] * 1e3:.2f} "
            f"| {times['pytorch-crf'] / times['seqlab']:.2f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
