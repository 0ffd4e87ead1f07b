"""GloVe's co-occurrence matrix X, counted in bounded memory.

``X[i, j]`` sums ``1/d`` over every occurrence of words ``i`` and ``j`` at distance ``d`` (1..window)
of each other, in either order, so X is symmetric: the Stanford ``cooccur`` tool (``src/cooccur.c``
of stanfordnlp/GloVe) with ``symmetric=1`` and its distance weighting. cooccur adds the ``1/d`` of
each pair to X[w1][w2] and then to X[w2][w1], so a word within the window of itself (``the ... the``)
adds ``2/d`` to its diagonal entry, and so does this module. Like cooccur:

- windows stop at the end of a sentence (cooccur's sentence is a line);
- words outside the vocabulary are removed before counting (as in word2vec), so a window reaches
  past them: in ``a <rare> b`` the words a and b are at distance 1.

Sentences come as lists of words. Read from a text file by :func:`seqlab.embeddings.corpus.read_sentences`
(as ``train_glove`` reads one), a sentence is a line too, but the reading differs from cooccur's:

- a line of more than ``MAX_SENTENCE_LENGTH`` (10,000) words is cut into pieces, so the pairs
  across a cut, which cooccur counts, are not counted;
- words are split as Python's ``str.split()`` splits them, at any whitespace character (a carriage
  return or a no-break space too); cooccur splits at space, tab and newline only, drops carriage
  returns even inside words, and cuts words longer than 999 bytes;
- the text must be UTF-8; cooccur takes any bytes.

The text is streamed. Each chunk of about ``chunk_tokens`` words is encoded, its pairs are counted
by sorting their keys (``cooccurrence_kernels``), and the chunk's sorted run of (pair, weight) is
kept in memory; when the runs held exceed ``memory_limit_bytes`` they are written to ``.npy``
files. At the end all runs are merged by ranges of keys small enough for the budget, reading the
written runs memory-mapped. A result larger than the budget is itself written to disk and
memory-mapped. Weights of a pair are added up in run order whatever was spilled, so for a given
chunk size the result does not depend on the memory limit, bit for bit.
"""

from __future__ import annotations

import resource
import shutil
import sys
import tempfile
import time
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqlab.atomic_file import atomic_path
from seqlab.embeddings.cooccurrence_kernels import (
    folded_pair_keys,
    mirrored_entries,
    radix_sort,
    sum_folded_keys,
    sum_sorted_duplicates,
    window_pair_count,
)
from seqlab.embeddings.encoded_corpus import EncodedCorpus, encode_corpus
from seqlab.embeddings.vocabulary import Vocabulary
from seqlab.errors import SeqlabError

DEFAULT_WINDOW = 10  # words on each side; the Stanford cooccur tool and its demo use 15
DEFAULT_MEMORY_LIMIT_BYTES = 1 << 30  # runs and merge blocks; the Stanford demo runs cooccur with -memory 4.0 (GB)
CHUNK_TOKENS = 1 << 20  # words encoded and counted at once; the chunk's pair keys take 8 * window bytes each
_MERGE_BYTES_PER_ENTRY = 96  # a merge block's arrays per run entry: inputs, radix scratch, sums, mirrored output


