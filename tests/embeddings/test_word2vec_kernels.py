"""The compiled word2vec kernels: each update is an exact SGD step of its loss, and a whole job
equals the readable NumPy reference (seqlab.reference.word2vec) trained with the same random stream."""

import numpy as np
import pytest
import torch

from seqlab.embeddings import word2vec_kernels as kernels
from seqlab.embeddings.huffman import build_huffman_code
from seqlab.embeddings.sampling import build_alias_table, keep_probabilities, noise_distribution
from seqlab.reference import word2vec as reference


def autograd_step(h, C, loss_fn, alpha):
    """(loss, -alpha dL/dh, -alpha dL/dC) in float64."""
    h64 = torch.tensor(h, dtype=torch.float64, requires_grad=True)
    C64 = torch.tensor(C, dtype=torch.float64, requires_grad=True)
    loss = loss_fn(h64, C64)
    loss.backward()
    return loss.item(), -alpha * h64.grad.numpy(), -alpha * C64.grad.numpy()


@pytest.mark.parametrize("scale", [0.1, 3.0])  # scale 3 pushes scores past the tabulated range [-8, 8]
def test_logistic_update_is_an_sgd_step_of_the_logistic_loss(scale):
    rng = np.random.default_rng(0)
    h = (rng.standard_normal(16) * scale).astype(np.float32)
    C = (rng.standard_normal((9, 16)) * scale).astype(np.float32)
    rows = np.array([4, 0, 7, 2], np.int32)
    labels = np.array([1, 0, 0, 0], np.float32)
    alpha = 0.05

    def loss_fn(h64, C64):
        scores = C64[torch.from_numpy(rows).long()] @ h64
        signs = torch.from_numpy(2 * labels.astype(np.float64) - 1)
        return -torch.nn.functional.logsigmoid(signs * scores).sum()

    expected_loss, expected_h_step, expected_C_step = autograd_step(h, C, loss_fn, alpha)
    C_after = C.copy()
    h_step = np.zeros(16, np.float32)
    loss = kernels.logistic_update(h, C_after, rows, labels, len(rows), alpha, h_step)
    assert loss == pytest.approx(expected_loss, rel=1e-5, abs=1e-5)
    np.testing.assert_allclose(h_step, expected_h_step, rtol=1e-4, atol=2e-6)
    np.testing.assert_allclose(C_after - C, expected_C_step, rtol=1e-4, atol=2e-6)


