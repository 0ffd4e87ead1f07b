"""Step rules: what one recurrent cell computes at one time step.

A rule splits a cell into the two parts the per-step path needs:

* ``project_input(x, w)``: the input-to-hidden product for *every* time step at once,
  ``(N, I) -> (N, G*H)``. Hoisting it out of the time loop turns T small matrix products
  into one large one, which is where most of the per-step path's speed comes from.
* ``step(xp_t, state, w)``: the recurrence for one time step, given that step's slice of
  the projected input. It sees only the rows (sequences) still running at that step.

``w`` is a :class:`LayerWeights` holding one layer-direction's parameters. Gate order and
parameter shapes follow ``torch.nn`` exactly (LSTM ``i, f, g, o``; GRU ``r, z, n``), so the
weights of a ``torch.nn`` layer can be loaded unchanged.

Later cell variants (dropout on the recurrent update, zoneout, ...) are new rules or new
options of these rules; the time loop in :mod:`seqlab.nn.per_step` stays the same.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from seqlab.nn.precision import autocast_dtype, lerp
from seqlab.nn.recurrent_product import Tape, recurrent_product
from seqlab.nn.step_noise import NO_REGULARISATION, Regularisation, StepNoise, drop_update, zoneout

State = tuple[Tensor, ...]


@dataclass(frozen=True)
class LayerWeights:
    """The parameters of one layer in one direction (``None`` where a feature is off).

    Shapes, with G gates, hidden size H, state size P (P = proj_size if set, else H) and
    input size I: ``weight_ih (G*H, I)``, ``weight_hh (G*H, P)``, biases ``(G*H,)``,
    ``weight_hr (P, H)``, peephole weights ``(H,)``, layer-norm gains ``(G*H,)`` and
    cell-norm gain and bias ``(H,)``.
    """

    weight_ih: Tensor
    weight_hh: Tensor
    bias_ih: Tensor | None = None
    bias_hh: Tensor | None = None
    weight_hr: Tensor | None = None
    peephole_i: Tensor | None = None
    peephole_f: Tensor | None = None
    peephole_o: Tensor | None = None
    ln_gain_ih: Tensor | None = None
    ln_gain_hh: Tensor | None = None
    ln_gain_cell: Tensor | None = None
    ln_bias_cell: Tensor | None = None
    tape: Tape | None = None  # set by the per-step loop: see seqlab.nn.recurrent_product


def _normalise(x: Tensor, gain: Tensor | None, bias: Tensor | None = None) -> Tensor:
    """Layer normalisation over the last dimension (Ba et al. 2016), eps = 1e-5.

    Under autocast it runs in float32, as CUDA's autocast runs ``layer_norm``. CPU autocast
    would keep a bfloat16 product in bfloat16, and the gradients would come out about a third
    further from float32's (measured on the configuration of tests/nn/test_autocast.py).
    """
    if x.dtype in (torch.float16, torch.bfloat16) and autocast_dtype(x) is not None:
        x = x.float()
    return F.layer_norm(x, x.shape[-1:], gain, bias)


def _linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """``x @ weight.T + bias`` for a 2-D ``x``; ``addmm`` is one kernel instead of two."""
    if bias is None:
        return x @ weight.t()
    return torch.addmm(bias, x, weight.t())


class RecurrentRule(ABC):
    """Base of the step rules.

    Attributes:
        num_gates: G, the number of gate blocks stacked in ``weight_ih``/``weight_hh``.
        state_size: number of tensors in the recurrent state (2 for LSTM: h and c).
        layer_norm: normalise the input and recurrent projections (Ba et al. 2016).
        regularisation: dropout probabilities applied inside the step
            (:mod:`seqlab.nn.step_noise`).
    """

    num_gates = 1
    state_size = 1
    # Regularisation fields that make no sense for this cell kind.
    unsupported: tuple[str, ...] = ()

    def __init__(self, *, layer_norm: bool = False, regularisation: Regularisation = NO_REGULARISATION) -> None:
        for name in self.unsupported:
            if getattr(regularisation, name):
                raise ValueError(f"{type(self).__name__[:-4]} cells have no {name}")
        self.layer_norm = layer_norm
        self.regularisation = regularisation

    @property
    def is_plain(self) -> bool:
        """Whether the rule is exactly torch's cell, so the fused kernel computes it."""
        return not (self.layer_norm or self.regularisation.active)

    def project_input(self, x: Tensor, w: LayerWeights) -> Tensor:
        """Input projection of all steps: ``(N, I) -> (N, G*H)``.

        Without layer norm the recurrent bias is folded in here too, so the step adds
        one tensor fewer; rules that need ``bias_hh`` inside the step override this.
        """
        if self.layer_norm:
            xp = _normalise(x @ w.weight_ih.t(), w.ln_gain_ih)
            return xp if w.bias_ih is None else xp + w.bias_ih + w.bias_hh
        return _linear(x, w.weight_ih, self.input_bias(w))

    def input_bias(self, w: LayerWeights) -> Tensor | None:
        """What :meth:`project_input` adds to ``W_ih x`` when there is no layer norm: ``(G*H,)`` or None."""
        return None if w.bias_ih is None else w.bias_ih + w.bias_hh

    def gate_preactivations(self, xp_t: Tensor, h: Tensor, w: LayerWeights, noise: StepNoise | None) -> Tensor:
        """``xp_t + W_hh h`` (normalised if layer norm is on): ``(B, G*H)``."""
        h = h if noise is None else noise.mask_state(h)
        if self.layer_norm:
            return xp_t + _normalise(recurrent_product(h, w.weight_hh, None, w.tape), w.ln_gain_hh)
        return recurrent_product(h, w.weight_hh, xp_t, w.tape)

    @abstractmethod
    def step(self, xp_t: Tensor, state: State, w: LayerWeights, noise: StepNoise | None = None) -> tuple[Tensor, State]:
        """One time step: returns the output ``(B, P)`` and the new state.

        ``noise`` carries the training flag and per-sequence masks of the regularisation;
        None means evaluation.
        """


