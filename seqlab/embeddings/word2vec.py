"""word2vec (Mikolov et al. 2013): skip-gram and CBOW, trained with negative sampling,
hierarchical softmax or the full softmax.

The trainer owns both weight matrices and the vocabulary; :meth:`Word2Vec.keyed_vectors` hands
out the frozen word vectors. Training splits the corpus into jobs of about 10,000 words and runs
them on ``threads`` Python threads, each in a compiled kernel without the GIL.

Example:
    >>> config = Word2VecConfig(architecture="skipgram", dim=50, epochs=1, min_count=1, threads=1)
    >>> sentences = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 50
    >>> model = Word2Vec.from_sentences(sentences, config)
    >>> report = model.train_sentences(sentences)
    >>> model.keyed_vectors()["cat"].shape
    (50,)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from seqlab.atomic_file import atomic_path
from seqlab.embeddings import word2vec_kernels as kernels
from seqlab.embeddings.corpus import read_sentences
from seqlab.embeddings.encoded_corpus import EncodedCorpus, count_and_encode, encode_corpus
from seqlab.embeddings.huffman import HuffmanCode, build_huffman_code
from seqlab.embeddings.keyed_vectors import KeyedVectors
from seqlab.embeddings.sampling import AliasTable, build_alias_table, keep_probabilities, noise_distribution
from seqlab.embeddings.vocabulary import Vocabulary, count_words
from seqlab.embeddings.word2vec_jobs import EpochStats, run_epoch
from seqlab.errors import SeqlabError

MODEL_FORMAT = "seqlab-word2vec"  # the "format" field of a saved model's config.json

ARCHITECTURES = tuple(kernels.ARCHITECTURES)
LOSSES = tuple(kernels.LOSSES)


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
class TrainingReport:
    """What one call of :meth:`Word2Vec.train` did, epoch by epoch."""

    epochs: list[EpochStats] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return sum(epoch.seconds for epoch in self.epochs)

    @property
    def words_per_second(self) -> float:
        """Corpus words (before subsampling) per second of training, over all epochs."""
        return sum(epoch.corpus_words for epoch in self.epochs) / max(self.seconds, 1e-9)


class Word2Vec:
    """A word2vec model being trained: vocabulary, input vectors ``W`` and output vectors ``C``.

    Args:
        config: the training settings.
        vocabulary: the words, most frequent first.
        input_vectors: (V, D) float32, the word vectors.
        output_vectors: (V, D) float32 for negative sampling and softmax, (V - 1, D) for
            hierarchical softmax (one per inner Huffman node).
    """

    def __init__(
        self, config: Word2VecConfig, vocabulary: Vocabulary, input_vectors: np.ndarray, output_vectors: np.ndarray
    ) -> None:
        self.config = config
        self.vocabulary = vocabulary
        self.input_vectors = np.ascontiguousarray(input_vectors, dtype=np.float32)
        self.output_vectors = np.ascontiguousarray(output_vectors, dtype=np.float32)
        self._prepare_tables()
        expected = (self.huffman.inner_nodes if config.loss == "hierarchical" else len(vocabulary), config.dim)
        if self.input_vectors.shape != (len(vocabulary), config.dim) or self.output_vectors.shape != expected:
            raise SeqlabError(
                f"weights do not fit the vocabulary and config: input {self.input_vectors.shape}, "
                f"output {self.output_vectors.shape}, expected {(len(vocabulary), config.dim)} and {expected}"
            )

    @classmethod
    def initialized(cls, config: Word2VecConfig, vocabulary: Vocabulary) -> Word2Vec:
        """A fresh model: input vectors uniform in [-1, 1) / D, output vectors zero."""
        rng = np.random.default_rng(config.seed)
        input_vectors = _random_vectors(rng, len(vocabulary), config.dim)
        rows = max(len(vocabulary) - 1, 1) if config.loss == "hierarchical" else len(vocabulary)
        return cls(config, vocabulary, input_vectors, np.zeros((rows, config.dim), np.float32))

    @classmethod
    def from_sentences(cls, sentences: Iterable[Sequence[str]], config: Word2VecConfig) -> Word2Vec:
        """A fresh model whose vocabulary is counted from ``sentences``."""
        vocabulary = Vocabulary.from_counts(count_words(sentences), config.min_count, config.max_vocab_size)
        return cls.initialized(config, vocabulary)

    def _prepare_tables(self) -> None:
        """Subsampling probabilities, the noise table and the Huffman code, from the counts."""
        counts = self.vocabulary.counts
        self.keep_probability = keep_probabilities(counts, self.config.sample)
        self.noise: AliasTable = build_alias_table(noise_distribution(counts, self.config.noise_power))
        if self.config.loss == "hierarchical":
            self.huffman = build_huffman_code(counts)
        else:
            self.huffman = HuffmanCode(np.zeros((1, 1), np.uint8), np.zeros((1, 1), np.int32), np.zeros(1, np.int32))

    def train(
        self, corpus: EncodedCorpus, *, epochs: int | None = None, progress: Callable[[int], None] | None = None
    ) -> TrainingReport:
        """Train on an encoded corpus for ``epochs`` passes (the config's by default).

        The learning rate decays linearly from ``alpha`` to ``min_alpha`` over the whole call.

        Args:
            corpus: the text, encoded with this model's vocabulary.
            epochs: passes over the text.
            progress: called with the number of corpus words each finished job covered.

        Returns:
            Per-epoch loss (mean nats per prediction), predictions, words and seconds.
        """
        epochs = self.config.epochs if epochs is None else epochs
        if len(corpus) == 0:
            raise SeqlabError("the corpus has no words of the vocabulary; nothing to train on")
        if corpus.tokens.max(initial=0) >= len(self.vocabulary):
            raise SeqlabError("the corpus was encoded with a larger vocabulary than this model's")
        report = TrainingReport()
        for epoch in range(epochs):
            stats = run_epoch(self, corpus, epoch=epoch, epochs=epochs, progress=progress)
            report.epochs.append(stats)
            if not np.isfinite(stats.loss):
                raise SeqlabError(
                    f"training diverged in epoch {epoch + 1}: the loss is {stats.loss}; lower alpha "
                    f"(now {self.config.initial_alpha})"
                )
        return report

    def train_sentences(self, sentences: Iterable[Sequence[str]], **options) -> TrainingReport:
        """Encode ``sentences`` with the vocabulary and :meth:`train` on them."""
        return self.train(encode_corpus(sentences, self.vocabulary), **options)

    def grow_vocabulary(self, counts: dict[str, int]) -> int:
        """Add the words of new text that occur at least ``min_count`` times there; returns how many.

        Known words keep their vectors and gain the new counts; new words get fresh random input
        vectors and zero output vectors. Hierarchical softmax rebuilds its Huffman tree from the
        merged counts, so its inner-node vectors restart from zero (the old nodes no longer exist).
        """
        grown = self.vocabulary.extended(counts, self.config.min_count)
        added = len(grown) - len(self.vocabulary)
        rng = np.random.default_rng([self.config.seed, len(grown)])
        self.input_vectors = np.concatenate([self.input_vectors, _random_vectors(rng, added, self.config.dim)])
        if self.config.loss == "hierarchical":
            self.output_vectors = np.zeros((max(len(grown) - 1, 1), self.config.dim), np.float32)
        else:
            self.output_vectors = np.concatenate([self.output_vectors, np.zeros((added, self.config.dim), np.float32)])
        self.vocabulary = grown
        self._prepare_tables()
        return added

    def save(self, directory: str | Path) -> Path:
        """Write the whole model (to train it further later): ``config.json``, ``vocabulary.json``,
        ``weights.safetensors``, each file replaced atomically."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(directory / "weights.safetensors") as path:
            save_file({"input": self.input_vectors, "output": self.output_vectors}, str(path))
        vocabulary = {"words": list(self.vocabulary.words), "counts": self.vocabulary.counts.tolist()}
        with atomic_path(directory / "vocabulary.json") as path:
            path.write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
        with atomic_path(directory / "config.json") as path:
            path.write_text(json.dumps({"format": MODEL_FORMAT, "config": asdict(self.config)}, indent=2) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> Word2Vec:
        """A model written by :meth:`save`.

        Raises:
            SeqlabError: a file is missing or does not hold what it should.
        """
        directory = Path(directory)
        config_data = _read_json(directory / "config.json")
        if not isinstance(config_data, dict) or config_data.get("format") != MODEL_FORMAT:
            raise SeqlabError(f"{directory / 'config.json'}: not a seqlab word2vec model (format != {MODEL_FORMAT!r})")
        try:
            config = Word2VecConfig(**config_data["config"])
        except (KeyError, TypeError) as error:
            raise SeqlabError(f"{directory / 'config.json'}: bad config: {error}") from None
        vocabulary_data = _read_json(directory / "vocabulary.json")
        try:
            vocabulary = Vocabulary(tuple(vocabulary_data["words"]), np.array(vocabulary_data["counts"]))
        except (KeyError, TypeError) as error:
            raise SeqlabError(f"{directory / 'vocabulary.json'}: bad vocabulary: {error}") from None
        weights_path = directory / "weights.safetensors"
        try:
            weights = load_file(str(weights_path))
        except FileNotFoundError:
            raise SeqlabError(f"{weights_path}: no such file") from None
        except (SafetensorError, OSError) as error:
            raise SeqlabError(f"{weights_path}: not a readable safetensors file: {error}") from None
        if set(weights) != {"input", "output"}:
            raise SeqlabError(f"{weights_path}: expected tensors 'input' and 'output', found {sorted(weights)}")
        return cls(config, vocabulary, weights["input"], weights["output"])

    def keyed_vectors(self) -> KeyedVectors:
        """The trained word vectors (a copy), with the words and their counts."""
        return KeyedVectors(self.vocabulary.words, self.input_vectors.copy(), self.vocabulary.counts)


def train_word2vec(
    corpus: str | Path,
    config: Word2VecConfig,
    *,
    model: Word2Vec | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[Word2Vec, TrainingReport]:
    """Count the words of a text file, encode it and train on it (one streamed pass over the file).

    Args:
        corpus: a UTF-8 text file, one sentence per line (a directory with ``train.txt`` works too).
        config: the settings of a new model; ignored when ``model`` is given.
        model: a trained model to continue on this text: its vocabulary grows by the text's
            words that reach its ``min_count``, and it trains for ``config.epochs`` epochs.
        progress: called with the corpus words each finished job covered.
    """
    text = count_and_encode(read_sentences(corpus))
    if model is None:
        vocabulary = Vocabulary.from_counts(text.word_counts(), config.min_count, config.max_vocab_size)
        model = Word2Vec.initialized(config, vocabulary)
    else:
        model.grow_vocabulary(text.word_counts())
    return model, model.train(text.encoded_with(model.vocabulary), epochs=config.epochs, progress=progress)


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SeqlabError(f"{path}: no such file; is this a directory written by Word2Vec.save?") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SeqlabError(f"{path}: not valid JSON: {error}") from None


def _random_vectors(rng: np.random.Generator, rows: int, dim: int) -> np.ndarray:
    """(rows, dim) float32 uniform in [-1, 1) / dim, small so early dot products sit near 0.

    gensim 4's range; word2vec.c's is half as wide. On wikitext-2 (6 seeds each) the narrower
    start left CBOW about 0.01 lower in word-similarity correlation; skip-gram was unaffected.
    """
    return ((2 * rng.random((rows, dim), dtype=np.float32) - 1) / dim).astype(np.float32)
