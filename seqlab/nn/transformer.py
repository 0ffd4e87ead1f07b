"""The Transformer's layers (Vaswani et al. 2017): attention, encoder and decoder layers and stacks.

:func:`sinusoidal_positions` (§3.5), :class:`MultiheadAttention` (§3.2), :class:`EncoderLayer` and
:class:`DecoderLayer` (§3.1, §3.3) and their stacks :class:`TransformerEncoder` and
:class:`TransformerDecoder`, batch first: ``(N, T, E)``. The model that embeds tokens and searches with
them is :class:`seqlab.models.transformer_seq2seq.TransformerSeq2Seq`.

The layers are written here, not taken from ``torch.nn``, because search caches each decoder
layer's self-attention keys and values (a step runs one position, not the whole prefix) and the
attention maps read the last layer's cross-attention weights; ``torch.nn.TransformerDecoderLayer``
can do neither. Their parameters have ``torch.nn``'s names (``self_attn.in_proj_weight``,
``linear1``, ``norm1``, ...): ``torch.nn.TransformerEncoder``/``Decoder`` state dicts load into them.

- **Normalisation** is post-norm (``LayerNorm(x + Sublayer(x))``, §5.4) or, with ``norm_first``,
  pre-norm (``x + Sublayer(LayerNorm(x))``, a final LayerNorm after each stack): Xiong et al. 2020
  show its gradients are well-scaled at initialisation, so it trains without the warm-up post-norm needs.
- **Dropout** as ``torch.nn``'s layers apply it: on the attention weights, the feed-forward
  network's inner activation and each residual branch (the model adds it on the embeddings).
- **Constructors** take ``torch.nn``'s arguments and defaults (``d_model``, ``nhead``,
  ``dim_feedforward=2048``, ``dropout=0.1``, ``norm_first=False``); the feed-forward activation is
  ReLU and LayerNorm's ε is ``torch.nn``'s 1e-5.

Example:
    >>> encoder = TransformerEncoder(8, 2, 2, dim_feedforward=16, dropout=0.0, norm_first=True)
    >>> decoder = TransformerDecoder(8, 2, 2, dim_feedforward=16, dropout=0.0, norm_first=True)
    >>> source, mask = torch.randn(3, 5, 8), torch.ones(3, 5, dtype=torch.bool)  # (N, S, E), (N, S)
    >>> memory = decoder.memory_keys_values(encoder(source, mask))
    >>> features, caches, weights = decoder(torch.randn(3, 4, 8), memory, mask)
    >>> features.shape, caches[0][0].shape, weights.shape
    (torch.Size([3, 4, 8]), torch.Size([3, 2, 4, 4]), torch.Size([3, 2, 4, 5]))
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

KeysValues = tuple[torch.Tensor, torch.Tensor]  # each (N, h, S, d_h)


def sinusoidal_positions(positions: torch.Tensor, d_model: int, *, dtype: torch.dtype) -> torch.Tensor:
    """The positional encodings of Vaswani et al. 2017, §3.5.

    ``PE(pos, 2i) = sin(pos / 10000^(2i / d_model))`` and ``PE(pos, 2i + 1) = cos(pos / 10000^(2i / d_model))``.

    Args:
        positions: the positions to encode, from 0.
        d_model: the width of each encoding (odd widths drop the last cosine).
        dtype: of the result; half precision is computed in float32 first.

    Shape:
        - positions: ``(T,)`` integer
        - output: ``(T, d_model)``, on the device of ``positions``
    """
    compute = torch.promote_types(dtype, torch.float32)
    exponents = torch.arange(0, d_model, 2, dtype=compute, device=positions.device) / d_model  # (⌈d/2⌉,): 2i / d
    angles = positions.to(compute)[:, None] / 10000.0**exponents  # (T, ⌈d/2⌉)
    encodings = torch.empty(positions.numel(), d_model, dtype=compute, device=positions.device)
    encodings[:, 0::2] = torch.sin(angles)
    encodings[:, 1::2] = torch.cos(angles[:, : d_model // 2])
    return encodings.to(dtype)


class MultiheadAttention(nn.Module):
    """Multi-head scaled dot-product attention (Vaswani et al. 2017, §3.2.1–3.2.2).

    ``Concat(head_1..head_h) W^O``, ``head_i = softmax(Q W_i^Q (K W_i^K)ᵀ / √d_h) V W_i^V``, with
    ``torch.nn.MultiheadAttention``'s parameters and initialisation (``in_proj_weight`` is W^Q, W^K, W^V
    stacked). Queries are projected apart from keys and values, which a decoder caches.

    Args:
        embed_dim: d_model, the width of queries, keys, values and output.
        num_heads: h; ``embed_dim`` must be divisible by it.
        dropout: on the attention weights, in training.

    Shape:
        - queries ``(N, h, T, d_h)``, keys and values ``(N, h, S, d_h)``; allowed broadcastable to
          ``(N, h, T, S)``, True where a query may read a key
        - output ``(N, T, E)``; weights ``(N, h, T, S)``, before dropout
    """

    def __init__(self, embed_dim: int, num_heads: int, *, dropout: float = 0.0):
        super().__init__()
        self.embed_dim, self.num_heads, self.head_dim = embed_dim, num_heads, embed_dim // num_heads
        self.dropout = dropout
        self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim))
        self.out_proj = nn.Linear(embed_dim, embed_dim)
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        return x.unflatten(-1, (self.num_heads, self.head_dim)).transpose(1, 2)  # (N, T, E) -> (N, h, T, d_h)

    def queries(self, x: torch.Tensor) -> torch.Tensor:
        """(N, T, E) -> Q W^Q split into heads (N, h, T, d_h)."""
        e = self.embed_dim
        return self._heads(F.linear(x, self.in_proj_weight[:e], self.in_proj_bias[:e]))

    def keys_values(self, x: torch.Tensor) -> KeysValues:
        """(N, S, E) -> K W^K and V W^V split into heads, each (N, h, S, d_h)."""
        e = self.embed_dim
        keys, values = F.linear(x, self.in_proj_weight[e:], self.in_proj_bias[e:]).chunk(2, dim=-1)
        return self._heads(keys), self._heads(values)

    def attend(self, queries, keys, values, allowed: torch.Tensor | None):
        """The heads' outputs concatenated and projected (N, T, E), and each head's weights (N, h, T, S)."""
        scores = queries @ keys.transpose(-2, -1) / math.sqrt(self.head_dim)  # (N, h, T, S)
        if allowed is not None:
            scores = scores.masked_fill(~allowed, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        mixed = F.dropout(weights, self.dropout, self.training) @ values  # (N, h, T, d_h)
        return self.out_proj(mixed.transpose(1, 2).flatten(2)), weights  # (N, T, E)

    def forward(self, query: torch.Tensor, key_value: torch.Tensor, allowed: torch.Tensor | None = None):
        """Attend from ``query`` (N, T, E) to ``key_value`` (N, S, E): output (N, T, E), weights (N, h, T, S)."""
        return self.attend(self.queries(query), *self.keys_values(key_value), allowed)


def _residual(x: torch.Tensor, norm: nn.Module, dropout: nn.Module, sublayer: Callable, *, norm_first: bool):
    """``x + Dropout(Sublayer(LayerNorm(x)))`` (pre-norm) or ``LayerNorm(x + Dropout(Sublayer(x)))`` (§5.4).

    ``sublayer`` returns its output and something else (a cache, weights), returned alongside.
    """
    output, extra = sublayer(norm(x) if norm_first else x)
    x = x + dropout(output)
    return (x if norm_first else norm(x)), extra


class _Layer(nn.Module):
    """What both layers share: ``FFN(x) = max(0, x W_1 + b_1) W_2 + b_2`` (§3.3), the norms and residual dropouts.

    Shape: the feed-forward network maps ``(N, T, E)`` to ``(N, T, E)`` through ``(N, T, dim_feedforward)``.
    """

    def __init__(self, d_model: int, *, dim_feedforward: int, dropout: float, norm_first: bool, sublayers: int):
        super().__init__()
        self.norm_first = norm_first
        self.linear1, self.linear2 = nn.Linear(d_model, dim_feedforward), nn.Linear(dim_feedforward, d_model)
        self.dropout = nn.Dropout(dropout)
        for k in range(1, sublayers + 1):  # norm1, dropout1, ... as torch.nn names them
            setattr(self, f"norm{k}", nn.LayerNorm(d_model))
            setattr(self, f"dropout{k}", nn.Dropout(dropout))

    def feed_forward(self, x: torch.Tensor):
        return self.linear2(self.dropout(F.relu(self.linear1(x)))), None


class EncoderLayer(_Layer):
    """Self-attention then feed-forward, each residual (§3.1); ``torch.nn.TransformerEncoderLayer``'s parameters.

    Args:
        d_model: E, the width of the input, every sub-layer's output and the output.
        nhead: h, the attention heads; ``d_model`` must be divisible by it (each of width d_h = E / h).
        dim_feedforward: the inner width of the feed-forward network.
        dropout: on the attention weights, the feed-forward network's inner activation and each residual branch.
        norm_first: pre-norm (``x + Sublayer(LayerNorm(x))``) if True, else post-norm
            (``LayerNorm(x + Sublayer(x))``).

    Shape: x ``(N, S, E)``; allowed ``(N, 1, 1, S)``, True at real source positions; output ``(N, S, E)``.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        *,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        norm_first: bool = False,
    ):
        super().__init__(d_model, dim_feedforward=dim_feedforward, dropout=dropout, norm_first=norm_first, sublayers=2)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout)

    def forward(self, x: torch.Tensor, allowed: torch.Tensor) -> torch.Tensor:
        def self_attention(h):
            return self.self_attn(h, h, allowed)[0], None

        x, _ = _residual(x, self.norm1, self.dropout1, self_attention, norm_first=self.norm_first)
        return _residual(x, self.norm2, self.dropout2, self.feed_forward, norm_first=self.norm_first)[0]


