"""Named configurations that reproduce the papers' language models: ``--preset NAME``.

Each preset is the model, training and data settings of one published model; the flags of
``seqlab lm train`` override any of them. The papers' numbers are in ``reference``;
``BENCHMARKS.md`` has what seqlab measured with each.

Zaremba et al. (2014) minimise the cross-entropy summed over the window's time steps (and
averaged over the batch), with SGD at learning rate 1 and the gradient norm clipped at
``c``. seqlab minimises the mean over time steps too, so the gradient is ``bptt`` times
smaller; learning rate ``bptt`` and clipping at ``c / bptt`` give exactly the same updates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from seqlab.errors import SeqlabError
from seqlab.tasks.lm.config import DataConfig
from seqlab.training.config import TrainConfig


@dataclass(frozen=True)
class Preset:
    """A complete run configuration; the model's ``vocab_size`` comes from the data."""

    description: str
    reference: str  # the published result this preset reproduces
    architecture: str = "rnn"  # a key of seqlab.models.configs.MODEL_CONFIGS
    model: dict[str, Any] = field(default_factory=dict)  # fields of that architecture's config
    training: TrainConfig = field(default_factory=TrainConfig)
    data: DataConfig = field(default_factory=DataConfig)


def _zaremba(hidden: int, dropout: float, init: float, epochs: int, decay: float, decay_start: int, clip: float):
    """Zaremba et al. 2014, section 4.1: two LSTM layers on PTB words, 35 steps unless small.

    ``decay_start`` epochs at the full learning rate, then the rate is divided by ``1 / decay``
    after each epoch: small halves it after epoch 4, medium divides it by 1.2 after epoch 6,
    large by 1.15 after epoch 14.
    """
    bptt = 20 if hidden == 200 else 35
    return {
        "model": {
            "embedding_size": hidden,
            "hidden_size": hidden,
            "num_layers": 2,
            "dropout_input": dropout,
            "dropout_between": dropout,
            "dropout": dropout,
            "init_range": init,
            "forget_bias": None,
        },
        "training": TrainConfig(
            optimizer="sgd",
            lr=1.0 * bptt,
            grad_clip=clip / bptt,
            warmup_steps=0,
            lr_schedule="step",
            lr_decay=decay,
            lr_decay_start=decay_start,
            epochs=epochs,
            max_minutes=None,
            eval_every=1_000_000,
            seed=1,
        ),
        "data": DataConfig(level="word", batch_size=20, bptt=bptt, eval_batch_size=20),
    }


def _awd(batch_size: int, dropout_input: float, dropout_between: float, epochs: int, seed: int):
    """Merity et al. 2017, AWD-LSTM: three weight-dropped LSTM layers, tied, NT-ASGD."""
    return {
        "model": {
            "embedding_size": 400,
            "hidden_size": 1150,
            "num_layers": 3,
            "tie_weights": True,
            "locked_dropout": True,
            "dropout": 0.4,
            "dropout_input": dropout_input,
            "dropout_between": dropout_between,
            "dropout_embedding": 0.1,
            "weight_drop": 0.5,
            "activation_penalty": 2.0,
            "temporal_penalty": 1.0,
            "forget_bias": None,
        },
        "training": TrainConfig(
            optimizer="nt-asgd",
            lr=30.0,
            grad_clip=0.25,
            weight_decay=1.2e-6,
            warmup_steps=0,
            nonmono=5,
            epochs=epochs,
            max_minutes=None,
            eval_every=1_000_000,
            seed=seed,
        ),
        "data": DataConfig(level="word", batch_size=batch_size, bptt=70, variable_bptt=True, eval_batch_size=10),
    }


PRESETS: dict[str, Preset] = {
    "demo": Preset(
        description="character LSTM, 3 minutes on the Python standard library (the defaults)",
        reference="none: a demonstration; about 2.0 bits per character in 3 CPU minutes",
        training=TrainConfig(max_minutes=3.0),
    ),
    "zaremba-small": Preset(
        description="Zaremba et al. 2014, small: 2x200 LSTM, no dropout, 13 epochs",
        reference="PTB validation perplexity 120.7, test 114.5",
        **_zaremba(hidden=200, dropout=0.0, init=0.1, epochs=13, decay=0.5, decay_start=4, clip=5.0),
    ),
    "zaremba-medium": Preset(
        description="Zaremba et al. 2014, medium: 2x650 LSTM, dropout 0.5, 39 epochs",
        reference="PTB validation perplexity 86.2, test 82.7",
        **_zaremba(hidden=650, dropout=0.5, init=0.05, epochs=39, decay=1 / 1.2, decay_start=6, clip=5.0),
    ),
    "zaremba-large": Preset(
        description="Zaremba et al. 2014, large: 2x1500 LSTM, dropout 0.65, 55 epochs",
        reference="PTB validation perplexity 82.2, test 78.4",
        **_zaremba(hidden=1500, dropout=0.65, init=0.04, epochs=55, decay=1 / 1.15, decay_start=14, clip=10.0),
    ),
    "awd-lstm-ptb": Preset(
        description="Merity et al. 2017, AWD-LSTM on PTB: 400/1150/1150/400, all regularisers, 500 epochs",
        reference="PTB validation perplexity 60.7, test 58.8 (60.0 / 57.3 after fine-tuning)",
        **_awd(batch_size=20, dropout_input=0.4, dropout_between=0.25, epochs=500, seed=141),
    ),
    "awd-lstm-wt2": Preset(
        description="Merity et al. 2017, AWD-LSTM on WikiText-2: as for PTB with batch 80, 750 epochs",
        reference="WikiText-2 validation perplexity 69.1, test 66.0 (68.6 / 65.8 after fine-tuning)",
        **_awd(batch_size=80, dropout_input=0.65, dropout_between=0.2, epochs=750, seed=1882),
    ),
    "char-shakespeare": Preset(
        description="character LSTM on tiny-shakespeare: 2x512, dropout 0.2, 10 minutes",
        reference="none published for this shape; nanoGPT's small character transformer reaches 1.47 nats",
        model={"embedding_size": 64, "hidden_size": 512, "num_layers": 2, "dropout": 0.2, "dropout_between": 0.2},
        training=TrainConfig(lr=2e-3, max_minutes=10.0, epochs=1000, eval_every=250),
        data=DataConfig(level="char", valid_fraction=0.1, batch_size=32, bptt=128),
    ),
    "bengio-ptb": Preset(
        description="Bengio et al. 2003 fixed-window model on PTB words: 5 words of context, direct connections",
        reference="Mikolov et al. 2011 report 140.2 test perplexity for a feed-forward model on PTB",
        architecture="fixed-window",
        model={"context_size": 5, "embedding_size": 100, "hidden_size": 400, "dropout": 0.3},
        training=TrainConfig(
            lr=1e-3,
            grad_clip=1.0,
            lr_schedule="cosine",
            epochs=10,
            max_minutes=None,
            eval_every=1_000_000,
            warmup_steps=100,
        ),
        data=DataConfig(level="word", batch_size=64, bptt=64, eval_batch_size=10),
    ),
}


def get_preset(name: str) -> Preset:
    """The preset called ``name``.

    Raises:
        SeqlabError: no preset has that name; the message lists them.
    """
    try:
        return PRESETS[name]
    except KeyError:
        raise SeqlabError(f"unknown preset {name!r}; the presets are {', '.join(PRESETS)}") from None
