"""Named configurations of translation runs: ``seqlab translate train --preset NAME``.

``dates`` is the embedded demo (no download, a few minutes on a CPU). The Multi30k presets follow
the sizes of the papers' models scaled to a 29,000-pair corpus as the common PyTorch reproductions
do (bentrevett/pytorch-seq2seq: embeddings 256, 512 hidden units, dropout 0.5), so that their
BLEU can be compared with those anchors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seqlab.errors import SeqlabError
from seqlab.tasks.translate.config import DataConfig, ObjectiveConfig
from seqlab.training.config import TrainConfig


@dataclass(frozen=True)
class Preset:
    """A complete run configuration; the vocabulary sizes come from the data."""

    description: str
    reference: str  # the published model or result this preset stands for
    model: dict[str, Any] = field(
        default_factory=dict
    )  # "architecture" ("rnn" or "transformer") and its config's fields
    training: TrainConfig = field(default_factory=TrainConfig)
    data: DataConfig = field(default_factory=DataConfig)
    objective: ObjectiveConfig = field(default_factory=ObjectiveConfig)


def _multi30k(attention: str, **model: Any) -> dict[str, Any]:
    """Word-level Multi30k De→En (tokenised, lower-cased), Adam 1e-3, 10 epochs, batch 128."""
    return {
        "model": {
            "attention": attention,
            "cell": "gru",
            "embedding_size": 256,
            "hidden_size": 512,
            "attention_size": 512,
            "dropout": 0.5,
            **model,
        },  # fmt: skip
        "training": TrainConfig(
            optimizer="adamw", lr=1e-3, grad_clip=1.0, warmup_steps=0, epochs=10, eval_every=100_000
        ),  # fmt: skip
        "data": DataConfig(corpus="multi30k", units="word", min_count=2, batch_size=128),
        "objective": ObjectiveConfig(label_smoothing=0.1, beam_size=1),
    }


PRESETS: dict[str, Preset] = {
    "dates": Preset(
        description="human-readable dates to ISO 8601, characters, a bidirectional GRU with additive attention",
        reference="the attention exercise of Ng's sequence-models course; >= 99% exact match on held-out dates",
        model={
            "attention": "bahdanau",
            "cell": "gru",
            "embedding_size": 32,
            "hidden_size": 64,
            "attention_size": 64,
            "dropout": 0.0,
        },  # fmt: skip
        training=TrainConfig(
            optimizer="adamw", lr=3e-3, grad_clip=1.0, warmup_steps=20, epochs=6, eval_every=100_000, max_minutes=10.0
        ),  # fmt: skip
        data=DataConfig(corpus=None, units="char", batch_size=64),
        objective=ObjectiveConfig(label_smoothing=0.0, beam_size=1, max_length_ratio=0.0, max_length_extra=12),
    ),
    "cho-multi30k": Preset(
        description="Multi30k De→En, GRU encoder-decoder without attention: the source in one context vector",
        reference="Cho et al. 2014; bentrevett/pytorch-seq2seq's GRU without attention: 20.6 BLEU (test)",
        **_multi30k("none", bidirectional=False),
    ),
    "bahdanau-multi30k": Preset(
        description="Multi30k De→En, bidirectional GRU encoder, additive attention",
        reference="Bahdanau et al. 2015; bentrevett/pytorch-seq2seq's attention model: 28.3 BLEU (test)",
        **_multi30k("bahdanau"),
    ),
    "luong-multi30k": Preset(
        description="Multi30k De→En, bidirectional GRU encoder, Luong's general score (scaled by 1/√H) with input "
        "feeding",
        reference="Luong et al. 2015 (global attention, general score, input feeding); the score divided by √H as "
        "Vaswani et al. 2017 scale theirs: unscaled, its attention saturated to one-hot weights on Multi30k "
        "(BENCHMARKS.md); --no-scaled-scores gives the paper's score",
        **_multi30k("luong-general", scaled_scores=True),
    ),
    "transformer-multi30k": Preset(
        description="Multi30k De→En, Transformer (3+3 pre-norm layers, d_model 256, 8 heads), the self-attention "
        "baseline",
        reference="Vaswani et al. 2017; bentrevett/pytorch-seq2seq's Transformer: 36.5 BLEU (test)",
        model={
            "architecture": "transformer",
            "d_model": 256,
            "nhead": 8,
            "num_encoder_layers": 3,
            "num_decoder_layers": 3,
            "dim_feedforward": 512,
            "dropout": 0.1,
        },  # fmt: skip
        training=TrainConfig(
            optimizer="adamw", lr=5e-4, grad_clip=1.0, warmup_steps=200, epochs=10, eval_every=100_000
        ),  # fmt: skip
        data=DataConfig(corpus="multi30k", units="word", min_count=2, batch_size=128),
        objective=ObjectiveConfig(label_smoothing=0.1, beam_size=1),
    ),
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise SeqlabError(f"unknown preset {name!r}; choose from {', '.join(sorted(PRESETS))}") from None