class DecoderLayer(_Layer):
    """Causal self-attention, cross-attention, feed-forward (§3.1); ``torch.nn.TransformerDecoderLayer``'s parameters.

    The T positions of ``x`` follow the t positions whose self-attention keys and values are
    ``cache``; each position reads itself and those before it. Teacher forcing passes all T
    positions and no cache; a search step passes one position and the cache of the prefix.

    A search step may pass N = G × R rows that read G sources, R rows each (the beams of a
    sentence; :mod:`~seqlab.models.source_groups`): the memory is then one per source, and the R
    rows of a source query it as R positions of one sequence.

    Args:
        d_model: E, the width of the input, every sub-layer's output and the output.
        nhead: h, the attention heads; ``d_model`` must be divisible by it (each of width d_h = E / h).
        dim_feedforward: the inner width of the feed-forward network.
        dropout: on the attention weights, the feed-forward network's inner activation and each residual branch.
        norm_first: pre-norm (``x + Sublayer(LayerNorm(x))``) if True, else post-norm
            (``LayerNorm(x + Sublayer(x))``).

    Shape: x ``(N, T, E)``; cache ``(N, h, t, d_h)`` each; memory ``(G, h, S, d_h)`` each; allowed
    ``(G, 1, 1, S)``; ``G = N`` unless ``rows_per_source`` R > 1, where ``T = 1`` and ``N = G R``.
    Returns x ``(N, T, E)``, the cache extended to ``t + T`` positions, the cross-attention weights
    ``(N, h, T, S)``.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        *,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        norm_first: bool = False,
    ):
        super().__init__(d_model, dim_feedforward=dim_feedforward, dropout=dropout, norm_first=norm_first, sublayers=3)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout)

    def forward(
        self, x, memory: KeysValues, allowed: torch.Tensor, cache: KeysValues | None = None, rows_per_source: int = 1
    ):
        def self_attention(h):
            keys, values = self.self_attn.keys_values(h)
            if cache is not None:
                keys, values = torch.cat([cache[0], keys], dim=2), torch.cat([cache[1], values], dim=2)
            output, _ = self.self_attn.attend(self.self_attn.queries(h), keys, values, _causal(h.size(1), keys))
            return output, (keys, values)

        def cross_attention(h):
            if rows_per_source == 1:
                return self.multihead_attn.attend(self.multihead_attn.queries(h), *memory, allowed)
            rows = h.view(-1, rows_per_source, h.size(-1))  # (G, R, E): a source's rows as R positions
            output, weights = self.multihead_attn.attend(self.multihead_attn.queries(rows), *memory, allowed)
            return output.view_as(h), weights.transpose(1, 2).flatten(0, 1).unsqueeze(2)  # (N, 1, E), (N, h, 1, S)

        x, cache = _residual(x, self.norm1, self.dropout1, self_attention, norm_first=self.norm_first)
        x, weights = _residual(x, self.norm2, self.dropout2, cross_attention, norm_first=self.norm_first)
        x, _ = _residual(x, self.norm3, self.dropout3, self.feed_forward, norm_first=self.norm_first)
        return x, cache, weights


def _causal(queries: int, keys: torch.Tensor) -> torch.Tensor | None:
    """(T, t + T) True where query i (position t + i) may read key j: ``j <= t + i``; None when all may."""
    if queries == 1:
        return None
    total, device = keys.size(2), keys.device
    return (
        torch.arange(total, device=device)[None, :] <= total - queries + torch.arange(queries, device=device)[:, None]
    )


class _Stack(nn.Module):
    """``num_layers`` layers of one kind, then a LayerNorm when pre-norm (an identity when post-norm)."""

    layer_class: type[nn.Module]

    def __init__(
        self,
        d_model: int,
        nhead: int,
        num_layers: int,
        *,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        norm_first: bool = False,
    ):
        super().__init__()
        settings = dict(dim_feedforward=dim_feedforward, dropout=dropout, norm_first=norm_first)
        self.layers = nn.ModuleList(self.layer_class(d_model, nhead, **settings) for _ in range(num_layers))
        self.norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()


class TransformerEncoder(_Stack):
    """The :class:`EncoderLayer` s, then a LayerNorm when pre-norm, named as ``torch.nn.TransformerEncoder``'s.

    Args:
        d_model, nhead, dim_feedforward, dropout, norm_first: each layer's, as :class:`EncoderLayer`'s.
        num_layers: how many layers.

    Shape: x ``(N, S, E)``; mask ``(N, S)`` bool, True at real positions; output ``(N, S, E)``.
    """

    layer_class = EncoderLayer

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        allowed = mask[:, None, None, :]  # (N, 1, 1, S)
        for layer in self.layers:
            x = layer(x, allowed)
        return self.norm(x)


class TransformerDecoder(_Stack):
    """The :class:`DecoderLayer` s, then a LayerNorm when pre-norm, named as ``torch.nn.TransformerDecoder``'s.

    Args:
        d_model, nhead, dim_feedforward, dropout, norm_first: each layer's, as :class:`DecoderLayer`'s.
        num_layers: how many layers.

    Shape: x ``(N, T, E)``; memory: per layer its keys and values ``(G, h, S, d_h)``; mask ``(G, S)``;
    caches: per layer ``(N, h, t, d_h)`` each, or None; N = G × ``rows_per_source`` (see
    :class:`DecoderLayer`). Returns the features ``(N, T, E)``, the caches extended by T positions,
    and the last layer's cross-attention weights ``(N, h, T, S)``.
    """

    layer_class = DecoderLayer

    def memory_keys_values(self, memory: torch.Tensor) -> tuple[KeysValues, ...]:
        """Each layer's cross-attention keys and values of the encoder's output (N, S, E), computed once."""
        return tuple(layer.multihead_attn.keys_values(memory) for layer in self.layers)

    def forward(self, x, memory: tuple[KeysValues, ...], mask: torch.Tensor, caches=None, rows_per_source: int = 1):
        allowed = mask[:, None, None, :]  # (G, 1, 1, S)
        caches = caches if caches is not None else (None,) * len(self.layers)
        extended = []
        for layer, layer_memory, cache in zip(self.layers, memory, caches):
            x, cache, weights = layer(x, layer_memory, allowed, cache, rows_per_source)
            extended.append(cache)
        return self.norm(x), tuple(extended), weights
