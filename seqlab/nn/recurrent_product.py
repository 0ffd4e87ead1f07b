"""The recurrent product ``h @ W_hh^T + b_hh`` with its weight gradient taken once per sequence.

In plain autograd every step's product adds its own ``dW_hh += g_t^T h_{t-1}`` during the
backward pass: T thin matrix products (inner size B) and T additions into a full
``(G*H, P)`` buffer. At (400, 1150, batch 20) that accumulation was most of the per-step
path's backward time. Here the steps record their output gradient ``g_t`` and input
``h_{t-1}`` on a tape instead, and the weight gradient is one matrix product at the end::

    dW_hh = [g_0; g_1; ...]^T @ [h_{-1}; h_0; ...]      (G*H, N) @ (N, P)

"At the end" is arranged through the autograd graph: :func:`track_weight_gradient` passes
``W_hh`` and *everything else the steps read* (initial state, projected input, the other
weights) through one identity node, the collector, whose backward turns the tape into
``dW_hh``. Every path from a step back to a tensor that can want a gradient runs through
the collector, so every backward pass that runs a step also runs the collector, after all
the steps: the tape is emptied by the pass that filled it. (With only ``W_hh`` and the
initial state routed, a pass on a retained graph that asked for the input's gradient alone
left its entries on the tape, and the next pass counted them again.)

Higher derivatives are exact: in a backward pass with ``create_graph=True`` the steps'
``grad @ W_hh`` reads ``W_hh`` through the collector and the final product is recorded like
any other op, so double backward (a gradient penalty, Hessian-vector products) sees every
path. functorch transforms (``torch.func.grad``, ``vmap``) are not supported: torch refuses
these functions under them.

Under ``torch.autocast`` the products run in autocast's dtype as torch's own ``addmm`` would
(:mod:`seqlab.nn.precision`): the collector casts ``W_hh`` once per run rather than once per
step, the steps cast ``h`` and the addend before the product (so that autograd converts their
gradients back), the backward calls run with autocast off in the dtypes the forward saved,
and ``dW_hh`` comes back in the parameter's dtype.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.autograd import Function

from seqlab.nn.precision import autocast_dtype, autocast_off

Tape = list[tuple[Tensor, Tensor]]


class _RecurrentProduct(Function):
    """``addend + h @ weight^T`` whose backward tapes ``(grad, h)`` instead of forming ``dW``.

    ``weight`` is the collector's output; its gradient comes from the tape, so none is
    returned for it here.
    """

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
        with autocast_off(grad):
            grad_h = grad @ weight
        return grad_h, None, grad_addend, None


class _Collector(Function):
    """Identity on what the steps read, with ``W_hh`` in the products' dtype; its backward
    turns the tape into ``dW_hh``."""

    @staticmethod
    def forward(ctx, weight: Tensor, product_dtype: torch.dtype, tape: Tape, *tensors: Tensor):
        ctx.set_materialize_grads(False)  # unused outputs get None, not full-size zeros
        ctx.tape, ctx.weight_dtype = tape, weight.dtype
        step_weight = weight.to(product_dtype) if product_dtype != weight.dtype else weight.view_as(weight)
        return (step_weight, *(t.view_as(t) for t in tensors))

    @staticmethod
    def backward(ctx, grad_step_weight: Tensor | None, *grads: Tensor | None):
        tape, ctx.tape[:] = list(ctx.tape), []  # emptied so that a retained graph can run again
        grad_weight = grad_step_weight  # only a double-backward pass reaches W_hh this way
        if tape:
            with autocast_off(tape[0][0]):
                grads_out = torch.cat([g for g, _ in tape])  # (N, G*H)
                inputs = torch.cat([h for _, h in tape])  # (N, P)
                taped = grads_out.t() @ inputs
            grad_weight = taped if grad_weight is None else grad_weight + taped
        if grad_weight is not None:
            grad_weight = grad_weight.to(ctx.weight_dtype)
        return (grad_weight, None, None, *grads)


def track_weight_gradient(weight: Tensor, tensors: Sequence[Tensor]) -> tuple[Tensor, tuple[Tensor, ...], Tape | None]:
    """Prepares one layer-direction's run so that its ``W_hh`` gradient is one product.

    Args:
        weight: ``W_hh``, ``(G*H, P)``.
        tensors: every other tensor the steps read that may carry a gradient: the initial
            state, the projected input and the layer's other weights.

    Returns:
        ``(weight, tensors, tape)`` for the loop: ``W_hh`` and the tensors routed through the
        collector, and the tape for :func:`recurrent_product`. When no gradient is wanted
        (grad mode off, or ``W_hh`` frozen) the tensors come back unchanged and there is no
        tape. Either way, under autocast the weight comes back cast to autocast's dtype,
        once for the whole run.
    """
    product_dtype = autocast_dtype(weight) or weight.dtype
    if not (torch.is_grad_enabled() and weight.requires_grad):
        return weight.to(product_dtype), tuple(tensors), None
    tape: Tape = []
    step_weight, *routed = _Collector.apply(weight, product_dtype, tape, *tensors)
    return step_weight, tuple(routed), tape


def recurrent_product(h: Tensor, weight: Tensor, addend: Tensor | None, tape: Tape | None) -> Tensor:
    """``addend + h @ weight^T``: ``(B, P) -> (B, G*H)``; ``addend`` is ``(B, G*H)``,
    ``(G*H,)`` or None. Taped when ``tape`` is given."""
    if tape is None:
        return h @ weight.t() if addend is None else torch.addmm(addend, h, weight.t())
    mixed = h.dtype != weight.dtype or (addend is not None and addend.dtype != weight.dtype)
    if mixed and autocast_dtype(h) is not None:  # the collector cast the weight; the tape wants one dtype
        h = h.to(weight.dtype)
        addend = None if addend is None else addend.to(weight.dtype)
    return _RecurrentProduct.apply(h, weight, addend, tape)
