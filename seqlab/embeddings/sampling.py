"""The two word distributions of word2vec: which words to keep (subsampling) and which to draw as noise.

Subsampling (Mikolov et al. 2013b) drops occurrences of frequent words at random, so that "the"
stops dominating the training pairs. Negative sampling draws noise words from the unigram
distribution raised to the power 3/4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seqlab.errors import SeqlabError


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """(V,) float32, the probability that each occurrence of a word is kept in training.

    With ``t = sample * total`` (a count threshold), a word seen ``c`` times is kept with
    probability ``min(1, (sqrt(c / t) + 1) * t / c)``: the formula of word2vec.c and gensim (the
    paper's ``1 - sqrt(t / f)`` drop rule, adjusted so rare words are never dropped).
    ``sample = 0`` keeps every word.
    """
    if sample < 0:
        raise SeqlabError(f"sample must be >= 0, got {sample}")
    counts = np.asarray(counts, dtype=np.float64)
    if sample == 0:
        return np.ones(len(counts), np.float32)
    threshold = sample * counts.sum()
    return np.minimum(1.0, (np.sqrt(counts / threshold) + 1.0) * threshold / counts).astype(np.float32)


def noise_distribution(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """(V,) float64, the noise probabilities ``c^power / sum(c^power)`` of negative sampling."""
    weights = np.asarray(counts, dtype=np.float64) ** power
    return weights / weights.sum()


@dataclass(frozen=True)
class AliasTable:
    """Walker's alias method: draw from a discrete distribution in O(1) with one uniform number.

    Draw ``u`` uniform in [0, V); with ``k = floor(u)``, return ``k`` if ``u - k < keep[k]``,
    else ``alias[k]``.

    Attributes:
        keep: (V,) float32, the probability of keeping column ``k`` itself.
        alias: (V,) int32, the word that fills the rest of column ``k``.
    """

    keep: np.ndarray
    alias: np.ndarray

    def probabilities(self) -> np.ndarray:
        """(V,) float64, the distribution this table draws from (for checking it)."""
        size = len(self.keep)
        keep = self.keep.astype(np.float64)
        return (keep + np.bincount(self.alias, weights=1.0 - keep, minlength=size)) / size


def build_alias_table(probabilities: np.ndarray) -> AliasTable:
    """The alias table of a distribution (Vose's stable construction)."""
    size = len(probabilities)
    scaled = np.asarray(probabilities, dtype=np.float64) * size
    keep = np.ones(size, np.float64)
    alias = np.arange(size, dtype=np.int32)
    small = [i for i in range(size) if scaled[i] < 1.0]
    large = [i for i in range(size) if scaled[i] >= 1.0]
    while small and large:
        light, heavy = small.pop(), large.pop()
        keep[light] = scaled[light]
        alias[light] = heavy
        scaled[heavy] -= 1.0 - scaled[light]
        (small if scaled[heavy] < 1.0 else large).append(heavy)
    return AliasTable(keep.astype(np.float32), alias)