def peak_memory_bytes() -> int:
    """The most resident memory this process has used so far (``ru_maxrss``), in bytes."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)  # macOS reports bytes, Linux KiB


@dataclass(frozen=True)
class CountingStats:
    """What counting cost.

    Attributes:
        seconds: wall-clock time of counting (encoding the text included).
        peak_memory_bytes: the process's peak resident memory at the end (``ru_maxrss``, whole process).
        nonzeros: M, stored entries of X.
        tokens: vocabulary words counted (after removing the others).
        spilled_runs: sorted runs written to disk because the memory limit was reached.
    """

    seconds: float
    peak_memory_bytes: int
    nonzeros: int
    tokens: int
    spilled_runs: int


@dataclass(frozen=True, eq=False)  # arrays do not compare with ==
class Cooccurrences:
    """The nonzero entries of a symmetric co-occurrence matrix X, in coordinate form.

    Entries come in pairs: (i, j) then its mirror (j, i), pairs ordered by (i, j) with i <= j, and
    a diagonal entry alone. The arrays may be memory-mapped from a temporary directory that is
    removed when this object is garbage-collected.

    Attributes:
        rows: (M,) int32 row indices i.
        cols: (M,) int32 column indices j.
        values: (M,) float64 X[i, j] > 0.
        vocab_size: V, the matrix is (V, V).
        stats: how counting went; None for a loaded matrix.
    """

    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray
    vocab_size: int
    stats: CountingStats | None = None

    def __post_init__(self) -> None:
        size = len(self.rows)
        if self.rows.shape != (size,) or self.cols.shape != (size,) or self.values.shape != (size,):
            raise SeqlabError(
                f"co-occurrence rows, cols and values must be 1-D of one length, got shapes "
                f"{self.rows.shape}, {self.cols.shape}, {self.values.shape}"
            )
        if self.vocab_size < 1:
            raise SeqlabError(f"vocab_size must be at least 1, got {self.vocab_size}")

    def __len__(self) -> int:
        return len(self.rows)

    def to_dense(self) -> np.ndarray:
        """(V, V) float64 X with its zeros; for small vocabularies."""
        dense = np.zeros((self.vocab_size, self.vocab_size))
        dense[self.rows, self.cols] = self.values
        return dense

    def save(self, path: str | Path) -> None:
        """Write the matrix to an ``.npz`` file (plain arrays, loadable without pickle)."""
        with atomic_path(path) as temporary, open(temporary, "wb") as handle:
            np.savez(handle, rows=self.rows, cols=self.cols, values=self.values, vocab_size=np.int64(self.vocab_size))

    @classmethod
    def load(cls, path: str | Path) -> Cooccurrences:
        """Read a matrix written by :meth:`save`.

        Raises:
            SeqlabError: the file is missing or is not such a matrix.
        """
        try:
            with np.load(path, allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in ("rows", "cols", "values", "vocab_size")}
        except (OSError, ValueError, KeyError) as error:
            raise SeqlabError(f"{path}: not a co-occurrence matrix written by Cooccurrences.save ({error})") from None
        rows, cols, values = arrays["rows"], arrays["cols"], arrays["values"]
        if rows.dtype != np.int32 or cols.dtype != np.int32 or values.dtype != np.float64:
            raise SeqlabError(f"{path}: expected int32 rows and cols and float64 values")
        return cls(rows, cols, values, int(arrays["vocab_size"]))


def encode_in_chunks(
    sentences: Iterable[Sequence[str]], vocabulary: Vocabulary, chunk_tokens: int = CHUNK_TOKENS
) -> Iterator[EncodedCorpus]:
    """The sentences encoded a chunk at a time, each chunk about ``chunk_tokens`` words of text.

    A sentence is never split between chunks, so a chunk can exceed ``chunk_tokens`` by one sentence.
    """
    batch: list[Sequence[str]] = []
    words = 0
    for sentence in sentences:
        batch.append(sentence)
        words += len(sentence)
        if words >= chunk_tokens:
            yield encode_corpus(batch, vocabulary)
            batch, words = [], 0
    if batch:
        yield encode_corpus(batch, vocabulary)


def count_cooccurrences(
    sentences: Iterable[Sequence[str]],
    vocabulary: Vocabulary,
    *,
    window: int = DEFAULT_WINDOW,
    memory_limit_bytes: int = DEFAULT_MEMORY_LIMIT_BYTES,
    chunk_tokens: int = CHUNK_TOKENS,
    directory: str | Path | None = None,
) -> Cooccurrences:
    """Count X over sentences (lists of words), streaming them once.

    Args:
        sentences: the text, one list of words per line; read once.
        vocabulary: the words counted; the others are removed first.
        window: the largest distance counted (words on each side).
        memory_limit_bytes: soft limit for the sorted runs held in memory, each merge block and a
            result kept in memory. The pair keys of one chunk (8 * window * chunk_tokens bytes) come on top.
        chunk_tokens: words of text counted at once.
        directory: where temporary files go (spilled runs, a large result); the system's default when None.

    Raises:
        SeqlabError: a bad window, memory limit or chunk size.

    Example:
        >>> vocabulary = Vocabulary(("a", "b"), np.array([2, 1]))
        >>> count_cooccurrences([["a", "b", "a"]], vocabulary, window=2).to_dense().tolist()
        [[1.0, 2.0], [2.0, 0.0]]
    """
    if chunk_tokens < 1:
        raise SeqlabError(f"chunk_tokens must be at least 1, got {chunk_tokens}")
    chunks = encode_in_chunks(sentences, vocabulary, chunk_tokens)
    return count_encoded_cooccurrences(
        chunks, len(vocabulary), window=window, memory_limit_bytes=memory_limit_bytes, directory=directory
    )


def count_encoded_cooccurrences(
    chunks: Iterable[EncodedCorpus],
    vocab_size: int,
    *,
    window: int = DEFAULT_WINDOW,
    memory_limit_bytes: int = DEFAULT_MEMORY_LIMIT_BYTES,
    directory: str | Path | None = None,
) -> Cooccurrences:
    """Count X over already encoded chunks of text; see :func:`count_cooccurrences` for the arguments."""
    _check_counting_arguments(vocab_size, window, memory_limit_bytes)
    start = time.perf_counter()
    tokens = 0
    with tempfile.TemporaryDirectory(prefix="seqlab-cooccur-runs-", dir=directory) as run_directory:
        runs = _SortedRuns(Path(run_directory), memory_limit_bytes)
        for chunk in chunks:
            _check_chunk(chunk, vocab_size)
            tokens += len(chunk.tokens)
            runs.add(*_count_chunk(chunk, window, vocab_size))
        sink = _EntrySink(2 * runs.entries * 16 > memory_limit_bytes, directory)
        try:
            _merge_runs(runs.runs, vocab_size, max(1, memory_limit_bytes // _MERGE_BYTES_PER_ENTRY), sink)
            rows, cols, values = sink.arrays()
        except BaseException:
            sink.discard()
            raise
        spilled = runs.spilled
        del runs  # closes the memory maps of the spilled runs before their directory goes
    stats = CountingStats(time.perf_counter() - start, peak_memory_bytes(), len(rows), tokens, spilled)
    result = Cooccurrences(rows, cols, values, vocab_size, stats)
    if sink.directory is not None:
        weakref.finalize(result, shutil.rmtree, sink.directory, ignore_errors=True)
    return result


def _check_counting_arguments(vocab_size: int, window: int, memory_limit_bytes: int) -> None:
    if window < 1:
        raise SeqlabError(f"window must be at least 1, got {window}")
    if vocab_size < 1:
        raise SeqlabError(f"vocab_size must be at least 1, got {vocab_size}")
    if memory_limit_bytes < 1:
        raise SeqlabError(f"memory_limit_bytes must be positive, got {memory_limit_bytes}")
    if vocab_size * vocab_size * window >= 2**63:
        raise SeqlabError(f"a vocabulary of {vocab_size} words with window {window} overflows 64-bit pair keys")


def _check_chunk(chunk: EncodedCorpus, vocab_size: int) -> None:
    """The kernels index without bounds checks: a chunk must hold valid indices and sentence ends."""
    if len(chunk.tokens) and not 0 <= chunk.tokens.min() <= chunk.tokens.max() < vocab_size:
        raise SeqlabError(f"an encoded chunk holds word indices outside 0..{vocab_size - 1}")
    ends = np.asarray(chunk.ends)
    if len(ends) and (ends[0] < 0 or ends[-1] > len(chunk.tokens) or (np.diff(ends) < 0).any()):
        raise SeqlabError(f"an encoded chunk's sentence ends must rise from 0 to at most {len(chunk.tokens)}")


def _count_chunk(chunk: EncodedCorpus, window: int, vocab_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The chunk's sorted run: (pair keys (K,) int64 ascending, weights (K,) float64)."""
    keys = np.empty(window_pair_count(chunk.ends, window), np.int64)
    folded_pair_keys(chunk.tokens, chunk.ends, window, vocab_size, keys)
    keys, _ = radix_sort(keys, np.zeros(0), _bits(vocab_size * vocab_size * window))
    return sum_folded_keys(keys, window, vocab_size)


