"""Additive and multiplicative attention for one decoder step, forward and hand-written backward.

A decoder state (the query q, size Q) scores every encoder state (the keys h_j, size K, which are
also the values); a softmax over the real source positions turns the scores into weights, and the
context is the weighted sum of the encoder states. The four scores:

    additive  e_j = v_aᵀ tanh(W_a q + U_a h_j + b)     Bahdanau et al. 2015, appendix A.1.2
                                                      (q = s_{i-1}; b optional, ours)
    dot       e_j = qᵀ h_j                            Luong et al. 2015, §3.1 eq. (8)
    general   e_j = qᵀ W_a h_j
    concat    e_j = v_aᵀ tanh(W_a [q; h_j])           (q = h_t, the current decoder state)

    α_j = exp(e_j) / Σ_{k real} exp(e_k) for real j, α_j = 0 for padding;   c = Σ_j α_j h_j

A row with no real position has no softmax: we define its weights and context as zeros (and
every gradient through it as zero), as :mod:`seqlab.nn.attention` does, rather than NaN.

Parameters live in a plain dict under the names of the torch module's ``state_dict()`` so that
weights copy over: ``query_proj.weight`` (A, Q) is W_a of the additive score and the query half
of concat's W_a; ``key_proj.weight`` is U_a (A, K) for additive, W_a (Q, K) for general and the
key half of concat's W_a, i.e. W_a = [query_proj.weight | key_proj.weight]; ``key_proj.bias``
(A,) is b; ``v`` (A,) is v_a.

Backward, given δc = ∂L/∂c and optionally δα = ∂L/∂α (when the loss reads the weights too)::

    δα_j += δc · h_j                     δh_j  = α_j δc             (through the context)
    δe_j  = α_j (δα_j - Σ_k α_k δα_k)    zero at padding, since α_j = 0 there
    dot:      δq = Σ_j δe_j h_j                      δh_j += δe_j q
    general:  δq = Σ_j δe_j W_a h_j                  δh_j += δe_j W_aᵀ q     δW_a = Σ_j δe_j q h_jᵀ
    additive/concat, t_j = tanh(a_j), a_j = W_a q + U_a h_j + b:
              δv = Σ_j δe_j t_j      δa_j = δe_j v ⊙ (1 - t_j²)
              δq = W_aᵀ Σ_j δa_j     δh_j += U_aᵀ δa_j   δW_a = (Σ_j δa_j) qᵀ   δU_a = Σ_j δa_j h_jᵀ   δb = Σ_j δa_j

Parameter gradients also sum over the batch.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> params = init_attention_params("additive", 6, 4, rng, hidden_size=5)
    >>> query, keys = rng.normal(size=(2, 6)), rng.normal(size=(2, 3, 4))
    >>> mask = np.array([[True, True, True], [True, True, False]])
    >>> context, weights, cache = attention_forward(params, query, keys, mask, score="additive")
    >>> grads = attention_backward(cache, np.ones_like(context))
    >>> context.shape, weights[1, 2], sorted(grads)
    ((2, 4), np.float64(0.0), ['key_proj.bias', 'key_proj.weight', 'keys', 'query', 'query_proj.weight', 'v'])
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from seqlab.errors import SeqlabError
from seqlab.reference.activations import tanh, tanh_grad

ATTENTION_SCORES = ("additive", "dot", "general", "concat")


def attention_param_shapes(
    score: str, query_size: int, key_size: int, *, hidden_size: int | None = None, bias: bool = True
) -> dict[str, tuple[int, ...]]:
    """The parameters of one score function and their shapes, by their torch names.

    Args:
        score: one of ``ATTENTION_SCORES``.
        query_size: Q, the size of the decoder state.
        key_size: K, the size of an encoder state.
        hidden_size: A, the size of the tanh layer of ``additive`` and ``concat`` (required there).
        bias: whether ``additive`` has the bias b (``concat`` follows Luong's eq. (8): none).

    Returns:
        name -> shape; empty for ``dot``.
    """
    if score not in ATTENTION_SCORES:
        raise SeqlabError(f"unknown attention score {score!r}; expected one of {list(ATTENTION_SCORES)}")
    if score == "dot":
        if query_size != key_size:
            raise SeqlabError(f"dot attention needs query_size == key_size, got {query_size} and {key_size}")
        return {}
    if score == "general":
        return {"key_proj.weight": (query_size, key_size)}
    if hidden_size is None:
        raise SeqlabError(f"{score} attention needs a hidden_size")
    shapes = {"query_proj.weight": (hidden_size, query_size), "key_proj.weight": (hidden_size, key_size)}
    if score == "additive" and bias:
        shapes["key_proj.bias"] = (hidden_size,)
    shapes["v"] = (hidden_size,)
    return shapes


def init_attention_params(
    score: str,
    query_size: int,
    key_size: int,
    rng: np.random.Generator,
    *,
    hidden_size: int | None = None,
    bias: bool = True,
) -> dict[str, np.ndarray]:
    """Parameters of one score function, drawn like the torch module's defaults.

    Every entry ~ uniform(-1/√fan_in, 1/√fan_in), fan_in being the number of columns of a weight
    (Q or K), and A for ``key_proj.bias`` and ``v``: the distribution of ``torch.nn.Linear``.

    Args:
        score, query_size, key_size, hidden_size, bias: as for :func:`attention_param_shapes`.
        rng: the source of randomness.

    Returns:
        name -> float64 array.
    """
    shapes = attention_param_shapes(score, query_size, key_size, hidden_size=hidden_size, bias=bias)
    params = {}
    for name, shape in shapes.items():
        bound = 1.0 / np.sqrt(shape[-1])
        params[name] = rng.uniform(-bound, bound, size=shape)
    return params


class AttentionCache(NamedTuple):
    """What one attention step keeps for its backward pass."""

    score: str
    params: dict[str, np.ndarray]
    query: np.ndarray  # (B, Q)
    keys: np.ndarray  # (B, S, K)
    weights: np.ndarray  # α: (B, S), zero at padding
    hidden: np.ndarray | None  # t_j = tanh(a_j) (B, S, A) for additive/concat; W_a h_j (B, S, Q) for general


def check_attention_inputs(query: np.ndarray, keys: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """Checks shapes and the mask's type; returns the mask (all True when None).

    Shape:
        query (B, Q), keys (B, S, K), mask (B, S) of booleans, True at real source positions.
    """
    if query.ndim != 2 or keys.ndim != 3 or query.shape[0] != keys.shape[0]:
        raise SeqlabError(f"attention needs query (B, Q) and keys (B, S, K), got {query.shape} and {keys.shape}")
    if mask is None:
        return np.ones(keys.shape[:2], dtype=bool)
    mask = np.asarray(mask)
    if mask.dtype != np.bool_:
        raise SeqlabError(f"the attention mask must be boolean (True = real position), got {mask.dtype}")
    if mask.shape != keys.shape[:2]:
        raise SeqlabError(f"the attention mask has shape {mask.shape}, expected {keys.shape[:2]}")
    return mask


def attention_scores(
    params: dict[str, np.ndarray], query: np.ndarray, keys: np.ndarray, *, score: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """The scores e_j of every source position (equations in the module docstring).

    Shape:
        query (B, Q), keys (B, S, K) -> scores (B, S).

    Returns:
        ``(scores, hidden)``: hidden is t_j = tanh(a_j) (B, S, A) for additive and concat,
        W_a h_j (B, S, Q) for general, None for dot.
    """
    if score == "dot":
        return np.einsum("bk,bsk->bs", query, keys), None
    if score == "general":
        projected = keys @ params["key_proj.weight"].T  # W_a h_j: (B, S, Q)
        return np.einsum("bq,bsq->bs", query, projected), projected
    if score not in ("additive", "concat"):
        raise SeqlabError(f"unknown attention score {score!r}; expected one of {list(ATTENTION_SCORES)}")
    from_query = query @ params["query_proj.weight"].T  # W_a q: (B, A)
    from_keys = keys @ params["key_proj.weight"].T  # U_a h_j: (B, S, A)
    if "key_proj.bias" in params:
        from_keys = from_keys + params["key_proj.bias"]
    hidden = tanh(from_query[:, None, :] + from_keys)  # t_j: (B, S, A)
    return hidden @ params["v"], hidden


def masked_softmax(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Softmax over the real positions of each row; exactly 0 at padding and in rows with none.

    Shape:
        scores (B, S), mask (B, S) -> weights (B, S).
    """
    has_real = mask.any(axis=1, keepdims=True)  # (B, 1)
    top = np.where(has_real, np.where(mask, scores, -np.inf).max(axis=1, keepdims=True), 0.0)  # (B, 1)
    exp = np.where(mask, np.exp(np.where(mask, scores - top, 0.0)), 0.0)  # (B, S)
    total = exp.sum(axis=1, keepdims=True)  # (B, 1)
    return np.where(has_real, exp / np.where(has_real, total, 1.0), 0.0)


def masked_softmax_backward(weights: np.ndarray, d_weights: np.ndarray) -> np.ndarray:
    """δe_j = α_j (δα_j - Σ_k α_k δα_k): zero wherever α_j = 0, so at padding.

    Shape:
        weights (B, S), d_weights (B, S) -> d_scores (B, S).
    """
    return weights * (d_weights - (weights * d_weights).sum(axis=1, keepdims=True))


def attention_forward(
    params: dict[str, np.ndarray],
    query: np.ndarray,
    keys: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    score: str,
) -> tuple[np.ndarray, np.ndarray, AttentionCache]:
    """One attention step: scores, masked softmax, context (equations in the module docstring).

    Args:
        params: the score's parameters (see :func:`init_attention_params`); empty for ``dot``.
        query: the decoder state, s_{i-1} (Bahdanau) or h_t (Luong).
        keys: the encoder states h_j, also the values.
        mask: True at real source positions; None means all are real.
        score: one of ``ATTENTION_SCORES``.

    Shape:
        query (B, Q), keys (B, S, K), mask (B, S) -> context (B, K), weights (B, S).

    Returns:
        ``(context, weights, cache)``; pass the cache to :func:`attention_backward`.
    """
    mask = check_attention_inputs(query, keys, mask)
    scores, hidden = attention_scores(params, query, keys, score=score)  # (B, S)
    weights = masked_softmax(scores, mask)  # (B, S)
    context = np.einsum("bs,bsk->bk", weights, keys)  # (B, K)
    return context, weights, AttentionCache(score, params, query, keys, weights, hidden)


def attention_backward(
    cache: AttentionCache, d_context: np.ndarray, d_weights: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Backward of :func:`attention_forward` (equations in the module docstring).

    Args:
        cache: from :func:`attention_forward`.
        d_context: ∂L/∂context.
        d_weights: ∂L/∂weights when the loss reads the weights too.

    Shape:
        d_context (B, K), d_weights (B, S).

    Returns:
        Gradients keyed ``query`` (B, Q), ``keys`` (B, S, K) and every parameter's name.
    """
    score, params, query, keys, weights, hidden = cache
    d_alpha = np.einsum("bk,bsk->bs", d_context, keys)  # δc · h_j: (B, S)
    if d_weights is not None:
        d_alpha = d_alpha + d_weights
    d_keys = weights[:, :, None] * d_context[:, None, :]  # α_j δc: (B, S, K)
    d_scores = masked_softmax_backward(weights, d_alpha)  # (B, S)
    grads: dict[str, np.ndarray] = {}
    if score == "dot":
        d_query = np.einsum("bs,bsk->bk", d_scores, keys)  # (B, Q)
        d_keys = d_keys + d_scores[:, :, None] * query[:, None, :]
    elif score == "general":
        weight = params["key_proj.weight"]  # W_a: (Q, K)
        d_query = np.einsum("bs,bsq->bq", d_scores, hidden)  # (B, Q)
        d_projected = d_scores[:, :, None] * query[:, None, :]  # ∂L/∂(W_a h_j): (B, S, Q)
        d_keys = d_keys + d_projected @ weight
        grads["key_proj.weight"] = np.einsum("bsq,bsk->qk", d_projected, keys)
    else:
        d_pre = d_scores[:, :, None] * params["v"] * tanh_grad(hidden)  # δa_j: (B, S, A)
        d_from_query = d_pre.sum(axis=1)  # Σ_j δa_j: (B, A)
        d_query = d_from_query @ params["query_proj.weight"]  # (B, Q)
        d_keys = d_keys + d_pre @ params["key_proj.weight"]
        grads["query_proj.weight"] = d_from_query.T @ query  # (A, Q)
        grads["key_proj.weight"] = np.einsum("bsa,bsk->ak", d_pre, keys)  # (A, K)
        if "key_proj.bias" in params:
            grads["key_proj.bias"] = d_pre.sum(axis=(0, 1))  # (A,)
        grads["v"] = np.einsum("bs,bsa->a", d_scores, hidden)  # (A,)
    return {"query": d_query, "keys": d_keys, **grads}
