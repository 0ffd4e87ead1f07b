"""GloVe training: every step is glove.c's on the autograd gradient, the reported cost is J, the vectors learn."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seqlab.embeddings.cooccurrence import Cooccurrences, count_cooccurrences
from seqlab.embeddings.glove import GloVeConfig, GloVeParameters, fit_glove, train_glove
from seqlab.embeddings.glove_kernels import glove_train_entries, glove_weight
from seqlab.embeddings.vocabulary import Vocabulary, count_words
from seqlab.errors import SeqlabError

X_MAX, ALPHA = 100.0, 0.75


def planted_corpus(seed: int = 0, sentences: int = 200) -> list[list[str]]:
    """Words a0..a5 and b0..b5; sentences alternate between the groups, and each of a sentence's 8 words
    comes from its own group with probability 0.8, from the other otherwise.

    Words of one group then co-occur about four times as often as words of different groups: a block
    structure in log X that the biases cannot fit, only the vectors can.
    """
    rng = np.random.default_rng(seed)
    groups = [[f"a{k}" for k in range(6)], [f"b{k}" for k in range(6)]]
    corpus = []
    for s in range(sentences):
        own = rng.random(8) < 0.8
        corpus.append([str(rng.choice(groups[(s + (not mine)) % 2])) for mine in own])
    return corpus


def small_config(**changes) -> GloVeConfig:
    settings = {"dim": 10, "window": 3, "epochs": 5, "threads": 1, "min_count": 1, "x_max": 10.0}
    return GloVeConfig(**(settings | changes))


def numpy_cost(cooccurrences: Cooccurrences, parameters: GloVeParameters, x_max: float, alpha: float) -> float:
    """J / (2M) from its definition, in float64."""
    i, j, x = cooccurrences.rows, cooccurrences.cols, cooccurrences.values
    errors = (
        np.einsum("md,md->m", parameters.word_vectors[i], parameters.context_vectors[j])
        + parameters.word_biases[i]
        + parameters.context_biases[j]
        - np.log(x)
    )
    weights = np.minimum(1.0, (x / x_max) ** alpha)
    return float(np.mean(0.5 * weights * errors**2))


def test_weighting_function():
    for x, expected in [(1.0, 0.01**0.75), (50.0, 0.5**0.75), (100.0, 1.0), (250.0, 1.0)]:
        assert glove_weight(x, X_MAX, ALPHA) == pytest.approx(expected, rel=1e-15)


def glove_c_step(parameter, accumulator, gradient, learning_rate, grad_clip):
    """glove.c's update of one parameter row (stanfordnlp/GloVe master, src/glove.c, ``glove_thread``).

    A vector: each gradient component clipped to [-grad_clip, grad_clip], times η, is the step; the
    parameter moves by the step over the root of its old accumulator, then the squared step is added
    to the accumulator. A bias (``grad_clip=None``): the same with neither η nor clipping.
    """
    step = gradient if grad_clip is None else learning_rate * np.clip(gradient, -grad_clip, grad_clip)
    parameter -= step / np.sqrt(accumulator)
    accumulator += step**2


@pytest.mark.parametrize("clipped", [False, True])
@pytest.mark.parametrize("entry", [0, 1, 2, 3])  # X above x_max, below it, far below it, on the diagonal
def test_one_update_is_glove_c_adagrad_on_the_autograd_gradient(entry, clipped):
    rng = np.random.default_rng(entry)
    vocab_size, dim, learning_rate = 5, 4, 0.05
    X = Cooccurrences(
        np.array([0, 2, 1, 4], np.int32), np.array([1, 3, 0, 4], np.int32), np.array([250.0, 3.5, 0.25, 40.0]), 5
    )
    before = GloVeParameters.initial(vocab_size, dim, seed=entry, dtype=np.float64)
    before.gradsq = tuple(1.0 + 2.0 * rng.random(a.shape) for a in before.gradsq)  # an AdaGrad mid-way
    i, j, x = X.rows[entry], X.cols[entry], X.values[entry]
    w, w_tilde, b, b_tilde = (
        torch.tensor(array[row], dtype=torch.float64, requires_grad=True)
        for array, row in zip(before.arrays()[:4], (i, j, i, j))
    )
    weight = min(1.0, (x / X_MAX) ** ALPHA)
    loss = 0.5 * weight * (w @ w_tilde + b + b_tilde - np.log(x)) ** 2
    loss.backward()
    vector_gradients = np.abs(np.concatenate([w.grad.numpy(), w_tilde.grad.numpy()]))
    grad_clip = float(np.median(vector_gradients)) if clipped else 100.0  # glove.c's default clips nothing here
    assert (vector_gradients > grad_clip).any() == clipped and (vector_gradients < grad_clip).any()

    after = before.copy()
    one = slice(entry, entry + 1)
    settings = (X_MAX, ALPHA, learning_rate, grad_clip)
    cost = glove_train_entries(X.rows[one], X.cols[one], X.values[one], *after.arrays(), *settings)

    assert cost == pytest.approx(loss.item(), rel=1e-12)
    expected = before.copy()
    clips = (grad_clip, grad_clip, None, None)  # the vectors', then the biases'
    for parameter, accumulator, row, tensor, clip in zip(
        expected.arrays()[:4], expected.gradsq, (i, j, i, j), (w, w_tilde, b, b_tilde), clips
    ):
        glove_c_step(parameter[row : row + 1], accumulator[row : row + 1], tensor.grad.numpy(), learning_rate, clip)
    for ours, theirs in zip(after.arrays(), expected.arrays()):  # the other rows are untouched too
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-14)


def test_a_huge_error_moves_each_vector_component_by_eta_times_the_clip_and_the_biases_by_f_e():
    """glove.c's default clip (100) on an error of about -2000: vectors step ±η·100, biases step f·e."""
    X = Cooccurrences(np.array([0], np.int32), np.array([1], np.int32), np.array([250.0]), 2)  # f(X) = 1
    parameters = GloVeParameters.initial(2, 3, seed=0, dtype=np.float64)  # accumulators at 1
    parameters.word_vectors[0] = [30.0, -40.0, 50.0]
    parameters.context_vectors[1] = [20.0, 25.0, -35.0]
    before = parameters.copy()
    learning_rate, grad_clip = 0.05, 100.0

    glove_train_entries(X.rows, X.cols, X.values, *parameters.arrays(), X_MAX, ALPHA, learning_rate, grad_clip)

    error = 600.0 - 1000.0 - 1750.0 + before.word_biases[0] + before.context_biases[1] - np.log(250.0)
    word_gradient, context_gradient = error * before.context_vectors[1], error * before.word_vectors[0]
    assert np.abs(word_gradient).min() > grad_clip and np.abs(context_gradient).min() > grad_clip
    word_step = learning_rate * grad_clip * np.sign(word_gradient)  # (3,) every component clipped
    context_step = learning_rate * grad_clip * np.sign(context_gradient)
    np.testing.assert_allclose(parameters.word_vectors[0], before.word_vectors[0] - word_step, rtol=1e-15)
    np.testing.assert_allclose(parameters.context_vectors[1], before.context_vectors[1] - context_step, rtol=1e-15)
    np.testing.assert_allclose(parameters.gradsq[0][0], 1.0 + word_step**2, rtol=1e-15)
    np.testing.assert_allclose(parameters.gradsq[1][1], 1.0 + context_step**2, rtol=1e-15)
    for bias, accumulator, row in ((2, 2, 0), (3, 3, 1)):  # b_0 and b̃_1: the whole f·e, no η, no clip
        np.testing.assert_allclose(parameters.arrays()[bias][row], before.arrays()[bias][row] - error, rtol=1e-15)
        np.testing.assert_allclose(parameters.gradsq[accumulator][row], 1.0 + error**2, rtol=1e-15)


