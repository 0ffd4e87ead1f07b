"""The per-step path: a step rule applied over time, layer by layer, in plain autograd.

Every input, padded or packed, is handled in the packed layout: ``data (N, F)`` holds the
rows of all time steps one after another, and ``batch_sizes[t]`` says how many sequences
are still running at step t (non-increasing, as in ``torch.nn.utils.rnn.PackedSequence``).
A padded batch of T steps and B sequences is simply ``batch_sizes = [B] * T``::

    time step      0        1        2
    data rows   a0 b0 c0 | a1 b1 | a2          batch_sizes = [3, 2, 1]
                           (sequence c ended after step 0, b after step 1)

The forward direction drops finished sequences from the bottom of the state as it goes
and keeps their last state aside; the reverse direction starts with the sequences that
run longest and adds each sequence's initial state when the loop reaches its last step.

Speed comes from four choices measured on CPU (see BENCHMARKS.md): the input projection
of all steps is one matrix product (``rule.project_input``); each step is one ``addmm``
plus pointwise ops; the recurrent weight's gradient is one matrix product per sequence,
not one accumulation per step (:mod:`seqlab.nn.recurrent_product`); and per-step slices
come from ``split`` (indexing a tensor inside the loop makes every backward step build a
full-size zero tensor).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields, replace

import torch
import torch.nn.functional as F
from torch import Tensor

from seqlab.nn.recurrent_product import track_weight_gradient
from seqlab.nn.rules import LayerWeights, RecurrentRule, State
from seqlab.nn.step_noise import StepNoise


def run_direction(
    rule: RecurrentRule,
    xp: Tensor,
    batch_sizes: Sequence[int],
    state: State,
    weights: LayerWeights,
    reverse: bool,
    training: bool = False,
) -> tuple[Tensor, State]:
    """Runs one layer in one direction over a packed, already projected input.

    Args:
        rule: the step rule.
        xp: projected input of all steps, ``(N, G*H)`` in packed order.
        batch_sizes: running sequences per step (python ints, non-increasing).
        state: initial state, each tensor ``(B, ·)`` with B = ``batch_sizes[0]``.
        weights: this layer-direction's parameters.
        reverse: run from the last step to the first.
        training: draw the rule's regularisation masks (else use expectations).

    Returns:
        ``(output (N, P) in packed order, final state with each tensor (B, ·))``; a
        sequence's final state is its state after its own last (or, reversed, first) step.
    """
    xp, state, weights = _open_tape(xp, state, weights)
    steps = xp.split(list(batch_sizes))
    noise = StepNoise.draw(rule.regularisation, state[0], training)
    if reverse:
        return _run_backward_in_time(rule, steps, batch_sizes, state, weights, noise)
    outputs = []
    finished: list[State] = []  # final states of ended sequences, latest-ended first
    running = state
    for xp_t, size in zip(steps, batch_sizes):
        if size < running[0].shape[0]:
            finished.append(tuple(s[size:] for s in running))
            running = tuple(s[:size] for s in running)
        out, running = rule.step(xp_t, running, weights, noise)
        outputs.append(out)
    if finished:
        pieces = [running, *reversed(finished)]  # rows 0.., then the earlier-ended rows
        running = tuple(torch.cat(parts) for parts in zip(*pieces))
    return torch.cat(outputs), running


def _open_tape(xp: Tensor, state: State, weights: LayerWeights) -> tuple[Tensor, State, LayerWeights]:
    """Routes everything one run reads through the tape's collector (see
    :mod:`seqlab.nn.recurrent_product`), and sets ``weights.tape``."""
    others = {
        field.name: getattr(weights, field.name)
        for field in fields(weights)
        if field.name not in ("weight_hh", "tape") and getattr(weights, field.name) is not None
    }
    weight_hh, routed, tape = track_weight_gradient(weights.weight_hh, (xp, *state, *others.values()))
    xp, state, rest = routed[0], routed[1 : 1 + len(state)], routed[1 + len(state) :]
    return xp, state, replace(weights, weight_hh=weight_hh, tape=tape, **dict(zip(others, rest)))


def _run_backward_in_time(
    rule: RecurrentRule,
    steps: Sequence[Tensor],
    batch_sizes: Sequence[int],
    state: State,
    weights: LayerWeights,
    noise: StepNoise,
) -> tuple[Tensor, State]:
    """The reverse direction of :func:`run_direction`."""
    outputs: list[Tensor] = [None] * len(steps)  # type: ignore[list-item]
    running = tuple(s[: batch_sizes[-1]] for s in state)
    for t in range(len(steps) - 1, -1, -1):
        size, have = batch_sizes[t], running[0].shape[0]
        if size > have:  # sequences whose last step is t join here, from their initial state
            running = tuple(torch.cat((r, s[have:size])) for r, s in zip(running, state))
        outputs[t], running = rule.step(steps[t], running, weights, noise)
    return torch.cat(outputs), running


def run_stack(
    rule: RecurrentRule,
    data: Tensor,
    batch_sizes: Sequence[int],
    initial: State,
    weights: Sequence[LayerWeights],
    *,
    num_layers: int,
    bidirectional: bool,
    dropout: float,
    training: bool,
) -> tuple[Tensor, State]:
    """Runs a stacked, optionally bidirectional recurrent network, torch.nn semantics.

    Args:
        data: packed input ``(N, I)``.
        batch_sizes: running sequences per step (python ints).
        initial: initial state, each tensor ``(L*D, B, ·)`` indexed ``layer * D + direction``.
        weights: one :class:`LayerWeights` per ``layer * D + direction``.
        dropout: dropout probability on the outputs of every layer but the last.

    Returns:
        ``(output (N, D*P), final state with each tensor (L*D, B, ·))``.
    """
    num_directions = 2 if bidirectional else 1
    finals: list[State] = []
    layer_input = data
    for layer in range(num_layers):
        outputs = []
        for direction in range(num_directions):
            index = layer * num_directions + direction
            xp = rule.project_input(layer_input, weights[index])
            state = tuple(s[index] for s in initial)
            out, final = run_direction(rule, xp, batch_sizes, state, weights[index], direction == 1, training)
            outputs.append(out)
            finals.append(final)
        layer_input = outputs[0] if num_directions == 1 else torch.cat(outputs, 1)
        if dropout > 0 and training and layer < num_layers - 1:
            layer_input = F.dropout(layer_input, dropout, training=True)
    final_state = tuple(torch.stack(parts) for parts in zip(*finals))
    return layer_input, final_state
