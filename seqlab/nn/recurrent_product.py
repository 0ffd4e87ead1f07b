"""The recurrent product ``h @ W_hh^T + b_hh`` with its weight gradient taken once per sequence.

In plain autograd every step's product adds its own ``dW_hh += g_t^T h_{t-1}`` during the
backward pass: T thin matrix products (inner size B) and T additions into a full
``(G*H, P)`` buffer. At (400, 1150, batch 20) that accumulation was most of the per-step
path's backward time. Here the steps record their output gradient ``g_t`` and input
``h_{t-1}`` on a tape instead, and the weight gradient is one matrix product at the end::

    dW_hh = [g_0; g_1; ...]^T @ [h_{-1}; h_0; ...]      (G*H, N) @ (N, P)

"At the end" is arranged through the autograd graph: :func:`track_weight_gradient` puts an
identity node carrying ``W_hh`` on the initial state, which every step depends
on, so autograd runs that node's backward only after all the steps' backward calls.

The tape makes this a one-shot backward: it supports ``retain_graph`` but not
``create_graph`` (double backward) or functorch transforms; :func:`track_weight_gradient`
falls back to plain autograd when gradients are off or the weight needs none.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd import Function

Tape = list[tuple[Tensor, Tensor]]


class _RecurrentProduct(Function):
    """``addend + h @ weight^T`` whose backward tapes ``(grad, h)`` instead of forming ``dW``."""

    @staticmethod
    def forward(ctx, h: Tensor, weight: Tensor, addend: Tensor | None, tape: Tape) -> Tensor:
        ctx.save_for_backward(h, weight)
        ctx.tape = tape
        ctx.addend_is_vector = addend is not None and addend.dim() == 1
        return h @ weight.t() if addend is None else torch.addmm(addend, h, weight.t())

    @staticmethod
    def backward(ctx, grad: Tensor):
        h, weight = ctx.saved_tensors
        ctx.tape.append((grad, h))
        grad_addend = None
        if ctx.needs_input_grad[2]:
            grad_addend = grad.sum(0) if ctx.addend_is_vector else grad
        return grad @ weight, None, grad_addend, None


class _WeightGradientFromTape(Function):
    """Identity on the initial state; its backward turns the tape into ``dW``."""

    @staticmethod
    def forward(ctx, h0: Tensor, weight: Tensor, tape: Tape) -> Tensor:
        ctx.tape = tape
        return h0.view_as(h0)

    @staticmethod
    def backward(ctx, grad_h0: Tensor):
        tape, ctx.tape[:] = list(ctx.tape), []  # emptied so that a retained graph can run again
        if not tape:
            return grad_h0, None, None
        grads = torch.cat([g for g, _ in tape])  # (N, G*H)
        inputs = torch.cat([h for _, h in tape])  # (N, P)
        return grad_h0, grads.t() @ inputs, None


def track_weight_gradient(h0: Tensor, weight: Tensor) -> tuple[Tensor, Tensor, Tape | None]:
    """Prepares one layer-direction's run so that its ``W_hh`` gradient is one product.

    Args:
        h0: the initial hidden state of the run, ``(B, P)``.
        weight: ``W_hh``, ``(G*H, P)``.

    Returns:
        ``(h0, weight, tape)`` for the loop: the state routed through the collecting node,
        the weight detached, and the tape for :func:`recurrent_product`; the inputs
        unchanged and no tape when no gradient is wanted.
    """
    if not (torch.is_grad_enabled() and weight.requires_grad):
        return h0, weight, None
    tape: Tape = []
    return _WeightGradientFromTape.apply(h0, weight, tape), weight.detach(), tape


def recurrent_product(h: Tensor, weight: Tensor, addend: Tensor | None, tape: Tape | None) -> Tensor:
    """``addend + h @ weight^T``: ``(B, P) -> (B, G*H)``; ``addend`` is ``(B, G*H)``,
    ``(G*H,)`` or None. Taped when ``tape`` is given."""
    if tape is None:
        return h @ weight.t() if addend is None else torch.addmm(addend, h, weight.t())
    return _RecurrentProduct.apply(h, weight, addend, tape)
