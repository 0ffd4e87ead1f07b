"""Tagging schemes for spans (IOB1, BIO, BIOES): which tag may follow which, spans, conversions.

A span tagger labels each token with a prefix and a type: ``B-PER`` begins a person, ``I-PER``
continues one, ``O`` is outside every span. The schemes differ in where a span's first and last
tokens are marked (Ramshaw & Marcus 1995; Tjong Kim Sang & Veenstra 1999, §2):

    IOB1   I-X inside; B-X only on the first token of a span that directly follows a span of
           the same type X (CoNLL-2003 as distributed)
    BIO    B-X on every span's first token, I-X on the rest (also called IOB2; WNUT-17)
    BIOES  B-X first, I-X middle, E-X last token of a span of two or more; S-X a one-token span
           (also called IOBES; Ratinov & Roth 2009 found it the better target)

A sequence is *valid* in a scheme when every move between neighbouring tags is one the scheme
allows (``is_allowed``); a linear-chain CRF decoding with the scheme's ``transition_masks`` can
only produce valid sequences. Valid sequences convert losslessly between the schemes: a sequence
and its conversion have the same spans.

Example:
    >>> convert(["I-PER", "I-PER", "B-PER", "O"], "IOB1", "BIOES")
    ['B-PER', 'E-PER', 'S-PER', 'O']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from seqlab.errors import SeqlabError

SCHEMES = ("IOB1", "BIO", "BIOES")
OUTSIDE = "O"
_PREFIXES = {"IOB1": "BI", "BIO": "BI", "BIOES": "BIES"}  # the prefixes of span tags, besides O


class Span(NamedTuple):
    """Tokens ``start`` to ``end`` (exclusive) of one sentence form an entity of ``type``."""

    start: int
    end: int
    type: str


def split_tag(tag: str, scheme: str) -> tuple[str, str]:
    """``"B-PER"`` → ``("B", "PER")``, ``"O"`` → ``("O", "")``; the type may contain hyphens.

    Raises:
        SeqlabError: the tag is not one of the scheme's (``S-PER`` in BIO, ``PER`` alone, ``B-``).
    """
    _check_scheme(scheme)
    if tag == OUTSIDE:
        return OUTSIDE, ""
    prefix, hyphen, type_ = tag.partition("-")
    if not hyphen or not type_ or prefix not in _PREFIXES[scheme]:
        prefixes = ", ".join(f"{prefix}-TYPE" for prefix in _PREFIXES[scheme])
        raise SeqlabError(f"unknown tag {tag!r} in the {scheme} scheme (tags are O, {prefixes})")
    return prefix, type_


def is_allowed(previous: str | None, current: str | None, scheme: str) -> bool:
    """Whether tag ``current`` may follow tag ``previous`` in ``scheme``.

    ``previous=None`` asks whether a sentence may start with ``current``; ``current=None`` whether
    one may end after ``previous``.
    """
    before = split_tag(previous, scheme) if previous is not None else (OUTSIDE, "")
    after = split_tag(current, scheme) if current is not None else (OUTSIDE, "")
    continues = before[0] in "BI" and after[1] == before[1]
    if scheme == "IOB1":  # B-X only between two spans of type X; I-X anywhere
        return after[0] != "B" or continues
    if scheme == "BIO":  # I-X only inside a span of type X
        return after[0] != "I" or continues
    if before[0] in "BI":  # BIOES: an open span must go on (I-X) or close (E-X) with its own type
        return after[0] in "IE" and after[1] == before[1]
    return after[0] in "OBS"  # after O, E-X, S-X or at the start: O or a new span


def check_tags(tags: Sequence[str], scheme: str) -> None:
    """Raise on the first move ``scheme`` forbids, naming the position (from 1) and both tags.

    Raises:
        SeqlabError: an unknown tag, or an invalid move (``O`` then ``I-PER`` in BIO).
    """
    for position, (previous, current) in enumerate(zip([None, *tags], [*tags, None]), start=1):
        if not is_allowed(previous, current, scheme):
            if current is None:
                raise SeqlabError(f"{scheme}: the sentence cannot end with {previous!r}")
            after = f"after {previous!r}" if previous is not None else "at the start of a sentence"
            raise SeqlabError(f"{scheme}: tag {current!r} at token {position} cannot come {after}")


def spans(tags: Sequence[str], scheme: str) -> list[Span]:
    """The spans of a valid sequence, in order.

    Raises:
        SeqlabError: the sequence is not valid in ``scheme`` (see ``check_tags``).
    """
    check_tags(tags, scheme)
    found: list[Span] = []
    start, open_type = 0, None
    for position, tag in enumerate([*tags, OUTSIDE]):
        prefix, type_ = split_tag(tag, scheme)
        continues = open_type is not None and type_ == open_type and prefix in ("I", "E")
        if scheme == "IOB1" and prefix == "B":
            continues = False
        if open_type is not None and not continues:
            found.append(Span(start, position, open_type))
            open_type = None
        if prefix != OUTSIDE and open_type is None:
            start, open_type = position, type_
        if prefix in ("E", "S"):
            found.append(Span(start, position + 1, type_))
            open_type = None
    return found


def tags_from_spans(found: Sequence[Span], length: int, scheme: str) -> list[str]:
    """The tags of a sentence of ``length`` tokens with the (non-overlapping) spans ``found``."""
    _check_scheme(scheme)
    tags = [OUTSIDE] * length
    previous_end, previous_type = -1, None
    for start, end, type_ in sorted(found):
        if not 0 <= start < end <= length or start < previous_end:
            raise SeqlabError(f"span {start}..{end} overlaps another or lies outside {length} tokens")
        tags[start:end] = [f"I-{type_}"] * (end - start)
        if scheme == "BIO" or (scheme == "IOB1" and start == previous_end and type_ == previous_type):
            tags[start] = f"B-{type_}"
        elif scheme == "BIOES":
            tags[start] = f"B-{type_}" if end - start > 1 else f"S-{type_}"
            if end - start > 1:
                tags[end - 1] = f"E-{type_}"
        previous_end, previous_type = end, type_
    return tags


def convert(tags: Sequence[str], source: str, target: str) -> list[str]:
    """The same spans written in ``target``'s tags.

    Raises:
        SeqlabError: ``tags`` is not valid in ``source``.
    """
    return tags_from_spans(spans(tags, source), len(tags), target)


def scheme_tags(types: Sequence[str], scheme: str) -> list[str]:
    """Every tag of ``scheme`` for the entity ``types``: ``O`` first, then by type and prefix."""
    _check_scheme(scheme)
    return [OUTSIDE] + [f"{prefix}-{type_}" for type_ in types for prefix in _PREFIXES[scheme]]


def transition_masks(tags: Sequence[str], scheme: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which moves between the K ``tags`` ``scheme`` allows, for a CRF's transition constraints.

    Returns:
        allowed (K, K) bool, ``allowed[i, j]``: tag j may follow tag i; start (K,): a sentence may
        begin with the tag; end (K,): a sentence may end with it.
    """
    allowed = np.array([[is_allowed(before, after, scheme) for after in tags] for before in tags], dtype=bool)
    start = np.array([is_allowed(None, tag, scheme) for tag in tags], dtype=bool)
    end = np.array([is_allowed(tag, None, scheme) for tag in tags], dtype=bool)
    return allowed, start, end


def _check_scheme(scheme: str) -> None:
    if scheme not in SCHEMES:
        raise SeqlabError(f"unknown tagging scheme {scheme!r}; choose from {', '.join(SCHEMES)}")
