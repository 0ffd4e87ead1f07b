"""Which path ``implementation="auto"`` runs: torch's fused kernel, except where the per-step path measured faster.

torch's CPU kernels for GRU and RNN take the gradient of the recurrent weights with one small
product per time step; seqlab's per-step path takes it in one product over all steps
(:mod:`seqlab.nn.per_step`). For training at larger hidden sizes that made the per-step path
faster, by up to 1.6× (``python benchmarks/layers.py``; BENCHMARKS.md, issue 2's table). Forward
alone it is level, LSTM's fused kernel (oneDNN) is ahead everywhere, and on a GPU cuDNN's kernels
are, so those stay fused.

:data:`PER_STEP_SPEEDUPS` is that measured table: for GRU and RNN layers (input size = hidden
size, unidirectional, fp32, CPU, 2 threads, T = 35, forward + backward), the per-step path's
throughput over the fused kernel's. ``auto`` looks up the measured configuration nearest to the
call (sizes compared on a log scale) and runs per-step where that one measured at least
:data:`MARGIN` faster: the machines are shared and noisy (±5–15%), so a smaller gain is not
trusted to hold.
"""

from __future__ import annotations

import math

import torch

# (mode, hidden size, batch, layers) -> per-step throughput / fused throughput, forward + backward,
# T = 35, on the AVX-512 host of issue 2 (BENCHMARKS.md, "Recurrent layers"), medians of 7 rounds.
PER_STEP_SPEEDUPS: dict[tuple[str, int, int, int], float] = {
    ("GRU", 200, 20, 1): 0.92, ("GRU", 200, 20, 2): 0.92, ("GRU", 200, 64, 1): 0.88, ("GRU", 200, 64, 2): 0.90,
    ("GRU", 650, 20, 1): 1.15, ("GRU", 650, 20, 2): 1.41, ("GRU", 650, 64, 1): 1.06, ("GRU", 650, 64, 2): 1.13,
    ("GRU", 1150, 20, 1): 1.62, ("GRU", 1150, 20, 2): 1.45, ("GRU", 1150, 64, 1): 1.20, ("GRU", 1150, 64, 2): 1.07,
    ("RNN", 200, 20, 1): 1.11, ("RNN", 200, 20, 2): 1.12, ("RNN", 200, 64, 1): 1.02, ("RNN", 200, 64, 2): 0.98,
    ("RNN", 650, 20, 1): 1.15, ("RNN", 650, 20, 2): 1.15, ("RNN", 650, 64, 1): 1.03, ("RNN", 650, 64, 2): 1.00,
    ("RNN", 1150, 20, 1): 1.33, ("RNN", 1150, 20, 2): 1.42, ("RNN", 1150, 64, 1): 1.16, ("RNN", 1150, 64, 2): 1.14,
}  # fmt: skip
MARGIN = 1.10  # the measured speed-up the per-step path needs before auto picks it
MEASURED_STEPS = 35  # T of the table; shorter sequences leave the per-step path less to gain


def per_step_is_faster(mode: str, hidden_size: int, batch_size: int, num_layers: int, steps: int) -> bool:
    """Whether ``auto`` runs the per-step path for a training pass (forward + backward) on the CPU.

    Args:
        mode: torch's kernel name: ``"GRU"``, ``"RNN_TANH"``, ``"RNN_RELU"`` or ``"LSTM"``.
        hidden_size: H.
        batch_size: B (for a packed sequence, its first and largest batch).
        num_layers: stacked layers.
        steps: T, the sequence's length; only sequences at least as long as the table's are judged
            by it, since the per-step path gains from taking the weight gradient over all steps.

    Example:
        >>> per_step_is_faster("GRU", 650, 20, 2, 35), per_step_is_faster("GRU", 200, 20, 2, 35)
        (True, False)
        >>> per_step_is_faster("LSTM", 1150, 20, 1, 35), per_step_is_faster("GRU", 1150, 20, 1, 1)
        (False, False)
    """
    kind = "RNN" if mode.startswith("RNN") else mode
    measured = [key for key in PER_STEP_SPEEDUPS if key[0] == kind]
    if not measured or steps < MEASURED_STEPS:
        return False

    def distance(key: tuple[str, int, int, int]) -> float:
        _, hidden, batch, layers = key
        return (
            abs(math.log(hidden / hidden_size)) + abs(math.log(batch / batch_size)) + abs(min(num_layers, 2) - layers)
        )

    return PER_STEP_SPEEDUPS[min(measured, key=distance)] >= MARGIN


def auto_runs_per_step(layer: torch.nn.Module, input: torch.Tensor, batch_sizes: torch.Tensor | None) -> bool:
    """Whether a recurrent layer with ``implementation="auto"`` runs this pass per-step.

    Only a CPU training pass (gradients enabled, something to differentiate) that
    :func:`per_step_is_faster` favours. ``input`` is ``(T, B, I)`` (``(B, T, I)`` batch first), or
    a packed sequence's data with its ``batch_sizes``.
    """
    if layer.implementation != "auto" or input.device.type != "cpu" or not torch.is_grad_enabled():
        return False
    if not (input.requires_grad or any(p.requires_grad for p in layer.parameters(recurse=False))):
        return False
    if batch_sizes is not None:
        steps, batch = len(batch_sizes), int(batch_sizes[0])
    else:
        steps, batch = (input.size(1), input.size(0)) if layer.batch_first else input.shape[:2]
    return per_step_is_faster(layer.mode, layer.hidden_size, batch, layer.num_layers, steps)
