"""word2vec in plain Python and NumPy float64, one prediction at a time.

Written to be read: the same algorithm as the compiled kernel of
``seqlab.embeddings.word2vec_kernels``, step for step and with the same random stream, so that a
test can train both on a small corpus and compare every weight. Slow (pure Python loops); use it
on a few hundred words.

The steps for one sentence:

1. subsampling: keep each word with its keep probability (one uniform draw per word that may be dropped);
2. for each centre position ``i``, draw a window ``reach`` in 1..window (these two from one random
   stream, noise words from a second, so the kernel can draw noise ahead of its use);
3. skip-gram: every context word ``j`` in reach is an input that predicts the centre word;
   CBOW: the mean of the context vectors is one input that predicts the centre word;
4. a prediction trains the output layer (negative sampling, hierarchical softmax or full
   softmax) and then adds the input's accumulated step to the input vector(s).
"""

from __future__ import annotations

import numpy as np

_MASK_64 = (1 << 64) - 1
_LCG_MULTIPLIER = 6364136223846793005
_LCG_INCREMENT = 1442695040888963407


class LcgStream:
    """The kernel's random numbers: a 64-bit LCG, its 53 high bits scaled to [0, 1)."""

    def __init__(self, seed: int) -> None:
        self.state = int(seed) & _MASK_64

    def uniform(self) -> float:
        self.state = (self.state * _LCG_MULTIPLIER + _LCG_INCREMENT) & _MASK_64
        return (self.state >> 11) / 2.0**53


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + np.exp(-x))


def logistic_step(h, C, rows, labels, alpha):
    """Binary logistic regressions of ``h`` against ``C[rows]``; returns (loss, step for h)."""
    h_step = np.zeros_like(h)
    loss = 0.0
    for row, label in zip(rows, labels):
        score = float(h @ C[row])
        loss -= np.log(sigmoid(score)) if label == 1 else np.log(sigmoid(-score))
        g = (label - sigmoid(score)) * alpha
        h_step += g * C[row]
        C[row] += g * h
    return loss, h_step


def softmax_step(h, C, target, alpha):
    """Full softmax towards ``target``; returns (loss, step for h)."""
    scores = C @ h
    p = np.exp(scores - scores.max())
    p /= p.sum()
    g = (np.eye(len(C))[target] - p) * alpha
    h_step = g @ C
    C += np.outer(g, h)
    return -np.log(p[target]), h_step


def draw_noise(alias_keep, alias_index, stream: LcgStream) -> int:
    u = stream.uniform() * len(alias_keep)
    k = min(int(u), len(alias_keep) - 1)
    return k if u - k < alias_keep[k] else int(alias_index[k])


def predict(h, C, target, model, alpha, noise_stream):
    """Train the output layer to predict ``target`` from ``h``; returns (loss, step for h)."""
    if model["loss"] == "softmax":
        return softmax_step(h, C, target, alpha)
    if model["loss"] == "hierarchical":
        length = model["lengths"][target]
        rows = model["points"][target, :length]
        return logistic_step(h, C, rows, 1 - model["codes"][target, :length].astype(int), alpha)
    rows, labels = [target], [1]
    for _ in range(model["negative"]):
        noise = draw_noise(model["alias_keep"], model["alias_index"], noise_stream)
        if noise != target:
            rows.append(noise)
            labels.append(0)
    return logistic_step(h, C, rows, labels, alpha)


def train_sentences(sentences, W, C, model, alpha_start, alpha_end, seeds):
    """Train on a list of sentences (lists of word indices) as one kernel job does.

    Args:
        sentences: lists of vocabulary indices.
        W, C: float64 input and output vectors, updated in place.
        model: dict with ``architecture`` ("skipgram"/"cbow"), ``loss``, ``window``, ``negative``,
            ``keep_probability``, ``alias_keep``, ``alias_index``, ``codes``, ``points``, ``lengths``.
        alpha_start, alpha_end: the learning rate at the first and after the last word.
        seeds: the seeds of the job's two random streams: subsampling and windows; noise words.

    Returns:
        (summed loss, predictions, words kept by subsampling).
    """
    stream, noise_stream = LcgStream(seeds[0]), LcgStream(seeds[1])
    job_words = max(sum(len(s) for s in sentences), 1)
    done, loss, predictions, kept_words = 0, 0.0, 0, 0
    for sentence in sentences:
        alpha = alpha_start + (alpha_end - alpha_start) * done / job_words
        done += len(sentence)
        keep = model["keep_probability"]
        kept = [w for w in sentence if keep[w] >= 1.0 or keep[w] > stream.uniform()]
        kept_words += len(kept)
        for i, target in enumerate(kept):
            reach = model["window"] - int(stream.uniform() * model["window"])
            context = [kept[j] for j in range(max(0, i - reach), min(len(kept), i + reach + 1)) if j != i]
            if model["architecture"] == "skipgram":
                for word in context:
                    step_loss, h_step = predict(W[word].copy(), C, target, model, alpha, noise_stream)
                    W[word] += h_step
                    loss += step_loss
                    predictions += 1
            elif context:
                h = W[context].mean(axis=0)
                step_loss, h_step = predict(h, C, target, model, alpha, noise_stream)
                for word in context:  # each context word takes the whole step of the mean
                    W[word] += h_step
                loss += step_loss
                predictions += 1
    return loss, predictions, kept_words
