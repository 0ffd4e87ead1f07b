"""Speed of seqlab.nn's recurrent layers against torch.nn, side by side in one run.

For each configuration it times torch.nn, seqlab's fused path and seqlab's per-step path
(forward alone, and forward + backward), interleaving the three round-robin so that the
machine's noise hits them alike, and prints the median times and the throughput ratios
``torch time / seqlab time`` (1.00 = as fast as torch.nn, 0.50 = half its throughput).

Targets (issue 2): fused within 5% of torch.nn (ratio >= 0.95); per-step LSTM at
(650, 650, batch 20) forward + backward within 2x of torch.nn's fused LSTM (ratio >= 0.5).

``--overhead`` measures instead what seqlab's fused path adds per call: torch.nn and seqlab at
input/hidden 8/8, T = 1, B = 1, forward only, where the kernel itself costs next to nothing,
timed call by call, alternating, over many calls; it prints both medians and their difference.

Usage:
    python benchmarks/layers.py                 # the full grid (about 15 minutes on 2 cores)
    python benchmarks/layers.py --quick         # the 650/650 shape only
    python benchmarks/layers.py --modes lstm --shapes 650x650 --batches 20 --layers 1
    python benchmarks/layers.py --overhead --modes lstm gru    # seqlab's own cost per call
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable

import torch

import seqlab.nn as snn

KINDS = {
    "lstm": (torch.nn.LSTM, snn.LSTM, {}),
    "gru": (torch.nn.GRU, snn.GRU, {}),
    "rnn": (torch.nn.RNN, snn.RNN, {"nonlinearity": "tanh"}),
}
SEQUENCE_LENGTH = 35


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", nargs="+", default=list(KINDS), choices=list(KINDS))
    parser.add_argument("--shapes", nargs="+", default=["200x200", "650x650", "400x1150"], help="INPUTxHIDDEN pairs")
    parser.add_argument("--batches", nargs="+", type=int, default=[20, 64])
    parser.add_argument("--layers", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--steps", type=int, default=SEQUENCE_LENGTH, help="T, the sequence length")
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds per configuration (median taken)")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true", help="only the 650x650 shape")
    parser.add_argument(
        "--overhead", action="store_true", help="time seqlab's own cost per call (8/8, T = 1, B = 1, forward)"
    )
    parser.add_argument("--calls", type=int, default=20000, help="with --overhead: timed calls per layer")
    return parser.parse_args()


def synchronise(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def make_step(layer: torch.nn.Module, x: torch.Tensor, backward: bool) -> Callable[[], None]:
    """One timed unit of work: forward (no graph kept), or forward + backward."""

    def forward_only() -> None:
        with torch.no_grad():
            layer(x)

    def forward_backward() -> None:
        layer.zero_grad(set_to_none=True)
        output, _ = layer(x)
        output.sum().backward()

    return forward_backward if backward else forward_only


def time_side_by_side(
    steps: dict[str, Callable[[], None]], repeats: int, device: str, warmup: int = 2, alternate: bool = False
) -> dict[str, float]:
    """Median seconds per call of each step, timed round-robin after ``warmup`` untimed rounds
    (with ``alternate``, every other round in reverse order, so no step always runs first)."""
    samples: dict[str, list[float]] = {name: [] for name in steps}
    for round_index in range(repeats + warmup):
        order = list(steps.items())
        if alternate and round_index % 2:
            order.reverse()
        for name, step in order:
            synchronise(device)
            start = time.perf_counter()
            step()
            synchronise(device)
            if round_index >= warmup:
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def benchmark_configuration(mode, input_size, hidden_size, batch, num_layers, args) -> list[str]:
    torch_cls, seqlab_cls, extras = KINDS[mode]
    torch.manual_seed(0)
    reference = torch_cls(input_size, hidden_size, num_layers, **extras).to(args.device)
    fused = seqlab_cls(input_size, hidden_size, num_layers, **extras, implementation="fused").to(args.device)
    per_step = seqlab_cls(input_size, hidden_size, num_layers, **extras, implementation="per_step").to(args.device)
    for layer in (fused, per_step):
        layer.load_state_dict(reference.state_dict())
    x = torch.randn(args.steps, batch, input_size, device=args.device)
    rows = []
    for backward in (False, True):
        layers = {"torch": reference, "fused": fused, "per_step": per_step}
        steps = {name: make_step(layer, x, backward) for name, layer in layers.items()}
        times = time_side_by_side(steps, args.repeats, args.device)
        tokens_per_second = args.steps * batch / times["torch"]
        rows.append(
            f"| {mode} | {input_size}/{hidden_size} | {batch} | {num_layers} | {'fwd+bwd' if backward else 'fwd'} "
            f"| {times['torch'] * 1e3:.1f} | {times['fused'] * 1e3:.1f} | {times['per_step'] * 1e3:.1f} "
            f"| {times['torch'] / times['fused']:.2f} | {times['torch'] / times['per_step']:.2f} "
            f"| {tokens_per_second / 1e3:.1f}k |"
        )
        print(rows[-1], flush=True)
    return rows


OVERHEAD_SIZE = 8  # input and hidden size where the kernel's own work is negligible


def measure_overhead(args: argparse.Namespace) -> None:
    """torch.nn against seqlab's fused path at 8/8, T = 1, B = 1, forward only: the medians of
    ``args.calls`` single calls each, alternating call by call, and seqlab's extra µs per call."""
    print(
        f"# torch {torch.__version__}, {platform.processor() or platform.machine()}, {args.threads} threads, "
        f"device {args.device}, input/hidden {OVERHEAD_SIZE}/{OVERHEAD_SIZE}, T = 1, B = 1, forward only, "
        f"median of {args.calls} calls each, round-robin"
    )
    print("| layer | torch.nn µs | seqlab fused µs | seqlab overhead µs |")
    print("|---|---|---|---|")
    for mode in args.modes:
        torch_cls, seqlab_cls, extras = KINDS[mode]
        torch.manual_seed(0)
        reference = torch_cls(OVERHEAD_SIZE, OVERHEAD_SIZE, 1, **extras).to(args.device)
        fused = seqlab_cls(OVERHEAD_SIZE, OVERHEAD_SIZE, 1, **extras).to(args.device)
        fused.load_state_dict(reference.state_dict())
        assert fused.uses_fused_kernel
        x = torch.randn(1, 1, OVERHEAD_SIZE, device=args.device)
        steps = {"torch": make_step(reference, x, False), "fused": make_step(fused, x, False)}
        times = time_side_by_side(steps, args.calls, args.device, warmup=max(2, args.calls // 20), alternate=True)
        print(
            f"| {mode} | {times['torch'] * 1e6:.1f} | {times['fused'] * 1e6:.1f} "
            f"| {(times['fused'] - times['torch']) * 1e6:+.1f} |",
            flush=True,
        )


def main() -> None:
    args = parse_arguments()
    torch.set_num_threads(args.threads)
    if args.overhead:
        measure_overhead(args)
        return
    shapes = ["650x650"] if args.quick else args.shapes
    print(
        f"# torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"{args.threads} threads, device {args.device}, T = {args.steps}, median of {args.repeats}"
    )
    print(
        "| layer | input/hidden | batch | layers | pass | torch.nn ms | fused ms | per-step ms "
        "| fused ratio | per-step ratio | torch.nn tokens/s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for mode in args.modes:
        for shape in shapes:
            input_size, hidden_size = (int(v) for v in shape.split("x"))
            for batch in args.batches:
                for num_layers in args.layers:
                    benchmark_configuration(mode, input_size, hidden_size, batch, num_layers, args)


if __name__ == "__main__":
    main()
