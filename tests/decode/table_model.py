"""A toy decoder for search tests: each sentence's next-token distribution is a table indexed by the prefix."""

from __future__ import annotations

import itertools
import math
import random

import torch

BOS, EOS = 0, 1
VOCAB_SIZE = 5  # BOS (never predicted), EOS, and three words
WORDS = (2, 3, 4)


def fallback(sentence: int, prefix: tuple[int, ...]) -> list[float]:
    """A fixed, pseudo-random distribution for prefixes a table does not list (BOS has probability 0)."""
    rng = random.Random(f"{sentence}:{prefix}")  # a str seed hashes with SHA-512: the same in every run
    weights = [0.0] + [rng.uniform(0.05, 1.0) for _ in range(VOCAB_SIZE - 1)]
    return [w / sum(weights) for w in weights]


class EveryPrefix(dict):
    """A table that gives the same distribution after every prefix."""

    def __init__(self, probabilities: list[float]) -> None:
        super().__init__()
        self.probabilities = probabilities

    def get(self, prefix, default=None):
        return self.probabilities


class TableModel:
    """``P(next | prefix)`` from ``tables[sentence][prefix]`` (else :func:`fallback`); the state holds each row's
    sentence and its whole history, so a wrong ``reorder`` gives wrong probabilities."""

    def __init__(self, tables: list[dict[tuple[int, ...], list[float]]]) -> None:
        self.tables = tables
        self.rows_per_step: list[int] = []

    def probability(self, sentence: int, prefix: tuple[int, ...]) -> list[float]:
        return self.tables[sentence].get(prefix) or fallback(sentence, prefix)

    def initial_state(self, sentences: list[int]) -> dict[str, torch.Tensor]:
        return {"sentence": torch.tensor(sentences), "history": torch.empty(len(sentences), 0, dtype=torch.long)}

    def step(self, tokens, state):
        history = torch.cat([state["history"], tokens.unsqueeze(1)], dim=1)  # (N, t+1)
        assert bool((history[:, 0] == BOS).all())
        self.rows_per_step.append(len(tokens))
        rows = [self.probability(s, tuple(h[1:])) for s, h in zip(state["sentence"].tolist(), history.tolist())]
        return torch.tensor(rows, dtype=torch.float64).log(), {"sentence": state["sentence"], "history": history}

    def reorder(self, state, order):
        return {name: value.index_select(0, order) for name, value in state.items()}


def log_prob(model: TableModel, sentence: int, words: tuple[int, ...], *, finished: bool) -> float:
    """``log P(Y|X)`` as the product of the table's probabilities, EOS's included when finished."""
    tokens = (*words, EOS) if finished else words
    probability = math.prod(model.probability(sentence, tokens[:i])[token] for i, token in enumerate(tokens))
    return math.log(probability) if probability > 0 else float("-inf")


def has_repeated_ngram(words: tuple[int, ...], n: int) -> bool:
    ngrams = [words[i : i + n] for i in range(len(words) - n + 1)]
    return len(set(ngrams)) < len(ngrams)


def brute_force(model, sentence, *, max_length, min_length=0, alpha=0.0, no_repeat=0):
    """Every output of at most ``max_length`` scored tokens, best first: ``(score, log_prob, words, finished)``.

    Finished outputs have ``min_length <= n`` words and EOS (``|Y| = n + 1 <= max_length``); cut ones have
    ``max_length`` words and no EOS (``|Y| = max_length``). Score: ``log P / ((5 + |Y|)^alpha / (5 + 1)^alpha)``.
    """
    outputs = []
    for n in range(max_length + 1):
        for words in itertools.product([t for t in range(VOCAB_SIZE) if t != EOS], repeat=n):
            if no_repeat and has_repeated_ngram(words, no_repeat):
                continue
            for finished in (True, False):
                if (finished and (n < min_length or n + 1 > max_length)) or (not finished and n != max_length):
                    continue
                total = log_prob(model, sentence, words, finished=finished)
                size = n + finished
                if total > float("-inf"):
                    outputs.append((total / ((5 + size) ** alpha / (5 + 1) ** alpha), total, list(words), finished))
    return sorted(outputs, key=lambda output: -output[0])
