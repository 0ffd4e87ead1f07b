"""Single-step cells, drop-in for ``torch.nn.RNNCell``, ``GRUCell`` and ``LSTMCell``.

A cell is one step of its layer's rule: the same :mod:`seqlab.nn.rules` equations, so the
cells and the layers cannot disagree. Plain configurations call torch's own cell kernels
(``implementation="auto"``); ``layer_norm`` and ``peephole`` cells, or
``implementation="per_step"``, run the rule.
"""

from __future__ import annotations

from torch import _VF, Tensor
from torch.nn import Module

from seqlab.errors import SeqlabError
from seqlab.nn import parameters
from seqlab.nn.rules import GRURule, LSTMRule, RecurrentRule, RNNRule
from seqlab.nn.step_noise import Regularisation, StepNoise

CELL_KERNELS = {
    ("RNNRule", "tanh"): _VF.rnn_tanh_cell,
    ("RNNRule", "relu"): _VF.rnn_relu_cell,
    ("GRURule", None): _VF.gru_cell,
    ("LSTMRule", None): _VF.lstm_cell,
}


class CellBase(Module):
    """Shared machinery of the cells: parameters, checks, dispatch."""

    def __init__(
        self, rule: RecurrentRule, input_size: int, hidden_size: int, bias: bool, implementation: str, factory: dict
    ) -> None:
        super().__init__()
        if implementation not in ("auto", "fused", "per_step"):
            raise ValueError(f"implementation must be 'auto', 'fused' or 'per_step', got {implementation!r}")
        if implementation == "fused" and not rule.is_plain:
            raise ValueError("implementation='fused' cannot run layer_norm, peephole or regularised cells")
        self.rule, self.input_size, self.hidden_size, self.bias = rule, input_size, hidden_size, bias
        self.implementation = implementation
        self.uses_fused_kernel = rule.is_plain and implementation != "per_step"
        names = parameters.register(
            self, parameters.torch_shapes(rule, input_size, hidden_size, 0, bias), "", **factory
        )
        names += parameters.register(self, parameters.extra_shapes(rule, hidden_size), "", **factory)
        self._parameter_names = names
        if not bias:  # torch.nn cells expose these attributes as None
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draws every parameter as ``torch.nn`` does (same draws for the same seed)."""
        parameters.initialise(self, self._parameter_names, self.hidden_size)

    def _step(self, input: Tensor, state: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        """One step on batched tensors: returns the new state."""
        if self.uses_fused_kernel:
            kernel = CELL_KERNELS[(type(self.rule).__name__, getattr(self.rule, "nonlinearity", None))]
            hx = state if len(state) == 2 else state[0]
            result = kernel(input, hx, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
            return tuple(result) if len(state) == 2 else (result,)
        weights = parameters.gather(lambda name: getattr(self, name, None), "")
        noise = StepNoise(self.training)
        _, new_state = self.rule.step(self.rule.project_input(input, weights), state, weights, noise)
        return new_state

    def _forward_state(self, input: Tensor, hx: tuple[Tensor, ...] | None) -> tuple[Tensor, ...]:
        """Checks shapes, adds and removes the batch dimension of unbatched input."""
        name = type(self).__name__
        if not isinstance(input, Tensor) or input.dim() not in (1, 2):
            got = f"{input.dim()}-D" if isinstance(input, Tensor) else type(input).__name__
            raise SeqlabError(f"{name}: expected a 1-D (unbatched) or 2-D input, got {got}")
        if input.size(-1) != self.input_size:
            raise SeqlabError(f"{name}: input has {input.size(-1)} features, expected input_size={self.input_size}")
        batched = input.dim() == 2
        batch = input.size(0) if batched else 1
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            state = tuple(input.new_zeros(batch, self.hidden_size) for _ in range(self.rule.state_size))
        else:
            state = tuple(t if batched else t.unsqueeze(0) for t in hx)
            for tensor in state:
                if tuple(tensor.shape) != (batch, self.hidden_size):
                    shape = tuple(tensor.shape) if batched else tuple(tensor.shape[1:])
                    raise SeqlabError(
                        f"{name}: hidden state has shape {shape}, expected "
                        f"{(batch, self.hidden_size) if batched else (self.hidden_size,)}"
                    )
        new_state = self._step(input, state)
        return new_state if batched else tuple(t.squeeze(0) for t in new_state)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            text += ", bias=False"
        if getattr(self.rule, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.rule.nonlinearity!r}"
        for key in ("layer_norm", "peephole"):
            if getattr(self.rule, key, False):
                text += f", {key}=True"
        return text


class RNNCell(CellBase):
    """Elman cell, drop-in for ``torch.nn.RNNCell``: ``h' = act(W_ih x + b_ih + W_hh h + b_hh)``.

    Shape:
        input ``(B, I)`` or ``(I,)``; hx ``(B, H)`` or ``(H,)``; returns h' like hx.

    Example:
        >>> cell = RNNCell(10, 20)
        >>> cell(torch.randn(3, 10)).shape
        torch.Size([3, 20])
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device=None,
        dtype=None,
        *,
        layer_norm: bool = False,
        implementation: str = "auto",
        zoneout_hidden: float = 0.0,
    ) -> None:
        self.nonlinearity = nonlinearity
        super().__init__(
            RNNRule(nonlinearity, layer_norm=layer_norm, regularisation=Regularisation(zoneout_hidden=zoneout_hidden)),
            input_size,
            hidden_size,
            bias,
            implementation,
            dict(device=device, dtype=dtype),
        )

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._forward_state(input, None if hx is None else (hx,))[0]


