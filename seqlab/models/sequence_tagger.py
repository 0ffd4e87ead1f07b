"""A sequence tagger: word (and character, casing) features, a BiLSTM, and a CRF or softmax output.

Lample et al. 2016 (§2-§4): each word is its embedding joined with a character-level
representation, dropout is applied, a bidirectional LSTM reads the sentence, a linear layer gives
every word a score per tag (the emissions P, §2.2), and a linear-chain CRF scores whole tag paths
(:class:`seqlab.nn.LinearChainCRF`). With ``output="softmax"`` each word's tag is predicted on its
own (the baseline that a CRF improves on by modelling which tag follows which). With a ``scheme``,
the CRF's transitions forbid the scheme's invalid moves (O → I-PER in BIO, B-PER → O in BIOES),
so that a decoded sentence is always a valid one.

Dropout (the variants of :mod:`seqlab.nn.dropout`): ``dropout`` zeroes units of the word
representation and of the BiLSTM's output, with a fresh mask at every word as Lample et al. do
(``dropout_kind="standard"``) or with one mask per sentence that every word shares
(``"locked"``, Gal & Ghahramani 2016's variational dropout; between stacked layers the
recurrent layer's own dropout, a mask per word, stays); ``word_dropout`` drops whole words of
the vocabulary from a batch, every occurrence of a dropped word then embedded as zeros (Gal &
Ghahramani 2016, §4.2), so that the tagger learns to lean on the characters and the context.

::

    words (B, T) ──embed──┐
    chars (B, T, C) ──────┼─ concat ─ dropout ─ BiLSTM ─ dropout ─ linear ─ emissions (B, T, K) ─ CRF / softmax
    casing (B, T) ──embed─┘
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from seqlab.data.padded_batches import pack, padding_mask, unpack
from seqlab.data.tag_schemes import transition_masks
from seqlab.models.tagger_configs import TaggerConfig
from seqlab.models.word_features import CASINGS, CharacterCNN, CharacterLSTM
from seqlab.nn import GRU, LSTM, LinearChainCRF, LockedDropout, embedding_dropout

RECURRENT_LAYERS = {"lstm": LSTM, "gru": GRU}


class TaggerOutput(NamedTuple):
    """What ``SequenceTagger.forward`` returns."""

    emissions: torch.Tensor  # (B, T, K) the score of every tag at every word
    mask: torch.Tensor  # (B, T) True at real words
    loss: torch.Tensor | None  # the objective: NLL nats per real word (CRF: the sentences' NLL summed / words)
    words: int  # real words in the batch


class SequenceTagger(nn.Module):
    """BiLSTM-CRF (Lample et al. 2016) or BiLSTM-softmax tagger.

    Args:
        config: sizes, features, output layer and the tags (with their scheme).

    Shape:
        - words: ``(B, T)`` word ids, padded with ``config.padding_id``
        - lengths: ``(B,)`` real words per sentence, each at least 1
        - chars: ``(B, T, C)`` character ids of each word, padded with ``config.char_padding_id``
          (needed unless ``character_features == "none"``)
        - casing: ``(B, T)`` indices into ``CASINGS`` (needed with ``casing=True``)
        - tags: ``(B, T)`` gold tag ids (anything at padding), for the loss
    """

    def __init__(self, config: TaggerConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_size, padding_idx=config.padding_id)
        self.embedding.weight.requires_grad_(not config.freeze_embeddings)
        self.characters = _character_features(config)
        self.casing = nn.Embedding(len(CASINGS), config.casing_size, padding_idx=0) if config.casing else None
        width = (config.embedding_size + (self.characters.output_size if self.characters else 0)
                 + (config.casing_size if config.casing else 0))  # fmt: skip
        self.dropout = (LockedDropout(config.dropout, batch_first=True) if config.dropout_kind == "locked"
                        else nn.Dropout(config.dropout))  # fmt: skip
        self.rnn = RECURRENT_LAYERS[config.cell](width, config.hidden_size, num_layers=config.num_layers,
                                                 bidirectional=True, batch_first=True,
                                                 dropout=config.dropout if config.num_layers > 1 else 0.0)  # fmt: skip
        self.emission = nn.Linear(2 * config.hidden_size, config.num_tags)
        self.crf = _crf(config) if config.output == "crf" else None

    def features(self, words: torch.Tensor, lengths: torch.Tensor, chars: torch.Tensor | None = None,
                 casing: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
        """The emissions P: (B, T, K) tag scores of every word (zeros' image at padding)."""
        pieces = [embedding_dropout(self.embedding, words, self.config.word_dropout, self.training)]
        if self.characters is not None:
            if chars is None:
                raise ValueError("this tagger reads characters: pass chars (B, T, C)")
            pieces.append(self.characters(chars))
        if self.casing is not None:
            if casing is None:
                raise ValueError("this tagger reads casing classes: pass casing (B, T)")
            pieces.append(self.casing(casing))
        represented = self.dropout(torch.cat(pieces, dim=-1))  # (B, T, W)
        packed, _ = self.rnn(pack(represented, lengths, batch_first=True))
        states, _ = unpack(packed, batch_first=True, total_length=words.size(1))  # (B, T, 2H)
        return self.emission(self.dropout(states))

    def forward(self, words: torch.Tensor, lengths: torch.Tensor, *, chars: torch.Tensor | None = None,
                casing: torch.Tensor | None = None, tags: torch.Tensor | None = None) -> TaggerOutput:  # fmt: skip
        emissions = self.features(words, lengths, chars, casing)
        mask = padding_mask(lengths.to(words.device), words.size(1), batch_first=True)
        count = int(lengths.sum())
        if tags is None:
            return TaggerOutput(emissions, mask, None, count)
        if self.crf is not None:
            loss = self.crf(emissions, tags, mask, reduction="sum") / count
        else:
            loss = F.cross_entropy(emissions[mask], tags[mask], reduction="sum") / count
        return TaggerOutput(emissions, mask, loss, count)

    @torch.no_grad()
    def decode(self, emissions: torch.Tensor, mask: torch.Tensor) -> list[list[int]]:
        """The best tag ids of each sentence: Viterbi with the CRF, else each word's most likely tag."""
        if self.crf is not None:
            return self.crf.decode(emissions, mask).tolist()
        best = emissions.argmax(-1)
        return [row[: int(length)] for row, length in zip(best.tolist(), mask.sum(1).tolist())]


def _character_features(config: TaggerConfig) -> nn.Module | None:
    if config.character_features == "lstm":
        return CharacterLSTM(config.char_vocab_size, config.char_embedding_size, config.char_hidden_size,
                             padding_id=config.char_padding_id)  # fmt: skip
    if config.character_features == "cnn":
        return CharacterCNN(config.char_vocab_size, config.char_embedding_size, config.char_hidden_size,
                            config.char_window, padding_id=config.char_padding_id)  # fmt: skip
    return None


def _crf(config: TaggerConfig) -> LinearChainCRF:
    """The CRF over the config's tags, forbidding what its scheme forbids."""
    if config.scheme is None:
        return LinearChainCRF(config.num_tags)
    allowed, start, end = (torch.from_numpy(mask) for mask in transition_masks(config.tags, config.scheme))
    return LinearChainCRF(config.num_tags, allowed, start, end)
