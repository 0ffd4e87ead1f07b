"""The settings of word2vec and GloVe training, and the names their options take.

Standard library only (no numpy, no numba), so that ``seqlab embed --help`` lists every
setting and its default without compiling anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from seqlab.errors import SeqlabError

ARCHITECTURES = ("skipgram", "cbow")  # word2vec's two models
LOSSES = ("negative", "hierarchical", "softmax")  # word2vec's output layers
VECTOR_FORMATS = ("word2vec-text", "word2vec-binary", "glove")  # the vector files seqlab reads and writes


@dataclass
class Word2VecConfig:
    """How to train word2vec. Defaults follow word2vec.c and gensim."""

    architecture: str = "skipgram"  # "skipgram" (predict the centre from each context word) or "cbow"
    loss: str = "negative"  # "negative" sampling, "hierarchical" softmax, or the full "softmax" (small V only)
    dim: int = 100  # vector dimensions
    window: int = 5  # largest distance between a centre and a context word; each centre draws 1..window
    negative: int = 5  # noise words per prediction (negative sampling)
    noise_power: float = 0.75  # the noise distribution is unigram^noise_power
    min_count: int = 5  # words seen fewer times are dropped from the vocabulary and the text
    max_vocab_size: int | None = None  # keep at most this many of the most frequent words
    sample: float = 1e-3  # subsampling threshold for frequent words; 0 keeps every word
    alpha: float | None = None  # initial learning rate; None: 0.025 for skip-gram, 0.05 for CBOW
    min_alpha: float = 1e-4  # the learning rate decays linearly to this over all epochs
    epochs: int = 5  # passes over the text
    threads: int = 2  # worker threads; results are bit-for-bit reproducible with 1
    seed: int = 1  # seeds the initial vectors, subsampling, windows and noise draws

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise SeqlabError(f"architecture must be one of {sorted(ARCHITECTURES)}, got {self.architecture!r}")
        if self.loss not in LOSSES:
            raise SeqlabError(f"loss must be one of {sorted(LOSSES)}, got {self.loss!r}")
        for name in ("dim", "window", "min_count", "epochs", "threads"):
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.loss == "negative" and self.negative < 1:
            raise SeqlabError(f"negative sampling needs negative >= 1, got {self.negative}")
        if self.sample < 0:
            raise SeqlabError(f"sample must be >= 0, got {self.sample}")
        if self.alpha is not None and self.alpha <= 0:
            raise SeqlabError(f"alpha must be positive, got {self.alpha}")
        if not 0 <= self.min_alpha <= self.initial_alpha:
            raise SeqlabError(f"min_alpha must be in [0, alpha={self.initial_alpha}], got {self.min_alpha}")

    @property
    def initial_alpha(self) -> float:
        """The learning rate at the first word."""
        if self.alpha is not None:
            return self.alpha
        return 0.025 if self.architecture == "skipgram" else 0.05


@dataclass
class GloVeConfig:
    """How to count and train GloVe; the defaults are the paper's and the Stanford tool's unless noted."""

    dim: int = 100  # D, vector size; the paper's best analogy results use 300
    window: int = 10  # words counted on each side, weighted 1/distance; the Stanford demo uses 15
    x_max: float = 100.0  # f(X) reaches 1 at X = x_max (paper: 100)
    alpha: float = 0.75  # f(X) = (X / x_max)^alpha below x_max (paper: 3/4)
    learning_rate: float = 0.05  # AdaGrad's η (glove.c's eta); like glove.c, the biases' steps do not use it
    grad_clip: float = 100.0  # vector gradient components are clipped to ±grad_clip (glove.c's grad_clip_value)
    epochs: int = 25  # glove.c's default; the paper uses 50 for dim < 300 and 100 otherwise, the Stanford demo 15
    threads: int = 2  # Python threads training at once (Hogwild); only 1 is reproducible (glove.c: 8)
    seed: int = 1  # initial values and visiting order (glove.c seeds from the clock unless given one)
    min_count: int = 5  # rarer words are removed before counting (the Stanford demo's VOCAB_MIN_COUNT)
    memory_limit_mb: float = 1024.0  # for co-occurrence counting; beyond it sorted runs go to disk
    dtype: str = "float32"  # the parameters' precision: "float32" (half the memory traffic) or "float64" (glove.c's)

    def __post_init__(self) -> None:
        positive = {"dim": self.dim, "window": self.window, "epochs": self.epochs, "threads": self.threads}
        positive |= {"min_count": self.min_count, "x_max": self.x_max, "memory_limit_mb": self.memory_limit_mb}
        for name, value in positive.items():
            if not value > 0:
                raise SeqlabError(f"GloVe {name} must be positive, got {value}")
        for name, value in {"alpha": self.alpha, "learning_rate": self.learning_rate}.items():
            if not (math.isfinite(value) and value >= 0):
                raise SeqlabError(f"GloVe {name} must be a finite number >= 0, got {value}")
        if self.dtype not in ("float32", "float64"):
            raise SeqlabError(f"GloVe dtype must be 'float32' or 'float64', got {self.dtype!r}")
        if not self.grad_clip > 0:
            raise SeqlabError(f"GloVe grad_clip must be positive (inf: no clipping), got {self.grad_clip}")
