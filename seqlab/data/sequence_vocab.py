"""The vocabulary of one side of a sequence-to-sequence task: words or characters, with four special tokens.

Translation reads and writes whole sentences, so besides ``<unk>`` a model needs ``<bos>`` (fed
before the first output token), ``<eos>`` (the last token it predicts) and ``<pad>``. The ids are
those of :class:`~seqlab.data.subwords.SubwordTokenizer`, so that a model never needs to know
which kind of vocabulary its sentences were cut with:

    <unk> 0   <eos> 1   <bos> 2   <pad> 3   then the tokens, most frequent first (ties by the token)

Words are split on whitespace and joined with single spaces (the tokenised Multi30k files are
already tokenised); characters are every character of the line, spaces included.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable

from seqlab.errors import SeqlabError

SPECIAL_TOKENS = ("<unk>", "<eos>", "<bos>", "<pad>")
LEVELS = ("word", "char")
_FORMAT = "seqlab.sequence_vocab"


class SequenceVocab:
    """Frozen token ↔ id mapping of one side (source or target) of a sequence-to-sequence task.

    Args:
        tokens: the ordinary tokens in id order (the special tokens come before them).
        level: ``"word"`` or ``"char"``.

    Example:
        >>> vocab = SequenceVocab.from_lines(["a dog runs", "a cat"], level="word")
        >>> vocab.encode("a cat sleeps"), vocab.decode([4, 6, 1])
        ([4, 6, 0], 'a cat')
    """

    unk_id, eos_id, bos_id, pad_id = 0, 1, 2, 3

    def __init__(self, tokens: Iterable[str], *, level: str):
        if level not in LEVELS:
            raise SeqlabError(f"level must be one of {LEVELS}, got {level!r}")
        self.level = level
        self._tokens = (*SPECIAL_TOKENS, *tokens)
        self._ids = {token: index for index, token in enumerate(self._tokens)}
        if len(self._ids) != len(self._tokens):
            raise SeqlabError("a vocabulary holds each token once, special tokens included")

    @classmethod
    def from_lines(
        cls, lines: Iterable[str], *, level: str, min_count: int = 1, max_size: int | None = None
    ) -> SequenceVocab:
        """The tokens of ``lines`` seen at least ``min_count`` times, at most ``max_size`` ids in all."""
        if min_count < 1:
            raise SeqlabError(f"min_count must be at least 1, got {min_count}")
        if max_size is not None and max_size <= len(SPECIAL_TOKENS):
            raise SeqlabError(f"max_size must exceed the {len(SPECIAL_TOKENS)} special tokens, got {max_size}")
        counts = Counter(token for line in lines for token in _split(line, level))
        for special in SPECIAL_TOKENS:
            counts.pop(special, None)
        ranked = sorted((token for token, count in counts.items() if count >= min_count), key=lambda t: (-counts[t], t))
        if max_size is not None:
            ranked = ranked[: max_size - len(SPECIAL_TOKENS)]
        return cls(ranked, level=level)

    @property
    def tokens(self) -> tuple[str, ...]:
        """Every token in id order, the special ones first."""
        return self._tokens

    def __len__(self) -> int:
        return len(self._tokens)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SequenceVocab) and (self.level, self._tokens) == (other.level, other._tokens)

    def __repr__(self) -> str:
        return f"SequenceVocab({len(self)} {self.level} tokens)"

    def encode(self, text: str, *, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """The ids of the tokens of ``text``; unknown tokens become ``<unk>``."""
        ids = [self._ids.get(token, self.unk_id) for token in _split(text, self.level)]
        return ([self.bos_id] if add_bos else []) + ids + ([self.eos_id] if add_eos else [])

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids``: ``<unk>`` is written as such, the other special tokens are left out."""
        tokens = [self._tokens[index] for index in ids if index not in (self.eos_id, self.bos_id, self.pad_id)]
        return (" " if self.level == "word" else "").join(tokens)

    def split(self, text: str) -> list[str]:
        """The tokens ``text`` is cut into, as :meth:`encode` cuts it (for attention maps and reports)."""
        return _split(text, self.level)

    def to_bytes(self) -> bytes:
        """JSON: the format, the level and the ordinary tokens."""
        entries = {"format": _FORMAT, "level": self.level, "tokens": list(self._tokens[len(SPECIAL_TOKENS) :])}
        return json.dumps(entries, ensure_ascii=False, indent=0).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str) -> SequenceVocab:
        """The vocabulary :meth:`to_bytes` wrote; ``source`` names the file in errors."""
        try:
            entries = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise SeqlabError(f"{source}: not a seqlab vocabulary ({error})") from None
        if not isinstance(entries, dict) or entries.get("format") != _FORMAT:
            raise SeqlabError(f"{source}: not a seqlab sequence vocabulary (format {_FORMAT!r} expected)")
        return cls(entries["tokens"], level=entries["level"])


def _split(text: str, level: str) -> list[str]:
    return text.split() if level == "word" else list(text)
