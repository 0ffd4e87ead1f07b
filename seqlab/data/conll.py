"""Reading tagged sentences in the CoNLL column format: a token per line, its tag in the last column.

::

    -DOCSTART- -X- O O          <- a document marker, not a sentence (CoNLL-2003)
                                <- a blank line ends a sentence
    EU NNP I-NP I-ORG           <- word, part of speech, chunk, entity (CoNLL-2003, IOB1)
    rejects VBZ I-VP O

WNUT-17 has two tab-separated columns (word, BIO tag). Every line of a file must have as many
columns as its first; tags must be the scheme's (``seqlab.data.tag_schemes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seqlab.data.tag_schemes import split_tag
from seqlab.errors import SeqlabError
from seqlab.text_file import read_text_file

DOCUMENT_MARKER = "-DOCSTART-"


@dataclass(frozen=True)
class TaggedSentence:
    """The words of a sentence, their tags, and where the sentence starts in its file."""

    words: tuple[str, ...]
    tags: tuple[str, ...]
    line: int  # the line of the first word, from 1


def read_conll(path: str | Path, scheme: str) -> list[TaggedSentence]:
    """The sentences of a CoNLL file whose last column holds tags of ``scheme``.

    Raises:
        SeqlabError: the file cannot be read, a line has another number of columns than the
            first (or only one), or a tag is not one of the scheme's; named by file and line.
    """
    sentences: list[TaggedSentence] = []
    words: list[str] = []
    tags: list[str] = []
    first_line = columns = 0

    def end_sentence() -> None:
        if words:
            sentences.append(TaggedSentence(tuple(words), tuple(tags), first_line))
            words.clear()
            tags.clear()

    for number, line in enumerate(read_text_file(path).splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0] == DOCUMENT_MARKER:
            end_sentence()
            continue
        columns = columns or len(fields)
        if len(fields) != columns or columns < 2:
            expected = f"{columns}, as the first line" if columns >= 2 else "at least 2 (word ... tag)"
            raise SeqlabError(f"{path}, line {number}: {len(fields)} columns, expected {expected}: {line.strip()!r}")
        try:
            split_tag(fields[-1], scheme)
        except SeqlabError as error:
            raise SeqlabError(f"{path}, line {number}: {error}") from None
        if not words:
            first_line = number
        words.append(fields[0])
        tags.append(fields[-1])
    end_sentence()
    return sentences
