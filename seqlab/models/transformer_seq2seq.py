"""A Transformer encoder–decoder (Vaswani et al. 2017) on the interface of the RNN encoder–decoder::

    source ─ embedding · √d + PE ─ [self-attention, feed-forward] × N ─ memory ──────────┐ keys, values
    <bos> y_1 .. y_{T-1} ─ embedding · √d + PE ─ [causal self-attention, cross-attention, feed-forward] × N
                                                  ─ output layer ─ logits for y_1 .. y_T, <eos>

The layers are written here, not taken from ``torch.nn``, because search caches each decoder
layer's self-attention keys and values (a step runs one position, not the whole prefix) and the
attention maps read the last layer's cross-attention weights; ``torch.nn.TransformerDecoderLayer``
can do neither. Their parameters have ``torch.nn``'s names (``self_attn.in_proj_weight``,
``linear1``, ``norm1``, ...): ``torch.nn.TransformerEncoder``/``Decoder`` state dicts load into them.

- **Positions** are sinusoidal (§3.5), computed for the positions in use and in the dtype in use
  (no table to save, exact in float64); ``max_positions`` bounds the lengths accepted.
- **Embeddings** are multiplied by √d_model (§3.4) and drawn from N(0, 1/d_model), so that the
  scaled embedding and the sinusoid (entries in [-1, 1]) start at the same scale.
- **Normalisation** is pre-norm by default (``x + Sublayer(LayerNorm(x))``, a final LayerNorm
  after each stack): Xiong et al. 2020 show its gradients are well-scaled at initialisation, so it
  trains without the warm-up the paper's post-norm (``LayerNorm(x + Sublayer(x))``, §5.4) needs.
- **Dropout** as ``torch.nn``'s layers apply it: on the sum of embeddings and positions, the
  attention weights, the feed-forward network's inner activation and each residual branch.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from seqlab.data.padded_batches import padding_mask
from seqlab.errors import SeqlabError
from seqlab.models.seq2seq_output import Seq2SeqOutput, with_loss
from seqlab.models.source_groups import regroup
from seqlab.models.transformer_configs import TransformerConfig

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
    """What both layers share: ``FFN(x) = max(0, x W_1 + b_1) W_2 + b_2`` (§3.3), the norms and residual dropouts."""

    def __init__(self, config: TransformerConfig, *, sublayers: int):
        super().__init__()
        d, p = config.d_model, config.dropout
        self.norm_first = config.norm_first
        self.linear1, self.linear2 = nn.Linear(d, config.dim_feedforward), nn.Linear(config.dim_feedforward, d)
        self.dropout = nn.Dropout(p)
        for k in range(1, sublayers + 1):  # norm1, dropout1, ... as torch.nn names them
            setattr(self, f"norm{k}", nn.LayerNorm(d))
            setattr(self, f"dropout{k}", nn.Dropout(p))

    def feed_forward(self, x: torch.Tensor):
        return self.linear2(self.dropout(F.relu(self.linear1(x)))), None


class EncoderLayer(_Layer):
    """Self-attention then feed-forward, each residual (§3.1); ``torch.nn.TransformerEncoderLayer``'s parameters.

    Shape: x ``(N, S, E)``; allowed ``(N, 1, 1, S)``, True at real source positions.
    """

    def __init__(self, config: TransformerConfig):
        super().__init__(config, sublayers=2)
        self.self_attn = MultiheadAttention(config.d_model, config.nhead, dropout=config.dropout)

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

    Shape: x ``(N, T, E)``; cache ``(N, h, t, d_h)`` each; memory ``(G, h, S, d_h)`` each; allowed
    ``(G, 1, 1, S)``; ``G = N`` unless ``rows_per_source`` R > 1, where ``T = 1`` and ``N = G R``.
    Returns x ``(N, T, E)``, the cache extended to ``t + T`` positions, the cross-attention weights
    ``(N, h, T, S)``.
    """

    def __init__(self, config: TransformerConfig):
        super().__init__(config, sublayers=3)
        self.self_attn = MultiheadAttention(config.d_model, config.nhead, dropout=config.dropout)
        self.multihead_attn = MultiheadAttention(config.d_model, config.nhead, dropout=config.dropout)

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


