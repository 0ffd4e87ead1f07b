"""The continuous cache ("neural cache") of Grave, Joulin & Usunier (2017), at evaluation time.

"Improving Neural Language Models with a Continuous Cache" (ICLR 2017) keeps, per stream, the
last ``window`` pairs ``(h_i, x_{i+1})``: the feature vector the output layer read at position
``i`` (the last recurrent layer's output) and the token that followed. To predict the token
after position ``t`` it mixes the model with a copy distribution over the cached tokens::

    p_cache(w) = sum_{i in C_t} [x_{i+1} = w] exp(theta h_t . h_i) / sum_{i in C_t} exp(theta h_t . h_i)
    p(w)       = (1 - lambda) p_model(w) + lambda p_cache(w)

with ``C_t`` the cached positions before ``t``: the ``window`` most recent ones.

Words that occurred recently in a similar context become likelier, with no training: the
model is used as it is. The cache runs on past positions only and so spans BPTT windows,
like the recurrent state; each stream of ``(T, B)`` text has its own.

At the very first position of a stream the cache is empty and ``p_cache`` is undefined; there
``p = p_model`` whatever ``lambda`` is. Elsewhere ``lambda = 1`` gives ``p(w) = 0`` (an infinite
loss) for a target absent from the cache, which is why the papers keep ``lambda`` small.

Cost: per BPTT window of ``L`` steps, ``B x L x (window + L)`` float32 scores and as many
booleans, one batched matrix product; nothing of size ``V`` beyond the model's own logits.
For WikiText-2 below with ``L = 70`` and ``B = 10`` that is 2.7 M scores, about 11 MB.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from seqlab.data.batching import get_window, num_windows
from seqlab.errors import SeqlabError
from seqlab.tasks.lm.evaluation import Evaluation


@dataclass(frozen=True)
class CacheConfig:
    """The three numbers of the continuous cache, tuned on validation text.

    Merity et al. (2017, AWD-LSTM, their pointer/cache experiments) used, on top of AWD-LSTM:

    - Penn Treebank: ``CacheConfig(window=500, theta=1.0, interpolation=0.1)``
    - WikiText-2: ``CacheConfig(window=3785, theta=0.662, interpolation=0.1279)``

    Example:
        >>> CacheConfig(window=500, theta=1.0, interpolation=0.1)
        CacheConfig(window=500, theta=1.0, interpolation=0.1)
    """

    window: int  # cached (feature, next token) pairs per stream: the most recent positions only
    theta: float  # flatness: the cache's softmax is over theta * h_t . h_i; larger is sharper
    interpolation: float  # lambda, the weight of the cache in the mixture, in [0, 1]

    def __post_init__(self) -> None:
        if isinstance(self.window, bool) or not isinstance(self.window, int) or self.window < 1:
            raise SeqlabError(f"window must be an integer of at least 1, got {self.window!r}")
        if not 0.0 < self.theta < math.inf:
            raise SeqlabError(f"theta must be positive and finite, got {self.theta!r}")
        if not 0.0 <= self.interpolation <= 1.0:
            raise SeqlabError(f"interpolation must be in [0, 1], got {self.interpolation!r}")


def _cache_log_probability(
    queries: torch.Tensor,
    targets: torch.Tensor,
    keys: torch.Tensor,
    values: torch.Tensor,
    cached: int,
    cache: CacheConfig,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``log p_cache(target_t)`` for every query, and which queries had an empty cache.

    ``keys`` and ``values`` are the ``cached`` entries carried from earlier windows followed by
    this window's own, so query ``t`` sits at key position ``cached + t`` and may look at keys
    ``cached + t - window`` to ``cached + t - 1``.

    Shape:
        - queries: ``(B, L, H)``; targets: ``(B, L)``
        - keys: ``(B, K, H)``; values: ``(B, K)`` with ``K = cached + L``
        - output: ``(B, L)`` log-probabilities (``-inf`` where the target is not cached), ``(L,)`` booleans
    """
    length, size = queries.size(1), keys.size(1)
    position = torch.arange(length, device=keys.device).unsqueeze(1) + cached  # (L, 1)
    key = torch.arange(size, device=keys.device).unsqueeze(0)  # (1, K)
    allowed = (key < position) & (key >= position - cache.window)  # (L, K), the same for every stream
    scores = cache.theta * torch.bmm(queries, keys.transpose(1, 2))  # (B, L, K)
    scores = scores.masked_fill(~allowed, -math.inf)
    match = values.unsqueeze(1) == targets.unsqueeze(2)  # (B, L, K): key j holds query t's target
    numerator = scores.masked_fill(~match, -math.inf).logsumexp(-1)  # (B, L)
    empty = ~allowed.any(-1)  # (L,)
    # Rows with no key would give -inf - (-inf) = nan; the caller replaces them by the model.
    denominator = scores.logsumexp(-1).masked_fill(empty, 0.0)  # (B, L)
    return numerator - denominator, empty


