"""The three layers, drop-in for ``torch.nn.RNN``, ``GRU`` and ``LSTM``: each a step rule and its
arguments given to :class:`~seqlab.nn.recurrent.RecurrentBase`, which runs them (fused or per step).
"""

from __future__ import annotations

from seqlab.nn.recurrent import RecurrentBase
from seqlab.nn.rules import GRURule, LSTMRule, RNNRule
from seqlab.nn.step_noise import Regularisation


class RNN(RecurrentBase):
    """Elman RNN layer, drop-in for ``torch.nn.RNN``: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``.

    Args:
        input_size: features of the input, I.
        hidden_size: features of the hidden state, H.
        num_layers: stacked layers, L.
        nonlinearity: 'tanh' or 'relu'.
        bias, batch_first, dropout, bidirectional, device, dtype: as in ``torch.nn.RNN``.
        layer_norm: normalise both projections (per-step path; keyword only).
        implementation: 'auto', 'fused' or 'per_step' (keyword only).
        weight_drop: DropConnect probability on ``W_hh`` in training, one mask per forward
            pass (AWD-LSTM's WeightDrop; keeps the fused kernel; keyword only).
        state_dropout, recurrent_dropout, zoneout_hidden, zoneout_cell: regularisation inside
            the step, see :mod:`seqlab.nn.step_noise` (per-step path; keyword only).

    Shape:
        input ``(T, B, I)`` (``(B, T, I)`` if batch_first, ``(T, I)`` unbatched, or a
        ``PackedSequence``); ``hx (L*D, B, H)``; returns ``output (T, B, D*H)`` and
        ``h_n (L*D, B, H)`` with D = 2 if bidirectional else 1.

    Example:
        >>> rnn = RNN(10, 20, num_layers=2)
        >>> output, h_n = rnn(torch.randn(5, 3, 10))
        >>> output.shape, h_n.shape
        (torch.Size([5, 3, 20]), torch.Size([2, 3, 20]))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        *,
        layer_norm: bool = False,
        implementation: str = "auto",
        weight_drop: float = 0.0,
        state_dropout: float = 0.0,
        zoneout_hidden: float = 0.0,
    ) -> None:
        regularisation = Regularisation(state_dropout=state_dropout, zoneout_hidden=zoneout_hidden)
        rule = RNNRule(nonlinearity, layer_norm=layer_norm, regularisation=regularisation)
        self.nonlinearity = nonlinearity
        super().__init__(
            "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU",
            rule,
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            0,
            implementation,
            dict(device=device, dtype=dtype),
            weight_drop,
        )


class GRU(RecurrentBase):
    """Gated recurrent unit layer, drop-in for ``torch.nn.GRU`` (equations: :class:`~seqlab.nn.rules.GRURule`).

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
        device, dtype: as in ``torch.nn.GRU``.
        layer_norm: normalise both projections (per-step path; keyword only).
        implementation: 'auto', 'fused' or 'per_step' (keyword only).
        weight_drop: DropConnect probability on ``W_hh`` in training, one mask per forward
            pass (AWD-LSTM's WeightDrop; keeps the fused kernel; keyword only).
        state_dropout, recurrent_dropout, zoneout_hidden, zoneout_cell: regularisation inside
            the step, see :mod:`seqlab.nn.step_noise` (per-step path; keyword only).

    Shape:
        as :class:`RNN`.

    Example:
        >>> gru = GRU(10, 20, bidirectional=True, batch_first=True)
        >>> output, h_n = gru(torch.randn(3, 5, 10))
        >>> output.shape, h_n.shape
        (torch.Size([3, 5, 40]), torch.Size([2, 3, 20]))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        device=None,
        dtype=None,
        *,
        layer_norm: bool = False,
        implementation: str = "auto",
        weight_drop: float = 0.0,
        state_dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        zoneout_hidden: float = 0.0,
    ) -> None:
        super().__init__(
            "GRU",
            GRURule(
                layer_norm=layer_norm, regularisation=Regularisation(state_dropout, recurrent_dropout, zoneout_hidden)
            ),
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            0,
            implementation,
            dict(device=device, dtype=dtype),
            weight_drop,
        )


class LSTM(RecurrentBase):
    """Long short-term memory layer, drop-in for ``torch.nn.LSTM`` (equations: :class:`~seqlab.nn.rules.LSTMRule`).

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
        proj_size, device, dtype: as in ``torch.nn.LSTM``.
        layer_norm: layer-normalised LSTM of Ba et al. 2016 (per-step path; keyword only).
        peephole: peephole connections of Gers & Schmidhuber 2000 (per-step path).
        implementation: 'auto', 'fused' or 'per_step' (keyword only).
        weight_drop: DropConnect probability on ``W_hh`` in training, one mask per forward
            pass (AWD-LSTM's WeightDrop; keeps the fused kernel; keyword only).
        state_dropout, recurrent_dropout, zoneout_hidden, zoneout_cell: regularisation inside
            the step, see :mod:`seqlab.nn.step_noise` (per-step path; keyword only).

    Shape:
        input ``(T, B, I)`` (``(B, T, I)`` if batch_first, ``(T, I)`` unbatched, or a
        ``PackedSequence``); ``hx = (h_0 (L*D, B, P), c_0 (L*D, B, H))`` with P = proj_size
        or H; returns ``output (T, B, D*P)`` and ``(h_n, c_n)`` shaped like ``hx``.

    Example:
        >>> lstm = LSTM(10, 20, num_layers=2, peephole=True)
        >>> output, (h_n, c_n) = lstm(torch.randn(5, 3, 10))
        >>> output.shape, h_n.shape, c_n.shape
        (torch.Size([5, 3, 20]), torch.Size([2, 3, 20]), torch.Size([2, 3, 20]))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
        *,
        layer_norm: bool = False,
        peephole: bool = False,
        implementation: str = "auto",
        weight_drop: float = 0.0,
        state_dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        zoneout_hidden: float = 0.0,
        zoneout_cell: float = 0.0,
    ) -> None:
        regularisation = Regularisation(state_dropout, recurrent_dropout, zoneout_hidden, zoneout_cell)
        rule = LSTMRule(layer_norm=layer_norm, peephole=peephole, regularisation=regularisation)
        super().__init__(
            "LSTM",
            rule,
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            proj_size,
            implementation,
            dict(device=device, dtype=dtype),
            weight_drop,
        )
