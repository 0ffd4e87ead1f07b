"""The saved shape of a sentence classifier: the ``model`` section of a classification run's ``config.json``.

Torch-free, so that the command line can list every setting as a flag without importing torch.
The model is :class:`seqlab.models.sentence_classifier.SentenceClassifier`.
"""

from __future__ import annotations

from dataclasses import dataclass

from seqlab.errors import SeqlabError

# encoder -> (paper, how a sentence becomes one vector)
ENCODERS = {
    "average": "Socher et al. 2013 VecAvg, Iyyer et al. 2015 NBOW: the mean of the word vectors, no recurrence",
    "rnn": "Elman 1990: a tanh recurrent network read over the words",
    "gru": "Cho et al. 2014: a gated recurrent unit read over the words",
    "lstm": "Hochreiter & Schmidhuber 1997; the LSTM and Bi-LSTM baselines of Tai et al. 2015",
}

# pooling -> how the recurrent encoder's states become one vector
POOLINGS = {
    "last": "h_n: the forward state after the last real token (and the backward state after the first)",
    "mean": "the mean over the real positions of the top layer's states",
    "max": "the elementwise maximum over the real positions of the top layer's states",
}


@dataclass
class ClassifierConfig:
    """The shape and regularisation of a :class:`SentenceClassifier`; saved in ``config.json``.

    The defaults are the LSTM baseline of Tai et al. 2015 on the Stanford Sentiment Treebank: 300-d
    (GloVe) word vectors fine-tuned, 168 LSTM units, the final state classified, dropout 0.5.
    With ``encoder="average"`` the recurrent settings (``bidirectional``, ``num_layers``,
    ``hidden_size``, ``pooling``) have no use; those whose non-default value would ask for a
    different model are rejected.
    """

    vocab_size: int  # token ids, specials included: len(vocab)
    num_classes: int  # labels: 5 for fine-grained SST (the stars), 2 for binary
    encoder: str = "lstm"  # one of ENCODERS
    bidirectional: bool = False  # read the sentence both ways; the pooled vector holds both directions
    num_layers: int = 1  # stacked recurrent layers; the pooling reads the top one
    embedding_size: int = 300  # the word vectors' size: 300 for GloVe 840B and word2vec GoogleNews
    hidden_size: int = 168  # units of each direction (Tai et al. 2015, Table 1: 168 for the LSTM, 150 for the Bi-LSTM)
    pooling: str = "last"  # one of POOLINGS, for the recurrent encoders ("average" is always the mean; refuses "max")
    dropout: float = 0.5  # on the embeddings and on the pooled vector (Tai et al. 2015: 0.5)
    freeze_embeddings: bool = False  # keep the word vectors fixed (Tai et al. 2015 tune them for sentiment)
    padding_id: int = 0  # the padding token: never read by the encoder, its embedding row never trained

    def __post_init__(self) -> None:
        if self.encoder not in ENCODERS:
            raise SeqlabError(f"encoder must be one of {list(ENCODERS)}, got {self.encoder!r}")
        if self.pooling not in POOLINGS:
            raise SeqlabError(f"pooling must be one of {list(POOLINGS)}, got {self.pooling!r}")
        for name in ("vocab_size", "embedding_size", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.num_classes < 2:
            raise SeqlabError(f"num_classes must be at least 2, got {self.num_classes}")
        if not 0.0 <= self.dropout < 1.0:
            raise SeqlabError(f"dropout must be in [0, 1), got {self.dropout}")
        if not 0 <= self.padding_id < self.vocab_size:
            raise SeqlabError(f"padding_id must be a token id in [0, {self.vocab_size}), got {self.padding_id}")
        if self.encoder == "average":
            self._check_average()

    def _check_average(self) -> None:
        """Reject recurrent settings that would silently do nothing on the averaged vectors."""
        if self.bidirectional:
            raise SeqlabError("bidirectional=True needs a recurrent encoder; encoder 'average' reads no order")
        if self.num_layers != 1:
            raise SeqlabError(
                f"num_layers must be 1 with encoder 'average' (no layers to stack), got {self.num_layers}"
            )
        if self.pooling == "max":
            raise SeqlabError("pooling 'max' needs a recurrent encoder; encoder 'average' is always the mean")

    @property
    def sentence_size(self) -> int:
        """The width of the pooled sentence vector the output layer reads."""
        if self.encoder == "average":
            return self.embedding_size
        return self.hidden_size * (2 if self.bidirectional else 1)
