"""Where the entities of a tag sequence are, read the way seqeval 1.2.2 reads them.

Taggers output sequences that need not be valid in their scheme (``O I-PER`` in BIO), so a scorer
must say what such a sequence means. Two readings are in use, and seqlab gives both:

``lenient_spans`` (seqeval's default mode; conlleval's rules for B, I and O)
    A span starts at B-X or S-X, at I-X or E-X after O, E or S, and wherever the type changes; it
    ends before B, S or O, after E or S, and wherever the type changes. ``O I-PER I-PER`` is one
    person. Tags are read as their first character (the prefix) and the rest after a hyphen
    (the type), whatever they are.
``strict_spans`` (seqeval's strict mode, ``mode="strict"`` with a scheme)
    A span is only what the scheme writes: in BIO a span must begin with B-X, so ``O I-PER`` has
    no entity; in BIOES a span must close with E-X or be S-X. Prefixes the scheme does not have
    are an error.

conlleval itself does not list spans: it counts matches with a state machine over the reference
and predicted tags together (``seqlab.metrics.conlleval``). For B, I and O tags its chunks are the
lenient ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from seqlab.errors import SeqlabError

_OUTSIDE_TYPE = "_"  # seqeval's type of a tag without one (O)
SCHEMES = ("IOB1", "BIO", "BIOES")  # those of seqlab.data.tag_schemes, whose spans the strict mode reads


class Entity(NamedTuple):
    """Tokens ``start`` to ``end`` (exclusive) of one sentence, read as an entity of ``type``."""

    start: int
    end: int
    type: str


def lenient_spans(tags: Sequence[str]) -> list[Entity]:
    """The spans of ``tags`` by seqeval's default rules (see the module docstring).

    Example:
        >>> lenient_spans(["O", "I-PER", "I-PER", "B-LOC"])
        [Entity(start=1, end=3, type='PER'), Entity(start=3, end=4, type='LOC')]
    """
    found: list[Entity] = []
    previous, previous_type, start = "O", _OUTSIDE_TYPE, 0
    for position, tag in enumerate([*tags, "O"]):
        prefix, type_ = _lenient_parts(tag)
        if _lenient_end(previous, prefix, previous_type, type_):
            found.append(Entity(start, position, previous_type))
        if _lenient_start(previous, prefix, previous_type, type_):
            start = position
        previous, previous_type = prefix, type_
    return found


def _lenient_parts(tag: str) -> tuple[str, str]:
    """seqeval's reading of a tag: the first character, and what follows the first hyphen after it."""
    if not tag:
        raise SeqlabError("an empty tag")
    return tag[0], tag[1:].split("-", 1)[-1] or _OUTSIDE_TYPE


def _lenient_end(previous: str, prefix: str, previous_type: str, type_: str) -> bool:
    """Whether a span ends between a token tagged ``previous`` and one tagged ``prefix``."""
    return (
        previous in ("E", "S")
        or (previous in ("B", "I") and prefix in ("B", "S", "O"))
        or (previous not in ("O", ".") and previous_type != type_)
    )


def _lenient_start(previous: str, prefix: str, previous_type: str, type_: str) -> bool:
    """Whether a span starts at a token tagged ``prefix`` after one tagged ``previous``."""
    return (
        prefix in ("B", "S")
        or (previous in ("E", "S", "O") and prefix in ("E", "I"))
        or (prefix not in ("O", ".") and previous_type != type_)
    )


