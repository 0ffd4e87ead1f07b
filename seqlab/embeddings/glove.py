"""GloVe (Pennington, Socher and Manning 2014): word vectors fitted to the logarithm of co-occurrence counts.

Every word i has a vector w_i and a bias b_i, and as a context word a second vector w̃_i and bias
b̃_i. They are fitted to the nonzero entries of the co-occurrence matrix X by weighted least squares
(the paper's eq. 8, with its weighting function, eq. 9):

    J = Σ_{X_ij > 0} f(X_ij) (w_i·w̃_j + b_i + b̃_j - log X_ij)²,    f(x) = min(1, (x / x_max)^α)

X is counted as the Stanford tool's ``cooccur`` counts it (:mod:`seqlab.embeddings.cooccurrence`
says where reading a text file differs from cooccur's), and training follows its ``glove.c``
(``glove_thread`` in ``src/glove.c`` of stanfordnlp/GloVe, the GitHub master):

- every parameter starts uniform in [-0.5, 0.5] / dim;
- AdaGrad with one accumulator per parameter, started at 1. Like glove.c, each component g of a
  vector's gradient is first clipped to ±``grad_clip`` (glove.c's ``grad_clip_value``, 100), the
  step is η times that, and the accumulator sums the squared *steps* rather than the squared
  gradients: for the vectors this is AdaGrad with rate 1 on the clipped gradient and an accumulator
  started at 1/η², whose first step is plain SGD with rate η. Also like glove.c, the biases step by
  ``g / √G`` and accumulate ``g²``: neither η nor the clip applies to them. The exact rule is in
  :func:`~seqlab.embeddings.glove_kernels.glove_train_entries`;
- each epoch visits every nonzero once, in a fresh random permutation of the M entries (an int32
  array, int64 beyond 2**31 entries: 4 or 8 bytes per entry on top of X's 16). The entries are
  copied out in that order a block at a time (``BLOCK_ENTRIES``), so the kernel reads them
  sequentially; each thread takes a slice of the block and updates the shared parameters without
  locks (Hogwild), so only a run with one thread is reproducible from the seed. glove.c instead
  reads a file that its ``shuffle`` tool shuffled once, in the same order every epoch, each thread
  a contiguous part of it;
- the parameters are float32 by default (as word2vec's; glove.c uses double): half the memory
  traffic, which is what the loop waits on. ``GloVeConfig(dtype="float64")`` gives glove.c's
  precision;
- the cost reported per epoch is glove.c's: the mean over the M entries of ½ f(X_ij)(…)², each
  term taken just before that entry's update, i.e. J / (2M) along the way. The per-entry loss is
  ½ f e², so the g above is its gradient.

What glove.c does and seqlab does not: it skips an entry whose error is inf or NaN and guards the
updates against them, where seqlab stops with an error when an epoch's cost is not finite; and its
text output adds an ``<unk>`` vector, the mean of the 100 rarest words' vectors.

The vectors kept are W + W̃, the paper's choice (section 4.2) and glove.c's default output.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqlab.embeddings.configs import GloVeConfig
from seqlab.embeddings.cooccurrence import Cooccurrences, count_cooccurrences, peak_memory_bytes
from seqlab.embeddings.corpus import read_sentences
from seqlab.embeddings.glove_kernels import glove_train_entries
from seqlab.embeddings.keyed_vectors import KeyedVectors
from seqlab.embeddings.vocabulary import Vocabulary, count_words
from seqlab.errors import SeqlabError

BLOCK_ENTRIES = 1 << 20  # entries copied out in visiting order at a time: 16 MiB of rows, cols and values


@dataclass(eq=False)  # arrays do not compare with ==
class GloVeParameters:
    """The trained parameters and their AdaGrad accumulators (float32 unless asked otherwise).

    Attributes:
        word_vectors: (V, D) W.
        context_vectors: (V, D) W̃.
        word_biases: (V,) b.
        context_biases: (V,) b̃.
        gradsq: the accumulators of the four above, in that order and of the same shapes.
    """

    word_vectors: np.ndarray
    context_vectors: np.ndarray
    word_biases: np.ndarray
    context_biases: np.ndarray
    gradsq: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

    @classmethod
    def initial(cls, vocab_size: int, dim: int, seed: int, dtype: type | np.dtype = np.float32) -> GloVeParameters:
        """Parameters uniform in [-0.5, 0.5] / dim, accumulators at 1, as glove.c starts."""
        rng = np.random.default_rng([seed, 0])  # stream 0: initial values; fit_glove draws orders from stream 1
        shapes = ((vocab_size, dim), (vocab_size, dim), (vocab_size,), (vocab_size,))
        values = [((rng.random(shape) - 0.5) / dim).astype(dtype) for shape in shapes]
        return cls(*values, gradsq=tuple(np.ones(shape, dtype) for shape in shapes))

    def copy(self) -> GloVeParameters:
        return GloVeParameters(*(a.copy() for a in self.arrays()[:4]), gradsq=tuple(g.copy() for g in self.gradsq))

    def arrays(self) -> tuple[np.ndarray, ...]:
        """The eight arrays in the kernel's order: W, W̃, b, b̃, then their accumulators."""
        return (self.word_vectors, self.context_vectors, self.word_biases, self.context_biases, *self.gradsq)


