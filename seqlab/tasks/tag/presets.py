"""Named configurations of tagging runs: ``seqlab tag train --preset NAME``.

The sizes are the papers' (Lample et al. 2016, §4: word embeddings 100, character embeddings 25
and a character BiLSTM of 25 per direction, a word BiLSTM of 100 per direction, dropout 0.5, the
BIOES scheme; Ma & Hovy 2016, Table 1: character CNN of 30 filters over 3 characters, word
BiLSTM 200). Both trained with SGD one sentence (or ten) at a time; on a 2-core CPU these presets
take Adam over batches of 32, which reaches the same place in far fewer minutes, and stop after 60.
Every preset reads a training word seen once as ``<unk>`` half the time (``singleton_unk=0.5``), as
Lample et al.'s released tagger does: that is how ``<unk>``, the reading of every held-out word
outside the vocabulary, gets trained.
"""

from __future__ import annotations

import dataclasses

from seqlab.tasks.tag.config import DataConfig
from seqlab.tasks.task_preset import TaskPreset
from seqlab.training.config import TrainConfig

DEFAULT_PRESET = "lample-conll2003"
_TRAINING = TrainConfig(optimizer="adamw", lr=1e-3, grad_clip=5.0, warmup_steps=0, epochs=30, eval_every=100_000,
                        max_minutes=60.0)  # fmt: skip
_LAMPLE = {"character_features": "lstm", "char_embedding_size": 25, "char_hidden_size": 25, "embedding_size": 100,
           "hidden_size": 100, "output": "crf", "dropout": 0.5}  # fmt: skip
_CONLL = DataConfig(corpus="conll2003", singleton_unk=0.5)

PRESETS = {
    "lample-conll2003": TaskPreset(
        description="CoNLL-2003 English NER: character BiLSTM + word BiLSTM + CRF, BIOES",
        reference="Lample et al. 2016: 90.94 test F1 with pretrained vectors, 83.63 with random vectors and no "
        "characters",
        model=_LAMPLE,
        training=_TRAINING,
        data=_CONLL,
    ),
    "ma-hovy-conll2003": TaskPreset(
        description="CoNLL-2003 English NER: character CNN + word BiLSTM + CRF, BIOES",
        reference="Ma & Hovy 2016: 91.21 test F1 with GloVe vectors",
        model={
            **_LAMPLE,
            "character_features": "cnn",
            "char_embedding_size": 30,
            "char_hidden_size": 30,
            "char_window": 3,
            "hidden_size": 200,
        },  # fmt: skip
        training=_TRAINING,
        data=_CONLL,
    ),
    "softmax-conll2003": TaskPreset(
        description="CoNLL-2003 English NER: character BiLSTM + word BiLSTM, a softmax per word (no CRF)",
        reference="Lample et al. 2016, Table 2's ablation: the CRF adds about 1.8 F1 over a softmax output",
        model={**_LAMPLE, "output": "softmax"},
        training=_TRAINING,
        data=_CONLL,
    ),
    "lample-wnut17": TaskPreset(
        description="WNUT-17 emerging entities (BIO files): character BiLSTM + word BiLSTM + CRF, BIOES",
        reference="the WNUT-17 shared task's BiLSTM-CRF systems: 41.9 entity F1 (test)",
        model=_LAMPLE,
        training=dataclasses.replace(_TRAINING, epochs=40),
        data=DataConfig(corpus="wnut17", singleton_unk=0.5),
    ),
}
