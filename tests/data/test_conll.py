"""Reading CoNLL column files: sentences, document markers, tabs, and errors that name file and line."""

from __future__ import annotations

import pytest

from seqlab.data.conll import TaggedSentence, read_conll
from seqlab.errors import SeqlabError

CONLL_2003_STYLE = """-DOCSTART- -X- O O

EU NNP I-NP I-ORG
rejects VBZ I-VP O
German JJ I-NP I-MISC

Peter NNP I-NP I-PER
Blackburn NNP I-NP I-PER


-DOCSTART- -X- O O
BRUSSELS NNP I-NP I-LOC
"""


def test_sentences_of_a_conll_2003_style_file(tmp_path):
    path = tmp_path / "eng.train"
    path.write_text(CONLL_2003_STYLE, encoding="utf-8")
    assert read_conll(path, "IOB1") == [
        TaggedSentence(("EU", "rejects", "German"), ("I-ORG", "O", "I-MISC"), line=3),
        TaggedSentence(("Peter", "Blackburn"), ("I-PER", "I-PER"), line=7),
        TaggedSentence(("BRUSSELS",), ("I-LOC",), line=12),
    ]


def test_two_tab_separated_columns_as_wnut_17_writes_them(tmp_path):
    path = tmp_path / "dev.conll"
    path.write_text("Empire\tB-location\nState\tI-location\n.\tO\n\n\nok\tO\n", encoding="utf-8")
    sentences = read_conll(path, "BIO")
    assert [sentence.tags for sentence in sentences] == [("B-location", "I-location", "O"), ("O",)]


@pytest.mark.parametrize(
    ("content", "scheme", "message"),
    [
        ("a NN B-PER\nb O\n", "BIO", r"f\.conll, line 2: 2 columns, expected 3, as the first line: 'b O'"),
        ("a\n", "BIO", r"f\.conll, line 1: 1 columns, expected at least 2"),
        ("a NN O\n\nb NN S-PER\n", "BIO", r"f\.conll, line 3: unknown tag 'S-PER' in the BIO scheme"),
        ("a NN PER\n", "IOB1", r"f\.conll, line 1: unknown tag 'PER' in the IOB1 scheme"),
        ("\n\n", "BIO", r"f\.conll: file is only whitespace"),
    ],
    ids=["column-count", "one-column", "tag-outside-scheme", "no-prefix", "blank-file"],
)
def test_bad_lines_are_named(tmp_path, content, scheme, message):
    path = tmp_path / "f.conll"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SeqlabError, match=message):
        read_conll(path, scheme)
