"""Initialisation schemes for recurrent layers and cells (ours or ``torch.nn``'s).

They find parameters by torch's names (``weight_ih_l0``, ``weight_hh``, ``bias_ih_l1_reverse``,
...), so they work on any module that follows those conventions, and act block by block:
a recurrent weight stacks G gate blocks of shape ``(H, ·)`` along its first dimension.

* :func:`uniform_`: every weight and bias of the cells ~ U(-1/√H, 1/√H), torch's default;
  layer-norm gains and biases keep their values (1 and 0 at construction).
* :func:`orthogonal_recurrent_`: each gate block of each ``weight_hh`` orthogonal
  (Saxe et al. 2014), so repeated multiplication neither explodes nor vanishes at start.
* :func:`xavier_input_`: each gate block of each ``weight_ih`` Glorot-uniform.
* :func:`forget_gate_bias_`: LSTM forget-gate bias set to a positive value (Gers et al.
  2000; Jozefowicz et al. 2015), so the cell remembers by default early in training.

Example:
    >>> lstm = torch.nn.LSTM(8, 16)
    >>> orthogonal_recurrent_(lstm); forget_gate_bias_(lstm, 1.0)
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch
from torch import Tensor
from torch.nn import Module

from seqlab.errors import SeqlabError


def _named(module: Module, prefix: str) -> Iterator[tuple[str, Tensor]]:
    """Parameters whose name starts with ``prefix`` (e.g. 'weight_hh', 'bias_ih')."""
    return ((name, p) for name, p in module.named_parameters() if name.split(".")[-1].startswith(prefix))


def _gate_blocks(weight: Tensor, hidden_size: int) -> tuple[Tensor, ...]:
    """The G gate blocks of a stacked weight or bias, each ``(H, ·)``: views, not copies."""
    return weight.split(hidden_size, dim=0)


# The parameters uniform_ draws: torch's weights and biases, the projection, the peepholes.
UNIFORM_PREFIXES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr", "weight_ci", "weight_cf", "weight_co")


@torch.no_grad()
def uniform_(module: Module, bound: float | None = None) -> None:
    """Every weight and bias of the cells ~ U(-bound, bound); bound defaults to 1/√hidden_size.

    That is torch's rule for ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` and
    ``weight_hr``, applied to the peephole weights (``weight_ci/cf/co``) too, as the layers'
    own initialisation does. The layer-norm gains and biases (``ln_gain_*``, ``ln_bias_*``)
    are left as they are: they are a normalisation's scale and shift, which start at 1 and 0
    (Ba et al. 2016), not weights to draw.
    """
    bound = 1.0 / math.sqrt(module.hidden_size) if bound is None else bound
    for prefix in UNIFORM_PREFIXES:
        for _, param in _named(module, prefix):
            param.uniform_(-bound, bound)


@torch.no_grad()
def orthogonal_recurrent_(module: Module, gain: float = 1.0) -> None:
    """Makes each gate block of every hidden-to-hidden weight a (semi-)orthogonal matrix."""
    for _, weight in _named(module, "weight_hh"):
        for block in _gate_blocks(weight, module.hidden_size):
            torch.nn.init.orthogonal_(block, gain=gain)


@torch.no_grad()
def xavier_input_(module: Module, gain: float = 1.0) -> None:
    """Glorot-uniform on each gate block of every input-to-hidden weight."""
    for _, weight in _named(module, "weight_ih"):
        for block in _gate_blocks(weight, module.hidden_size):
            torch.nn.init.xavier_uniform_(block, gain=gain)


@torch.no_grad()
def forget_gate_bias_(module: Module, value: float = 1.0) -> None:
    """Sets the LSTM forget-gate bias b_if + b_hf to ``value`` (b_if = value, b_hf = 0).

    Raises:
        SeqlabError: the module has no LSTM biases (not an LSTM, or ``bias=False``).
    """
    biases = list(_named(module, "bias_ih")) + list(_named(module, "bias_hh"))
    hidden = module.hidden_size
    if not biases or any(b.shape[0] != 4 * hidden for _, b in biases):
        raise SeqlabError(f"forget_gate_bias_ needs an LSTM with biases, got {type(module).__name__}")
    for name, bias in biases:
        forget = _gate_blocks(bias, hidden)[1]  # gate order i, f, g, o
        forget.fill_(value if name.split(".")[-1].startswith("bias_ih") else 0.0)