@pytest.mark.parametrize("threads", [1, 2])
def test_reported_cost_is_the_cost_before_the_epoch_when_nothing_moves(threads):
    sentences = planted_corpus()
    vocabulary = Vocabulary.from_counts(count_words(sentences), min_count=1)
    X = count_cooccurrences(sentences, vocabulary, window=4)
    parameters = GloVeParameters.initial(len(vocabulary), 6, seed=3, dtype=np.float64)
    gradsq = parameters.gradsq
    parameters.gradsq = (gradsq[0], gradsq[1], np.full_like(gradsq[2], np.inf), np.full_like(gradsq[3], np.inf))
    expected = numpy_cost(X, parameters, 10.0, ALPHA)

    # η = 0 stops the vectors; the biases, which glove.c steps without η, stop at an infinite accumulator
    reports = fit_glove(X, parameters, small_config(learning_rate=0.0, epochs=2, threads=threads, x_max=10.0))

    assert [report.epoch for report in reports] == [1, 2]
    for report in reports:  # every entry counted exactly once, whichever thread took it
        assert report.cost == pytest.approx(expected, rel=1e-12)


def test_cost_falls():
    losses = train_glove(planted_corpus(), small_config(epochs=12)).losses
    assert all(later < earlier for earlier, later in zip(losses[:4], losses[1:4]))  # AdaGrad's noise comes later
    assert losses[-1] < 0.1 * losses[0]


def test_words_of_a_planted_group_end_up_closest_to_their_own_group():
    result = train_glove(planted_corpus(), small_config(epochs=30))
    vectors = result.vectors
    similarity = vectors.unit_vectors @ vectors.unit_vectors.T  # (V, V) cosines
    group = np.array([word[0] for word in vectors.index_to_key])
    for row in range(len(vectors)):
        own = (group == group[row]) & (np.arange(len(vectors)) != row)
        assert similarity[row, own].mean() > similarity[row, group != group[row]].mean() + 0.5


