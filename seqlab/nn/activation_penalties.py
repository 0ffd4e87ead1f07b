"""Activation regularisation (AR) and temporal activation regularisation (TAR).

Merity et al. 2017 ("Revisiting activation regularization for language RNNs", and the
AWD-LSTM recipe) add two L2 penalties on the last recurrent layer's output to the loss:

* AR  = α · mean(m ⊙ h_t)²         on the dropped-out output: keeps activations small;
* TAR = β · mean(h_t − h_{t−1})²   on the raw output: keeps the state from changing fast.

The means run over every element (time, batch, units), as in the reference code, so the
penalties do not grow with the batch or the sequence length.
"""

from __future__ import annotations

from torch import Tensor

from seqlab.errors import SeqlabError


def _check_output(output: Tensor, name: str) -> None:
    if output.dim() != 3:
        raise SeqlabError(
            f"{name}: expected the (time, batch, units) output of a recurrent layer, got {output.dim()}-D"
        )


def activation_penalty(dropped_output: Tensor, alpha: float) -> Tensor:
    """AR: ``alpha * mean(dropped_output ** 2)``.

    Args:
        dropped_output: the last layer's output after its (locked) dropout.
        alpha: the penalty's weight (AWD-LSTM uses 2).

    Shape:
        dropped_output ``(T, B, H)``; returns a scalar.
    """
    _check_output(dropped_output, "activation_penalty")
    return alpha * dropped_output.pow(2).mean()


def temporal_activation_penalty(raw_output: Tensor, beta: float, *, batch_first: bool = False) -> Tensor:
    """TAR: ``beta * mean((h_t - h_{t-1}) ** 2)`` over consecutive steps.

    Args:
        raw_output: the last layer's output before dropout.
        beta: the penalty's weight (AWD-LSTM uses 1).
        batch_first: whether ``raw_output`` is ``(B, T, H)``.

    Shape:
        raw_output ``(T, B, H)`` (or ``(B, T, H)``); returns a scalar, 0 for a single step.
    """
    _check_output(raw_output, "temporal_activation_penalty")
    steps = raw_output.diff(dim=1 if batch_first else 0)  # (T - 1, B, H)
    if steps.numel() == 0:
        return raw_output.new_zeros(())
    return beta * steps.pow(2).mean()