class TransformerEncoder(nn.Module):
    """The :class:`EncoderLayer` s, then a LayerNorm when pre-norm, named as ``torch.nn.TransformerEncoder``'s.

    Shape: x ``(N, S, E)``; mask ``(N, S)`` bool, True at real positions; output ``(N, S, E)``.
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(config) for _ in range(config.num_encoder_layers))
        self.norm = nn.LayerNorm(config.d_model) if config.norm_first else nn.Identity()

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        allowed = mask[:, None, None, :]  # (N, 1, 1, S)
        for layer in self.layers:
            x = layer(x, allowed)
        return self.norm(x)


class TransformerDecoder(nn.Module):
    """The :class:`DecoderLayer` s, then a LayerNorm when pre-norm, named as ``torch.nn.TransformerDecoder``'s.

    Shape: x ``(N, T, E)``; memory: per layer its keys and values ``(G, h, S, d_h)``; mask ``(G, S)``;
    caches: per layer ``(N, h, t, d_h)`` each, or None; N = G × ``rows_per_source`` (see
    :class:`DecoderLayer`). Returns the features ``(N, T, E)``, the caches extended by T positions,
    and the last layer's cross-attention weights ``(N, h, T, S)``.
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.layers = nn.ModuleList(DecoderLayer(config) for _ in range(config.num_decoder_layers))
        self.norm = nn.LayerNorm(config.d_model) if config.norm_first else nn.Identity()

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


@dataclass
class TransformerState:
    """Everything a decoder step reads for N = G × R rows: G source sentences, R rows (beams) each.

    What reads only the source is kept once per source (:mod:`seqlab.models.source_groups`);
    rows ``g*R .. g*R+R-1`` read source g.
    """

    memory: tuple[KeysValues, ...]  # per decoder layer: cross-attention keys and values of the source (G, h, S, d_h)
    mask: torch.Tensor  # (G, S) bool, True at real source positions
    cache: tuple[KeysValues, ...]  # per decoder layer: self-attention keys and values of the prefix (N, h, t, d_h)
    attention: torch.Tensor | None  # (N, t, S) last layer's cross-attention, averaged over heads, when kept
    rows_per_source: int = 1  # R

    @property
    def steps(self) -> int:
        """t: the target tokens read so far; the next one is at position t."""
        return self.cache[0][0].size(2)

    def select(self, order: torch.Tensor) -> TransformerState:
        """The state of rows ``order`` (M,), in that order: beams expand, reorder and drop rows this way."""

        sources, rows_per_source = regroup(order, self.rows_per_source, self.mask.size(0))

        def pick(pairs, index):
            return tuple((keys.index_select(0, index), values.index_select(0, index)) for keys, values in pairs)

        return TransformerState(
            memory=self.memory if sources is None else pick(self.memory, sources),
            mask=self.mask if sources is None else self.mask.index_select(0, sources),
            cache=pick(self.cache, order),
            attention=None if self.attention is None else self.attention.index_select(0, order),
            rows_per_source=rows_per_source,
        )


