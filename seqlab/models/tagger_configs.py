"""The saved shape of a sequence tagger: the ``model`` section of a tagging run's ``config.json``.

Torch-free, so that the command line can list every setting as a flag without importing torch.
The model is :class:`seqlab.models.sequence_tagger.SequenceTagger`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from seqlab.errors import SeqlabError

CELLS = ("lstm", "gru")
# character features -> (paper, what they are)
CHARACTER_FEATURES = {
    "none": "words only",
    "lstm": "Lample et al. 2016, §4.1: the final states of a BiLSTM over the word's characters",
    "cnn": "Ma & Hovy 2016, §2.1: a convolution over the characters, max-pooled",
}
OUTPUTS = {
    "crf": "Lample et al. 2016, §2.2: a linear-chain CRF over the tags, Viterbi decoding",
    "softmax": "an independent softmax per word (the baseline)",
}
DROPOUTS = {
    "standard": "Lample et al. 2016, §4: a fresh mask at every word",
    "locked": "Gal & Ghahramani 2016, §4 (variational): one mask per sentence, the same at every word",
}
SCHEMES = ("IOB1", "BIO", "BIOES")  # seqlab.data.tag_schemes.SCHEMES, without importing it


@dataclass
class TaggerConfig:
    """The shape and regularisation of a :class:`~seqlab.models.sequence_tagger.SequenceTagger`."""

    vocab_size: int  # word ids, specials included
    tags: list[str] = field(default_factory=list)  # the tag of each output id, e.g. ["O", "B-PER", ...]
    scheme: str | None = "BIOES"  # the tags' scheme; the CRF can then never decode a move it forbids (None: any)
    char_vocab_size: int = 0  # character ids, specials included (0 with character_features "none")
    cell: str = "lstm"  # the word-level recurrent cell, "lstm" or "gru"
    embedding_size: int = 100  # word embeddings (Lample et al.: 100)
    freeze_embeddings: bool = False  # keep the word embeddings fixed (transferred vectors, or a random baseline)
    hidden_size: int = 100  # units of each direction of the word-level BiLSTM (Lample et al.: 100)
    num_layers: int = 1  # stacked word-level layers
    character_features: str = "lstm"  # one of CHARACTER_FEATURES
    char_embedding_size: int = 25  # character embeddings (Lample et al.: 25; Ma & Hovy: 30)
    char_hidden_size: int = 25  # each direction of the character BiLSTM (25), or the CNN's filters (Ma & Hovy: 30)
    char_window: int = 3  # characters each CNN filter sees (Ma & Hovy: 3)
    casing: bool = False  # add an embedding of the word's casing class (seqlab.models.word_features.CASINGS)
    casing_size: int = 8  # the casing embedding's size
    output: str = "crf"  # one of OUTPUTS
    dropout: float = 0.5  # on the word representation and on the BiLSTM's output (Lample et al.: 0.5)
    dropout_kind: str = "standard"  # one of DROPOUTS: a mask per word, or one per sentence shared by its words
    word_dropout: float = 0.0  # drop whole vocabulary words from a batch (Gal & Ghahramani 2016, §4.2)
    padding_id: int = 0  # the padding word id
    char_padding_id: int = 0  # the padding character id

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise SeqlabError(f"cell must be one of {list(CELLS)}, got {self.cell!r}")
        if self.character_features not in CHARACTER_FEATURES:
            raise SeqlabError(f"character_features must be one of {list(CHARACTER_FEATURES)}, got "
                              f"{self.character_features!r}")  # fmt: skip
        if self.output not in OUTPUTS:
            raise SeqlabError(f"output must be one of {list(OUTPUTS)}, got {self.output!r}")
        if self.scheme is not None and self.scheme not in SCHEMES:
            raise SeqlabError(f"scheme must be one of {list(SCHEMES)} or None, got {self.scheme!r}")
        if len(self.tags) < 1 or len(set(self.tags)) != len(self.tags):
            raise SeqlabError(f"tags must be at least one distinct tag, got {self.tags!r}")
        for name in ("vocab_size", "embedding_size", "hidden_size", "num_layers", "char_embedding_size",
                     "char_hidden_size", "char_window", "casing_size"):  # fmt: skip
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.character_features != "none" and self.char_vocab_size < 1:
            raise SeqlabError(f"character_features {self.character_features!r} needs char_vocab_size >= 1")
        if self.dropout_kind not in DROPOUTS:
            raise SeqlabError(f"dropout_kind must be one of {list(DROPOUTS)}, got {self.dropout_kind!r}")
        for name in ("dropout", "word_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise SeqlabError(f"{name} must be in [0, 1), got {getattr(self, name)}")

    @property
    def num_tags(self) -> int:
        return len(self.tags)
