"""The tokenisers BLEU applies before counting words: ``13a`` (mteval-v13a), ``intl`` (mteval-v14), ``char``, ``none``.

Each gives the same tokens as sacrebleu 2.6.0's tokeniser of that name. ``13a`` works on the whole corpus at
once: the lines are joined into one string (each padded with a space, as mteval pads them), every regular
expression runs once over it in C, and the result is split back into lines. Its four rules are rewritten as
patterns whose replacement is a literal string, because on CPython 3.11 a replacement template such as
``r" \\1 "`` calls back into Python for every match. The rewrite relies on what the rules do to the tokens,
not to the spaces (``" . "`` and ``"  . "`` split alike); the derivation is in ``_thirteen_a_joined``.
"""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from collections.abc import Callable, Sequence

# mteval-v13a's punctuation and symbols that always stand alone; sacrebleu's class also holds the space,
# which only multiplies spaces, so it is left out here.
_SYMBOL = re.compile(r"([\{-\~\[-\`!-\&\(-\+\:-\@\/])")
# sacrebleu's second rule, "([^0-9])([\.,])" -> "\1 \2 ", applied exactly to runs of two or more of . and ,
_PERIOD_COMMA_AFTER_NON_DIGIT = re.compile(r"([^0-9])([\.,])")
_RUN = re.compile(r"[^.,][.,]{2,}")
# a lone . or , (no . or , on either side) after a non-digit; the literal comes first so the search is fast
_LONE_PERIOD = re.compile(r"\.(?<![0-9.,]\.)(?![.,])")
_LONE_COMMA = re.compile(r",(?<![0-9.,],)(?![.,])")
# after the second rule no two of . and , touch; the third rule then splits each one not followed by a digit
_PERIOD_NOT_BEFORE_DIGIT = re.compile(r"\.(?![0-9])")
_COMMA_NOT_BEFORE_DIGIT = re.compile(r",(?![0-9])")
_DASH_AFTER_DIGIT = re.compile(r"-(?<=[0-9]-)")
_ENTITIES = (("&quot;", '"'), ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"))


def _split_runs(match: re.Match) -> str:
    return _PERIOD_COMMA_AFTER_NON_DIGIT.sub(r"\1 \2 ", match.group())


def _thirteen_a_joined(text: str) -> str:
    """mteval-v13a's language-dependent rules on a string of padded lines, up to the number of spaces.

    sacrebleu applies, in order: (1) space around each symbol; (2) ``([^0-9])([\\.,])`` -> ``\\1 \\2 ``;
    (3) ``([\\.,])([^0-9])`` -> `` \\1 \\2``; (4) ``([0-9])(-)`` -> ``\\1 \\2 ``. Matches do not overlap, so in
    a run of . and , rule 2 splits every other one; a lone . or , is split from both sides exactly when a
    non-digit precedes it. After rule 2 no two of . and , are adjacent, so rule 3 splits each one followed
    by a non-digit, and rule 4 each dash after a digit; a consumed neighbour can then never block a match.
    """
    text = _SYMBOL.sub(r" \1 ", text)
    if "." in text or "," in text:
        text = _LONE_PERIOD.sub(" . ", text)
        text = _LONE_COMMA.sub(" , ", text)
        text = _RUN.sub(_split_runs, text)
        text = _PERIOD_NOT_BEFORE_DIGIT.sub(" . ", text)
        text = _COMMA_NOT_BEFORE_DIGIT.sub(" , ", text)
    if "-" in text:
        text = _DASH_AFTER_DIGIT.sub(" - ", text)
    return text


def _thirteen_a_language_independent(line: str) -> str:
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        for entity, character in _ENTITIES:
            line = line.replace(entity, character)
    return line


def tokenize_13a_lines(lines: Sequence[str]) -> list[list[str]]:
    """The tokens of each line under mteval-v13a, sacrebleu's default tokeniser, the corpus in one pass.

    Args:
        lines: the segments, already lower-cased and right-stripped if the metric asks for it.

    Returns:
        One list of tokens per line.
    """
    text = "\n".join(lines)
    if text.count("\n") != max(len(lines) - 1, 0):  # a line holds a newline: mteval's "-\n" rule is per line
        text = "\n".join(map(_thirteen_a_language_independent, lines))
    else:
        text = _thirteen_a_language_independent(text.replace("\n", "\0")).replace("\0", "\n")
    text = _thirteen_a_joined(" " + text.replace("\n", " \n ") + " ")
    return [line.split() for line in text.split("\n")] if lines else []


@functools.cache
def _intl_patterns() -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    """mteval-v14's ``\\p{P}``, ``\\P{N}`` and ``\\p{S}`` as ``re`` classes built from ``unicodedata``."""
    by_kind: dict[str, list[str]] = {"P": [], "N": [], "S": []}
    for code in range(sys.maxunicode + 1):
        kind = unicodedata.category(chr(code))[0]
        if kind in by_kind:
            by_kind[kind].append(chr(code))
    punctuation, number, symbol = (re.escape("".join(by_kind[kind])) for kind in "PNS")
    return (
        re.compile(f"([^{number}])([{punctuation}])"),
        re.compile(f"([{punctuation}])([^{number}])"),
        re.compile(f"([{symbol}])"),
    )


def tokenize_intl(line: str) -> str:
    """mteval-v14's international tokenisation: punctuation apart unless between digits, symbols apart.

    Unicode categories come from Python's ``unicodedata`` (sacrebleu reads them from the ``regex`` module);
    they agree on every character both Unicode versions assign.
    """
    punctuation_after, punctuation_before, symbol = _intl_patterns()
    line = punctuation_after.sub(r"\1 \2 ", line)
    line = punctuation_before.sub(r" \1 \2", line)
    return " ".join(symbol.sub(r" \1 ", line).split())


def tokenize_char(line: str) -> str:
    """Every character a token (spaces too, which then vanish in the split), as sacrebleu's ``char``."""
    return " ".join(line)


def tokenize_none(line: str) -> str:
    """The line as it is: split on whitespace only."""
    return line


LINE_TOKENIZERS: dict[str, Callable[[str], str]] = {"intl": tokenize_intl, "char": tokenize_char, "none": tokenize_none}
TOKENIZERS = ("13a", "intl", "char", "none")


def tokenize_lines(lines: Sequence[str], tokenize: str = "13a") -> list[list[str]]:
    """The tokens of each line under the named tokeniser.

    Args:
        lines: the segments (pre-processed: lower-cased, right-stripped, as the metric requires).
        tokenize: one of ``TOKENIZERS``.

    Returns:
        One list of tokens per line.
    """
    if tokenize == "13a":
        return tokenize_13a_lines(lines)
    if tokenize not in LINE_TOKENIZERS:
        raise ValueError(f"unknown tokenizer {tokenize!r}; choose from {', '.join(TOKENIZERS)}")
    line_tokenizer = LINE_TOKENIZERS[tokenize]
    return [line_tokenizer(line).split() for line in lines]
