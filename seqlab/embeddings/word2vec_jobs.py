"""One epoch of word2vec: the corpus cut into jobs, run on worker threads, their results summed.

Every job has a fixed place in the learning-rate schedule and its own random seed, both derived
from its position in the corpus, so a job does the same work whichever thread runs it and when.
With one thread a run is reproducible bit for bit; with more, threads update the shared weights
without locks and the result varies slightly from run to run (as in word2vec.c and gensim).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from seqlab.embeddings import word2vec_kernels as kernels
from seqlab.embeddings.encoded_corpus import EncodedCorpus

if TYPE_CHECKING:
    from seqlab.embeddings.word2vec import Word2Vec

JOB_WORDS = 10_000  # vocabulary words per job: large enough to hide Python's overhead


@dataclass
class EpochStats:
    """Attributes:
    loss: mean loss per prediction over the epoch, in nats (see word2vec_kernels).
    predictions: (input, target) predictions made.
    trained_words: words trained on after subsampling.
    corpus_words: words of the text, including those outside the vocabulary.
    seconds: wall-clock time of the epoch.
    """

    loss: float
    predictions: int
    trained_words: int
    corpus_words: int
    seconds: float

    @property
    def words_per_second(self) -> float:
        """Corpus words per second, the rate word2vec tools usually report."""
        return self.corpus_words / max(self.seconds, 1e-9)


def job_boundaries(ends: np.ndarray, job_words: int = JOB_WORDS) -> np.ndarray:
    """(J + 1,) sentence indices cutting the corpus into jobs of about ``job_words`` words.

    A job ends at the first sentence end at or past each multiple of ``job_words``; a sentence is
    never split between jobs.
    """
    if len(ends) == 0:
        return np.zeros(1, np.int64)
    marks = np.arange(job_words, int(ends[-1]), job_words)
    cuts = np.searchsorted(ends, marks, side="left") + 1
    return np.unique(np.concatenate([[0], cuts, [len(ends)]])).astype(np.int64)


def job_seeds(seed: int, epoch: int, job: int) -> np.ndarray:
    """(2,) int64 well-mixed seeds of one job's two random streams (subsampling and windows; noise)."""
    state = np.random.SeedSequence([seed, epoch, job]).generate_state(4, np.uint32).astype(np.int64)
    return state[0::2] << 31 | state[1::2] >> 1


def run_epoch(
    model: Word2Vec, corpus: EncodedCorpus, *, epoch: int, epochs: int, progress: Callable[[int], None] | None = None
) -> EpochStats:
    """Train ``model`` on one pass over ``corpus``; epoch ``epoch`` of ``epochs`` in this call."""
    config = model.config
    bounds = job_boundaries(corpus.ends, JOB_WORDS)
    starts = np.concatenate([[0], corpus.ends])[bounds]  # the word offset of each job boundary
    total_words = epochs * len(corpus)
    alpha0, alpha_min = config.initial_alpha, config.min_alpha

    def alpha_at(word: int) -> float:
        return alpha0 - (alpha0 - alpha_min) * word / total_words

    job_count = len(bounds) - 1
    words_per_token = corpus.raw_words / len(corpus)
    totals = np.zeros(3)  # loss, predictions, trained words
    lock = threading.Lock()
    unclaimed = iter(range(job_count))
    failures: list[BaseException] = []

    def claim_job() -> int | None:
        with lock:
            return next(unclaimed, None)

    def work() -> None:
        try:
            while (job := claim_job()) is not None:
                first, last = int(bounds[job]), int(bounds[job + 1])
                begin, end = epoch * len(corpus) + starts[job], epoch * len(corpus) + starts[job + 1]
                result = _run_job(
                    model, corpus, first, last, alpha_at(begin), alpha_at(end), job_seeds(config.seed, epoch, job)
                )
                with lock:
                    totals[:] += result
                    if progress is not None:
                        progress(round((end - begin) * words_per_token))
        except BaseException as error:  # re-raised in the calling thread
            failures.append(error)

    began = time.perf_counter()
    if config.threads == 1:
        work()
    else:
        _run_threads(work, config.threads)
    if failures:
        raise failures[0]
    loss, predictions, trained = totals
    return EpochStats(
        loss=float(loss / max(predictions, 1)),
        predictions=int(predictions),
        trained_words=int(trained),
        corpus_words=corpus.raw_words,
        seconds=time.perf_counter() - began,
    )


def _run_job(
    model: Word2Vec,
    corpus: EncodedCorpus,
    first: int,
    last: int,
    alpha_start: float,
    alpha_end: float,
    seeds: np.ndarray,
) -> np.ndarray:
    config, huffman, noise = model.config, model.huffman, model.noise
    tables = (model.keep_probability, noise.keep, noise.alias, huffman.codes, huffman.points, huffman.lengths)
    loss, predictions, words = kernels.train_sentences(
        corpus.tokens,
        corpus.ends,
        first,
        last,
        model.input_vectors,
        model.output_vectors,
        kernels.ARCHITECTURES[config.architecture],
        kernels.LOSSES[config.loss],
        tables,
        config.window,
        config.negative,
        alpha_start,
        alpha_end,
        seeds,
    )
    return np.array([loss, predictions, words])


def _run_threads(work: Callable[[], None], threads: int) -> None:
    workers = [threading.Thread(target=work, name=f"word2vec-{i}", daemon=True) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
