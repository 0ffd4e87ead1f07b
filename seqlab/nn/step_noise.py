"""The randomness a regularised step rule draws: variational, recurrent and zoneout dropout.

:class:`Regularisation` holds a rule's probabilities; :class:`StepNoise` is what one run
of a layer-direction draws up front (the per-sequence mask) and the training flag the
per-step draws depend on.

* ``state_dropout`` (Gal & Ghahramani 2016): the recurrent state h is multiplied by one
  mask per sequence, the same at every step, before ``W_hh``. The carried state itself
  is untouched.
* ``recurrent_dropout`` (Semeniuta et al. 2016): dropout on the candidate update only
  (LSTM ``g``, GRU ``n``), with a fresh mask per step. The memory is never erased: a
  dropped unit of the LSTM keeps ``f ⊙ c``.
* ``zoneout_hidden``, ``zoneout_cell`` (Krueger et al. 2016, Section 3.2): each unit keeps its
  previous value with probability p, fresh mask per step; at evaluation the expectation
  ``p · old + (1 - p) · new`` is used. "new" is always the cell's un-regularised new value:
  an LSTM's new h is computed from its new cell before that is zoned out
  (:class:`seqlab.nn.rules.LSTMRule`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from seqlab.nn.precision import lerp


@dataclass(frozen=True)
class Regularisation:
    """Dropout probabilities of a step rule, each in [0, 1); all 0 means a plain cell."""

    state_dropout: float = 0.0
    recurrent_dropout: float = 0.0
    zoneout_hidden: float = 0.0
    zoneout_cell: float = 0.0

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
                raise ValueError(f"{name} must be a probability in [0, 1), got {value!r}")

    @property
    def active(self) -> bool:
        return any(vars(self).values())


NO_REGULARISATION = Regularisation()  # frozen, so one shared default is safe


@dataclass(frozen=True)
class StepNoise:
    """What one run of a layer-direction needs to apply its regularisation.

    Attributes:
        training: draw masks (True) or use expectations (False).
        state_mask: the per-sequence mask on h, ``(B, P)``, scaled by 1 / (1 - p); rows are
            sliced to the sequences still running (they are always the first rows).
    """

    training: bool
    state_mask: Tensor | None = None

    @staticmethod
    def draw(regularisation: Regularisation, h0: Tensor, training: bool) -> StepNoise:
        """Draws the per-sequence mask for a run starting from ``h0 (B, P)``."""
        p = regularisation.state_dropout
        if not training or p == 0:
            return StepNoise(training)
        return StepNoise(training, h0.new_empty(h0.shape).bernoulli_(1 - p).div_(1 - p))

    def mask_state(self, h: Tensor) -> Tensor:
        """``h`` as seen by ``W_hh``: masked per sequence when state dropout is on."""
        return h if self.state_mask is None else h * self.state_mask[: h.shape[0]]


def drop_update(update: Tensor, p: float, noise: StepNoise | None) -> Tensor:
    """Recurrent dropout of a candidate update, fresh mask per step (identity in eval)."""
    if noise is None or not noise.training or p == 0:
        return update
    return torch.nn.functional.dropout(update, p, training=True)


def zoneout(old: Tensor, new: Tensor, p: float, noise: StepNoise | None) -> Tensor:
    """``d ⊙ old + (1 - d) ⊙ new`` (Krueger et al. 2016, Section 3.2): each unit keeps ``old``
    with probability p (d ~ Bernoulli(p), fresh per step, in training) or mixes by d = p
    (evaluation). ``new`` must be the un-regularised new value; the result has the wider dtype
    of the two (under autocast a float32 state stays float32)."""
    if p == 0:
        return new
    if noise is not None and noise.training:
        dtype = torch.promote_types(old.dtype, new.dtype)
        keep = torch.empty(old.shape, dtype=dtype, device=old.device).bernoulli_(p)
        return lerp(new, old, keep)
    return lerp(new, old, p)
