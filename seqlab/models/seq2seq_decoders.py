"""The decoders of an encoder–decoder: a context vector or Bahdanau attention, and Luong attention.

Both decode one target token per step from the previous one, and both run in two ways: teacher
forced over a whole batch of targets (training, scoring), and one step at a time from a
:class:`DecoderState` (search). The step is the same computation in both; training merely runs
the output layer once over all steps at the end instead of once per step.

**Context vector and Bahdanau** (:class:`ContextDecoder`). Bahdanau et al. 2015, §3.1 and
appendix A.2: with ``s_{i-1}`` the previous decoder state,

    c_i = Σ_j α_ij h_j,  α_i = softmax_j(v_aᵀ tanh(W_a s_{i-1} + U_a h_j))     (eqs. 5–6; A.1.2)
    s_i = f(s_{i-1}, [E y_{i-1}; c_i])                                          (eq. 4's f, a GRU)
    p(y_i | y_<i, x) = softmax(W_o [s_i; c_i; E y_{i-1}])                       (eq. 4's g)

where ``g`` is one linear layer rather than the paper's maxout deep output (A.2.2). Without
attention the same decoder reads one fixed context ``c`` (the encoder's final states) at every
step, as Cho et al. 2014's decoder does (§2.2: ``s_t = f(s_{t-1}, y_{t-1}, c)``, output from
``(s_t, y_{t-1}, c)``).

**Luong** (:class:`LuongDecoder`). Luong et al. 2015, §3: the decoder RNN first steps, then
attends with its *current* state ``h_t``:

    h_t = f(h_{t-1}, [E y_{t-1}; h̃_{t-1}])   (input feeding, §3.3; without it f reads E y_{t-1} only)
    c_t = Σ_s a_t(s) h̄_s,  a_t = softmax_s(score(h_t, h̄_s))                   (eqs. 7–8)
    h̃_t = tanh(W_c [c_t; h_t])                                                  (eq. 5)
    p(y_t | y_<t, x) = softmax(W_s h̃_t)                                         (eq. 6)

Without input feeding the recurrence never reads the attention, so teacher-forced training runs
the RNN over all steps at once and attends for all of them in one batched product.

**Beam search with the context decoder.** The context enters ``f`` and ``g`` only through
products ``W c_i``, and ``W c_i = Σ_j α_ij (W h_j)``. So once a search holds R > 1 rows per
source (beams, or several samples), :class:`ContextDecoder` multiplies the encoder states by the
context's columns of the RNN's input weights and of the output layer once per source sentence,
and every later step weighs those products with each row's α_i (S terms) instead of multiplying
each row's ``c_i`` by the matrices (K terms: 1,024 in ``bahdanau-multi30k``); only while S < K,
which it is for sentences of words or subwords. The R rows of a source share its products; the
logits are the same to float rounding (BENCHMARKS.md times it). Greedy search (R = 1) steps as
in training. Evaluation only (``for_search``): in training, dropout sits between ``c_i`` and ``g``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from seqlab.models.seq2seq_configs import Seq2SeqConfig
from seqlab.models.seq2seq_dropout import StepMasks, draw_step_masks, embed_targets, masked
from seqlab.models.seq2seq_encoder import RECURRENT_LAYERS, EncodedSource
from seqlab.models.source_groups import regroup
from seqlab.nn import AdditiveAttention, MultiplicativeAttention


@dataclass
class DecoderState:
    """Everything a decoder step reads for N = G × R rows: G source sentences, R rows (beams) each.

    The encoder's outputs are kept once per source (:mod:`seqlab.models.source_groups`), the
    rest once per row; rows ``g*R .. g*R+R-1`` read source g.
    """

    hidden: tuple[torch.Tensor, ...]  # the RNN state, each (L, N, H): (h,) for a GRU, (h, c) for an LSTM
    memory: torch.Tensor  # (G, S, K) the encoder states
    mask: torch.Tensor  # (G, S) bool, True at real source positions
    keys: torch.Tensor | None  # (G, S, A) the attention's key projection, computed once per source
    context: torch.Tensor | None  # (G, K) the fixed context vector of an attention-free decoder
    feed: torch.Tensor | None  # (N, H) Luong's attentional vector of the previous step (input feeding)
    attention: torch.Tensor | None  # (N, t, S) the attention weights of the steps so far, when kept
    rows_per_source: int = 1  # R
    masks: StepMasks | None = None  # the dropout masks every step reads (training; seqlab.models.seq2seq_dropout)
    for_search: bool = False  # a search in evaluation: steps of R > 1 rows read memory_products (ContextDecoder)
    memory_products: torch.Tensor | None = None  # (G, S, D) or (G, D), made at the first such step

    def select(self, order: torch.Tensor) -> DecoderState:
        """The state of rows ``order`` (M,), in that order: beams expand, reorder and drop rows this way."""
        sources, rows_per_source = regroup(order, self.rows_per_source, self.memory.size(0))

        def per_source(value):
            return value if value is None or sources is None else value.index_select(0, sources)

        def per_row(value):
            return None if value is None else value.index_select(0, order)

        return DecoderState(
            hidden=tuple(part.index_select(1, order) for part in self.hidden),
            memory=per_source(self.memory),
            mask=per_source(self.mask),
            keys=per_source(self.keys),
            context=per_source(self.context),
            feed=per_row(self.feed),
            attention=per_row(self.attention),
            rows_per_source=rows_per_source,
            masks=None if self.masks is None else self.masks.select(order),
            for_search=self.for_search,
            memory_products=per_source(self.memory_products),
        )

    def attend(self, attention: nn.Module, query: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Each row's context (N, K) and weights (N, S) from its query (N, Q), against its own source.

        The R queries of a source attend as R steps of one sentence, so the encoder states are read
        once per source rather than copied for every row.
        """
        rows = self.rows_per_source
        if rows == 1:
            return attention(query, self.memory, self.mask, projected_keys=self.keys)
        queries = query.view(-1, rows, query.size(-1))  # (G, R, Q)
        context, weights = attention(queries, self.memory, self.mask, projected_keys=self.keys)
        return context.flatten(0, 1), weights.flatten(0, 1)  # (G, R, ·) -> (N, ·)

    def row_context(self) -> torch.Tensor:
        """The fixed context vector of each row (N, K)."""
        return self.context.repeat_interleave(self.rows_per_source, dim=0)

    def weigh(self, values: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        """Each row's ``Σ_j α_j v_j`` over its own source: values (G, S, D) and weights (N, S) → (N, D)."""
        grouped = weights.view(values.size(0), self.rows_per_source, -1).to(values.dtype)  # (G, R, S)
        return torch.bmm(grouped, values).flatten(0, 1)


def _appended(attention: torch.Tensor | None, weights: torch.Tensor, keep: bool) -> torch.Tensor | None:
    """The kept attention weights with this step's (N, S) added as step t."""
    if not keep:
        return None
    step = weights.unsqueeze(1)  # (N, 1, S)
    return step if attention is None else torch.cat([attention, step], dim=1)


class OutputLayer(nn.Module):
    """Features → logits over the target vocabulary, optionally through the target embedding matrix.

    With ``tied`` (Press & Wolf 2017) the features are first projected to the embedding size and
    the embedding matrix is the output matrix. Tied, the matrix is restarted as N(0, 1/E) (padding
    row zero), the scale tied language models start from (Press & Wolf train Zaremba et al.'s
    models, initialised uniform in ±0.05 or ±0.04; AWD-LSTM's embeddings start in ±0.1; for
    E = 256, 1/√E = 0.0625). torch's N(0, 1) rows, dotted with the projected features, give
    logits several nats wide: the first tied run on Multi30k (8,000 pieces, E = 256) averaged
    16.1 nats over its first 52 steps against log V = 9.0. The same matrix embeds the decoder's
    inputs, which therefore also start small, as in those language models.
    """

    def __init__(self, features: int, embedding: nn.Embedding, *, tied: bool):
        super().__init__()
        self.embedding = embedding if tied else None
        width = embedding.embedding_dim if tied else embedding.num_embeddings
        self.projection = nn.Linear(features, width)
        self.bias = nn.Parameter(torch.zeros(embedding.num_embeddings)) if tied else None
        if tied:
            nn.init.normal_(embedding.weight, mean=0.0, std=embedding.embedding_dim**-0.5)
            if embedding.padding_idx is not None:
                with torch.no_grad():
                    embedding.weight[embedding.padding_idx].zero_()

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.from_projection(self.projection(features))

    def from_projection(self, projected: torch.Tensor) -> torch.Tensor:
        """Logits from ``projection(features)`` (which already are the logits when untied)."""
        if self.embedding is None:
            return projected
        return F.linear(projected, self.embedding.weight, self.bias)


class _RecurrentDecoder(nn.Module):
    """What both decoders share: target embedding, the RNN, dropout, the output layer, the first state."""

    def __init__(self, config: Seq2SeqConfig, rnn_input_size: int, features: int):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.target_vocab_size, config.embedding_size, padding_idx=config.padding_id)
        self.rnn = RECURRENT_LAYERS[config.cell](
            rnn_input_size,
            config.hidden_size,
            num_layers=config.decoder_layers,
            dropout=config.dropout if config.decoder_layers > 1 else 0.0,
            weight_drop=config.weight_drop,
        )
        bridge_input = config.hidden_size if config.attention == "bahdanau" else config.encoder_size
        self.bridge = nn.Linear(bridge_input, config.decoder_layers * config.hidden_size)
        self.dropout = nn.Dropout(config.dropout)
        self.features = features  # F: the output layer's input
        self.output = OutputLayer(features, self.embedding, tied=config.tie_embeddings)

    def step_masks(self, encoded: EncodedSource) -> StepMasks | None:
        """The dropout masks this pass holds over all its steps (None in evaluation)."""
        return draw_step_masks(self.config, self.embedding, encoded.states.size(0), self.features, self.training)

    def embed(self, tokens: torch.Tensor, state: DecoderState) -> torch.Tensor:
        """Previous tokens ``(N,)`` or ``(N, T)`` → their embeddings with dropout ``(N, [T,] E)``."""
        masks = state.masks
        return masked(embed_targets(self.embedding, tokens, masks), masks and masks.inputs, self.dropout)

    def logits(self, features: torch.Tensor, state: DecoderState) -> torch.Tensor:
        """Output features ``(N, [T,] F)`` → logits ``(N, [T,] V)``, with dropout before the output layer."""
        masks = state.masks
        return self.output(masked(features, masks and masks.features, self.dropout))

    def first_hidden(self, encoded: EncodedSource) -> tuple[torch.Tensor, ...]:
        """The RNN's first state: ``tanh(W_s ·)`` of the encoder's final states, per decoder layer.

        Bahdanau (A.2.2) reads the backward direction's first state ``h←_1``; the others read both
        directions' final states. An LSTM's cell starts at zero.
        """
        if self.config.attention == "bahdanau":
            source = encoded.backward_final if encoded.backward_final is not None else encoded.forward_final
        else:
            source = encoded.summary
        batch = source.size(0)
        hidden = torch.tanh(self.bridge(source)).view(batch, self.config.decoder_layers, -1).transpose(0, 1)
        hidden = hidden.contiguous()  # (L, B, H)
        return (hidden, torch.zeros_like(hidden)) if self.config.cell == "lstm" else (hidden,)

    def run_rnn(self, inputs: torch.Tensor, hidden: tuple[torch.Tensor, ...]):
        """inputs (T, N, I) time first -> outputs (T, N, H), new hidden."""
        outputs, final = self.rnn(inputs, hidden if self.config.cell == "lstm" else hidden[0])
        return outputs, (final if isinstance(final, tuple) else (final,))

    def teacher_forced(self, target_input: torch.Tensor, state: DecoderState):
        """Every step with the gold previous tokens: logits (B, T, V) and attention (B, T, S) or None."""
        embedded = self.embed(target_input, state)  # (B, T, E)
        features, weights = [], []
        for t in range(target_input.size(1)):
            step_features, state, step_weights = self.step_features(embedded[:, t], state)
            features.append(step_features)
            weights.append(step_weights)
        logits = self.logits(torch.stack(features, dim=1), state)  # (B, T, V) in one product
        attention = None if weights[0] is None else torch.stack(weights, dim=1)
        return logits, attention

    def step(self, tokens: torch.Tensor, state: DecoderState, *, keep_attention: bool = False):
        """One step from previous tokens (N,): logits (N, V) and the next state."""
        features, state, weights = self.step_features(self.embed(tokens, state), state)
        if weights is not None:
            state = dataclasses.replace(state, attention=_appended(state.attention, weights, keep_attention))
        return self.logits(features, state), state


