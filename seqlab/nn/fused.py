"""The fused path: PyTorch's own multi-layer RNN kernels, the ones ``torch.nn`` calls.

On CUDA these are cuDNN; on CPU the LSTM runs through oneDNN's fused RNN primitive (the
fastest CPU path measured, see ``PERFORMANCE-NOTES``), GRU and RNN through ATen's native
loop. Arguments are exactly those ``torch.nn.RNNBase.forward`` passes.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Sequence

from torch import _VF, Tensor

from seqlab.nn.rules import State

KERNELS = {"LSTM": _VF.lstm, "GRU": _VF.gru, "RNN_TANH": _VF.rnn_tanh, "RNN_RELU": _VF.rnn_relu}

# cuDNN warns (once per call) when the weights it gets are not one flattened buffer. A
# DropConnect-masked W_hh is a new tensor each pass, so cuDNN must copy it: that copy is
# inherent to DropConnect, and the warning would only alarm (AWD-LSTM users know it well).
NOT_FLATTENED_WARNING = "RNN module weights are not part of single contiguous chunk of memory"


def run_fused(
    mode: str,
    input: Tensor,
    batch_sizes: Tensor | None,
    initial: State,
    flat_weights: Sequence[Tensor],
    *,
    bias: bool,
    num_layers: int,
    dropout: float,
    training: bool,
    bidirectional: bool,
    batch_first: bool,
    masked_weights: bool = False,
) -> tuple[Tensor, State]:
    """Runs the fused kernel for ``mode`` ('LSTM', 'GRU', 'RNN_TANH', 'RNN_RELU').

    Args:
        input: ``(T, B, I)`` (``(B, T, I)`` if batch_first), or packed data ``(N, I)``
            when ``batch_sizes`` is given.
        initial: ``(h0,)`` or, for LSTM, ``(h0, c0)``; each ``(L*D, B, ·)``.
        flat_weights: parameters in torch's order, layer by layer, direction by direction.
        masked_weights: some weights are DropConnect-masked copies; cuDNN's warning that they
            are not flattened is silenced.

    Returns:
        ``(output, final state)`` in the same layout as ``initial``.
    """
    kernel = KERNELS[mode]
    hx = initial if mode == "LSTM" else initial[0]
    options = (bias, num_layers, dropout, training, bidirectional)
    with warnings.catch_warnings() if masked_weights else contextlib.nullcontext():
        if masked_weights:
            warnings.filterwarnings("ignore", message=NOT_FLATTENED_WARNING)
        if batch_sizes is None:
            result = kernel(input, hx, list(flat_weights), *options, batch_first)
        else:
            result = kernel(input, batch_sizes, hx, list(flat_weights), *options)
    return result[0], tuple(result[1:])
