"""Teacher-forced scoring of given outputs, and the beam-search error analysis built on it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import Tensor

from seqlab.decode.incremental import IncrementalDecoder
from seqlab.errors import SeqlabError


@torch.no_grad()
def sequence_log_probs(
    model: IncrementalDecoder,
    state: Any,
    targets: Sequence[Sequence[int]],
    *,
    bos: int,
    eos: int,
    ended: Sequence[bool] | None = None,
) -> Tensor:
    """``log P(y|x)`` of given outputs: the model's log-probabilities of their tokens, summed, EOS included.

    The model is fed ``bos, y_1, .., y_T`` through :meth:`~IncrementalDecoder.step` (teacher
    forcing, all sentences at once; a sentence that is over is fed EOS, and its terms ignored),
    so the scores are those a search adds up: a hypothesis ``h`` of :func:`search` has
    ``h.log_prob == sequence_log_probs(..., [h.tokens], ended=[h.finished])`` up to the rounding
    of the model's batched arithmetic.

    Args:
        model: the decoder.
        state: the model's state for the B sentences (rows ``0..B-1``).
        targets: the words of each output, without BOS and EOS.
        bos: fed first.
        eos: scored after the words of each output that ``ended``.
        ended: per output, whether EOS is scored after its words (False for a hypothesis that was
            cut at the maximum length); default all True.

    Returns:
        ``(B,)`` summed log-probabilities, in the dtype of the model's log-probabilities.
    """
    ended = [True] * len(targets) if ended is None else list(ended)
    if len(ended) != len(targets) or not targets:
        raise SeqlabError(
            f"{len(targets)} targets and {len(ended)} ended flags: need one flag per target, at least one"
        )
    scored = [len(words) + bool(end) for words, end in zip(targets, ended)]
    steps = max(scored)
    if steps == 0:
        return torch.zeros(len(targets))
    padded = torch.full((len(targets), steps), eos, dtype=torch.long)  # (B, T)
    for i, words in enumerate(targets):
        padded[i, : len(words)] = torch.as_tensor(list(words), dtype=torch.long)
    inputs = torch.cat([torch.full((len(targets), 1), bos, dtype=torch.long), padded[:, :-1]], dim=1)  # (B, T)
    total: Tensor | None = None
    for t in range(steps):
        log_probs, state = model.step(inputs[:, t].to(_device(total, state)), state)  # (B, V)
        if total is None:
            total = torch.zeros(len(targets), dtype=log_probs.dtype, device=log_probs.device)
            padded, scored_lengths = padded.to(log_probs.device), torch.tensor(scored, device=log_probs.device)
        term = log_probs.gather(1, padded[:, t : t + 1]).squeeze(1)  # (B,)
        total = total + torch.where(t < scored_lengths, term, torch.zeros_like(term))  # where: -inf * 0 is nan
    return total


def _device(total: Tensor | None, state: Any) -> torch.device:
    """Where to put the tokens: the model's log-probabilities' device, or the state's first tensor's."""
    if total is not None:
        return total.device
    stack = [state]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            return item.device
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return torch.device("cpu")


def classify_errors(
    reference_scores: Sequence[float] | Tensor, output_scores: Sequence[float] | Tensor, *, margin: float = 0.0
) -> list[Literal["search error", "model error"]]:
    """Beam-search error analysis: who is to blame for each output that differs from its reference.

    If the model scores the reference higher than the search's output (``score(y*) > score(ŷ) +
    margin``), a better search would have found it: a *search error*. Otherwise the model prefers
    the output (or ties), and no search could have helped: a *model error*. Ties count as model
    errors. Pass the scores the search maximised: ``log P(y|x)`` from :func:`sequence_log_probs`,
    or with ``alpha > 0`` those divided by ``lp`` (:func:`~seqlab.decode.normalised_score`).
    ``margin`` absorbs rounding (the two scores come from differently batched arithmetic).
    Sentences whose output equals the reference are no error: leave them out.

    Args:
        reference_scores: the score of each reference ``y*``.
        output_scores: the score of each output ``ŷ``.
        margin: how much higher the reference must score to call it a search error, ``>= 0``.

    Returns:
        ``"search error"`` or ``"model error"`` per sentence.

    Example:
        >>> classify_errors([-3.0, -5.0, -2.0], [-4.0, -1.0, -2.0])
        ['search error', 'model error', 'model error']
    """
    reference = torch.as_tensor(reference_scores, dtype=torch.float64).flatten()
    output = torch.as_tensor(output_scores, dtype=torch.float64).flatten()
    if reference.shape != output.shape:
        raise SeqlabError(f"{reference.numel()} reference scores and {output.numel()} output scores")
    if not margin >= 0:
        raise SeqlabError(f"margin must not be negative, got {margin}")
    return ["search error" if bool(error) else "model error" for error in reference > output + margin]
