"""Named configurations of speech runs: ``seqlab speech train --preset NAME``.

Both read 13 MFCCs (of 40 mel bands, 25 ms windows every 10 ms) normalised per utterance, with
speed perturbation (Ko et al. 2015) and SpecAugment's time masks on training utterances (Park et
al. 2019: two masks of up to 10 frames; no frequency masks over cepstral coefficients; MFCCs
recognised the left-out speaker better than log-mel bands, BENCHMARKS.md), through two
convolutions (the first strides by 2) and three bidirectional GRU layers of 192 units, read out by
CTC (Graves et al. 2006) over the blank and the ten digits. ``digits-isolated`` trains on the
single recordings, ``digits-connected`` on utterances of 2-7 digits made from them; one speaker of
the five is left out of training and scored apart (``valid-speaker``).
"""

from __future__ import annotations

from seqlab.tasks.speech.config import DataConfig
from seqlab.tasks.task_preset import TaskPreset
from seqlab.training.config import TrainConfig

DEFAULT_PRESET = "digits-isolated"
_MODEL = {"conv_channels": 128, "conv_layers": 2, "subsample": 2, "cell": "gru", "hidden_size": 192,
          "num_layers": 3, "dropout": 0.2}  # fmt: skip
_ANCHORS = "an MFCC CNN 97% (adhishthite/sound-mnist); Kaldi's HMM-GMM 100% on the official split"


def _training(*, epochs: int, warmup_steps: int, max_minutes: float) -> TrainConfig:
    """AdamW 2e-3 with decoupled weight decay 1e-2 and a cosine schedule, clipped at 5, evaluated per epoch."""
    return TrainConfig(
        optimizer="adamw",
        lr=2e-3,
        weight_decay=1e-2,
        grad_clip=5.0,
        warmup_steps=warmup_steps,
        lr_schedule="cosine",
        epochs=epochs,
        eval_every=100_000,
        max_minutes=max_minutes,
    )


PRESETS = {
    "digits-isolated": TaskPreset(
        description="FSDD: one spoken digit per recording, a conv + BiGRU model with CTC",
        reference=f"isolated-digit accuracy: {_ANCHORS}; goal >= 99% on an unseen speaker",
        model=_MODEL,
        training=_training(epochs=30, warmup_steps=100, max_minutes=20.0),
        data=DataConfig(utterances="isolated", features="mfcc", freq_masks=0),
    ),
    "digits-connected": TaskPreset(
        description="FSDD: 2-7 digits per utterance with gaps, gains and noise, a conv + BiGRU model with CTC",
        reference="connected digits: goal WER <= 2% on unseen recordings and on the left-out speaker",
        model=_MODEL,
        training=_training(epochs=7, warmup_steps=200, max_minutes=45.0),
        data=DataConfig(utterances="connected", train_utterances=6_000, features="mfcc", freq_masks=0),
    ),
}
