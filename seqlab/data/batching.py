"""Language-model batches: one token stream cut into parallel streams and BPTT windows."""

from __future__ import annotations

import math

import torch

from seqlab.errors import SeqlabError


def batchify(tokens: torch.Tensor, batch_size: int) -> torch.Tensor:
    """Cut one token stream into ``batch_size`` contiguous streams laid side by side.

    The stream is split into ``batch_size`` equal stretches, one per column; the tokens
    left over at the end (fewer than ``batch_size``) are dropped. Row ``t`` holds time step
    ``t`` of every stream, so a BPTT window is a slice of rows and the hidden state of
    column ``b`` at the end of one window is the right start for the next::

        tokens: a b c d e f g h i j k l m n o p q r s t u v w x y   (N = 25, B = 4)

                  b=0 b=1 b=2 b=3
            t=0 [  a   g   m   s  ]
            t=1 [  b   h   n   t  ]
            t=2 [  c   i   o   u  ]     y is dropped: 25 // 4 = 6 rows
            t=3 [  d   j   p   v  ]
            t=4 [  e   k   q   w  ]
            t=5 [  f   l   r   x  ]

    Args:
        tokens: token ids of the whole text.
        batch_size: the number of parallel streams B.

    Shape:
        - tokens: ``(N,)``
        - output: ``(N // B, B)``

    Returns:
        A contiguous tensor of shape ``(N // B, B)``, so each window is one memory block.

    Raises:
        SeqlabError: ``tokens`` has fewer than 2 tokens per stream (one input and its target).
    """
    if batch_size < 1:
        raise SeqlabError(f"batch size must be at least 1, got {batch_size}")
    steps = tokens.numel() // batch_size
    if steps < 2:
        raise SeqlabError(
            f"{tokens.numel()} tokens are too few for {batch_size} parallel streams: "
            "each stream needs at least 2 tokens (use a smaller batch size or more text)"
        )
    return tokens[: steps * batch_size].view(batch_size, steps).t().contiguous()  # (T, B)


def num_windows(streams: torch.Tensor, bptt: int) -> int:
    """The number of BPTT windows :func:`get_window` cuts ``streams`` into.

    Shape:
        - streams: ``(T, B)``
    """
    if bptt < 1:
        raise SeqlabError(f"bptt must be at least 1, got {bptt}")
    # The last token of each stream is a target only, so T - 1 positions have a target.
    return math.ceil((streams.size(0) - 1) / bptt)


def get_window(streams: torch.Tensor, index: int, bptt: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``index``-th BPTT window of ``streams``: inputs and next-token targets.

    Window ``i`` covers rows ``i * bptt`` to ``i * bptt + bptt - 1`` as inputs and the same
    rows shifted by one as targets; the last window is shorter when ``T - 1`` is not a
    multiple of ``bptt``. Consecutive windows tile the streams without gaps or overlap.

    Args:
        streams: the output of :func:`batchify`.
        index: the window number, ``0 <= index < num_windows(streams, bptt)``.
        bptt: the window length (truncated back-propagation through time).

    Shape:
        - streams: ``(T, B)``
        - inputs, targets: ``(L, B)`` with ``L = min(bptt, T - 1 - index * bptt)``

    Returns:
        ``(inputs, targets)``, views of ``streams``.
    """
    if index < 0 or index * bptt >= streams.size(0) - 1:
        raise IndexError(f"window {index} is out of range for {num_windows(streams, bptt)} windows")
    return window_at(streams, index * bptt, bptt)


def window_at(streams: torch.Tensor, start: int, length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The window of ``streams`` whose inputs start at row ``start``, at most ``length`` rows long.

    Windows of varying length (AWD-LSTM's variable BPTT) are cut with this: the next
    window starts at ``start + L``. The window is shorter than ``length`` at the end.

    Shape:
        - streams: ``(T, B)``
        - inputs, targets: ``(L, B)`` with ``L = min(length, T - 1 - start)``

    Returns:
        ``(inputs, targets)``, views of ``streams``: targets are the inputs shifted by one row.
    """
    length = min(length, streams.size(0) - 1 - start)
    if start < 0 or length < 1:
        raise IndexError(f"no window starts at row {start} of {streams.size(0)}-row streams")
    inputs = streams[start : start + length]  # (L, B)
    targets = streams[start + 1 : start + 1 + length]  # (L, B)
    return inputs, targets