def _bits(key_bound: int) -> int:
    """How many bits the keys below ``key_bound`` need."""
    return max(1, (key_bound - 1).bit_length())


class _SortedRuns:
    """Sorted (key, weight) runs in the order they were counted, in memory until the budget is spent."""

    def __init__(self, directory: Path, memory_limit_bytes: int) -> None:
        self.directory = directory
        self.memory_limit_bytes = memory_limit_bytes
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []
        self.memory_bytes = 0
        self.entries = 0
        self.spilled = 0

    def add(self, keys: np.ndarray, weights: np.ndarray) -> None:
        if len(keys) == 0:
            return
        self.runs.append((keys, weights))
        self.memory_bytes += keys.nbytes + weights.nbytes
        self.entries += len(keys)
        if self.memory_bytes > self.memory_limit_bytes:
            self._spill()

    def _spill(self) -> None:
        """Write every run still in memory to disk and keep a read-only memory map of it instead."""
        for position, (keys, weights) in enumerate(self.runs):
            if isinstance(keys, np.memmap):
                continue
            stem = self.directory / f"run-{position:06d}"
            np.save(f"{stem}-keys.npy", keys)
            np.save(f"{stem}-weights.npy", weights)
            self.runs[position] = (
                np.load(f"{stem}-keys.npy", mmap_mode="r"),
                np.load(f"{stem}-weights.npy", mmap_mode="r"),
            )
            self.spilled += 1
        self.memory_bytes = 0