class ContextDecoder(_RecurrentDecoder):
    """Bahdanau et al. 2015's attention decoder, or with ``attention="none"`` Cho et al. 2014's.

    Shape (one step): embedded ``(N, E)``; features ``(N, H + K + E)``; weights ``(N, S)`` or None.
    """

    def __init__(self, config: Seq2SeqConfig):
        k, e, h = config.encoder_size, config.embedding_size, config.hidden_size
        super().__init__(config, rnn_input_size=e + k, features=h + k + e)
        self.attention = (
            AdditiveAttention(h, k, config.attention_size) if config.attention == "bahdanau" else None
        )  # fmt: skip

    def start(self, encoded: EncodedSource, *, for_search: bool = False) -> DecoderState:
        """The state before the first target token; ``for_search`` (in evaluation): for a search's steps."""
        keys = None if self.attention is None else self.attention.project_keys(encoded.states)
        return DecoderState(
            hidden=self.first_hidden(encoded),
            memory=encoded.states,
            mask=encoded.mask,
            keys=keys,
            context=encoded.summary if self.attention is None else None,
            feed=None,
            attention=None,
            masks=self.step_masks(encoded),
            for_search=for_search and not self.training,
        )

    def step(self, tokens: torch.Tensor, state: DecoderState, *, keep_attention: bool = False):
        """One step (see :meth:`_RecurrentDecoder.step`): from the memory's products when a search
        in evaluation holds R > 1 rows per source and the products pay (module docstring)."""
        if not (state.for_search and not self.training and state.rows_per_source > 1 and self._products_pay(state)):
            return super().step(tokens, state, keep_attention=keep_attention)
        if state.memory_products is None:
            memory = state.context if self.attention is None else state.memory
            state = dataclasses.replace(state, memory_products=self._memory_products(memory))
        return self._beam_step(tokens, state, keep_attention)

    def _products_pay(self, state: DecoderState) -> bool:
        """Whether weighing S products costs less than a product with the K-wide context (always without attention)."""
        return self.attention is None or state.memory.size(1) < self.config.encoder_size

    def _memory_products(self, memory: torch.Tensor) -> torch.Tensor:
        """``[W_ih^c; W_o^c] h_j``: the context's columns of the RNN's and the output layer's weights, on each state.

        Shape: memory (G, S, K) or the fixed contexts (G, K) → (G, S, D) or (G, D), with D = 3H + F
        for a GRU (4H for an LSTM) and F the output projection's width (E tied, V untied).
        """
        e, k, h = self.config.embedding_size, self.config.encoder_size, self.config.hidden_size
        on_context = torch.cat([self.rnn.weight_ih_l0[:, e:], self.output.projection.weight[:, h : h + k]])
        return F.linear(memory, on_context)

    def _beam_step(self, tokens: torch.Tensor, state: DecoderState, keep_attention: bool):
        """:meth:`step` from the memory's products (module docstring): the same logits, to rounding."""
        e, k, h = self.config.embedding_size, self.config.encoder_size, self.config.hidden_size
        embedded = self.embedding(tokens)  # (N, E)
        if self.attention is None:
            products, weights = state.memory_products.repeat_interleave(state.rows_per_source, dim=0), None
        else:
            _, weights = state.attend(self.attention, state.hidden[0][-1])  # α_i from s_{i-1}
            products = state.weigh(state.memory_products, weights)  # (N, D): Σ_j α_ij [W_ih^c; W_o^c] h_j
        w_ih, w_o = self.rnn.weight_ih_l0, self.output.projection.weight
        on_rnn, on_output = products.split([w_ih.size(0), w_o.size(0)], -1)
        gates = torch.addmm(on_rnn, embedded, w_ih[:, :e].t())  # W_ih [E y_{i-1}; c_i], its bias added by the RNN
        output, hidden = self.rnn.step_from_input_product(gates, state.hidden)  # s_i
        projected = torch.addmm(on_output, output, w_o[:, :h].t())  # out of place: autocast casts these
        projected = torch.addmm(projected, embedded, w_o[:, h + k :].t()) + self.output.projection.bias
        attention = state.attention if weights is None else _appended(state.attention, weights, keep_attention)
        # projected = W_o [s_i; c_i; E y_{i-1}] + b
        return self.output.from_projection(projected), dataclasses.replace(state, hidden=hidden, attention=attention)

    def step_features(self, embedded: torch.Tensor, state: DecoderState):
        weights = None
        if self.attention is None:
            context = state.row_context()  # (N, K), the same at every step
        else:
            query = state.hidden[0][-1]  # (N, H): s_{i-1}, the top layer's previous state
            context, weights = state.attend(self.attention, query)
        outputs, hidden = self.run_rnn(torch.cat([embedded, context], dim=-1).unsqueeze(0), state.hidden)
        features = torch.cat([outputs[0], context, embedded], dim=-1)  # (N, H + K + E): s_i, c_i, E y_{i-1}
        return features, dataclasses.replace(state, hidden=hidden), weights