class GRUCell(CellBase):
    """GRU cell, drop-in for ``torch.nn.GRUCell`` (equations: :class:`~seqlab.nn.rules.GRURule`).

    Shape:
        as :class:`RNNCell`.

    Example:
        >>> cell = GRUCell(10, 20, layer_norm=True)
        >>> cell(torch.randn(3, 10)).shape
        torch.Size([3, 20])
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device=None,
        dtype=None,
        *,
        layer_norm: bool = False,
        implementation: str = "auto",
        recurrent_dropout: float = 0.0,
        zoneout_hidden: float = 0.0,
    ) -> None:
        super().__init__(
            GRURule(
                layer_norm=layer_norm,
                regularisation=Regularisation(recurrent_dropout=recurrent_dropout, zoneout_hidden=zoneout_hidden),
            ),
            input_size,
            hidden_size,
            bias,
            implementation,
            dict(device=device, dtype=dtype),
        )

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        return self._forward_state(input, None if hx is None else (hx,))[0]


class LSTMCell(CellBase):
    """LSTM cell, drop-in for ``torch.nn.LSTMCell`` (equations: :class:`~seqlab.nn.rules.LSTMRule`).

    Shape:
        input ``(B, I)`` or ``(I,)``; hx ``(h, c)``, each ``(B, H)`` or ``(H,)``; returns
        ``(h', c')`` like hx.

    Example:
        >>> cell = LSTMCell(10, 20, peephole=True)
        >>> h, c = cell(torch.randn(3, 10))
        >>> h.shape, c.shape
        (torch.Size([3, 20]), torch.Size([3, 20]))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device=None,
        dtype=None,
        *,
        layer_norm: bool = False,
        peephole: bool = False,
        implementation: str = "auto",
        recurrent_dropout: float = 0.0,
        zoneout_hidden: float = 0.0,
        zoneout_cell: float = 0.0,
    ) -> None:
        super().__init__(
            LSTMRule(
                layer_norm=layer_norm,
                peephole=peephole,
                regularisation=Regularisation(
                    recurrent_dropout=recurrent_dropout, zoneout_hidden=zoneout_hidden, zoneout_cell=zoneout_cell
                ),
            ),
            input_size,
            hidden_size,
            bias,
            implementation,
            dict(device=device, dtype=dtype),
        )

    def forward(self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise SeqlabError("LSTMCell: hx must be a pair (h, c)")
        h, c = self._forward_state(input, None if hx is None else tuple(hx))
        return h, c