# seqeval's strict patterns: (prefixes of the previous token, prefixes of this one, type condition)
_ANY = "IOBES"
_STRICT = {
    "IOB1": {
        "prefixes": "IOB",
        "start": [
            ("O", "I", "any"),
            ("I", "I", "different"),
            ("B", "I", "any"),
            ("I", "B", "same"),
            ("B", "B", "same"),
        ],
        "inside": [("B", "I", "same"), ("I", "I", "same")],
        "end": [
            ("I", "I", "different"),
            ("I", "O", "any"),
            ("I", "B", "any"),
            ("B", "O", "any"),
            ("B", "I", "different"),
            ("B", "B", "same"),
        ],
    },  # fmt: skip
    "BIO": {
        "prefixes": "IOB",
        "start": [(_ANY, "B", "any")],
        "inside": [("B", "I", "same"), ("I", "I", "same")],
        "end": [
            ("I", "O", "any"),
            ("I", "I", "different"),
            ("I", "B", "any"),
            ("B", "O", "any"),
            ("B", "I", "different"),
            ("B", "B", "any"),
        ],
    },  # fmt: skip
    "BIOES": {
        "prefixes": "IOBES",
        "start": [(_ANY, "B", "any"), (_ANY, "S", "any")],
        "inside": [("B", "I", "same"), ("B", "E", "same"), ("I", "I", "same"), ("I", "E", "same")],
        "end": [("S", _ANY, "any"), ("E", _ANY, "any")],
    },
}


def strict_spans(tags: Sequence[str], scheme: str) -> list[Entity]:
    """The spans of ``tags`` as ``scheme`` writes them, by seqeval's strict mode.

    A span is a start token (a start pattern after its predecessor), the tokens that follow by
    inside patterns, and it counts only if the token after it closes it by an end pattern.

    Raises:
        SeqlabError: an unknown scheme, or a tag whose prefix the scheme does not have.

    Example:
        >>> strict_spans(["O", "I-PER", "B-LOC", "I-LOC"], "BIO")
        [Entity(start=2, end=4, type='LOC')]
    """
    if scheme not in _STRICT:
        raise SeqlabError(f"unknown tagging scheme {scheme!r}; choose from {', '.join(SCHEMES)}")
    patterns = _STRICT[scheme]
    tokens = [_strict_parts(tag, scheme, patterns["prefixes"]) for tag in tags] + [("O", _OUTSIDE_TYPE)]

    def matches(kind: str, position: int, previous: tuple[str, str]) -> bool:
        return _matches(patterns[kind], previous, tokens[position])

    found: list[Entity] = []
    position, previous = 0, ("O", _OUTSIDE_TYPE)
    while position < len(tokens):
        if matches("start", position, previous):
            end = position + 1
            while matches("inside", end, tokens[end - 1]):
                end += 1
            if matches("end", end, tokens[end - 1]):
                found.append(Entity(position, end, tokens[position][1]))
            position = end
        else:
            position += 1
        previous = tokens[position - 1]
    return found


def _strict_parts(tag: str, scheme: str, prefixes: str) -> tuple[str, str]:
    """seqeval's strict reading: the first character, and the rest without hyphens at either end."""
    if not tag or tag[0] not in prefixes:
        raise SeqlabError(f"tag {tag!r} is not one of the {scheme} scheme's (prefixes {', '.join(prefixes)})")
    return tag[0], tag[1:].strip("-") or _OUTSIDE_TYPE


def _matches(patterns: list[tuple[str, str, str]], previous: tuple[str, str], current: tuple[str, str]) -> bool:
    """Whether the move from ``previous`` to ``current`` (prefix, type) fits one of ``patterns``."""
    same_type = previous[1] == current[1]
    return any(
        previous[0] in before and current[0] in after
        and (condition == "any" or (condition == "same") == same_type)
        for before, after, condition in patterns
    )  # fmt: skip


def detect_scheme(sentences: Iterable[Sequence[str]]) -> str:
    """BIOES where any tag is E-X or S-X, else BIO (IOB1 cannot be told from BIO by its prefixes).

    Raises:
        SeqlabError: a prefix none of the schemes has.
    """
    prefixes = {tag.partition("-")[0] for tags in sentences for tag in tags}
    unknown = sorted(prefixes - set("BIESO"))
    if unknown:
        raise SeqlabError(f"tags with the prefix {unknown[0]!r} belong to none of {', '.join(SCHEMES)}")
    return "BIOES" if prefixes & {"E", "S"} else "BIO"
