"""Parameter names, shapes and initialisation shared by the layers and the cells.

The names ``torch.nn`` uses come first and are created in torch's order, so that a seeded
``seqlab`` layer draws exactly the same initial weights as the ``torch.nn`` layer of the
same configuration. Parameters of the extra options come after them:

==========================  ========  ===============================================
name                        shape     role
==========================  ========  ===============================================
``weight_ci/cf/co``         (H,)      LSTM peephole weights p_i, p_f, p_o
``ln_gain_ih``, ``_hh``     (G*H,)    layer-norm gains of the two projections (init 1)
``ln_gain_cell``            (H,)      LSTM cell layer-norm gain (init 1)
``ln_bias_cell``            (H,)      LSTM cell layer-norm bias (init 0)
==========================  ========  ===============================================
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import Tensor
from torch.nn import Module, Parameter

from seqlab.nn.rules import LayerWeights, LSTMRule, RecurrentRule

# LayerWeights field -> the parameter's base name.
TORCH_NAMES = {
    "weight_ih": "weight_ih",
    "weight_hh": "weight_hh",
    "bias_ih": "bias_ih",
    "bias_hh": "bias_hh",
    "weight_hr": "weight_hr",
}
EXTRA_NAMES = {
    "peephole_i": "weight_ci",
    "peephole_f": "weight_cf",
    "peephole_o": "weight_co",
    "ln_gain_ih": "ln_gain_ih",
    "ln_gain_hh": "ln_gain_hh",
    "ln_gain_cell": "ln_gain_cell",
    "ln_bias_cell": "ln_bias_cell",
}


def torch_shapes(
    rule: RecurrentRule, input_size: int, hidden_size: int, proj_size: int, bias: bool
) -> dict[str, tuple[int, ...]]:
    """Base name -> shape of the parameters ``torch.nn`` has, in its order."""
    gate_size = rule.num_gates * hidden_size
    state_size = proj_size or hidden_size
    shapes = {"weight_ih": (gate_size, input_size), "weight_hh": (gate_size, state_size)}
    if bias:
        shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
    if proj_size:
        shapes["weight_hr"] = (proj_size, hidden_size)
    return shapes


def extra_shapes(rule: RecurrentRule, hidden_size: int) -> dict[str, tuple[int, ...]]:
    """Base name -> shape of the parameters of the options ``torch.nn`` lacks."""
    shapes: dict[str, tuple[int, ...]] = {}
    if isinstance(rule, LSTMRule) and rule.peephole:
        shapes.update(weight_ci=(hidden_size,), weight_cf=(hidden_size,), weight_co=(hidden_size,))
    if rule.layer_norm:
        gate_size = rule.num_gates * hidden_size
        shapes.update(ln_gain_ih=(gate_size,), ln_gain_hh=(gate_size,))
        if isinstance(rule, LSTMRule):
            shapes.update(ln_gain_cell=(hidden_size,), ln_bias_cell=(hidden_size,))
    return shapes


def register(module: Module, shapes: dict[str, tuple[int, ...]], suffix: str, **factory) -> list[str]:
    """Registers an uninitialised parameter per ``shapes`` entry; returns the full names."""
    names = []
    for base, shape in shapes.items():
        name = base + suffix
        module.register_parameter(name, Parameter(torch.empty(shape, **factory)))
        names.append(name)
    return names


@torch.no_grad()
def initialise(module: Module, names: list[str], hidden_size: int) -> None:
    """torch.nn's default: every weight ~ U(-1/√H, 1/√H), drawn in registration order.

    Layer-norm gains start at 1 and the cell-norm bias at 0, as in Ba et al. 2016.
    """
    bound = 1.0 / math.sqrt(hidden_size)
    for name in names:
        param = getattr(module, name)
        if name.startswith("ln_gain"):
            param.fill_(1.0)
        elif name.startswith("ln_bias"):
            param.zero_()
        else:
            param.uniform_(-bound, bound)


def gather(lookup: Callable[[str], Tensor | None], suffix: str) -> LayerWeights:
    """Collects one layer-direction's parameters (``lookup(name)`` or None) by field."""
    fields = {field: lookup(base + suffix) for field, base in {**TORCH_NAMES, **EXTRA_NAMES}.items()}
    return LayerWeights(**fields)
