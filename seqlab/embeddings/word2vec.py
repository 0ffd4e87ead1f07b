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

from seqlab.atomic_directory import open_directory, replaced_directory
from seqlab.checksums import MANIFEST_FILE, CorruptFileError, read_manifest, verified_bytes, verify_file
from seqlab.embeddings.configs import Word2VecConfig
from seqlab.embeddings.corpus import read_sentences
from seqlab.embeddings.encoded_corpus import EncodedCorpus, count_and_encode, encode_corpus
from seqlab.embeddings.huffman import HuffmanCode, build_huffman_code
from seqlab.embeddings.keyed_vectors import KeyedVectors
from seqlab.embeddings.sampling import AliasTable, build_alias_table, keep_probabilities, noise_distribution
from seqlab.embeddings.vocabulary import Vocabulary, count_words
from seqlab.embeddings.word2vec_jobs import EpochStats, run_epoch
from seqlab.errors import SeqlabError

MODEL_FORMAT = "seqlab-word2vec"  # the "format" field of a saved model's config.json
CONFIG_FILE, VOCABULARY_FILE, WEIGHTS_FILE = "config.json", "vocabulary.json", "weights.safetensors"
MODEL_FILES = (CONFIG_FILE, VOCABULARY_FILE, WEIGHTS_FILE)  # a saved model's files, besides checksums.json


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
        """Write the whole model, to train it further later, into ``directory``.

        It holds ``config.json``, ``vocabulary.json``, ``weights.safetensors`` and ``checksums.json``
        (the size and SHA-256 of every file, checked by :meth:`load`). The directory is replaced
        as a whole (:mod:`seqlab.atomic_directory`), so a save killed at any instant leaves the
        old model or the new one; other files in ``directory`` are passed on.

        Raises:
            SeqlabError: ``directory`` is a file, or holds files but no saved model.
        """
        directory = Path(directory)
        vocabulary = {"words": list(self.vocabulary.words), "counts": self.vocabulary.counts.tolist()}
        config = {"format": MODEL_FORMAT, "config": asdict(self.config)}
        with replaced_directory(directory, required=MODEL_FILES, kind="saved word2vec model") as staged:
            weights = {"input": self.input_vectors, "output": self.output_vectors}
            save_file(weights, str(staged.path / WEIGHTS_FILE))
            (staged.path / VOCABULARY_FILE).write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
            (staged.path / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> Word2Vec:
        """A model written by :meth:`save`.

        Each file is checked against ``checksums.json`` before it is used; a directory without one
        (saved before seqlab wrote it) loads unchecked.

        Raises:
            CorruptFileError: a file is shorter or longer than written, or holds other bytes than were
                written, or ``checksums.json`` is not a list of the model's files; the message names the file.
            SeqlabError: a file is missing or does not hold what it should.
        """
        directory = open_directory(directory, required=MODEL_FILES)  # a save killed part-way is finished first
        config_data = _read_json(directory / CONFIG_FILE)
        if not isinstance(config_data, dict) or config_data.get("format") != MODEL_FORMAT:
            raise SeqlabError(f"{directory / CONFIG_FILE}: not a seqlab word2vec model (format != {MODEL_FORMAT!r})")
        manifest = read_manifest(directory)
        if manifest is not None and not set(MODEL_FILES) <= set(manifest):
            raise CorruptFileError(
                f"{directory / MANIFEST_FILE}: corrupt: it lists {sorted(manifest)}, without all of a saved model's "
                f"files {sorted(MODEL_FILES)}"
            )
        try:
            config = Word2VecConfig(**config_data["config"])
        except (KeyError, TypeError) as error:
            raise SeqlabError(f"{directory / CONFIG_FILE}: bad config: {error}") from None
        vocabulary_data = _read_json(directory / VOCABULARY_FILE)
        try:
            vocabulary = Vocabulary(tuple(vocabulary_data["words"]), np.array(vocabulary_data["counts"]))
        except (KeyError, TypeError) as error:
            raise SeqlabError(f"{directory / VOCABULARY_FILE}: bad vocabulary: {error}") from None
        weights_path = directory / WEIGHTS_FILE
        if not weights_path.is_file():
            raise SeqlabError(f"{weights_path}: no such file")
        verify_file(weights_path)  # hashed in chunks, then read: a large file is not held twice
        try:
            weights = load_file(str(weights_path))
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
    """The JSON in ``path``, checked against its directory's ``checksums.json`` when there is one."""
    if not path.is_file():
        raise SeqlabError(f"{path}: no such file; is this a directory written by Word2Vec.save?")
    try:
        return json.loads(verified_bytes(path).decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SeqlabError(f"{path}: not valid JSON: {error}") from None


def _random_vectors(rng: np.random.Generator, rows: int, dim: int) -> np.ndarray:
    """(rows, dim) float32 uniform in [-1, 1) / dim, small so early dot products sit near 0.

    gensim 4's range; word2vec.c's is half as wide. On wikitext-2 (6 seeds each) the narrower
    start left CBOW about 0.01 lower in word-similarity correlation; skip-gram was unaffected.
    """
    return ((2 * rng.random((rows, dim), dtype=np.float32) - 1) / dim).astype(np.float32)