class _EntrySink:
    """Collects the merged entries, in memory or appended to raw files in a temporary directory."""

    def __init__(self, on_disk: bool, parent: str | Path | None) -> None:
        self.directory = tempfile.mkdtemp(prefix="seqlab-cooccur-", dir=parent) if on_disk else None
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.size = 0
        self.files = None
        if self.directory is not None:
            self.files = [open(Path(self.directory) / name, "wb") for name in ("rows.i32", "cols.i32", "values.f64")]

    def append(self, rows: np.ndarray, cols: np.ndarray, values: np.ndarray) -> None:
        self.size += len(rows)
        if self.files is None:
            self.parts.append((rows, cols, values))
            return
        for handle, array in zip(self.files, (rows, cols, values)):
            array.tofile(handle)

    def discard(self) -> None:
        """Close and remove the files written so far."""
        for handle in self.files or ():
            handle.close()
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows (M,) int32, cols (M,) int32, values (M,) float64), memory-mapped read-only if on disk."""
        dtypes = (np.int32, np.int32, np.float64)
        if self.files is None:
            if not self.parts:
                return tuple(np.zeros(0, dtype) for dtype in dtypes)
            return tuple(np.concatenate([part[n] for part in self.parts]) for n in range(3))
        for handle in self.files:
            handle.close()
        if self.size == 0:  # an empty file cannot be memory-mapped
            return tuple(np.zeros(0, dtype) for dtype in dtypes)
        return tuple(np.memmap(h.name, dtype, mode="r", shape=(self.size,)) for h, dtype in zip(self.files, dtypes))


def _merge_runs(runs: list[tuple[np.ndarray, np.ndarray]], vocab_size: int, block_entries: int, sink: _EntrySink):
    """Merge sorted runs into the sink, one key range of at most ~``block_entries`` run entries at a time.

    Within a block, a stable sort (radix) keeps equal keys in run order, so a pair's weights are added in
    the order the runs were counted.
    """
    starts = np.zeros(len(runs), np.int64)
    lengths = np.array([len(keys) for keys, _ in runs], np.int64)
    while (starts < lengths).any():
        ends = _block_ends(runs, starts, lengths, block_entries)
        keys = np.concatenate([k[s:e] for (k, _), s, e in zip(runs, starts, ends)])
        weights = np.concatenate([w[s:e] for (_, w), s, e in zip(runs, starts, ends)])
        keys, weights = radix_sort(keys, weights, _bits(vocab_size * vocab_size))
        pair_keys, sums = sum_sorted_duplicates(keys, weights)
        sink.append(*mirrored_entries(pair_keys, sums, vocab_size))
        starts = ends


def _block_ends(runs, starts: np.ndarray, lengths: np.ndarray, block_entries: int) -> np.ndarray:
    """(R,) the end in each run of the next block: all entries below the largest key bound that fits.

    The bound is found by bisection on key values; a single key always fits, so every block moves on.
    """

    def ends_below(bound: int) -> np.ndarray:
        return np.array([np.searchsorted(keys, bound) for keys, _ in runs], np.int64)

    if (lengths - starts).sum() <= block_entries:
        return lengths.copy()
    remaining = starts < lengths
    top = max(int(keys[-1]) for (keys, _), left in zip(runs, remaining) if left) + 1
    fits = min(int(keys[s]) for (keys, _), s, left in zip(runs, starts, remaining) if left) + 1
    too_many = top  # invariant: the bound `fits` is taken, the bound `too_many` holds too many entries
    while too_many - fits > 1:
        middle = (fits + too_many) // 2
        if (ends_below(middle) - starts).sum() <= block_entries:
            fits = middle
        else:
            too_many = middle
    return ends_below(fits)
