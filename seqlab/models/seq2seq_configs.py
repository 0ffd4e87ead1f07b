"""The saved shape of an encoder–decoder: the ``model`` section of a translation run's ``config.json``.

Torch-free, so that the command line can list every setting as a flag without importing torch.
The model is :class:`seqlab.models.seq2seq.Seq2Seq`; its decoders are in
:mod:`seqlab.models.seq2seq_decoders`.
"""

from __future__ import annotations

from dataclasses import dataclass

from seqlab.errors import SeqlabError

CELLS = ("gru", "lstm")

# attention -> (paper, how the decoder uses the encoder)
ATTENTIONS = {
    "none": "Cho et al. 2014: the whole source in one context vector, fed to every decoder step",
    "bahdanau": "Bahdanau et al. 2015: additive attention queried by the previous decoder state",
    "luong-dot": "Luong et al. 2015: score h_t . h_s, queried by the current decoder state",
    "luong-general": "Luong et al. 2015: score h_t W_a h_s",
    "luong-concat": "Luong et al. 2015: score v_a . tanh(W_a [h_t; h_s])",
}
DROPOUT_KINDS = {
    "standard": "Srivastava et al. 2014: a fresh mask at every position",
    "locked": "Gal & Ghahramani 2016, §4 (variational): one mask per sentence, the same at every position",
}


@dataclass
class Seq2SeqConfig:
    """The shape and regularisation of a :class:`~seqlab.models.seq2seq.Seq2Seq`; saved in ``config.json``."""

    source_vocab_size: int  # source token ids, specials included
    target_vocab_size: int  # target token ids, specials included
    attention: str = "bahdanau"  # one of ATTENTIONS
    cell: str = "gru"  # "gru" or "lstm", encoder and decoder alike
    embedding_size: int = 256  # source and target embeddings
    hidden_size: int = 512  # units of each encoder direction and of the decoder
    encoder_layers: int = 1  # stacked encoder layers
    decoder_layers: int = 1  # stacked decoder layers (the attention reads and queries the top one)
    bidirectional: bool = True  # the encoder reads the source both ways; its states are the two concatenated
    attention_size: int = 512  # hidden units of the additive and concat scores
    input_feeding: bool = True  # Luong: feed the last attentional vector to the next step's input
    scaled_scores: bool = False  # Luong's dot and general scores divided by √hidden_size (Vaswani et al.)
    dropout: float = 0.3  # on embeddings, between layers and before the output layer
    dropout_kind: str = "standard"  # one of DROPOUT_KINDS: the masks of the embedding and output dropouts
    word_dropout: float = 0.0  # drop whole words of both vocabularies, one mask per batch (Gal & Ghahramani 2016, §4.2)
    weight_drop: float = 0.0  # DropConnect on every recurrent W_hh, one mask per batch (Merity et al. 2018, §2)
    tie_embeddings: bool = False  # the output layer reuses the target embedding (needs output size = embedding)
    padding_id: int = 0  # the padding token of both vocabularies: never attended to, never predicted

    def __post_init__(self) -> None:
        if self.attention not in ATTENTIONS:
            raise SeqlabError(f"attention must be one of {sorted(ATTENTIONS)}, got {self.attention!r}")
        if self.cell not in CELLS:
            raise SeqlabError(f"cell must be one of {list(CELLS)}, got {self.cell!r}")
        for name in ("source_vocab_size", "target_vocab_size", "embedding_size", "hidden_size"):
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("encoder_layers", "decoder_layers", "attention_size"):
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("dropout", "word_dropout", "weight_drop"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise SeqlabError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if self.dropout_kind not in DROPOUT_KINDS:
            raise SeqlabError(f"dropout_kind must be one of {list(DROPOUT_KINDS)}, got {self.dropout_kind!r}")
        if self.scaled_scores and self.attention not in ("luong-dot", "luong-general"):
            raise SeqlabError(f"scaled_scores is for luong-dot and luong-general, not {self.attention!r}")
        if self.attention == "luong-dot" and self.encoder_size != self.hidden_size:
            raise SeqlabError(
                "luong-dot needs encoder states as wide as the decoder's: with a bidirectional encoder use "
                "luong-general or luong-concat"
            )

    @property
    def encoder_size(self) -> int:
        """The width of each encoder state the decoder reads: both directions concatenated."""
        return self.hidden_size * (2 if self.bidirectional else 1)