class RNNRule(RecurrentRule):
    """Elman RNN: ``h' = act(W_ih x + b_ih + W_hh h + b_hh)`` with act = tanh or relu."""

    unsupported = ("recurrent_dropout", "zoneout_cell")

    def __init__(
        self,
        nonlinearity: str = "tanh",
        *,
        layer_norm: bool = False,
        regularisation: Regularisation = NO_REGULARISATION,
    ) -> None:
        super().__init__(layer_norm=layer_norm, regularisation=regularisation)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity

    def step(self, xp_t: Tensor, state: State, w: LayerWeights, noise: StepNoise | None = None) -> tuple[Tensor, State]:
        pre = self.gate_preactivations(xp_t, state[0], w, noise)
        h = torch.tanh(pre) if self.nonlinearity == "tanh" else torch.relu(pre)
        h = zoneout(state[0], h, self.regularisation.zoneout_hidden, noise)
        return h, (h,)


class GRURule(RecurrentRule):
    """Gated recurrent unit (Cho et al. 2014), in torch's form::

        r  = σ(W_ir x + b_ir + W_hr h + b_hr)
        z  = σ(W_iz x + b_iz + W_hz h + b_hz)
        n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
        h' = (1 - z) ⊙ n + z ⊙ h

    With ``layer_norm`` the two projections ``W_i· x`` and ``W_h· h`` are each normalised
    over all 3H units before their biases are added.
    """

    num_gates = 3
    unsupported = ("zoneout_cell",)

    def project_input(self, x: Tensor, w: LayerWeights) -> Tensor:
        # b_hn sits inside r ⊙ (...), so the recurrent bias cannot be folded in here.
        if self.layer_norm:
            xp = _normalise(x @ w.weight_ih.t(), w.ln_gain_ih)
            return xp if w.bias_ih is None else xp + w.bias_ih
        return _linear(x, w.weight_ih, self.input_bias(w))

    def input_bias(self, w: LayerWeights) -> Tensor | None:
        return w.bias_ih

    def step(self, xp_t: Tensor, state: State, w: LayerWeights, noise: StepNoise | None = None) -> tuple[Tensor, State]:
        h = state[0]
        h_seen = h if noise is None else noise.mask_state(h)
        if self.layer_norm:
            hp = _normalise(recurrent_product(h_seen, w.weight_hh, None, w.tape), w.ln_gain_hh)
            hp = hp if w.bias_hh is None else hp + w.bias_hh
        else:
            hp = recurrent_product(h_seen, w.weight_hh, w.bias_hh, w.tape)
        x_r, x_z, x_n = xp_t.chunk(3, 1)
        h_r, h_z, h_n = hp.chunk(3, 1)
        r = torch.sigmoid(x_r + h_r)
        z = torch.sigmoid(x_z + h_z)
        n = torch.tanh(torch.addcmul(x_n, r, h_n))
        n = drop_update(n, self.regularisation.recurrent_dropout, noise)
        h_new = lerp(n, h, z)  # (1 - z) n + z h
        h_new = zoneout(h, h_new, self.regularisation.zoneout_hidden, noise)
        return h_new, (h_new,)


