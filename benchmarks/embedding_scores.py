"""Scores of word vectors by gensim's own evaluators, so ours and gensim's are judged alike.

Analogy accuracy on the Google questions (questions-words.txt, the 30,000 most frequent words)
and Spearman correlation on WordSim-353 and SimLex-999, read from ``embedding-eval/`` in the
shared data folder (``$SEQLAB_DATA``, default ``../shared/data`` beside the repository).
"""

from __future__ import annotations

import os
from pathlib import Path

import gensim
import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]


def data_folder() -> Path:
    return Path(os.environ.get("SEQLAB_DATA", REPOSITORY.parent / "shared" / "data"))


def as_gensim(words: list[str], vectors: np.ndarray) -> gensim.models.KeyedVectors:
    kv = gensim.models.KeyedVectors(vectors.shape[1])
    kv.add_vectors(list(words), vectors)
    return kv


def gensim_scores(kv: gensim.models.KeyedVectors) -> dict[str, float]:
    """Analogy accuracy (in %) and Spearman correlations, by gensim's evaluators."""
    evaluation = data_folder() / "embedding-eval"
    analogy, _ = kv.evaluate_word_analogies(str(evaluation / "questions-words.txt"), restrict_vocab=30000)
    scores = {"analogy_accuracy": 100 * float(analogy)}
    for name, file in (("wordsim353", "wordsim353.tsv"), ("simlex999", "simlex999.txt")):
        _, spearman, oov_percent = kv.evaluate_word_pairs(str(evaluation / file))
        scores[f"{name}_spearman"] = float(spearman.statistic)
        scores[f"{name}_oov_percent"] = float(oov_percent)
    return scores
