"""A small Python-like corpus shared by the language-model tests."""

from __future__ import annotations

from pathlib import Path

import pytest

# Repeated 12 times, about 2.6 kB: a few dozen BPTT windows at the tests' tiny sizes, so a
# test trains in well under a second.
PYTHON_SNIPPET = '''\
class Counter:
    """Counts things."""

    def __init__(self, start=0):
        self.value = start

    def add(self, amount=1):
        self.value += amount
        return self.value

'''


@pytest.fixture
def corpus_text() -> str:
    return PYTHON_SNIPPET * 12


@pytest.fixture
def corpus_file(tmp_path: Path, corpus_text: str) -> Path:
    path = tmp_path / "tiny.py.txt"
    path.write_text(corpus_text, encoding="utf-8")
    return path


WORDS = "the cat sat on the mat\nthe dog sat on the log\na cat and a dog ran\n"


@pytest.fixture
def word_corpus(tmp_path: Path) -> Path:
    """A corpus directory laid out like wikitext-2: train.txt, valid.txt, test.txt."""
    directory = tmp_path / "words"
    directory.mkdir()
    (directory / "train.txt").write_text(WORDS * 40)
    (directory / "valid.txt").write_text(WORDS * 4)
    (directory / "test.txt").write_text(WORDS * 4)
    return directory