class LSTMRule(RecurrentRule):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), in torch's form::

        i, f, g, o = split(W_ih x + b_ih + W_hh h + b_hh)
        i, f, o    = σ(i), σ(f), σ(o);   g = tanh(g)
        c' = f ⊙ c + i ⊙ g
        h' = o ⊙ tanh(c')                     (then h' = W_hr h' if proj_size > 0)

    Options beyond torch:

    * ``peephole`` (Gers & Schmidhuber 2000): the gates also see the cell,
      ``i = σ(... + p_i ⊙ c)``, ``f = σ(... + p_f ⊙ c)`` and ``o = σ(... + p_o ⊙ c')``.
    * ``layer_norm`` (Ba et al. 2016, eqs. 20-22): ``W_ih x`` and ``W_hh h`` are each
      normalised over all 4H units, and ``h' = o ⊙ tanh(LN(c'))`` with its own gain and
      bias; the recurrence carries the unnormalised ``c'``.
    * zoneout (Krueger et al. 2016, Section 3.2; ICLR 2017 version): with per-unit Bernoulli
      masks ``d^c``, ``d^h`` (1 = keep the old value, with probability ``zoneout_cell``,
      ``zoneout_hidden``), both states mix their old value with the *un-zoned* new one::

          c̃ = f ⊙ c + i ⊙ g                    (the new cell, before zoneout)
          c' = d^c ⊙ c + (1 - d^c) ⊙ c̃
          h' = d^h ⊙ h + (1 - d^h) ⊙ (o ⊙ tanh(c̃))

      so h's new value never sees ``d^c``. Where the paper is silent, the same holds: the
      peephole ``o`` reads ``c̃`` and the layer-norm cell output is ``LN(c̃)``, i.e. the
      step computes exactly the un-regularised cell and zoneout only mixes its two outputs
      with the old state (projected h included). In evaluation each mask is replaced by its
      expectation p, as in the paper.
    """

    num_gates = 4
    state_size = 2

    def __init__(
        self, *, layer_norm: bool = False, peephole: bool = False, regularisation: Regularisation = NO_REGULARISATION
    ) -> None:
        super().__init__(layer_norm=layer_norm, regularisation=regularisation)
        self.peephole = peephole

    @property
    def is_plain(self) -> bool:
        return super().is_plain and not self.peephole

    def step(self, xp_t: Tensor, state: State, w: LayerWeights, noise: StepNoise | None = None) -> tuple[Tensor, State]:
        h, c = state
        gates = self.gate_preactivations(xp_t, h, w, noise)
        i, f, g, o = gates.chunk(4, 1)
        if self.peephole:
            i = i + w.peephole_i * c
            f = f + w.peephole_f * c
        update = drop_update(torch.tanh(g), self.regularisation.recurrent_dropout, noise)
        c_fresh = torch.addcmul(torch.sigmoid(f) * c, torch.sigmoid(i), update)  # c̃: before zoneout
        if self.peephole:
            o = o + w.peephole_o * c_fresh
        cell_out = _normalise(c_fresh, w.ln_gain_cell, w.ln_bias_cell) if self.layer_norm else c_fresh
        h_fresh = torch.sigmoid(o) * torch.tanh(cell_out)
        if w.weight_hr is not None:
            h_fresh = h_fresh @ w.weight_hr.t()
        # Zoneout mixes each state with its un-zoned new value (c's mask is drawn first).
        c_new = zoneout(c, c_fresh, self.regularisation.zoneout_cell, noise)
        h_new = zoneout(h, h_fresh, self.regularisation.zoneout_hidden, noise)
        return h_new, (h_new, c_new)
