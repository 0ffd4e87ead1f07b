"""Reading the Sentiment Treebank: words, the class of the sentence and of every phrase, and bad trees."""

from __future__ import annotations

import pytest

from seqlab.data.sentiment_trees import binary_class, parse_tree, read_sentiment_trees
from seqlab.errors import SeqlabError

# "It 's a lovely film ." with a class on every node, binarised as the treebank writes it
LINE = "(3 (2 It) (4 (4 (2 's) (4 (3 (2 a) (4 (3 lovely) (2 film))))) (2 .)))"


def test_a_tree_gives_its_words_its_class_and_every_phrase_class():
    tree = parse_tree(LINE)
    assert tree.words == ("It", "'s", "a", "lovely", "film", ".")
    assert tree.label == 3
    # (start, end, class) of every node, in the order the brackets open
    assert tree.phrases == (
        (0, 6, 3), (0, 1, 2), (1, 6, 4), (1, 5, 4), (1, 2, 2), (2, 5, 4), (2, 5, 3), (2, 3, 2),
        (3, 5, 4), (3, 4, 3), (4, 5, 2), (5, 6, 2),
    )  # fmt: skip


def test_words_split_at_spaces_only():
    assert parse_tree("(2 (2 8\xa01\\/2) (2 .))").words == ("8\xa01\\/2", ".")


def test_sst2_drops_neutral_and_joins_the_rest():
    assert [binary_class(label) for label in range(5)] == [0, 0, None, 1, 1]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("(3 (2 a) (2 b)", r"the line ends before the tree closes at character 15"),
        ("(5 (2 a))", r"the label '5' is not a sentiment class 0-4 at character 2"),
        ("(x a)", r"the label 'x' is not a sentiment class 0-4 at character 2"),
        ("(3 )", r"a node with neither a word nor children at character 4"),
        ("(3 (2 a)) (2 b)", r"text after the tree: '\(' at character 11"),
        ("3 (2 a)", r"expected '\(' but found '3' at character 1"),
        ("(2 a b)", r"expected '\)' but found 'b' at character 6"),
    ],
)
def test_a_malformed_tree_names_the_character(line, message):
    with pytest.raises(SeqlabError, match=message):
        parse_tree(line)


def test_a_file_error_names_the_file_and_the_line(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(f"{LINE}\n\n{LINE}\n(2 (2 a) (2 b)\n", encoding="utf-8")
    with pytest.raises(SeqlabError, match=r"train\.txt, line 4: the line ends before the tree closes at character 15"):
        read_sentiment_trees(path)
    path.write_text(f"{LINE}\n\n{LINE}\n", encoding="utf-8")
    assert [tree.label for tree in read_sentiment_trees(path)] == [3, 3]