def test_the_vectors_are_word_plus_context_vectors_and_the_result_reports_the_run():
    sentences = planted_corpus()
    config = small_config(epochs=3)
    result = train_glove(sentences, config)

    vocabulary = Vocabulary.from_counts(count_words(sentences), min_count=1)
    X = count_cooccurrences(sentences, vocabulary, window=config.window)
    parameters = GloVeParameters.initial(len(vocabulary), config.dim, config.seed)
    reports = fit_glove(X, parameters, config)

    assert result.vectors.index_to_key == list(vocabulary.words)
    np.testing.assert_array_equal(result.vectors.counts, vocabulary.counts)
    expected = (parameters.word_vectors + parameters.context_vectors).astype(np.float32)
    np.testing.assert_array_equal(result.vectors.vectors, expected)
    assert result.losses == [report.cost for report in reports]
    assert result.nonzeros == len(X) and len(result.epoch_seconds) == 3
    assert result.counting_seconds > 0 and result.peak_memory_bytes > 0


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_config_chooses_the_parameters_precision(dtype):
    sentences = planted_corpus()
    config = small_config(epochs=2, dtype=dtype)
    result = train_glove(sentences, config)

    vocabulary = Vocabulary.from_counts(count_words(sentences), min_count=1)
    X = count_cooccurrences(sentences, vocabulary, window=config.window)
    parameters = GloVeParameters.initial(len(vocabulary), config.dim, config.seed, dtype=np.dtype(dtype))
    fit_glove(X, parameters, config)
    assert parameters.word_vectors.dtype == dtype
    expected = (parameters.word_vectors + parameters.context_vectors).astype(np.float32)
    np.testing.assert_array_equal(result.vectors.vectors, expected)


def test_a_file_and_a_list_of_sentences_train_the_same(tmp_path):
    sentences = planted_corpus()
    path = tmp_path / "corpus.txt"
    path.write_text("".join(" ".join(sentence) + "\n" for sentence in sentences), encoding="utf-8")
    from_file = train_glove(path, small_config())
    from_list = train_glove(sentences, small_config())
    np.testing.assert_array_equal(from_file.vectors.vectors, from_list.vectors.vectors)


def test_a_memory_mapped_matrix_trains_like_one_in_memory(tmp_path):
    sentences = planted_corpus()
    vocabulary = Vocabulary.from_counts(count_words(sentences), min_count=1)
    in_memory = count_cooccurrences(sentences, vocabulary, window=3)
    on_disk = count_cooccurrences(sentences, vocabulary, window=3, memory_limit_bytes=256, directory=tmp_path)
    assert isinstance(on_disk.values, np.memmap)
    trained = []
    for X in (in_memory, on_disk):
        parameters = GloVeParameters.initial(len(vocabulary), 8, seed=1)
        fit_glove(X, parameters, small_config(epochs=2))
        trained.append(parameters.word_vectors)
    np.testing.assert_array_equal(trained[0], trained[1])


def test_one_thread_is_reproducible_from_the_seed():
    first = train_glove(planted_corpus(), small_config(seed=4))
    again = train_glove(planted_corpus(), small_config(seed=4))
    other = train_glove(planted_corpus(), small_config(seed=5))
    np.testing.assert_array_equal(first.vectors.vectors, again.vectors.vectors)
    assert first.losses == again.losses
    assert not np.array_equal(first.vectors.vectors, other.vectors.vectors)


def test_two_threads_train_finite_vectors():
    result = train_glove(planted_corpus(), small_config(threads=2, epochs=8))
    assert np.isfinite(result.vectors.vectors).all()
    assert result.losses[-1] < result.losses[0]


def test_progress_is_called_after_every_epoch():
    seen = []
    train_glove(planted_corpus(), small_config(epochs=3), progress=seen.append)
    assert [report.epoch for report in seen] == [1, 2, 3]
    assert all(report.seconds > 0 and report.cost > 0 for report in seen)


def test_divergence_is_reported():
    with pytest.raises(SeqlabError, match="diverged"):
        train_glove(planted_corpus(), small_config(learning_rate=1e200))


def test_sentences_must_be_readable_twice():
    with pytest.raises(SeqlabError, match="one-shot iterator"):
        train_glove(iter(planted_corpus()), small_config())


def test_no_cooccurrence_is_an_error():
    with pytest.raises(SeqlabError, match="no co-occurrences"):
        train_glove([["lonely"]] * 5, small_config())


def test_the_training_defaults_are_glove_c_s():
    config = GloVeConfig()
    assert (config.learning_rate, config.x_max, config.alpha, config.grad_clip) == (0.05, 100.0, 0.75, 100.0)


@pytest.mark.parametrize(
    "changes",
    [
        {"dim": 0},
        {"window": 0},
        {"epochs": 0},
        {"threads": 0},
        {"x_max": 0.0},
        {"learning_rate": -1.0},
        {"alpha": float("nan")},
        {"grad_clip": 0.0},
        {"grad_clip": float("nan")},
        {"dtype": "float16"},
        {"memory_limit_mb": 0},
        {"min_count": 0},
    ],  # fmt: skip
)
def test_bad_settings_are_rejected(changes):
    with pytest.raises(SeqlabError, match=next(iter(changes))):
        GloVeConfig(**changes)