class TransformerSeq2Seq(nn.Module):
    """The Transformer of Vaswani et al. 2017 with :class:`~seqlab.models.seq2seq.Seq2Seq`'s interface.

    Always teacher forced in training (every target position in one pass); search steps one
    token at a time, reading the cached keys and values of the prefix (:class:`TransformerState`).

    Args:
        config: sizes, normalisation order, tying and dropout.

    Shape:
        - source: ``(B, S)`` token ids padded with ``config.padding_id``; lengths ``(B,)``
        - target_input: ``(B, T)``: ``<bos>`` then the target without its last token
        - targets: ``(B, T)``: the target then ``<eos>``, padded with ``config.padding_id``

    Example:
        >>> config = TransformerConfig(source_vocab_size=12, target_vocab_size=10, d_model=8, nhead=2,
        ...                            dim_feedforward=16)
        >>> model = TransformerSeq2Seq(config)
        >>> source, lengths = torch.randint(1, 12, (2, 5)), torch.tensor([5, 3])
        >>> target = torch.randint(1, 10, (2, 4))
        >>> out = model(source, lengths, target, targets=target)
        >>> out.logits.shape, out.attention.shape, out.tokens
        (torch.Size([2, 4, 10]), torch.Size([2, 4, 5]), 8)
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        d, pad = config.d_model, config.padding_id
        self.source_embedding = nn.Embedding(config.source_vocab_size, d, padding_idx=pad)
        if config.share_source_target_embeddings:
            self.target_embedding = self.source_embedding
        else:
            self.target_embedding = nn.Embedding(config.target_vocab_size, d, padding_idx=pad)
        self.encoder = TransformerEncoder(config)
        self.decoder = TransformerDecoder(config)
        self.output = nn.Linear(d, config.target_vocab_size)
        self.dropout = nn.Dropout(config.dropout)
        self._reset_parameters()
        if config.tie_embeddings:
            self.output.weight = self.target_embedding.weight

    def _reset_parameters(self) -> None:
        """Glorot-uniform matrices in the layers (as ``torch.nn.Transformer``); embeddings N(0, 1/d), padding 0."""
        for parameter in [*self.encoder.parameters(), *self.decoder.parameters()]:
            if parameter.dim() > 1:
                nn.init.xavier_uniform_(parameter)
        shared = self.target_embedding is self.source_embedding
        for embedding in [self.source_embedding] + ([] if shared else [self.target_embedding]):
            nn.init.normal_(embedding.weight, mean=0.0, std=self.config.d_model**-0.5)
            with torch.no_grad():
                embedding.weight[self.config.padding_id].zero_()

    def _embed(self, embedding: nn.Embedding, tokens: torch.Tensor, *, offset: int = 0) -> torch.Tensor:
        """Dropout(E[tokens] · √d_model + PE) of tokens (N, T) at positions offset.. (§3.4, §3.5): (N, T, E)."""
        length = tokens.size(1)
        if offset + length > self.config.max_positions:
            raise SeqlabError(
                f"a sequence of {offset + length} tokens is longer than max_positions {self.config.max_positions}"
            )
        vectors = embedding(tokens) * math.sqrt(self.config.d_model)  # (N, T, E)
        positions = torch.arange(offset, offset + length, device=tokens.device)
        return self.dropout(vectors + sinusoidal_positions(positions, self.config.d_model, dtype=vectors.dtype))

    def encode(self, source: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The encoder's output (B, S, E) and the mask of real source positions (B, S)."""
        mask = padding_mask(lengths.to(source.device), source.size(1), batch_first=True)  # (B, S)
        return self.encoder(self._embed(self.source_embedding, source), mask), mask

    def forward(
        self,
        source: torch.Tensor,
        lengths: torch.Tensor,
        target_input: torch.Tensor,
        targets: torch.Tensor | None = None,
        *,
        label_smoothing: float = 0.0,
        teacher_forcing: float = 1.0,
        generator: torch.Generator | None = None,
    ) -> Seq2SeqOutput:
        """Scores every target position in one pass; with ``targets`` also the loss.

        Args:
            label_smoothing: ε of Szegedy et al. 2016 (§7), spread over the whole vocabulary
                as ``torch.nn.functional.cross_entropy`` does; the ``nll`` is never smoothed.
            teacher_forcing: must be 1: feeding the model's own choices would need T sequential passes.
            generator: unused (no teacher-forcing coins); accepted for the interface of ``Seq2Seq``.

        Returns:
            Logits ``(B, T, V)``, the last decoder layer's cross-attention averaged over heads
            ``(B, T, S)``, and with ``targets`` the loss, the nll and the number of real target tokens.
        """
        if teacher_forcing < 1.0:
            raise SeqlabError(f"the Transformer is always teacher forced; teacher_forcing {teacher_forcing} < 1")
        memory, mask = self.encode(source, lengths)
        inputs = self._embed(self.target_embedding, target_input)  # (B, T, E)
        features, _, weights = self.decoder(inputs, self.decoder.memory_keys_values(memory), mask)
        logits = self.output(features)  # (B, T, V)
        attention = weights.mean(1)  # (B, T, S)
        if targets is None:
            return Seq2SeqOutput(logits, attention, None, None, 0)
        return with_loss(logits, attention, targets, padding_id=self.config.padding_id, label_smoothing=label_smoothing)

    # The search interface of seqlab.decode.

    def start(self, source: torch.Tensor, lengths: torch.Tensor) -> TransformerState:
        """The decoder's state before the first target token, for B source sentences."""
        memory, mask = self.encode(source, lengths)
        n, h, d_h = memory.size(0), self.config.nhead, self.config.head_dim
        empty = memory.new_zeros(n, h, 0, d_h)  # (B, h, 0, d_h): no target token read yet
        return TransformerState(
            memory=self.decoder.memory_keys_values(memory),
            mask=mask,
            cache=tuple((empty, empty) for _ in self.decoder.layers),
            attention=None,
        )

    def step(self, tokens: torch.Tensor, state: TransformerState, *, keep_attention: bool = False):
        """tokens (N,) → log-probabilities (N, V) of the next token, and the next state.

        One position goes through the decoder, attending to the cached keys and values of the
        prefix: step t costs O(t) attention, not O(t²) recomputation. With ``keep_attention``
        the state accumulates the last layer's cross-attention weights averaged over heads
        (``state.attention``, ``(N, t, S)``), reordered with the beams.
        """
        inputs = self._embed(self.target_embedding, tokens[:, None], offset=state.steps)  # (N, 1, E)
        features, cache, weights = self.decoder(inputs, state.memory, state.mask, state.cache, state.rows_per_source)
        logits = self.output(features[:, 0])  # (N, V)
        attention = None
        if keep_attention:
            step = weights.mean(1)  # (N, 1, S)
            attention = step if state.attention is None else torch.cat([state.attention, step], dim=1)
        if logits.dtype in (torch.float16, torch.bfloat16):
            logits = logits.float()  # search sums log-probabilities over many steps
        return torch.log_softmax(logits, dim=-1), dataclasses.replace(state, cache=cache, attention=attention)

    def reorder(self, state: TransformerState, order: torch.Tensor) -> TransformerState:
        """The state of rows ``order`` (M,): expands sentences into beams and follows the beams' choices."""
        return state.select(order)
