"""Texts for the metric tests: hand-written degenerate cases and seeded random corpora (no shared data needed)."""

from __future__ import annotations

import random

WORDS = "a the cat dog sat on mat , . ! ? ( ) \" 's 3.5 1,000 20-30 & &amp; Über straße 东京 é -- .. ,,".split()


def random_line(rng: random.Random, *, max_words: int = 14) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randrange(max_words)))


def corrupt(line: str, rng: random.Random) -> str:
    """Drop, replace and swap words, deterministically given ``rng``."""
    words = [word for word in line.split() if rng.random() > 0.15]
    words = [rng.choice(WORDS) if rng.random() < 0.15 else word for word in words]
    if len(words) > 2 and rng.random() < 0.5:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def random_corpus(seed: int, sentences: int = 40, streams: int = 1) -> tuple[list[str], list[list[str]]]:
    rng = random.Random(seed)
    references = [[random_line(rng) for _ in range(sentences)] for _ in range(streams)]
    hypotheses = [corrupt(line, rng) for line in references[0]]
    return hypotheses, references


# (hypotheses, references streams): the inputs sacrebleu's own tests and real use find hard
DEGENERATE = {
    "empty hypothesis": ([""], [["the cat sat on the mat"]]),
    "empty lines both": (["", ""], [["", ""]]),
    "no matches": (["x y z w"], [["a b c d"]]),
    "longer than refs": (["the cat sat on the mat on the mat on the mat"], [["the cat sat"]]),
    "shorter than refs": (["the cat"], [["the cat sat on the mat"]]),
    "one word": (["cat"], [["cat"]]),
    "unicode": (["Über die Straße in 東京 — «quoted»!"], [["Über eine Straße in 東京 — «quoted»."]]),
    "refs of different lengths": (["a b c d e"], [["a b c"], ["a b c d e f g"], ["b c d e"]]),
    "tie in closest length": (["a b c d"], [["a b c"], ["a b c d e"]]),
    "a missing reference": (["a b c", "d e"], [["a b c", "d e f"], ["a b", None]]),
    "repeated n-grams": (["the the the the the the"], [["the cat the mat the"]]),
    "entities and skipped": (["a &amp; b &quot;c&quot; <skipped> d"], [['a & b "c" d']]),
    "numbers and dashes": (["In 1999-2000, 3.5 % rose (1,000.5)."], [["In 1999 - 2000 , 3.5% rose (1,000.5) ."]]),
    "trailing whitespace": (["a b c  \t"], [["a b c"]]),
}
