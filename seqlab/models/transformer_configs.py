"""The saved shape of a Transformer encoder–decoder: the ``model`` section of a translation run's ``config.json``.

Torch-free, so that the command line can list every setting as a flag without importing torch.
The model is :class:`seqlab.models.transformer_seq2seq.TransformerSeq2Seq`. Names follow
``torch.nn.Transformer`` (``d_model``, ``nhead``, ``num_encoder_layers``, ...). The defaults are
sized for Multi30k on a CPU, as bentrevett/pytorch-seq2seq's Transformer (d_model 256, 3 + 3
layers, 8 heads, feed-forward 512, dropout 0.1), which is a small "base" model of Vaswani et al.
2017 (Table 3: 512, 6 + 6, 8, 2048, 0.1).
"""

from __future__ import annotations

from dataclasses import dataclass

from seqlab.errors import SeqlabError


@dataclass
class TransformerConfig:
    """The shape and regularisation of a :class:`~seqlab.models.transformer_seq2seq.TransformerSeq2Seq`.

    Example:
        >>> TransformerConfig(source_vocab_size=100, target_vocab_size=90).head_dim
        32
    """

    source_vocab_size: int  # source token ids, specials included
    target_vocab_size: int  # target token ids, specials included
    d_model: int = 256  # width of every embedding, attention output and residual stream (bentrevett's)
    nhead: int = 8  # attention heads per sub-layer, each of width d_model / nhead = 32
    num_encoder_layers: int = 3  # half the base model's 6: Multi30k's 29k pairs overfit more layers
    num_decoder_layers: int = 3  # as the encoder
    dim_feedforward: int = 512  # inner width of each position-wise feed-forward network (§3.3)
    dropout: float = 0.1  # on embeddings + positions, attention weights, the FFN's inner layer, each residual branch
    norm_first: bool = True  # pre-norm (Xiong et al. 2020): stable without a long warm-up; False: the paper's post-norm
    tie_embeddings: bool = True  # the output layer reuses the target embedding matrix (Vaswani et al. §3.4)
    share_source_target_embeddings: bool = False  # one embedding for both sides: needs one joint vocabulary
    max_positions: int = 256  # longest source or target the sinusoid table covers; Multi30k's longest is < 100
    padding_id: int = 0  # the padding token of both vocabularies: never attended to, never predicted

    def __post_init__(self) -> None:
        for name in ("source_vocab_size", "target_vocab_size", "d_model", "nhead", "dim_feedforward"):
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("num_encoder_layers", "num_decoder_layers", "max_positions"):
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.d_model % self.nhead:
            raise SeqlabError(f"d_model ({self.d_model}) must be divisible by nhead ({self.nhead})")
        if not 0.0 <= self.dropout < 1.0:
            raise SeqlabError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.share_source_target_embeddings and self.source_vocab_size != self.target_vocab_size:
            raise SeqlabError(
                "share_source_target_embeddings needs one joint vocabulary: source_vocab_size "
                f"{self.source_vocab_size} and target_vocab_size {self.target_vocab_size} differ"
            )
        for name in ("source_vocab_size", "target_vocab_size"):
            if not 0 <= self.padding_id < getattr(self, name):
                raise SeqlabError(f"padding_id {self.padding_id} is outside {name} {getattr(self, name)}")

    @property
    def head_dim(self) -> int:
        """The width of each head's queries, keys and values: ``d_k = d_v = d_model / h`` (§3.2.2)."""
        return self.d_model // self.nhead
