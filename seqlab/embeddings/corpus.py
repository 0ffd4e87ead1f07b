"""Reading a text corpus for word-vector training: one sentence per line, words split on whitespace.

The file is streamed line by line, so counting words needs memory for the vocabulary only.
Lines longer than ``max_sentence_length`` words are cut into pieces of that length, as gensim
and the original word2vec tool do (a context window never crosses a piece boundary).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from seqlab.errors import SeqlabError

MAX_SENTENCE_LENGTH = 10_000  # words; gensim's MAX_WORDS_IN_BATCH and word2vec.c's MAX_SENTENCE_LENGTH


def corpus_file(path: str | Path) -> Path:
    """The training text of ``path``: the file itself, or ``train.txt`` / ``input.txt`` inside a directory.

    Raises:
        SeqlabError: nothing readable is there.
    """
    path = Path(path)
    if path.is_dir():
        for name in ("train.txt", "input.txt"):
            if (path / name).is_file():
                return path / name
        raise SeqlabError(f"{path}: a directory without train.txt or input.txt; give the text file itself")
    if not path.is_file():
        raise SeqlabError(f"{path}: no such file")
    return path


def read_sentences(path: str | Path, max_sentence_length: int = MAX_SENTENCE_LENGTH) -> Iterator[list[str]]:
    """The sentences of a UTF-8 text file, one per non-empty line, each a list of words.

    Args:
        path: the text file (see :func:`corpus_file` for directories).
        max_sentence_length: longer lines are yielded in pieces of at most this many words.

    Raises:
        SeqlabError: the file is missing or not valid UTF-8 (the message names the line).
    """
    path = corpus_file(path)
    with open(path, "rb") as handle:
        for line_number, raw in enumerate(handle, start=1):
            try:
                words = raw.decode("utf-8").split()
            except UnicodeDecodeError as error:
                raise SeqlabError(
                    f"{path}, line {line_number}: not valid UTF-8 at byte {error.start + 1} of the line"
                ) from None
            for start in range(0, len(words), max_sentence_length):
                yield words[start : start + max_sentence_length]
