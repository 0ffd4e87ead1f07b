"""The Stanford Sentiment Treebank's files: a sentence per line, a sentiment class on every node.

Each line is a binarised parse in Penn-Treebank brackets whose node labels are classes
0 (very negative) to 4 (very positive) (Socher et al. 2013, §3)::

    (3 (2 It) (4 (2 's) (4 (3 (2 a) (4 lovely)) (2 film))))

The root's class is the sentence's (SST-5); SST-2 drops the neutral class 2 and joins 0-1 and 3-4
(``binary_class``). Every node also labels the phrase beneath it, which Tai et al. 2015 (§5.1)
train on besides the sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from seqlab.errors import SeqlabError
from seqlab.text_file import read_text_file

CLASSES = 5  # SST-5: very negative, negative, neutral, positive, very positive
NEUTRAL = 2
_PIECE = re.compile(r"\(|\)|[^ \t()]+")  # split at spaces and tabs only: one word of SST has a no-break space


@dataclass(frozen=True)
class SentimentTree:
    """One sentence with the class of the whole and of each phrase."""

    words: tuple[str, ...]
    label: int  # the root's class, 0..4
    phrases: tuple[tuple[int, int, int], ...]  # (start, end, class) per node, words[start:end], the root first


class TreeSyntaxError(SeqlabError):
    """A line that is not a labelled tree; ``position`` is its character (from 1) where reading stopped."""

    def __init__(self, message: str, position: int):
        super().__init__(f"{message} at character {position}")
        self.position = position


def parse_tree(line: str) -> SentimentTree:
    """The tree written on ``line``.

    Raises:
        TreeSyntaxError: unbalanced brackets, a label that is not a class 0-4, a node without
            children, or text after the tree; the message gives the character position.

    Example:
        >>> parse_tree("(3 (2 a) (4 lovely))").phrases
        ((0, 2, 3), (0, 1, 2), (1, 2, 4))
    """
    pieces = [(match.group(), match.start() + 1) for match in _PIECE.finditer(line)]
    if not pieces:
        raise TreeSyntaxError("an empty line, not a tree", 1)
    words: list[str] = []
    phrases: list[tuple[int, int, int]] = []
    end = _read_node(pieces, 0, words, phrases)
    if end < len(pieces):
        raise TreeSyntaxError(f"text after the tree: {pieces[end][0]!r}", pieces[end][1])
    return SentimentTree(tuple(words), phrases[0][2], tuple(phrases))


def _read_node(pieces: list[tuple[str, int]], at: int, words: list[str], phrases: list[tuple[int, int, int]]) -> int:
    """Read the node starting at piece ``at`` into ``words`` and ``phrases``; the index after it."""
    piece, position = _piece(pieces, at)
    if piece != "(":
        raise TreeSyntaxError(f"expected '(' but found {piece!r}", position)
    label, label_position = _piece(pieces, at + 1)
    if label not in ("0", "1", "2", "3", "4"):
        raise TreeSyntaxError(f"the label {label!r} is not a sentiment class 0-4", label_position)
    node = len(phrases)
    phrases.append((len(words), -1, int(label)))
    at += 2
    child, child_position = _piece(pieces, at)
    if child == ")":
        raise TreeSyntaxError("a node with neither a word nor children", child_position)
    if child != "(":  # a leaf: (label word)
        words.append(child)
        at += 1
    else:
        while _piece(pieces, at)[0] == "(":
            at = _read_node(pieces, at, words, phrases)
    closing, closing_position = _piece(pieces, at)
    if closing != ")":
        raise TreeSyntaxError(f"expected ')' but found {closing!r}", closing_position)
    phrases[node] = (phrases[node][0], len(words), phrases[node][2])
    return at + 1


def _piece(pieces: list[tuple[str, int]], at: int) -> tuple[str, int]:
    if at >= len(pieces):
        last = pieces[-1]
        raise TreeSyntaxError("the line ends before the tree closes", last[1] + len(last[0]))
    return pieces[at]


def read_sentiment_trees(path: str | Path) -> list[SentimentTree]:
    """Every tree of an SST file, one per line (blank lines are skipped).

    Raises:
        SeqlabError: the file cannot be read, or a line is not a tree (file, line and character).
    """
    trees = []
    for number, line in enumerate(read_text_file(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            trees.append(parse_tree(line))
        except TreeSyntaxError as error:
            raise SeqlabError(f"{path}, line {number}: {error}") from None
    return trees


def binary_class(label: int) -> int | None:
    """SST-2's class of an SST-5 class: 0 (negative) for 0-1, 1 (positive) for 3-4, None for neutral."""
    return None if label == NEUTRAL else int(label > NEUTRAL)
