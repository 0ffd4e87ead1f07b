"""The decode loop: feed tokens, keep finished hypotheses, handle EOS, lengths and stopping.

The per-step choice is a policy (:mod:`seqlab.decode.policies`), as fairseq separates
``search.py`` from ``sequence_generator.py``. Everything is batched over the B*K slots of B
sentences and K hypotheses each: a step costs one model step, two ``topk`` (of each row, then of
each sentence), a few gathers and a few host syncs (any EOS? any sentence done? any slot empty?),
with no Python loop over sentences or rows. Rows of finished sentences leave the batch (one
:meth:`reorder` with the beams' new order), so the model's work shrinks as sentences end; a slot
with no live hypothesis (a pruned beam, fewer than K candidates) is not stepped, so the model's
rows are then the live slots only, packed; and the first step runs one row per sentence, since
its K rows would all read ``bos`` from the same state.

The rules, shared by every policy:

- **Lengths.** ``|Y|`` is the number of scored tokens: the words, plus EOS when the model chose
  it. A search makes at most ``max_lengths[b]`` steps for sentence b, so ``|Y| <= max_length``;
  EOS is banned while a hypothesis has fewer than ``min_lengths[b]`` words.
- **EOS.** A candidate ending with EOS among the first K candidates of a sentence is finished
  (scored with EOS's log-probability) and leaves the live set; the K live rows are the best K
  candidates that do not end with EOS (fairseq, OpenNMT). Rows at ``-inf`` are dead.
- **The maximum length.** Hypotheses still live after ``max_length`` steps are *cut*: returned
  with ``finished=False``, their ``log_prob`` without any EOS term, ranked with the finished
  ones by the same normalised score.
- **Ranking.** Live rows are ranked by their summed log-probability; finished (and cut)
  hypotheses by ``log P(Y|X) / lp(Y)`` (Wu et al. 2016, section 7), the N best kept.
- **Stopping** (per sentence, besides reaching ``max_length`` or having no live row):
  ``"count"`` stops once K hypotheses are finished (fairseq's rule: fast, not exact);
  ``"bound"`` stops when no live row can beat the N-th best finished one. A live row with
  summed log-probability ``s <= 0`` can only lose probability, and ``lp`` grows with length, so
  its best possible score is ``s / lp(max_length)`` (exactly ``s`` when ``alpha = 0``); the
  sentence stops when that is ``<=`` the N-th best score. With ``alpha > 0`` this bound is
  loose, and a search often runs to ``max_length``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import Tensor

from seqlab.decode.finished import FinishedHypotheses
from seqlab.decode.hypothesis import Hypothesis
from seqlab.decode.incremental import IncrementalDecoder
from seqlab.decode.length_normalisation import normalised_score
from seqlab.decode.no_repeat import repeated_ngram_mask
from seqlab.decode.policies import SearchPolicy
from seqlab.errors import SeqlabError

STOPPING_RULES = ("count", "bound")


@torch.no_grad()
def search(
    model: IncrementalDecoder,
    state: Any,
    policy: SearchPolicy,
    *,
    bos: int,
    eos: int,
    max_lengths: Tensor,
    min_lengths: Tensor | None = None,
    nbest: int = 1,
    alpha: float = 0.0,
    stopping: Literal["count", "bound"] = "count",
    no_repeat_ngram_size: int = 0,
    banned_ids: Sequence[int] = (),
) -> list[list[Hypothesis]]:
    """Decode B sentences with ``policy``: the N best hypotheses of each, best first.

    Args:
        model: the decoder, by its ``step`` and ``reorder`` (:class:`IncrementalDecoder`).
        state: the model's state for the B sentences (rows ``0..B-1``).
        policy: :class:`GreedySearch`, :class:`BeamSearch` or :class:`SamplingSearch`.
        bos: fed as the first token of every row.
        eos: the end-of-sentence token.
        max_lengths: the most steps (scored tokens) per sentence, each ``>= 1``; the caller derives
            them from the source, e.g. ``a * |x| + b``. The buffers are on this tensor's device.
        min_lengths: the fewest words before EOS is allowed, each ``<= max_lengths``; default 0.
        nbest: N, hypotheses returned per sentence, ``1 <= N <= K``.
        alpha: length normalisation of the finished hypotheses' scores; 0 ranks by ``log P(Y|X)``.
        stopping: ``"count"`` or ``"bound"`` (see the module's docstring).
        no_repeat_ngram_size: n > 0 bans any token that would repeat an n-gram of the hypothesis.
        banned_ids: tokens never emitted (e.g. padding, ``<unk>``, BOS).

    Shape:
        - max_lengths, min_lengths: ``(B,)`` integer

    Returns:
        For each sentence, up to N :class:`Hypothesis`, best score first (fewer only when the
        model gives probability 0 to every continuation).
    """
    min_lengths = _check(model, policy, max_lengths, min_lengths, nbest, alpha, stopping, no_repeat_ngram_size)
    device, beam_size = max_lengths.device, policy.beam_size
    batch_size, max_steps = max_lengths.numel(), int(max_lengths.max())
    live = _Live(torch.arange(batch_size, device=device), max_lengths.long(), min_lengths.long())
    # The K rows of a sentence start alike, so the first step runs one row per sentence; its rows
    # are expanded into the K beams with the first reorder.
    state_rows = 1  # rows per sentence in the model's state: 1 before the first reorder, then K
    tokens = torch.full((batch_size,), bos, dtype=torch.long, device=device)  # (B,)
    finished = None
    banned = torch.tensor(sorted(set(banned_ids)), dtype=torch.long, device=device)
    last_min_length = int(min_lengths.max())
    stepped = None  # (Ba, K) bool: the slots the model stepped, in row-major order; None: every slot
    for t in range(max_steps):
        log_probs, state = model.step(tokens, state)  # (N, V): N = Ba*K, B at the first step, or the stepped slots
        if finished is None:
            _check_output(log_probs, batch_size, bos, eos, banned_ids)
            live.start(policy, beam_size, log_probs.dtype)
            finished = FinishedHypotheses(batch_size, nbest, max_steps, dtype=log_probs.dtype, device=device)
        if stepped is not None:
            log_probs = _every_slot(log_probs, stepped)  # (Ba*K, V), zeros at dead slots (their scores are -inf)
        log_probs = _allowed(log_probs, live, t, rows=(state_rows, beam_size), banned=banned, eos=eos,
                             ban_eos=t < last_min_length, ngram_size=no_repeat_ngram_size)  # fmt: skip
        candidates = policy.step(log_probs, live.scores)  # 3 x (Ba, C)
        _finish_eos(finished, live, *candidates, eos=eos, alpha=alpha, beam_size=beam_size)
        rows, tokens = live.advance(*candidates, eos=eos, beam_size=beam_size)  # (Ba, K)
        done = _done(finished, live, t + 1, alpha=alpha, stopping=stopping, beam_size=beam_size)  # (Ba,)
        if bool(done.all()):
            break
        any_done = bool(done.any())
        parents = rows if state_rows == beam_size else torch.zeros_like(rows)  # (Ba, K) slots of the last step
        order, tokens, stepped = _next_rows(live, parents, tokens, done if any_done else None, stepped, state_rows)
        if policy.reorders_rows or any_done or state_rows != beam_size or stepped is not None:
            state = model.reorder(state, order)  # (N,) rows
        state_rows = beam_size
    return finished.hypotheses()


class _Live:
    """The live rows: which sentences, their running scores and the words of each row."""

    def __init__(self, sentences: Tensor, max_lengths: Tensor, min_lengths: Tensor) -> None:
        self.sentences = sentences  # (Ba,) indices into B
        self.max_lengths, self.min_lengths = max_lengths, min_lengths  # (Ba,)
        self.scores = self.history = torch.empty(0)

    def start(self, policy: SearchPolicy, beam_size: int, dtype: torch.dtype) -> None:
        batch_size, device = self.sentences.numel(), self.sentences.device
        self.scores = policy.start(batch_size, dtype=dtype, device=device)  # (B, K)
        self.history = torch.empty(batch_size, beam_size, 0, dtype=torch.long, device=device)  # (B, K, 0)

    def advance(self, scores: Tensor, tokens: Tensor, rows: Tensor, *, eos: int, beam_size: int):
        """Keep the first K candidates that are not EOS or dead; return their rows and tokens ``(Ba, K)``."""
        dead = (tokens == eos) | torch.isneginf(scores)  # (Ba, C)
        if scores.size(1) > beam_size:
            first = torch.sort(dead.to(torch.uint8), dim=1, stable=True).indices[:, :beam_size]  # (Ba, K)
            scores, tokens, rows, dead = (x.gather(1, first) for x in (scores, tokens, rows, dead))
        self.scores = scores.masked_fill(dead, float("-inf"))
        length = self.history.size(-1)
        previous = self.history.gather(1, rows.unsqueeze(-1).expand(-1, -1, length))  # (Ba, K, t)
        self.history = torch.cat([previous, tokens.unsqueeze(-1)], dim=-1)  # (Ba, K, t+1)
        return rows, tokens

    @staticmethod
    def row_order(rows: Tensor, state_rows: int) -> Tensor:
        """The state rows of the next step ``(Ba, K)``: slot k of sentence i continues its slot ``rows[i, k]``,
        when the state holds ``state_rows`` rows for every sentence (those of sentence i start at ``i * state_rows``).
        """
        base = torch.arange(rows.size(0), device=rows.device).unsqueeze(1) * state_rows  # (Ba, 1)
        return base + rows

    def drop(self, done: Tensor) -> None:
        """Remove the sentences ``done`` (Ba,)."""
        kept = (~done).nonzero().squeeze(1)  # (Ba',)
        for name in ("sentences", "max_lengths", "min_lengths", "scores", "history"):
            setattr(self, name, getattr(self, name)[kept])


def _next_rows(live: _Live, parents: Tensor, tokens: Tensor, done: Tensor | None, stepped: Tensor | None,
               state_rows: int) -> tuple[Tensor, Tensor, Tensor | None]:  # fmt: skip
    """Drop the sentences ``done`` (None: none) from ``live``; return the model rows the next step
    continues ``(N,)``, its tokens ``(N,)`` and its stepped slots ``(Ba', K)`` (None: every slot).

    ``parents`` (Ba, K): the slot of the last step each slot extends; ``stepped``: that step's.
    """
    if stepped is None:
        order = live.row_order(parents, state_rows)  # (Ba, K)
    else:
        order = _row_of_slot(stepped).gather(1, parents)
    if done is not None:
        order, tokens = order[~done], tokens[~done]  # (Ba', K)
        live.drop(done)
    stepped = _live_slots(live.scores)
    if stepped is None:
        return order.view(-1), tokens.view(-1), None
    return order[stepped], tokens[stepped], stepped


def _live_slots(scores: Tensor) -> Tensor | None:
    """The slots ``(Ba, K)`` with a finite score, which the model steps next; None when that is every slot."""
    live = torch.isfinite(scores)
    return None if bool(live.all()) else live


def _row_of_slot(stepped: Tensor) -> Tensor:
    """The model's row of each stepped slot ``(Ba, K)``: the slots' rank in row-major order (dead slots: any row)."""
    return (stepped.view(-1).long().cumsum(0) - 1).clamp(min=0).view_as(stepped)


def _every_slot(log_probs: Tensor, stepped: Tensor) -> Tensor:
    """The stepped rows' ``log_probs`` (N, V) placed at their slots of ``(Ba*K, V)``, zeros at the others."""
    every = log_probs.new_zeros(stepped.numel(), log_probs.size(1))
    every[stepped.view(-1)] = log_probs
    return every


def _allowed(log_probs: Tensor, live: _Live, t: int, *, rows: tuple[int, int], banned: Tensor, eos: int,
             ban_eos: bool, ngram_size: int) -> Tensor:  # fmt: skip
    """The model's ``log_probs`` (Ba*R, V) as (Ba, K, V), with ``-inf`` at every token step t may not emit:
    banned ids (written into the model's output, as fairseq's generator bans padding), EOS before a
    sentence's minimum length (checked only while ``ban_eos``), repeated n-grams.

    ``rows``: R, the rows per sentence in the model's state (1 at the first step), and K.
    """
    if banned.numel():
        log_probs.index_fill_(-1, banned, float("-inf"))  # in place: no copy of all (Ba*R, V)
    state_rows, beam_size = rows
    log_probs = log_probs.view(live.sentences.numel(), state_rows, -1).expand(-1, beam_size, -1)  # (Ba, K, V)
    if ban_eos:
        log_probs = _ban_eos(log_probs, t < live.min_lengths, eos)
    if ngram_size:
        repeats = repeated_ngram_mask(live.history.flatten(0, 1), ngram_size, log_probs.size(-1))
        log_probs = log_probs.masked_fill(repeats.view_as(log_probs), float("-inf"))
    return log_probs


def _ban_eos(log_probs: Tensor, too_short: Tensor, eos: int) -> Tensor:
    """``log_probs`` with EOS at ``-inf`` in the sentences ``too_short`` (Ba,)."""
    eos_column = log_probs[..., eos].masked_fill(too_short.unsqueeze(1), float("-inf"))  # (Ba, K)
    log_probs = log_probs.clone()
    log_probs[..., eos] = eos_column
    return log_probs


def _finish_eos(finished, live, scores, tokens, rows, *, eos: int, alpha: float, beam_size: int) -> None:
    """Add the EOS candidates among each sentence's first K to its finished hypotheses."""
    ending = (tokens[:, :beam_size] == eos) & torch.isfinite(scores[:, :beam_size])  # (Ba, K)
    if not bool(ending.any()):
        return
    which = ending.any(1).nonzero().squeeze(1)  # (S,) positions among the live sentences
    scores, rows, ending = scores[which, :beam_size], rows[which, :beam_size], ending[which]  # (S, K)
    length = live.history.size(-1)
    words = live.history[which].gather(1, rows.unsqueeze(-1).expand(-1, -1, length))  # (S, K, t)
    normalised = normalised_score(scores, torch.full_like(scores, length + 1), alpha).masked_fill(
        ~ending, float("-inf")
    )
    finished.add(live.sentences[which], words, scores, normalised, finished=True)


def _done(finished, live, steps: int, *, alpha: float, stopping: str, beam_size: int) -> Tensor:
    """Which live sentences stop after ``steps`` steps; those at their maximum length keep their live rows, cut."""
    at_max = live.max_lengths == steps  # (Ba,)
    if bool(at_max.any()):
        scores = live.scores[at_max]  # (S, K)
        normalised = normalised_score(scores, torch.full_like(scores, steps), alpha)
        finished.add(live.sentences[at_max], live.history[at_max], scores, normalised, finished=False)
    if stopping == "count":
        stop = (finished.count[live.sentences] >= beam_size) | torch.isneginf(live.scores).all(1)
    else:
        best_possible = normalised_score(live.scores.max(1).values, live.max_lengths, alpha)  # (Ba,)
        stop = best_possible <= finished.worst(live.sentences)
    return at_max | stop


def _check(model, policy, max_lengths, min_lengths, nbest, alpha, stopping, ngram_size) -> Tensor:
    """Validate the arguments of :func:`search`; return ``min_lengths`` (zeros by default)."""
    if not isinstance(model, IncrementalDecoder):
        raise SeqlabError(f"the model must have step(tokens, state) and reorder(state, order); got {type(model)}")
    if max_lengths.dim() != 1 or max_lengths.numel() == 0 or max_lengths.is_floating_point():
        raise SeqlabError(f"max_lengths must be a non-empty 1-D integer tensor, got shape {tuple(max_lengths.shape)}")
    if bool((max_lengths < 1).any()):
        raise SeqlabError(f"max_lengths must be at least 1, got {max_lengths.min().item()}")
    min_lengths = torch.zeros_like(max_lengths) if min_lengths is None else min_lengths.to(max_lengths.device)
    if min_lengths.shape != max_lengths.shape:
        raise SeqlabError(f"min_lengths {tuple(min_lengths.shape)} and max_lengths {tuple(max_lengths.shape)} differ")
    if bool((min_lengths < 0).any()) or bool((min_lengths > max_lengths).any()):
        raise SeqlabError("min_lengths must be between 0 and max_lengths")
    if not 1 <= nbest <= policy.beam_size:
        raise SeqlabError(f"nbest must be between 1 and the beam size {policy.beam_size}, got {nbest}")
    if not alpha >= 0:
        raise SeqlabError(f"alpha must not be negative, got {alpha}")
    if stopping not in STOPPING_RULES:
        raise SeqlabError(f"stopping must be one of {', '.join(STOPPING_RULES)}; got {stopping!r}")
    if ngram_size < 0:
        raise SeqlabError(f"no_repeat_ngram_size must not be negative, got {ngram_size}")
    return min_lengths


def _check_output(log_probs: Tensor, rows: int, bos: int, eos: int, banned_ids: Sequence[int]) -> None:
    """The model's first output must be ``(rows, V)`` floats of its own (not an expanded view), with every
    special token in ``[0, V)``."""
    if log_probs.dim() != 2 or log_probs.size(0) != rows or not log_probs.is_floating_point():
        raise SeqlabError(f"model.step must return float log-probabilities ({rows}, V), got {tuple(log_probs.shape)}")
    if any(stride == 0 and size > 1 for size, stride in zip(log_probs.shape, log_probs.stride())):
        raise SeqlabError("model.step must return log-probabilities of their own (the search writes into them); "
                          "got an expanded view: return a copy")  # fmt: skip
    vocab_size = log_probs.size(1)
    for name, token in [("bos", bos), ("eos", eos)] + [("banned id", token) for token in banned_ids]:
        if not 0 <= token < vocab_size:
            raise SeqlabError(f"{name} {token} is outside the model's vocabulary of {vocab_size}")