@torch.no_grad()
def evaluate_with_cache(
    model: nn.Module, streams: torch.Tensor, bptt: int, cache: CacheConfig, *, unit: str = "token"
) -> Evaluation:
    """Score ``model`` mixed with a continuous cache on every window of ``streams``.

    Like :func:`~seqlab.training.evaluate.evaluate`: the model is put in eval mode and back,
    and both its state and the cache are carried across windows. Each window is scored at
    once: no loop over time steps or streams.

    Args:
        model: a language model called as ``model(inputs, state)`` that returns a
            :class:`~seqlab.models.output.LanguageModelOutput` (``logits``, ``state`` and
            ``features``, the vectors the output layer reads).
        streams: held-out token ids from :func:`~seqlab.data.batchify`, on the model's device.
        bptt: the window length; it changes nothing but memory and speed.
        cache: the cache's window, flatness and weight.
        unit: what a token is, for :meth:`Evaluation.summary`.

    Shape:
        - streams: ``(T, B)``

    Returns:
        The mean of ``-log p(target)`` under the mixture over all ``(T - 1) * B`` predictions.

    Raises:
        SeqlabError: the model's output has no ``features``.
    """
    was_training = model.training
    model.eval()
    total = torch.zeros((), dtype=torch.float64, device=streams.device)
    log_weight = torch.tensor([1.0 - cache.interpolation, cache.interpolation], device=streams.device).log()
    batch = streams.size(1)
    keys = values = None  # (B, C, H) and (B, C): the cache, C <= window
    state = None
    for index in range(num_windows(streams, bptt)):
        inputs, targets = get_window(streams, index, bptt)  # (L, B)
        output = model(inputs, state)
        features = getattr(output, "features", None)  # (L, B, H)
        if features is None:
            raise SeqlabError(f"{type(model).__name__} returns no features: the neural cache needs them")
        state = output.state
        log_model = output.logits.float().log_softmax(-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (L, B)
        queries = features.float().transpose(0, 1)  # (B, L, H)
        targets = targets.t()  # (B, L)
        cached = 0 if keys is None else keys.size(1)
        keys = queries if keys is None else torch.cat([keys, queries], dim=1)  # (B, C + L, H)
        values = targets if values is None else torch.cat([values, targets], dim=1)  # (B, C + L)
        log_cache, empty = _cache_log_probability(queries, targets, keys, values, cached, cache)  # (B, L), (L,)
        # log(0) = -inf drops a term exactly at lambda = 0 or 1; logaddexp(-inf, x) = x.
        log_mixed = torch.logaddexp(log_weight[0] + log_model.t(), log_weight[1] + log_cache)  # (B, L)
        log_mixed = torch.where(empty, log_model.t(), log_mixed)
        total -= log_mixed.double().sum()
        keys, values = keys[:, -cache.window :], values[:, -cache.window :]
    model.train(was_training)
    tokens = (streams.size(0) - 1) * batch
    return Evaluation(loss=total.item() / tokens, tokens=tokens, unit=unit)
