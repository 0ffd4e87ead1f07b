"""A Transformer encoder–decoder (Vaswani et al. 2017) on the interface of the RNN encoder–decoder::

    source ─ embedding · √d + PE ─ [self-attention, feed-forward] × N ─ memory ──────────┐ keys, values
    <bos> y_1 .. y_{T-1} ─ embedding · √d + PE ─ [causal self-attention, cross-attention, feed-forward] × N
                                                  ─ output layer ─ logits for y_1 .. y_T, <eos>

The layers are :mod:`seqlab.nn.transformer`'s, whose decoder caches each layer's self-attention keys
and values, so that a search step runs one position, not the whole prefix, and returns the
cross-attention weights that the attention maps read.

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
from dataclasses import dataclass

import torch
from torch import nn

from seqlab.data.padded_batches import padding_mask
from seqlab.errors import SeqlabError
from seqlab.models.seq2seq_output import Seq2SeqOutput, with_loss
from seqlab.models.source_groups import regroup
from seqlab.models.transformer_configs import TransformerConfig
from seqlab.nn.transformer import KeysValues, TransformerDecoder, TransformerEncoder, sinusoidal_positions


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
        layers = dict(dim_feedforward=config.dim_feedforward, dropout=config.dropout, norm_first=config.norm_first)
        self.encoder = TransformerEncoder(d, config.nhead, config.num_encoder_layers, **layers)
        self.decoder = TransformerDecoder(d, config.nhead, config.num_decoder_layers, **layers)
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