def test_softmax_update_is_an_sgd_step_of_the_cross_entropy():
    rng = np.random.default_rng(1)
    h = rng.standard_normal(8).astype(np.float32)
    C = rng.standard_normal((12, 8)).astype(np.float32)
    alpha, target = 0.1, 5

    def loss_fn(h64, C64):
        return torch.nn.functional.cross_entropy((C64 @ h64)[None], torch.tensor([target]))

    expected_loss, expected_h_step, expected_C_step = autograd_step(h, C, loss_fn, alpha)
    C_after = C.copy()
    h_step = np.zeros(8, np.float32)
    loss = kernels.softmax_update(h, C_after, target, alpha, h_step, np.empty(12))
    assert loss == pytest.approx(expected_loss, rel=1e-6)
    np.testing.assert_allclose(h_step, expected_h_step, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(C_after - C, expected_C_step, rtol=1e-5, atol=3e-7)  # float32 C of size ~1


def test_the_loss_of_each_score_is_exact_across_and_beyond_the_table():
    scores = np.concatenate([np.linspace(-30, 30, 2001), [-8.0, 8.0, 7.99999, -7.99999]])
    h = np.ones(1, np.float32)
    for label in (0.0, 1.0):
        for score in scores:
            C = np.array([[score]], np.float32)
            loss = kernels.logistic_update(
                h, C, np.zeros(1, np.int32), np.array([label], np.float32), 1, 0.0, np.zeros(1, np.float32)
            )
            exact = np.logaddexp(0.0, -float(C[0, 0]) if label else float(C[0, 0]))
            assert loss == pytest.approx(exact, abs=2e-6, rel=1e-6)


def job_setup(loss, vocab_size=12, sample=0.05):
    rng = np.random.default_rng(3)
    counts = np.sort(rng.integers(1, 60, vocab_size))[::-1].copy()
    probabilities = counts / counts.sum()
    sentences = [list(rng.choice(vocab_size, size=rng.integers(1, 12), p=probabilities)) for _ in range(25)]
    noise = build_alias_table(noise_distribution(counts))
    huffman = build_huffman_code(counts)
    if loss != "hierarchical":
        huffman = type(huffman)(np.zeros((1, 1), np.uint8), np.zeros((1, 1), np.int32), np.zeros(1, np.int32))
    settings = {
        "loss": loss,
        "window": 3,
        "negative": 4,
        "keep_probability": keep_probabilities(counts, sample),
        "alias_keep": noise.keep,
        "alias_index": noise.alias,
        "codes": huffman.codes,
        "points": huffman.points,
        "lengths": huffman.lengths,
    }
    output_rows = vocab_size - 1 if loss == "hierarchical" else vocab_size
    W = ((rng.random((vocab_size, 10)) - 0.5) / 10).astype(np.float32)
    C = (rng.standard_normal((output_rows, 10)) * 0.1).astype(np.float32)
    return sentences, settings, W, C


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
@pytest.mark.parametrize("loss", ["negative", "hierarchical", "softmax"])
def test_a_job_equals_the_numpy_reference(architecture, loss):
    assert_job_equals_reference(architecture, loss, vocab_size=12)


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
def test_a_hierarchical_job_with_more_inner_nodes_than_it_copies_equals_the_numpy_reference(architecture):
    assert 40 < kernels.HOT_NODES < 199  # both the job's private rows and the shared ones are trained
    assert_job_equals_reference(architecture, "hierarchical", vocab_size=200)


def assert_job_equals_reference(architecture, loss, vocab_size):
    sentences, settings, W, C = job_setup(loss, vocab_size)
    tokens = np.array([w for s in sentences for w in s], np.int32)
    ends = np.cumsum([len(s) for s in sentences]).astype(np.int64)
    W_kernel, C_kernel = W.copy(), C.copy()
    tables = tuple(
        settings[name] for name in ("keep_probability", "alias_keep", "alias_index", "codes", "points", "lengths")
    )
    seeds = np.array([12345, 678], np.int64)
    result = kernels.train_sentences(
        tokens, ends, 0, len(sentences), W_kernel, C_kernel, kernels.ARCHITECTURES[architecture],
        kernels.LOSSES[loss], tables, settings["window"], settings["negative"], 0.2, 0.05, seeds,
    )  # fmt: skip
    W_ref, C_ref = W.astype(np.float64), C.astype(np.float64)
    expected = reference.train_sentences(
        sentences, W_ref, C_ref, {"architecture": architecture, **settings}, 0.2, 0.05, seeds
    )
    assert result[1:] == expected[1:]  # the same predictions and kept words: the same random stream
    assert result[0] == pytest.approx(expected[0], rel=1e-5)
    np.testing.assert_allclose(W_kernel, W_ref, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(C_kernel, C_ref, rtol=1e-4, atol=1e-5)
    assert not np.allclose(W_kernel, W)  # it did train


def test_subsampling_and_dynamic_windows_change_the_work_done():
    sentences, settings, W, C = job_setup("negative", sample=1e-4)
    model = {"architecture": "skipgram", **settings}
    _, predictions, kept = reference.train_sentences(
        sentences, W.astype(float), C.astype(float), model, 0.1, 0.1, (1, 2)
    )
    total = sum(len(s) for s in sentences)
    assert kept < total
    model["keep_probability"] = np.ones_like(settings["keep_probability"])
    _, all_predictions, all_kept = reference.train_sentences(
        sentences, W.astype(float), C.astype(float), model, 0.1, 0.1, (1, 2)
    )
    full_window_pairs = sum(min(len(s), i + 4) - max(0, i - 3) - 1 for s in sentences for i in range(len(s)))
    assert all_kept == total and predictions < all_predictions < full_window_pairs
