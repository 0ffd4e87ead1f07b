"""An RNN encoder–decoder for translation, with or without attention (Cho et al. 2014; Sutskever et
al. 2014; Bahdanau et al. 2015; Luong et al. 2015)::

    source ─ embedding ─ (bi)GRU/LSTM, packed ─ states h_1..h_S ──┐ (attention, or one context vector)
                                          final states ─ tanh(W ·) ─ s_0
    <bos> y_1 .. y_{T-1} ─ embedding ─ decoder step × T ─ output layer ─ logits for y_1 .. y_T, <eos>

Training is teacher forced (the gold previous token is fed), optionally mixed with the model's
own greedy choice (``teacher_forcing < 1``, Bengio et al. 2015's scheduled sampling with a fixed
rate). For search the model offers :meth:`Seq2Seq.start`, :meth:`Seq2Seq.step` and
:meth:`Seq2Seq.reorder`, the interface of :mod:`seqlab.decode`.
"""

from __future__ import annotations

import torch
from torch import nn

from seqlab.models.seq2seq_configs import Seq2SeqConfig
from seqlab.models.seq2seq_decoders import DECODERS, DecoderState
from seqlab.models.seq2seq_encoder import RecurrentEncoder
from seqlab.models.seq2seq_output import Seq2SeqOutput, with_loss


class Seq2Seq(nn.Module):
    """Encoder and decoder of :class:`Seq2SeqConfig`.

    Args:
        config: sizes, cell, attention and regularisation.

    Shape:
        - source: ``(B, S)`` token ids padded with ``config.padding_id``; lengths ``(B,)``
        - target_input: ``(B, T)``: ``<bos>`` then the target without its last token
        - targets: ``(B, T)``: the target then ``<eos>``, padded with ``config.padding_id``

    Example:
        >>> config = Seq2SeqConfig(source_vocab_size=12, target_vocab_size=10, embedding_size=8,
        ...                        hidden_size=16, attention_size=8)
        >>> model = Seq2Seq(config)
        >>> source, lengths = torch.randint(1, 12, (2, 5)), torch.tensor([5, 3])
        >>> target = torch.randint(1, 10, (2, 4))
        >>> out = model(source, lengths, target, targets=target)
        >>> out.logits.shape, out.attention.shape, out.tokens
        (torch.Size([2, 4, 10]), torch.Size([2, 4, 5]), 8)
    """

    def __init__(self, config: Seq2SeqConfig):
        super().__init__()
        self.config = config
        self.encoder = RecurrentEncoder(config)
        self.decoder = DECODERS[config.attention](config)

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
        """Scores every target position; with ``targets`` also the loss.

        Args:
            label_smoothing: ε of Szegedy et al. 2016 (§7), spread over the whole vocabulary
                as ``torch.nn.functional.cross_entropy`` does; the ``nll`` is never smoothed.
            teacher_forcing: the probability of feeding the gold previous token at each step;
                otherwise the model's own most likely token of the previous step is fed.
            generator: draws the teacher-forcing coins (a private stream keeps runs repeatable).
        """
        with self.decoder.rnn.one_weight_drop_mask():  # one DropConnect mask for all the decoder's steps
            state = self.decoder.start(self.encoder(source, lengths))
            if teacher_forcing >= 1.0:
                logits, attention = self.decoder.teacher_forced(target_input, state)
            else:
                logits, attention = self._partly_teacher_forced(target_input, state, teacher_forcing, generator)
        if targets is None:
            return Seq2SeqOutput(logits, attention, None, None, 0)
        return with_loss(logits, attention, targets, padding_id=self.config.padding_id, label_smoothing=label_smoothing)

    def _partly_teacher_forced(self, target_input, state, rate, generator):
        """Step by step, feeding the gold token with probability ``rate`` and the model's guess otherwise."""
        previous = target_input[:, 0]  # (B,) <bos>
        all_logits = []
        for t in range(target_input.size(1)):
            logits, state = self.decoder.step(previous, state, keep_attention=True)
            all_logits.append(logits)
            if t + 1 < target_input.size(1):
                coins = (torch.rand(previous.shape, generator=generator) < rate).to(previous.device)
                previous = torch.where(coins, target_input[:, t + 1], logits.argmax(-1))
        return torch.stack(all_logits, dim=1), state.attention  # (B, T, V), (B, T, S) or None

    # The search interface of seqlab.decode.

    def start(self, source: torch.Tensor, lengths: torch.Tensor) -> DecoderState:
        """The decoder's state before the first target token, for B source sentences.

        In evaluation the state is one for search: once it holds several rows (beams) per source,
        the context decoder steps from products of its weights with the encoder states, made once
        per source (:mod:`seqlab.models.seq2seq_decoders`).
        """
        return self.decoder.start(self.encoder(source, lengths), for_search=not self.training)

    def step(self, tokens: torch.Tensor, state: DecoderState, *, keep_attention: bool = False):
        """tokens (N,) → log-probabilities (N, V) of the next token, and the next state.

        With ``keep_attention`` the state accumulates each step's attention weights
        (``state.attention``, ``(N, t, S)``), reordered with the beams.
        """
        logits, state = self.decoder.step(tokens, state, keep_attention=keep_attention)
        if logits.dtype in (torch.float16, torch.bfloat16):
            logits = logits.float()  # search sums log-probabilities over many steps
        return torch.log_softmax(logits, dim=-1), state

    def reorder(self, state: DecoderState, order: torch.Tensor) -> DecoderState:
        """The state of rows ``order`` (M,): expands sentences into beams and follows the beams' choices."""
        return state.select(order)