@dataclass(frozen=True)
class EpochReport:
    """One epoch: its number (from 1), glove.c's cost J / (2M) measured during it, and its wall-clock seconds."""

    epoch: int
    cost: float
    seconds: float


@dataclass(frozen=True)
class GloVeResult:
    """What :func:`train_glove` made and what it cost.

    Attributes:
        vectors: W + W̃ for the vocabulary's words, with their counts.
        losses: (epochs,) the cost of each epoch, J / (2M) as glove.c prints it.
        vocabulary_seconds: counting words to make the vocabulary.
        counting_seconds: counting co-occurrences (a second pass over the text).
        epoch_seconds: (epochs,) wall-clock time of each epoch, the shuffle included.
        peak_memory_bytes: the process's peak resident memory at the end (``ru_maxrss``).
        nonzeros: M, the nonzero entries of X trained on.
    """

    vectors: KeyedVectors
    losses: list[float]
    vocabulary_seconds: float
    counting_seconds: float
    epoch_seconds: list[float]
    peak_memory_bytes: int
    nonzeros: int


def fit_glove(
    cooccurrences: Cooccurrences,
    parameters: GloVeParameters,
    config: GloVeConfig,
    *,
    progress: Callable[[EpochReport], None] | None = None,
) -> list[EpochReport]:
    """Train ``parameters`` in place on X for ``config.epochs`` epochs.

    Uses ``x_max``, ``alpha``, ``learning_rate``, ``grad_clip``, ``epochs``, ``threads`` and ``seed`` of the config.

    Args:
        cooccurrences: X, with at least one entry.
        parameters: the starting point, e.g. :meth:`GloVeParameters.initial`; updated in place.
        config: the training settings.
        progress: called after each epoch with its report.

    Raises:
        SeqlabError: X is empty or does not match the parameters, or training diverged.
    """
    entries = len(cooccurrences)
    if entries == 0:
        raise SeqlabError("no co-occurrences to train on: no sentence has two vocabulary words")
    if parameters.word_vectors.shape[0] != cooccurrences.vocab_size:
        raise SeqlabError(
            f"parameters for {parameters.word_vectors.shape[0]} words, co-occurrences of {cooccurrences.vocab_size}"
        )
    rng = np.random.default_rng([config.seed, 1])
    reports = []
    with ThreadPoolExecutor(max_workers=config.threads) as pool:
        for epoch in range(1, config.epochs + 1):
            start = time.perf_counter()
            order = rng.permutation(entries).astype(np.int32 if entries < 2**31 else np.int64)
            cost = sum(
                _train_block(cooccurrences, order[first : first + BLOCK_ENTRIES], parameters, config, pool)
                for first in range(0, entries, BLOCK_ENTRIES)
            )
            cost /= entries
            if not math.isfinite(cost):
                raise SeqlabError(f"GloVe diverged in epoch {epoch} (cost {cost}); lower the learning rate")
            reports.append(EpochReport(epoch, cost, time.perf_counter() - start))
            if progress is not None:
                progress(reports[-1])
    return reports


