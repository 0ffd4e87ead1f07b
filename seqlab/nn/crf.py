"""A linear-chain CRF over K tags (Lample et al. 2016, §2.2): NLL loss, Viterbi and top-k decoding, constraints.

The emissions P (B, T, K) are the network's score of every tag at every word; the layer adds
transition scores A (K, K) [from, to] and the scores of the first and last tags, and scores a
tag path y = (y_0, …, y_{T-1}) of a sentence X by Lample et al.'s s(X, y) (2016, §2.2):

    s(X, y) = start[y_0] + Σ_{t=0}^{T-1} P[t, y_t] + Σ_{t=1}^{T-1} A[y_{t-1}, y_t] + end[y_{T-1}]
    NLL = -log p(y | X) = log Z - s(X, y),      log Z = logadd over all K^T paths ỹ of s(X, ỹ)

log Z comes from the forward algorithm, its gradient (the marginals: expected counts minus the
counts along y) from the backward algorithm (Rabiner 1989, §III.A), and the best path
y* = argmax s(X, ỹ) from the Viterbi algorithm; the k best paths from the list Viterbi algorithm
(Seshadri and Sundberg 1994), exactly. The equations, written out with loops, are those of the
float64 oracle :mod:`seqlab.reference.crf`.

**Constraints.** ``allowed_transitions`` (K, K), ``allowed_start`` (K,) and ``allowed_end`` (K,)
are optional boolean masks (True = allowed), kept as buffers so that checkpoints carry them. A
disallowed move scores -inf: it is in no decoded path and adds nothing to Z. Tags of a gold path
that makes one are an error (its NLL would be inf). The masks are built elsewhere (from the tagging
scheme, e.g. O → I-PER is forbidden under BIO); this layer only applies them.

**Batches.** Batch first: emissions (B, T, K), tags (B, T), mask (B, T) of booleans, True at the
words of each sentence, which must be a prefix of its row (padding only at the end, at least one
word). What padding holds is never read, NaN included; padded tags may be anything (e.g. -100).

**What was done for speed** (pytorch-crf records about 28 autograd nodes per word and backtraces
one sentence at a time in Python, with an ``.item()`` per word):

* log Z is one ``torch.autograd.Function`` (:mod:`seqlab.nn.crf_partition`). Its forward is the
  forward algorithm in probability space, four small ops per word and no graph:
  α̂_t = normalise((α̂_{t-1} @ exp A) ⊙ exp P_t), with
  every factor shifted so that its largest entry is 1 and the logs of the shifts and normalisers
  added up afterwards. Its backward is the same recursion run on each sentence reversed within its
  length, with Aᵀ and start and end swapped (that is the backward algorithm; the reversal keeps
  padding at the end, where it cannot reach a real word), and the gradient follows from the
  marginals in a few batched ops: the expected transition counts of all B·(T-1) moves are one
  (K, B·(T-1)) @ (B·(T-1), K) matmul.
* The recursion runs in float64 whatever the input's dtype (at these sizes the cost is the number
  of ops, not their width), so it agrees with the log-space oracle to rounding unless the scores of
  a single word span more than about 700 nats, float64's range of exp.
* Viterbi is a loop compiled by numba over the sentences, words and tags (torch ops on these small
  tensors cost more than the arithmetic). Top-k stays in torch, batched: ``topk`` and a ``gather``
  per word, padding having been given identity back-pointers.

The float64 oracle of this module is :mod:`seqlab.reference.crf`; the parameter names match,
and they are pytorch-crf's (``torchcrf.CRF``), so its ``state_dict()`` loads into an unconstrained
layer.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from seqlab.errors import SeqlabError
from seqlab.nn.crf_partition import LogPartition
from seqlab.nn.crf_viterbi import NO_TAG, viterbi

REDUCTIONS = ("mean", "sum", "none")


class CRFPaths(NamedTuple):
    """Decoded tag paths and their scores s(X, y), padded with ``NO_TAG`` (-1).

    ``tags``: (B, T) from :meth:`LinearChainCRF.decode`, (B, k, T) from
    :meth:`LinearChainCRF.decode_topk`; -1 at padding, and everywhere in a path that does not
    exist (a sentence with fewer than k allowed paths). ``scores``: (B,) or (B, k), best first;
    -inf where a path does not exist. Lengths are the mask's: ``mask.sum(1)``.
    """

    tags: Tensor
    scores: Tensor

    def tolist(self) -> list:
        """The paths as lists of ints without padding: one list per sentence from ``decode``; a list
        of its (up to k) paths per sentence from ``decode_topk``. An empty path: none is allowed."""

        def strip(paths: list[list[int]]) -> list[list[int]]:
            return [[tag for tag in path if tag != NO_TAG] for path in paths]

        if self.tags.dim() == 2:
            return strip(self.tags.tolist())
        return [[path for path in strip(paths) if path] for paths in self.tags.tolist()]


def _path_scores(
    emissions: Tensor, tags: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor
) -> Tensor:
    """s(X, y) of each sentence (Lample et al. 2016, §2.2), differentiable by autograd.

    Shape:
        emissions (B, T, K), tags (B, T), mask (B, T) -> (B,).
    """
    tags = tags.masked_fill(~mask, 0)  # padding may hold anything, -100 included
    emitted = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # P[t, y_t]: (B, T)
    moved = transitions[tags[:, :-1], tags[:, 1:]]  # A[y_{t-1}, y_t]: (B, T - 1)
    last = tags.gather(1, mask.sum(1, keepdim=True) - 1).squeeze(1)  # y_{L-1}: (B,)
    return (
        torch.where(mask, emitted, 0.0).sum(1)
        + torch.where(mask[:, 1:], moved, 0.0).sum(1)
        + start[tags[:, 0]]
        + end[last]
    )


def _viterbi_topk(
    emissions: Tensor, mask: Tensor, transitions: Tensor, start: Tensor, end: Tensor, k: int
) -> tuple[Tensor, Tensor]:
    """The k best paths of each sentence by the list Viterbi algorithm, batched; k = 1 is Viterbi.

    δ_t[r, j] is the r-th best score of a path ending in tag j at word t; the candidates for
    δ_t[:, j] are δ_{t-1}[r, i] + A[i, j] for every (r, i), of which the k best are kept, each with
    a pointer r·K + i. A prefix of one of the k best paths ending in (t, j) is among the k best
    ending in its own (t - 1, i), so nothing better is ever dropped.

    Shape:
        emissions (B, T, K), mask (B, T) -> tags (B, k, T), scores (B, k).
    """
    batch, steps, num_tags = emissions.shape
    delta = emissions.new_full((batch, k, num_tags), float("-inf"))  # ranks without a path yet: -inf
    delta[:, 0] = start + emissions[:, 0]
    deltas, pointers = [delta], []
    for t in range(1, steps):
        candidates = (delta.unsqueeze(3) + transitions).view(batch, k * num_tags, num_tags)  # [b, r·K + i, j]
        best, pointer = candidates.topk(k, dim=1)  # (B, k, K) each
        delta = best + emissions[:, t].unsqueeze(1)
        deltas.append(delta)
        pointers.append(pointer)
    last = (mask.sum(1) - 1).view(batch, 1, 1, 1).expand(batch, 1, k, num_tags)
    final = torch.stack(deltas, 1).gather(1, last).squeeze(1) + end  # δ at each sentence's last word: (B, k, K)
    scores, state = final.view(batch, k * num_tags).topk(k, dim=1)  # state r·K + j: (B, k)
    # Padding points back to itself, so every backtrace can start at word T - 1.
    identity = torch.arange(k * num_tags, device=emissions.device).view(k, num_tags)
    pointers = torch.stack(pointers, 1) if pointers else state.new_empty(batch, 0, k, num_tags)
    pointers = torch.where(mask[:, 1:, None, None], pointers, identity).view(batch, steps - 1, k * num_tags)
    states = [state]
    for t in range(steps - 1, 0, -1):
        state = pointers[:, t - 1].gather(1, state)
        states.append(state)
    tags = torch.stack(states[::-1], 2) % num_tags  # (B, k, T)
    missing = ~mask.unsqueeze(1) | torch.isneginf(scores).unsqueeze(2)
    return tags.masked_fill(missing, NO_TAG), scores


def _check_allowed(name: str, allowed: Tensor | None, shape: tuple[int, ...]) -> Tensor | None:
    if allowed is None:
        return None
    if not isinstance(allowed, Tensor) or allowed.dtype != torch.bool or tuple(allowed.shape) != shape:
        got = f"{allowed.dtype} {tuple(allowed.shape)}" if isinstance(allowed, Tensor) else type(allowed).__name__
        raise SeqlabError(f"LinearChainCRF: {name} must be a boolean tensor of shape {shape}, got {got}")
    if not allowed.any():
        raise SeqlabError(f"LinearChainCRF: {name} allows nothing, so no tag path is possible")
    return allowed


class LinearChainCRF(nn.Module):
    """A linear-chain CRF over ``num_tags`` tags (Lample et al. 2016, §2.2), optionally constrained.

    Args:
        num_tags: K.
        allowed_transitions: (K, K) booleans [from, to]; None allows every move.
        allowed_start: (K,) booleans, the tags a sentence may start with; None allows all.
        allowed_end: (K,) booleans, the tags a sentence may end with; None allows all.
        device, dtype: where and in what type to create the parameters.

    Parameters: ``transitions`` A (K, K) [from, to], ``start_transitions`` (K,),
    ``end_transitions`` (K,), each drawn from U(-0.1, 0.1) as pytorch-crf does. Buffers: the
    ``allowed_*`` masks that were given.

    Shape:
        emissions (B, T, K), tags (B, T) of int64, mask (B, T) of booleans; see :meth:`forward`,
        :meth:`decode` and :meth:`decode_topk`.

    Example:
        >>> crf = LinearChainCRF(3)
        >>> emissions, tags = torch.randn(2, 4, 3), torch.tensor([[0, 1, 2, 1], [2, 2, 0, -100]])
        >>> mask = torch.tensor([[True] * 4, [True, True, True, False]])
        >>> crf(emissions, tags, mask).backward()  # the mean NLL of the 2 sentences
        >>> paths = crf.decode(emissions, mask)
        >>> paths.tags.shape, paths.tags[1, 3].item(), [len(path) for path in paths.tolist()]
        (torch.Size([2, 4]), -1, [4, 3])
        >>> allowed = torch.ones(3, 3, dtype=torch.bool)
        >>> allowed[0, 2] = False  # tag 2 never follows tag 0
        >>> top = LinearChainCRF(3, allowed).decode_topk(emissions, mask, 5)
        >>> top.scores.shape, any((0, 2) in zip(p, p[1:]) for paths in top.tolist() for p in paths)
        (torch.Size([2, 5]), False)
    """

    def __init__(
        self,
        num_tags: int,
        allowed_transitions: Tensor | None = None,
        allowed_start: Tensor | None = None,
        allowed_end: Tensor | None = None,
        *,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if num_tags < 1:
            raise SeqlabError(f"LinearChainCRF: num_tags must be at least 1, got {num_tags}")
        factory = dict(device=device, dtype=dtype)
        self.num_tags = num_tags
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags, **factory))
        self.start_transitions = nn.Parameter(torch.empty(num_tags, **factory))
        self.end_transitions = nn.Parameter(torch.empty(num_tags, **factory))
        masks = {
            "allowed_transitions": (allowed_transitions, (num_tags, num_tags)),
            "allowed_start": (allowed_start, (num_tags,)),
            "allowed_end": (allowed_end, (num_tags,)),
        }
        for name, (allowed, shape) in masks.items():
            allowed = _check_allowed(name, allowed, shape)
            self.register_buffer(name, None if allowed is None else allowed.to(device))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-0.1, 0.1) for every score, as pytorch-crf draws them."""
        for parameter in (self.transitions, self.start_transitions, self.end_transitions):
            nn.init.uniform_(parameter, -0.1, 0.1)

    @property
    def constrained(self) -> bool:
        """Whether any move is disallowed."""
        return any(m is not None for m in (self.allowed_transitions, self.allowed_start, self.allowed_end))

    def constrained_scores(self) -> tuple[Tensor, Tensor, Tensor]:
        """``transitions``, ``start_transitions`` and ``end_transitions`` with -inf where disallowed."""

        def forbid(scores: Tensor, allowed: Tensor | None) -> Tensor:
            return scores if allowed is None else scores.masked_fill(~allowed, float("-inf"))

        return (
            forbid(self.transitions, self.allowed_transitions),
            forbid(self.start_transitions, self.allowed_start),
            forbid(self.end_transitions, self.allowed_end),
        )

    def _check_inputs(self, emissions: Tensor, tags: Tensor | None, mask: Tensor | None) -> Tensor:
        """One-line errors for bad shapes, tags or masks; returns the mask (all True when None)."""
        name, num_tags = type(self).__name__, self.num_tags
        if emissions.dim() != 3 or emissions.size(2) != num_tags or emissions.size(1) == 0:
            raise SeqlabError(f"{name}: emissions must be (B, T, {num_tags}) with T >= 1, got {tuple(emissions.shape)}")
        shape = emissions.shape[:2]
        if mask is None:
            mask = torch.ones(shape, dtype=torch.bool, device=emissions.device)
        elif mask.dtype != torch.bool or mask.shape != shape:
            raise SeqlabError(f"{name}: the mask must be boolean {tuple(shape)}, got {mask.dtype} {tuple(mask.shape)}")
        elif not mask[:, 0].all():
            raise SeqlabError(f"{name}: every sentence needs a first word: mask[:, 0] must be all True")
        elif (mask[:, 1:] & ~mask[:, :-1]).any():
            raise SeqlabError(f"{name}: each row of the mask must be True then False (padding only at the end)")
        if tags is not None:
            if tags.dtype != torch.long or tags.shape != shape:
                raise SeqlabError(f"{name}: tags must be int64 {tuple(shape)}, got {tags.dtype} {tuple(tags.shape)}")
            if (mask & ((tags < 0) | (tags >= num_tags))).any():
                raise SeqlabError(f"{name}: tags must lie in [0, {num_tags}) at the words the mask keeps")
        return mask

    def score(self, emissions: Tensor, tags: Tensor, mask: Tensor | None = None) -> Tensor:
        """s(X, y) of the given tags (Lample et al. 2016, §2.2); -inf if they make a disallowed move.

        Shape:
            emissions (B, T, K), tags (B, T), mask (B, T) -> (B,).
        """
        mask = self._check_inputs(emissions, tags, mask)
        return _path_scores(emissions, tags, mask, *self.constrained_scores())

    def log_partition(self, emissions: Tensor, mask: Tensor | None = None) -> Tensor:
        """log Z = logadd over every allowed tag path of s(X, ỹ), by the forward algorithm.

        Differentiable: its backward is the backward algorithm (module docstring). A sentence with
        no allowed path gives NaN.

        Shape:
            emissions (B, T, K), mask (B, T) -> (B,).
        """
        mask = self._check_inputs(emissions, None, mask)
        return self._log_partition(emissions, mask, self.constrained_scores())

    def _log_partition(self, emissions: Tensor, mask: Tensor, scores: tuple[Tensor, Tensor, Tensor]) -> Tensor:
        dtype = torch.promote_types(emissions.dtype, scores[0].dtype)
        log_z = LogPartition.apply(emissions.double(), *(s.double() for s in scores), mask)
        return log_z.to(dtype)

    def forward(
        self, emissions: Tensor, tags: Tensor, mask: Tensor | None = None, *, reduction: str = "mean"
    ) -> Tensor:
        """The negative log-likelihood of the tags, -log p(y | X) = log Z - s(X, y), in nats.

        Args:
            emissions: the network's tag scores P.
            tags: the gold tags y (anything at padding).
            mask: True at the words of each sentence, a prefix of each row; None when all are real.
            reduction: ``"mean"`` (the default, like ``torch.nn`` losses) or ``"sum"`` over sentences,
                or ``"none"``. (pytorch-crf returns the log-likelihood, summed by default.)

        Shape:
            emissions (B, T, K), tags (B, T), mask (B, T) -> () or, with ``"none"``, (B,).
        """
        if reduction not in REDUCTIONS:
            raise SeqlabError(f"{type(self).__name__}: unknown reduction {reduction!r}; expected one of {REDUCTIONS}")
        mask = self._check_inputs(emissions, tags, mask)
        scores = self.constrained_scores()
        gold = _path_scores(emissions, tags, mask, *scores)  # (B,)
        if self.constrained and torch.isneginf(gold).any():
            sentences = torch.isneginf(gold).nonzero().flatten().tolist()
            raise SeqlabError(
                f"{type(self).__name__}: the gold tags of sentence(s) {sentences} make a disallowed move "
                "(transition, start or end), so their NLL would be inf"
            )
        nll = self._log_partition(emissions, mask, scores) - gold
        return nll if reduction == "none" else nll.sum() if reduction == "sum" else nll.mean()

    @torch.no_grad()
    def decode(self, emissions: Tensor, mask: Tensor | None = None) -> CRFPaths:
        """The best path y* = argmax s(X, ỹ) of each sentence (Viterbi), and its score; no gradient.

        Shape:
            emissions (B, T, K), mask (B, T) -> tags (B, T) (-1 at padding), scores (B,).
        """
        mask = self._check_inputs(emissions, None, mask)
        return CRFPaths(*viterbi(emissions, mask, *self.constrained_scores()))

    @torch.no_grad()
    def decode_topk(self, emissions: Tensor, mask: Tensor | None, k: int) -> CRFPaths:
        """The k best paths of each sentence, best first, and their scores, exactly (list Viterbi); no gradient.

        Slots beyond the number of allowed paths of a sentence hold tags -1 and score -inf.

        Shape:
            emissions (B, T, K), mask (B, T) -> tags (B, k, T) (-1 at padding), scores (B, k).
        """
        if k < 1:
            raise SeqlabError(f"{type(self).__name__}: k must be at least 1, got {k}")
        mask = self._check_inputs(emissions, None, mask)
        return CRFPaths(*_viterbi_topk(emissions, mask, *self.constrained_scores(), k))

    def extra_repr(self) -> str:
        return f"num_tags={self.num_tags}" + (", constrained" if self.constrained else "")