class LuongDecoder(_RecurrentDecoder):
    """Luong et al. 2015's global attention decoder (``dot``, ``general`` or ``concat`` score).

    Shape (one step): embedded ``(N, E)``; features ``h̃_t`` ``(N, H)``; weights ``(N, S)``.
    """

    def __init__(self, config: Seq2SeqConfig):
        k, e, h = config.encoder_size, config.embedding_size, config.hidden_size
        super().__init__(config, rnn_input_size=e + h if config.input_feeding else e, features=h)
        score = config.attention.removeprefix("luong-")
        hidden_size = config.attention_size if score == "concat" else None
        self.attention = MultiplicativeAttention(h, k, score=score, hidden_size=hidden_size,
                                                 scaled=config.scaled_scores)  # fmt: skip
        self.combine = nn.Linear(k + h, h, bias=False)  # W_c of eq. 5

    def start(self, encoded: EncodedSource, *, for_search: bool = False) -> DecoderState:
        """The state before the first target token (``for_search`` changes nothing here)."""
        hidden = self.first_hidden(encoded)
        feed = hidden[0].new_zeros(hidden[0].shape[1:]) if self.config.input_feeding else None  # h̃_0 = 0
        return DecoderState(
            hidden=hidden,
            memory=encoded.states,
            mask=encoded.mask,
            keys=self.attention.project_keys(encoded.states),
            context=None,
            feed=feed,
            attention=None,
            masks=self.step_masks(encoded),
        )

    def step_features(self, embedded: torch.Tensor, state: DecoderState):
        inputs = torch.cat([embedded, state.feed], dim=-1) if self.config.input_feeding else embedded
        outputs, hidden = self.run_rnn(inputs.unsqueeze(0), state.hidden)
        context, weights = state.attend(self.attention, outputs[0])
        attentional = self._attentional(context, outputs[0])
        feed = attentional if self.config.input_feeding else None
        return attentional, dataclasses.replace(state, hidden=hidden, feed=feed), weights

    def _attentional(self, context: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        """h̃ = tanh(W_c [c; h]) for contexts (N, K) and queries (N, H), or (B, T, ·) both."""
        return torch.tanh(self.combine(torch.cat([context, query], dim=-1)))

    def teacher_forced(self, target_input: torch.Tensor, state: DecoderState):
        if self.config.input_feeding:
            return super().teacher_forced(target_input, state)
        embedded = self.embed(target_input, state)  # (B, T, E)
        outputs, _ = self.run_rnn(embedded.transpose(0, 1), state.hidden)  # (T, B, H): all steps at once
        queries = outputs.transpose(0, 1)  # (B, T, H)
        context, weights = self.attention(queries, state.memory, state.mask, projected_keys=state.keys)
        attentional = self._attentional(context, queries)  # (B, T, H), weights (B, T, S)
        return self.logits(attentional, state), weights


DECODERS = {
    "none": ContextDecoder,
    "bahdanau": ContextDecoder,
    "luong-dot": LuongDecoder,
    "luong-general": LuongDecoder,
    "luong-concat": LuongDecoder,
}
