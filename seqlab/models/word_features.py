"""What a tagger knows of a word besides its embedding: its characters and its casing.

Rare and unseen words carry most entities (names); their spelling says much that a word
embedding cannot. ``CharacterLSTM`` (Lample et al. 2016, §4.1) reads a word's characters with a
BiLSTM and keeps the final state of each direction; ``CharacterCNN`` (Ma & Hovy 2016, §2.1)
convolves them and keeps the maximum of each filter. ``casing_class`` sorts a word into one of
the casing classes of Reimers & Gurevych 2017 (their casing feature for BiLSTM-CRF taggers),
for an embedding of its own.
"""

from __future__ import annotations

import torch
from torch import nn

from seqlab.data.padded_batches import pack
from seqlab.nn import LSTM

CASINGS = ("padding", "numeric", "mainly_numeric", "all_lower", "all_upper", "initial_upper", "contains_digit",
           "other")  # fmt: skip


def casing_class(word: str) -> int:
    """The index in ``CASINGS`` of the casing of ``word`` (never 0, which is padding).

    Example:
        >>> [CASINGS[casing_class(w)] for w in ("1996", "10-12", "lamb", "EU", "Peter", "iPhone4", "-")]
        ['numeric', 'mainly_numeric', 'all_lower', 'all_upper', 'initial_upper', 'contains_digit', 'other']
    """
    digits = sum(character.isdigit() for character in word)
    if word.isdigit():
        return CASINGS.index("numeric")
    if digits / max(len(word), 1) > 0.5:
        return CASINGS.index("mainly_numeric")
    if word.islower():
        return CASINGS.index("all_lower")
    if word.isupper():
        return CASINGS.index("all_upper")
    if word[:1].isupper():
        return CASINGS.index("initial_upper")
    if digits:
        return CASINGS.index("contains_digit")
    return CASINGS.index("other")


class CharacterLSTM(nn.Module):
    """Each word as the last states of a BiLSTM over its characters (Lample et al. 2016, §4.1).

    Args:
        vocab_size: character ids; embedding_size: their embeddings; hidden_size: each direction.
        padding_id: the padding character.

    Shape:
        chars (B, T, C) character ids, padded with ``padding_id`` (a padded word has none) -> (B, T, 2 * hidden_size),
        zeros at padded words.
    """

    def __init__(self, vocab_size: int, embedding_size: int, hidden_size: int, *, padding_id: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_size, padding_idx=padding_id)
        self.rnn = LSTM(embedding_size, hidden_size, bidirectional=True, batch_first=True)
        self.padding_id, self.output_size = padding_id, 2 * hidden_size

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        batch, steps, _ = chars.shape
        lengths = (chars != self.padding_id).sum(-1).flatten()  # (B*T,)
        words = lengths.nonzero().flatten()  # the real words
        out = chars.new_zeros(batch * steps, self.output_size, dtype=self.embedding.weight.dtype)
        if words.numel():
            embedded = self.embedding(chars.flatten(0, 1)[words])  # (N, C, E)
            _, (hidden, _) = self.rnn(pack(embedded, lengths[words], batch_first=True))  # hidden (2, N, H)
            out = out.index_copy(0, words, torch.cat([hidden[0], hidden[1]], dim=-1))
        return out.view(batch, steps, self.output_size)


class CharacterCNN(nn.Module):
    """Each word as the maximum over its characters of a convolution (Ma & Hovy 2016, §2.1).

    The filters see ``window`` characters; the word is padded by ``window // 2`` on both sides (Ma &
    Hovy pad with special characters; here with zero vectors), and padding characters never win
    the maximum.

    Shape:
        chars (B, T, C) -> (B, T, filters), zeros at padded words.
    """

    def __init__(self, vocab_size: int, embedding_size: int, filters: int, window: int, *, padding_id: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_size, padding_idx=padding_id)
        self.convolution = nn.Conv1d(embedding_size, filters, window, padding=window // 2)
        self.padding_id, self.output_size = padding_id, filters

    def forward(self, chars: torch.Tensor) -> torch.Tensor:
        batch, steps, width = chars.shape
        real = chars != self.padding_id  # (B, T, C)
        embedded = self.embedding(chars.flatten(0, 1))  # (B*T, C, E); the padding row is zero
        convolved = self.convolution(embedded.transpose(1, 2))[..., :width]  # (B*T, F, C)
        convolved = convolved.masked_fill(~real.flatten(0, 1).unsqueeze(1), float("-inf"))
        best = convolved.max(dim=-1).values  # (B*T, F)
        best = best.masked_fill(~real.any(-1).flatten().unsqueeze(1), 0.0)  # a padded word: zeros
        return best.view(batch, steps, self.output_size)
