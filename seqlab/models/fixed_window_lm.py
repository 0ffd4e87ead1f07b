"""The fixed-window neural probabilistic language model of Bengio et al. (2003).

Bengio, Ducharme, Vincent and Jauvin, "A Neural Probabilistic Language Model", JMLR 3:1137-1155.
The next token is predicted from the ``n - 1`` tokens before it (``context_size`` here, the
current input token included) through their concatenated embeddings ``x`` (eq. 1 of the paper)::

    x = (C(w[t-n+1]), ..., C(w[t-1]), C(w[t]))     # (context_size * E,), oldest first
    y = b + W x + U tanh(d + H x)                  # (V,) unnormalised log-probabilities

    tokens[t-n+1 .. t] ─ embedding C ─ concat x ─┬─ H, d ─ tanh ─ U ─┐
                                                 └────── W (direct) ─┴─ + b ─ logits

``W`` (the direct connections) is optional, as in the paper's experiments. There is no
recurrence: the only thing carried from one window to the next is the window of tokens itself.

The state is therefore a plain ``(context_size - 1, B)`` int64 tensor holding the last
``context_size - 1`` token ids of each stream (oldest first), or None at the start of the
streams. Positions before a stream's start read a padding id, ``vocab_size``, whose embedding
row is zero and never trained, so the first predictions of a stream see "nothing" rather than
some real token. With the state, cutting the streams into BPTT windows changes nothing: the
logits equal those of one call on the whole streams.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from seqlab.errors import SeqlabError
from seqlab.models.lm_configs import FixedWindowLMConfig
from seqlab.models.output import LanguageModelOutput


class FixedWindowLanguageModel(nn.Module):
    """Predicts the next token of each stream from the last ``context_size`` tokens.

    Args:
        config: the layer sizes and regularisers.

    Shape:
        - tokens: ``(T, B)`` int64 token ids, time first like :class:`RNNLanguageModel`
        - state: ``(context_size - 1, B)`` int64, the last tokens of the previous call, oldest
          first; or None at the start of the streams (all padding)
        - targets: ``(T, B)`` the id that follows each input token
        - output logits ``(T, B, vocab_size)``, state ``(context_size - 1, B)``,
          features ``(T, B, hidden_size)``

    Example:
        >>> model = FixedWindowLanguageModel(FixedWindowLMConfig(vocab_size=10, context_size=3))
        >>> tokens = torch.randint(10, (5, 2))
        >>> out = model(tokens, targets=tokens)
        >>> out.logits.shape, out.state.shape, out.loss.shape
        (torch.Size([5, 2, 10]), torch.Size([2, 2]), torch.Size([]))
    """

    def __init__(self, config: FixedWindowLMConfig):
        super().__init__()
        self.config = config
        self.padding_idx = config.vocab_size
        inputs = config.context_size * config.embedding_size
        self.embedding = nn.Embedding(config.vocab_size + 1, config.embedding_size, padding_idx=self.padding_idx)  # C
        self.hidden = nn.Linear(inputs, config.hidden_size)  # H, d
        self.head = nn.Linear(config.hidden_size, config.vocab_size)  # U, b
        self.direct = nn.Linear(inputs, config.vocab_size, bias=False) if config.direct_connections else None  # W
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        init_range = self.config.init_range
        # Small uniform weights start the output near uniform over the vocabulary.
        nn.init.uniform_(self.embedding.weight, -init_range, init_range)
        with torch.no_grad():
            self.embedding.weight[self.padding_idx].zero_()
        nn.init.uniform_(self.head.weight, -init_range, init_range)
        nn.init.zeros_(self.head.bias)
        if self.direct is not None:
            nn.init.uniform_(self.direct.weight, -init_range, init_range)

    def initial_state(self, batch_size: int, device: torch.device | str | None = None) -> torch.Tensor:
        """The state that None stands for: ``context_size - 1`` padding ids per stream."""
        shape = (self.config.context_size - 1, batch_size)
        return torch.full(shape, self.padding_idx, dtype=torch.long, device=device)

    def forward(
        self,
        tokens: torch.Tensor,
        state: torch.Tensor | None = None,
        targets: torch.Tensor | None = None,
    ) -> LanguageModelOutput:
        """Scores for the next token at every position, the last tokens as state, and the losses.

        Args:
            tokens: input token ids.
            state: the state returned by the previous call, to continue the same streams.
            targets: the next token at each position; when given, the losses are computed.

        Returns:
            A :class:`LanguageModelOutput` whose ``loss`` and ``cross_entropy`` are both the
            mean cross-entropy over all ``T * B`` positions (no penalties), or None.
        """
        config = self.config
        steps, batch = tokens.shape
        history = self.initial_state(batch, tokens.device) if state is None else state
        if history.shape != (config.context_size - 1, batch):
            raise SeqlabError(
                f"state has shape {tuple(history.shape)}, expected {(config.context_size - 1, batch)} "
                "(the last context_size - 1 tokens of each stream)"
            )
        padded = torch.cat([history, tokens])  # (context_size - 1 + T, B)
        windows = padded.unfold(0, config.context_size, 1)  # (T, B, context_size), oldest first
        x = self.embedding(windows).flatten(2)  # (T, B, context_size * E)
        x = F.dropout(x, config.dropout, training=self.training)
        features = torch.tanh(self.hidden(x))  # (T, B, H)
        logits = self.head(F.dropout(features, config.dropout, training=self.training))  # (T, B, V)
        if self.direct is not None:
            logits = logits + self.direct(x)
        # Slicing from the front keeps context_size == 1 right: a (0, B) state, not all of padded.
        new_state = padded[steps:].detach().clone()  # (context_size - 1, B)
        loss = cross_entropy = None
        if targets is not None:
            cross_entropy = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
            loss = cross_entropy
        return LanguageModelOutput(logits, new_state, loss, cross_entropy, features)

    def num_parameters(self) -> int:
        """The number of trainable numbers, the padding row left out (it is fixed at zero).

        With direct connections this is the paper's ``|V|(1 + nm + h) + h(1 + (n-1)m)``, with
        ``n - 1 = context_size``, ``m = embedding_size`` and ``h = hidden_size``; without, the
        ``|V|(n-1)m`` weights of ``W`` are gone.
        """
        total = sum(parameter.numel() for parameter in self.parameters())
        return total - self.config.embedding_size