def _train_block(cooccurrences, order, parameters, config, pool: ThreadPoolExecutor) -> float:
    """Σ ½ f e² over the entries ``order`` (copied out in that order): each thread trains a slice."""
    rows, cols, values = cooccurrences.rows[order], cooccurrences.cols[order], cooccurrences.values[order]
    settings = (config.x_max, config.alpha, config.learning_rate, config.grad_clip)

    def train(first: int, last: int) -> float:
        block = (rows[first:last], cols[first:last], values[first:last])
        return glove_train_entries(*block, *parameters.arrays(), *settings)

    if config.threads == 1:  # nothing to hand out: run here, where tracebacks stay plain
        return train(0, len(order))
    bounds = [len(order) * t // config.threads for t in range(config.threads + 1)]
    return sum(pool.map(train, bounds[:-1], bounds[1:]))


def train_glove(
    corpus: str | Path | Iterable[Sequence[str]],
    config: GloVeConfig | None = None,
    *,
    progress: Callable[[EpochReport], None] | None = None,
    directory: str | Path | None = None,
) -> GloVeResult:
    """Build the vocabulary, count X and train GloVe vectors.

    The text is read twice (words, then co-occurrences), streamed each time.

    Args:
        corpus: a text file (one sentence per line; see :func:`read_sentences`) or sentences as lists
            of words that can be iterated twice (a list, not a generator).
        config: the settings; the defaults when None.
        progress: called after each epoch with its report.
        directory: where counting writes its temporary files; the system's default when None.

    Raises:
        SeqlabError: unreadable text, a one-shot iterator, no word frequent enough, or no co-occurrence.

    Example:
        >>> text = [["ice", "cold", "water"], ["steam", "hot", "water"]] * 20
        >>> result = train_glove(text, GloVeConfig(dim=8, epochs=3, threads=1, min_count=1))
        >>> result.vectors.vector_size, len(result.losses)
        (8, 3)
    """
    config = config or GloVeConfig()
    sentences = _sentence_source(corpus)
    start = time.perf_counter()
    vocabulary = Vocabulary.from_counts(count_words(sentences()), min_count=config.min_count)
    vocabulary_seconds = time.perf_counter() - start
    memory_limit_bytes = int(config.memory_limit_mb * 2**20)
    cooccurrences = count_cooccurrences(
        sentences(), vocabulary, window=config.window, memory_limit_bytes=memory_limit_bytes, directory=directory
    )
    parameters = GloVeParameters.initial(len(vocabulary), config.dim, config.seed, dtype=np.dtype(config.dtype))
    reports = fit_glove(cooccurrences, parameters, config, progress=progress)
    vectors = KeyedVectors(
        vocabulary.words, parameters.word_vectors + parameters.context_vectors, counts=vocabulary.counts
    )
    return GloVeResult(
        vectors=vectors,
        losses=[report.cost for report in reports],
        vocabulary_seconds=vocabulary_seconds,
        counting_seconds=cooccurrences.stats.seconds,
        epoch_seconds=[report.seconds for report in reports],
        peak_memory_bytes=peak_memory_bytes(),
        nonzeros=len(cooccurrences),
    )


def _sentence_source(corpus: str | Path | Iterable[Sequence[str]]) -> Callable[[], Iterable[Sequence[str]]]:
    """A function giving a fresh pass over the corpus each time it is called."""
    if isinstance(corpus, (str, Path)):
        return lambda: read_sentences(corpus)
    if iter(corpus) is corpus:
        raise SeqlabError("GloVe reads the sentences twice: give a list or a file path, not a one-shot iterator")
    return lambda: corpus
