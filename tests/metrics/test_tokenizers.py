"""The tokenisers give sacrebleu's tokens: on hand-written lines and on random strings of the hard characters."""

from __future__ import annotations

import random

import pytest
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
from sacrebleu.tokenizers.tokenizer_char import TokenizerChar
from sacrebleu.tokenizers.tokenizer_intl import TokenizerV14International

from seqlab.metrics.tokenizers import tokenize_lines

ORACLES = {"13a": Tokenizer13a, "intl": TokenizerV14International, "char": TokenizerChar}

# (line, 13a tokens) written out from mteval-v13a's rules
THIRTEEN_A = [
    ("Hello, world!", ["Hello", ",", "world", "!"]),
    ("It costs 1,000.50 dollars.", ["It", "costs", "1,000.50", "dollars", "."]),
    ("pages 10-20", ["pages", "10", "-", "20"]),
    ("well-known", ["well-known"]),
    ("a &amp; b &lt;c&gt;", ["a", "&", "b", "<", "c", ">"]),
    ("wait...", ["wait", ".", ".", "."]),
    ("<skipped>gone", ["gone"]),
    ("", []),
]
CHARACTERS = list("ab1 2.,.,-&;<>\"'()!?$%/:é\tΣ٣«€\x1c") + [
    "&quot;",
    "&amp;",
    "&lt;",
    "<skipped>",
    "\n",
    "-\n",
    "\u3000",
]


@pytest.mark.parametrize("line,tokens", THIRTEEN_A)
def test_13a_by_hand(line, tokens):
    assert tokenize_lines([line], "13a") == [tokens]


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_random_strings_tokenise_as_sacrebleu(name):
    rng = random.Random(name)
    oracle = ORACLES[name]()
    for _ in range(400):
        lines = ["".join(rng.choice(CHARACTERS) for _ in range(rng.randrange(16))) for _ in range(rng.randrange(5))]
        assert tokenize_lines(lines, name) == [oracle(line).split() for line in lines], lines


def test_none_splits_on_whitespace_only():
    assert tokenize_lines(["a,b  c."], "none") == [["a,b", "c."]]


def test_an_unknown_tokeniser_is_named():
    with pytest.raises(ValueError, match="unknown tokenizer 'spm'"):
        tokenize_lines(["a"], "spm")
