"""Additive (Bahdanau) and multiplicative (Luong) attention over encoder states, masked over padding.

A decoder state, the query q (Q), scores every encoder state h_j (K, the keys, also the values);
the weights are a softmax of the scores over the real source positions, the context their weighted
sum of the encoder states::

    additive  e_j = v_aᵀ tanh(W_a q + U_a h_j + b)     Bahdanau et al. 2015, appendix A.1.2
    dot       e_j = qᵀ h_j                            Luong et al. 2015, §3.1 eq. (8)
    general   e_j = qᵀ W_a h_j
    concat    e_j = v_aᵀ tanh(W_a [q; h_j])
    α_j = softmax_j(e_j) over real positions (0 at padding)      c = Σ_j α_j h_j

Every term that reads only the source, U_a h_j + b, W_a h_j (general) or the key half of concat's
W_a, is computed once per batch of sources by ``project_keys`` and handed to each decoder step as
``projected_keys``: a step then costs the query projection, one (B, S) score and one ``bmm``.

The query is one decoder step (B, Q), or all of them at once (B, T, Q) when the decoder states do
not depend on the attention (teacher forcing without input feeding): one batched pass instead of T.

**Fully masked rows.** A source with no real position has no softmax: its weights and its context
are defined as zeros, and no gradient flows through it (instead of NaN, and without a check that
would synchronise a GPU at every step). Empty sources are the data reader's to reject.

**Initialisation.** ``torch.nn.Linear``'s default, U(-1/√fan_in, 1/√fan_in), for every projection
and the same for v_a (as a ``Linear(A, 1)`` would draw it): tanh's arguments and the scores start of
order 1 at the scale of unit-variance states, so the first weights are neither uniform nor one-hot
and every parameter receives a gradient from the first step. Bahdanau et al. (appendix B.1) draw
W_a, U_a from N(0, 0.001²) and set v_a = 0, which makes the first attention exactly uniform and
gives W_a, U_a no gradient until v_a moves; apply that with ``torch.nn.init`` if wanted.

The float64 oracle of these modules is :mod:`seqlab.reference.attention`; the parameter names match.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import torch
from torch import Tensor, nn

from seqlab.errors import SeqlabError

MULTIPLICATIVE_SCORES = ("dot", "general", "concat")


def _check_inputs(name: str, query: Tensor, keys: Tensor, mask: Tensor | None, sizes: tuple[int, int]) -> None:
    """One-line errors for inputs of the wrong shape or a mask that is not boolean."""
    query_size, key_size = sizes
    if query.dim() not in (2, 3) or query.size(-1) != query_size:
        raise SeqlabError(f"{name}: query must be (B, {query_size}) or (B, T, {query_size}), got {tuple(query.shape)}")
    if keys.dim() != 3 or keys.size(-1) != key_size or keys.size(0) != query.size(0):
        raise SeqlabError(f"{name}: keys must be ({query.size(0)}, S, {key_size}), got {tuple(keys.shape)}")
    if mask is None:
        return
    if mask.dtype != torch.bool:
        raise SeqlabError(f"{name}: the mask must be boolean (True = real source position), got {mask.dtype}")
    if mask.shape != keys.shape[:2]:
        raise SeqlabError(f"{name}: the mask has shape {tuple(mask.shape)}, expected {tuple(keys.shape[:2])}")


def _check_projected(name: str, projected_keys: Tensor, keys: Tensor, size: int) -> None:
    expected = (*keys.shape[:2], size)
    if tuple(projected_keys.shape) != expected:
        raise SeqlabError(f"{name}: projected_keys has shape {tuple(projected_keys.shape)}, expected {expected}")


def _tanh_scores(query_proj: nn.Linear, v: Tensor, query: Tensor, projected_keys: Tensor) -> Tensor:
    """e_tj = vᵀ tanh(W q_t + projected_j) for every step t and source position j.

    Shape:
        query (B, T, Q), projected_keys (B, S, A) -> scores (B, T, S).
    """
    hidden = torch.tanh(query_proj(query).unsqueeze(2) + projected_keys.unsqueeze(1))  # (B, T, S, A)
    return hidden @ v  # (B, T, S)


def masked_attention(scores: Tensor, keys: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
    """Softmax over the real source positions, and the context it weights.

    Padding gets weight exactly 0 and no gradient; a row with no real position gets zeros. Half
    precision scores are taken to float32 first, so the weights are float32 under autocast.

    Args:
        scores: e_tj for every step t and source position j.
        keys: the encoder states, also the values.
        mask: True at real source positions; None when all are real.

    Shape:
        scores (B, T, S), keys (B, S, K), mask (B, S) -> context (B, T, K), weights (B, T, S).

    Returns:
        ``(context, weights)``.
    """
    if scores.dtype in (torch.float16, torch.bfloat16):
        # Autocast on the CPU leaves softmax in half precision: take it in float32, so the weights
        # returned for inspection sum to 1 (and exp of a half-precision score is not rounded twice).
        scores = scores.float()
    if mask is not None:
        padding = ~mask.unsqueeze(1)  # (B, 1, S)
        # The dtype's lowest finite value, not -inf: exp gives exactly 0 beside any real score, and a
        # row of nothing but padding gives a finite uniform softmax (zeroed below), never NaN.
        scores = scores.masked_fill(padding, torch.finfo(scores.dtype).min)
    weights = torch.softmax(scores, dim=-1)  # (B, T, S)
    if mask is not None:
        weights = weights.masked_fill(padding, 0.0)
    return torch.bmm(weights.to(keys.dtype), keys), weights  # (B, T, K), (B, T, S)


class _Attention(nn.Module, ABC):
    """Shared forward: checks, one step or all steps, the masked softmax and the context."""

    query_size: int
    key_size: int

    @abstractmethod
    def _scores(self, query: Tensor, keys: Tensor, projected_keys: Tensor | None) -> Tensor:
        """The unnormalised score of every source position for every query, ``(B, T, S)``."""

    def forward(
        self, query: Tensor, keys: Tensor, mask: Tensor | None = None, *, projected_keys: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        """Attend from one decoder step, or from all of them at once.

        Args:
            query: the decoder state(s): s_{i-1} for Bahdanau, h_t for Luong.
            keys: the encoder states h_j, also the values.
            mask: True at real source positions; None when all are real.
            projected_keys: ``self.project_keys(keys)``, computed once per source batch; computed
                here when None.

        Shape:
            query (B, Q) or (B, T, Q), keys (B, S, K), mask (B, S) -> context (B, K) or (B, T, K),
            weights (B, S) or (B, T, S).

        Returns:
            ``(context, weights)``.
        """
        _check_inputs(type(self).__name__, query, keys, mask, (self.query_size, self.key_size))
        one_step = query.dim() == 2
        steps = query.unsqueeze(1) if one_step else query  # (B, T, Q)
        context, weights = masked_attention(self._scores(steps, keys, projected_keys), keys, mask)
        return (context.squeeze(1), weights.squeeze(1)) if one_step else (context, weights)


class AdditiveAttention(_Attention):
    """Bahdanau et al. (2015) attention: ``e_j = vᵀ tanh(W_a q + U_a h_j + b)``.

    Args:
        query_size: Q, the size of the decoder state.
        key_size: K, the size of an encoder state.
        hidden_size: A, the size of the tanh layer.
        bias: whether U_a h_j has a bias b (not in the paper's equation; it costs nothing, being
            part of the projected keys).
        device, dtype: where and in what type to create the parameters.

    Parameters: ``query_proj.weight`` W_a (A, Q), ``key_proj.weight`` U_a (A, K),
    ``key_proj.bias`` b (A,), ``v`` v_a (A,).

    Shape:
        see :meth:`forward`.

    Example:
        >>> attention = AdditiveAttention(8, 6, 5)
        >>> keys, mask = torch.randn(2, 4, 6), torch.tensor([[True] * 4, [True, True, False, False]])
        >>> projected = attention.project_keys(keys)  # once per source batch
        >>> context, weights = attention(torch.randn(2, 8), keys, mask, projected_keys=projected)
        >>> context.shape, weights.shape, weights[1, 2:].tolist()
        (torch.Size([2, 6]), torch.Size([2, 4]), [0.0, 0.0])
    """

    def __init__(
        self, query_size: int, key_size: int, hidden_size: int, *, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__()
        factory = dict(device=device, dtype=dtype)
        self.query_size, self.key_size, self.hidden_size, self.bias = query_size, key_size, hidden_size, bias
        self.query_proj = nn.Linear(query_size, hidden_size, bias=False, **factory)
        self.key_proj = nn.Linear(key_size, hidden_size, bias=bias, **factory)
        self.v = nn.Parameter(torch.empty(hidden_size, **factory))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``torch.nn.Linear``'s draws for the projections, U(-1/√A, 1/√A) for v (module docstring)."""
        self.query_proj.reset_parameters()
        self.key_proj.reset_parameters()
        bound = 1.0 / math.sqrt(self.hidden_size)
        nn.init.uniform_(self.v, -bound, bound)

    def project_keys(self, keys: Tensor) -> Tensor:
        """``U_a h_j + b``, the part of the score that reads only the source.

        Shape:
            keys (B, S, K) -> (B, S, A).
        """
        return self.key_proj(keys)

    def _scores(self, query: Tensor, keys: Tensor, projected_keys: Tensor | None) -> Tensor:
        if projected_keys is None:
            projected_keys = self.project_keys(keys)
        _check_projected(type(self).__name__, projected_keys, keys, self.hidden_size)
        return _tanh_scores(self.query_proj, self.v, query, projected_keys)  # (B, T, S)

    def extra_repr(self) -> str:
        return f"{self.query_size}, {self.key_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class MultiplicativeAttention(_Attention):
    """Luong et al. (2015, §3.1 eq. (8)) attention: the ``dot``, ``general`` and ``concat`` scores.

    ``dot``: qᵀ h_j (no parameters; needs Q = K). ``general``: qᵀ W_a h_j with ``key_proj.weight``
    W_a (Q, K). ``concat``: v_aᵀ tanh(W_a [q; h_j]) with W_a = [``query_proj.weight`` (A, Q) |
    ``key_proj.weight`` (A, K)] and ``v`` (A,); no bias, as in the equation.

    With ``scaled=True`` the dot and general scores are divided by √Q, as Vaswani et al. (2017,
    §3.2.1) scale theirs: a product of Q terms grows like √Q, and without the factor a trained
    model's softmax can saturate into one-hot weights whose gradients vanish. Luong et al. do not
    scale; the option departs from their equation on purpose.

    Args:
        query_size: Q, the size of the decoder state h_t.
        key_size: K, the size of an encoder state h̄_s.
        score: ``"dot"``, ``"general"`` or ``"concat"``.
        scaled: divide the dot and general scores by √Q (not for concat).
        hidden_size: A, the size of concat's tanh layer; defaults to ``query_size``. Only for concat.
        device, dtype: where and in what type to create the parameters.

    Shape:
        see :meth:`forward`.

    Example:
        >>> attention = MultiplicativeAttention(6, 6, score="general")
        >>> keys = torch.randn(2, 4, 6)
        >>> context, weights = attention(torch.randn(2, 3, 6), keys)  # all 3 decoder steps at once
        >>> context.shape, weights.shape
        (torch.Size([2, 3, 6]), torch.Size([2, 3, 4]))
    """

    def __init__(
        self,
        query_size: int,
        key_size: int,
        *,
        score: str = "general",
        hidden_size: int | None = None,
        scaled: bool = False,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if score not in MULTIPLICATIVE_SCORES:
            raise SeqlabError(f"unknown attention score {score!r}; expected one of {list(MULTIPLICATIVE_SCORES)}")
        if score == "dot" and query_size != key_size:
            raise SeqlabError(f"dot attention needs query_size == key_size, got {query_size} and {key_size}")
        if score != "concat" and hidden_size is not None:
            raise SeqlabError(f"{score} attention has no hidden layer; hidden_size is only for concat")
        if score == "concat" and scaled:
            raise SeqlabError("concat attention's scores are not products: scaled is only for dot and general")
        factory = dict(device=device, dtype=dtype)
        self.query_size, self.key_size, self.score, self.scaled = query_size, key_size, score, scaled
        self.hidden_size = (query_size if hidden_size is None else hidden_size) if score == "concat" else None
        if score == "general":
            self.key_proj = nn.Linear(key_size, query_size, bias=False, **factory)
        elif score == "concat":
            self.query_proj = nn.Linear(query_size, self.hidden_size, bias=False, **factory)
            self.key_proj = nn.Linear(key_size, self.hidden_size, bias=False, **factory)
            self.v = nn.Parameter(torch.empty(self.hidden_size, **factory))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """``torch.nn.Linear``'s draws for the projections, U(-1/√A, 1/√A) for v (module docstring)."""
        if self.score == "dot":
            return
        self.key_proj.reset_parameters()
        if self.score == "concat":
            self.query_proj.reset_parameters()
            bound = 1.0 / math.sqrt(self.hidden_size)
            nn.init.uniform_(self.v, -bound, bound)

    def project_keys(self, keys: Tensor) -> Tensor | None:
        """What reads only the source: W_a h_j (general), the key half of W_a [q; h_j] (concat).

        Shape:
            keys (B, S, K) -> (B, S, Q) for general, (B, S, A) for concat; None for dot.
        """
        return None if self.score == "dot" else self.key_proj(keys)

    def _scores(self, query: Tensor, keys: Tensor, projected_keys: Tensor | None) -> Tensor:
        name = type(self).__name__
        if self.score == "dot":
            if projected_keys is not None:
                raise SeqlabError(f"{name}: dot attention has no key projection; pass projected_keys=None")
            return torch.bmm(self._scaled(query), keys.transpose(1, 2))  # (B, T, S)
        if projected_keys is None:
            projected_keys = self.project_keys(keys)
        if self.score == "general":
            _check_projected(name, projected_keys, keys, self.query_size)
            return torch.bmm(self._scaled(query), projected_keys.transpose(1, 2))  # (B, T, S)
        _check_projected(name, projected_keys, keys, self.hidden_size)
        return _tanh_scores(self.query_proj, self.v, query, projected_keys)  # (B, T, S)

    def _scaled(self, query: Tensor) -> Tensor:
        """The query divided by √Q when ``scaled`` (the same as dividing the scores, on fewer numbers)."""
        return query * self.query_size**-0.5 if self.scaled else query

    def extra_repr(self) -> str:
        text = f"{self.query_size}, {self.key_size}, score={self.score!r}"
        return (
            text
            + (f", hidden_size={self.hidden_size}" if self.score == "concat" else "")
            + (", scaled=True" if self.scaled else "")
        )
