"""Named configurations of classification runs: ``seqlab classify train --preset NAME``.

The models are the sentence-level baselines on the Sentiment Treebank: the mean of the word
vectors (the NBoW of Kalchbrenner et al. 2014), and Tai et al. 2015's (Table 2) LSTM (168 units)
and bidirectional LSTM (150 units per direction), with 300-dimensional word vectors, dropout 0.5
and batches of 25; and a two-layer bidirectional LSTM with max pooling (Conneau et al. 2017's
sentence encoder) besides. Tai et al.
train with AdaGrad (0.05); on a 2-core CPU these presets take AdamW (1e-3), and stop after 60
minutes. ``--labels binary`` gives SST-2; ``--phrases`` trains on every labelled phrase.
"""

from __future__ import annotations

from seqlab.tasks.classify.config import DataConfig
from seqlab.tasks.task_preset import TaskPreset
from seqlab.training.config import TrainConfig

DEFAULT_PRESET = "bilstm-sst"
_TRAINING = TrainConfig(optimizer="adamw", lr=1e-3, weight_decay=1e-4, grad_clip=5.0, warmup_steps=0, epochs=10,
                        eval_every=100_000, max_minutes=60.0)  # fmt: skip
_SST = DataConfig(corpus="sst")
_TAI = "Tai et al. 2015, Table 2 (test, 840B GloVe vectors, fine-grained / binary): "

PRESETS = {
    "average-sst": TaskPreset(
        description="SST: the mean of the word vectors, then a softmax",
        reference="Kalchbrenner et al. 2014, Table 1 (test, fine-grained / binary): the neural bag of words NBoW "
        "42.4 / 80.5",
        model={"encoder": "average", "embedding_size": 300, "dropout": 0.5},
        training=_TRAINING,
        data=_SST,
    ),
    "lstm-sst": TaskPreset(
        description="SST: an LSTM over the words, its last state classified",
        reference=_TAI + "LSTM 46.4 / 84.9",
        model={"encoder": "lstm", "hidden_size": 168, "embedding_size": 300, "pooling": "last", "dropout": 0.5},
        training=_TRAINING,
        data=_SST,
    ),
    "bilstm-sst": TaskPreset(
        description="SST: a bidirectional LSTM, both directions' last states classified",
        reference=_TAI + "Bidirectional LSTM 49.1 / 87.5; goal: at or above the LSTM with seqlab's own vectors",
        model={
            "encoder": "lstm",
            "bidirectional": True,
            "hidden_size": 150,
            "embedding_size": 300,
            "pooling": "last",
            "dropout": 0.5,
        },  # fmt: skip
        training=_TRAINING,
        data=_SST,
    ),
    "bilstm-max-sst": TaskPreset(
        description="SST: two bidirectional LSTM layers, the elementwise maximum over words classified",
        reference="Conneau et al. 2017's BiLSTM-max encoder; Tai et al. 2015's constituency Tree-LSTM reaches "
        "51.0 / 88.0",
        model={
            "encoder": "lstm",
            "bidirectional": True,
            "num_layers": 2,
            "hidden_size": 150,
            "embedding_size": 300,
            "pooling": "max",
            "dropout": 0.5,
        },  # fmt: skip
        training=_TRAINING,
        data=_SST,
    ),
}
