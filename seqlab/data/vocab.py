"""Vocabularies: frozen mappings between tokens and integer ids, for characters or words.

A vocabulary is built once from training text and is then a frozen artefact, saved next to
the model and never changed while it trains. Both kinds give id 0 to ``<unk>``, which
stands for every token left out (unseen in training, or cut by ``min_count`` or
``max_size``).

* :class:`CharVocab`: a text is its characters.
* :class:`WordVocab`: a text is its whitespace-separated words, with ``<eos>`` at the end
  of every line (the convention of Mikolov's PTB and of WikiText: a corpus already holding
  ``<unk>`` keeps it as the unknown word).
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

from seqlab.errors import SeqlabError

UNK_TOKEN = "<unk>"
EOS_TOKEN = "<eos>"
_FORMAT_VERSION = 1


def _kept_tokens(counts: Counter, min_count: int, max_size: int | None, reserved: int) -> list[str]:
    """The tokens of ``counts`` seen at least ``min_count`` times, most frequent first.

    Ties are broken by the token itself, so the order is the same on every run; at most
    ``max_size - reserved`` tokens are kept, leaving room for the ``reserved`` special ones.
    """
    if min_count < 1:
        raise SeqlabError(f"min_count must be at least 1, got {min_count}")
    if max_size is not None and max_size <= reserved:
        raise SeqlabError(f"max_size must exceed the {reserved} special token(s), got {max_size}")
    ranked = sorted((token for token, count in counts.items() if count >= min_count), key=lambda t: (-counts[t], t))
    return ranked if max_size is None else ranked[: max_size - reserved]


class Vocab(ABC):
    """What both vocabularies share: ids, equality, and saving as JSON.

    Args:
        tokens: every token in id order, the special tokens first.
    """

    format: ClassVar[str]  # names the kind in the saved JSON
    level: ClassVar[str]  # what a token is: "char" or "word"
    unk_id = 0

    def __init__(self, tokens: Sequence[str]):
        self._tokens = tuple(tokens)
        self._ids = {token: index for index, token in enumerate(self._tokens)}
        if len(self._ids) != len(self._tokens):
            raise SeqlabError(f"{type(self).__name__} has repeated tokens")

    @property
    def tokens(self) -> tuple[str, ...]:
        """Every token, in id order."""
        return self._tokens

    def __len__(self) -> int:
        return len(self._tokens)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and self._tokens == other._tokens

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} tokens)"

    @abstractmethod
    def encode(self, text: str) -> list[int]:
        """The id of each token of ``text``; tokens not in the vocabulary become :attr:`unk_id`."""

    @abstractmethod
    def decode(self, ids: Iterable[int]) -> str:
        """The text spelled by ``ids``."""

    @abstractmethod
    def count_unknown(self, text: str) -> int:
        """How many tokens of ``text`` are not in the vocabulary (and so :meth:`encode` reads as ``<unk>``).

        A literal ``<unk>`` in a text (as in the Penn Treebank's) is a known token, not counted.
        """

    def encode_prompt(self, text: str) -> list[int]:
        """The ids of ``text`` as the beginning of a longer text (see :class:`WordVocab`)."""
        return self.encode(text)

    def join(self, prompt: str, continuation: str) -> str:
        """``prompt`` followed by the decoded ``continuation``, as one text."""
        return prompt + continuation

    @abstractmethod
    def _entries(self) -> dict[str, Any]:
        """The JSON fields beside ``format`` and ``version`` from which the class rebuilds itself."""

    @classmethod
    @abstractmethod
    def _from_entries(cls, data: dict[str, Any]) -> Vocab:
        """The vocabulary :meth:`_entries` describes."""

    def to_json(self) -> dict:
        """A JSON-ready description from which :func:`vocab_from_json` rebuilds this vocabulary."""
        return {"format": self.format, "version": _FORMAT_VERSION, **self._entries()}

    def to_bytes(self) -> bytes:
        """The vocabulary as the UTF-8 JSON file :meth:`save` writes."""
        return (json.dumps(self.to_json(), indent=1, ensure_ascii=False) + "\n").encode("utf-8")

    def save(self, path: str | Path) -> None:
        """Write the vocabulary to ``path`` as JSON."""
        Path(path).write_bytes(self.to_bytes())

    @classmethod
    def load(cls, path: str | Path) -> Vocab:
        """Read a vocabulary written by :meth:`save`: of this class, or of any kind from the base class."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise SeqlabError(f"{path}: vocabulary file not found") from None
        return cls.from_json_bytes(data, source=str(path))

    @classmethod
    def from_json_bytes(cls, data: bytes, *, source: str) -> Vocab:
        """The vocabulary in the JSON file contents ``data``, read from ``source`` (named in errors)."""
        try:
            vocab = vocab_from_json(json.loads(data.decode("utf-8")))
        except (ValueError, KeyError, TypeError) as error:
            raise SeqlabError(f"{source}: not a valid vocabulary file: {error}") from None
        if not isinstance(vocab, cls):
            raise SeqlabError(f"{source}: holds a {type(vocab).__name__}, not a {cls.__name__}")
        return vocab


class CharVocab(Vocab):
    """Characters to ids and back; id 0 is ``<unk>``.

    ``decode(encode(text)) == text`` for every text made of known characters; an unknown
    character encodes to :attr:`unk_id` and decodes to the string ``"<unk>"``.

    Args:
        chars: the known characters, each a string of length one, without repeats. Their
            ids are 1, 2, ... in the given order.

    Example:
        >>> vocab = CharVocab.from_text("hello")
        >>> vocab.encode("hole!")
        [2, 4, 3, 1, 0]
        >>> vocab.decode(vocab.encode("hole!"))
        'hole<unk>'
    """

    format = "seqlab.char_vocab"
    level = "char"

    def __init__(self, chars: Sequence[str]):
        chars = tuple(chars)
        bad = [char for char in chars if not isinstance(char, str) or len(char) != 1]
        if bad:
            raise SeqlabError(f"vocabulary entries must be single characters, got {bad[:5]!r}")
        if len(set(chars)) != len(chars):
            raise SeqlabError("vocabulary has repeated characters")
        super().__init__((UNK_TOKEN, *chars))

    @classmethod
    def from_text(cls, text: str, *, min_count: int = 1, max_size: int | None = None) -> CharVocab:
        """The characters of ``text`` seen at least ``min_count`` times, in code-point order.

        Args:
            min_count: rarer characters are left to ``<unk>``.
            max_size: at most this many ids, ``<unk>`` included: the most frequent characters.
        """
        kept = _kept_tokens(Counter(text), min_count, max_size, reserved=1)
        return cls(sorted(kept))

    @property
    def chars(self) -> tuple[str, ...]:
        """The known characters, in id order (ids 1, 2, ...)."""
        return self._tokens[1:]

    def encode(self, text: str) -> list[int]:
        ids = self._ids
        return [ids.get(char, self.unk_id) for char in text]

    def count_unknown(self, text: str) -> int:
        ids = self._ids
        return sum(char not in ids for char in text)

    def decode(self, ids: Iterable[int]) -> str:
        """The text spelled by ``ids``; :attr:`unk_id` is written as ``"<unk>"``."""
        tokens = self._tokens
        return "".join(tokens[int(index)] for index in ids)

    def _entries(self) -> dict[str, Any]:
        return {"unk_token": UNK_TOKEN, "chars": list(self.chars)}

    @classmethod
    def _from_entries(cls, data: dict[str, Any]) -> CharVocab:
        return cls(data["chars"])


class WordVocab(Vocab):
    """Words to ids and back; id 0 is ``<unk>`` and id 1 is ``<eos>``, the end of a line.

    A text is tokenised by splitting each line on whitespace and ending it with ``<eos>``;
    decoding joins words with spaces and turns ``<eos>`` back into a line break, so
    ``decode(encode(text))`` is ``text`` with its spacing normalised.

    Args:
        words: the known words without repeats and without the two special tokens; their
            ids are 2, 3, ... in the given order.

    Example:
        >>> vocab = WordVocab.from_text("the cat sat\\nthe end\\n")
        >>> vocab.words
        ('the', 'cat', 'end', 'sat')
        >>> vocab.encode("the dog sat\\n")
        [2, 0, 5, 1]
        >>> vocab.decode([2, 0, 5, 1])
        'the <unk> sat\\n'
    """

    format = "seqlab.word_vocab"
    level = "word"
    eos_id = 1

    def __init__(self, words: Sequence[str]):
        words = tuple(words)
        bad = [word for word in words if not isinstance(word, str) or not word or word != "".join(word.split())]
        if bad:
            raise SeqlabError(f"vocabulary words must be non-empty and without whitespace, got {bad[:5]!r}")
        special = {UNK_TOKEN, EOS_TOKEN} & set(words)
        if special:
            raise SeqlabError(f"{sorted(special)} are the vocabulary's own tokens, not words to list")
        super().__init__((UNK_TOKEN, EOS_TOKEN, *words))

    @staticmethod
    def tokenize(text: str) -> list[str]:
        """The words of each line of ``text`` followed by ``<eos>``; an empty line is ``<eos>`` alone."""
        tokens: list[str] = []
        for line in text.splitlines():
            tokens.extend(line.split())
            tokens.append(EOS_TOKEN)
        return tokens

    @classmethod
    def from_text(cls, text: str, *, min_count: int = 1, max_size: int | None = None) -> WordVocab:
        """The words of ``text`` seen at least ``min_count`` times, most frequent first.

        Args:
            min_count: rarer words are left to ``<unk>``.
            max_size: at most this many ids, the two special tokens included: the most
                frequent words (ties broken alphabetically).
        """
        counts = Counter(cls.tokenize(text))
        for special in (UNK_TOKEN, EOS_TOKEN):
            counts.pop(special, None)
        return cls(_kept_tokens(counts, min_count, max_size, reserved=2))

    @property
    def words(self) -> tuple[str, ...]:
        """The known words, in id order (ids 2, 3, ...)."""
        return self._tokens[2:]

    def encode(self, text: str) -> list[int]:
        ids = self._ids
        return [ids.get(token, self.unk_id) for token in self.tokenize(text)]

    def count_unknown(self, text: str) -> int:
        ids = self._ids
        return sum(token not in ids for token in self.tokenize(text))

    def decode(self, ids: Iterable[int]) -> str:
        """Words joined by spaces, each ``<eos>`` written as a line break."""
        lines: list[str] = []
        words: list[str] = []
        for index in map(int, ids):
            if index == self.eos_id:
                lines.append(" ".join(words))
                words = []
            else:
                words.append(self._tokens[index])
        return "\n".join([*lines, " ".join(words)])

    def encode_prompt(self, text: str) -> list[int]:
        """Like :meth:`encode`, but a last line without a line break is left open (no ``<eos>``)."""
        ids = self.encode(text)
        return ids if text.endswith(("\n", "\r")) else ids[:-1]

    def join(self, prompt: str, continuation: str) -> str:
        """``prompt``, a space unless it ends a line, and the continuation."""
        if not prompt or prompt.endswith(("\n", "\r")) or continuation.startswith("\n"):
            return prompt + continuation
        return f"{prompt} {continuation}"

    def _entries(self) -> dict[str, Any]:
        return {"unk_token": UNK_TOKEN, "eos_token": EOS_TOKEN, "words": list(self.words)}

    @classmethod
    def _from_entries(cls, data: dict[str, Any]) -> WordVocab:
        return cls(data["words"])


VOCAB_CLASSES: dict[str, type[Vocab]] = {vocab_class.level: vocab_class for vocab_class in (CharVocab, WordVocab)}


def vocab_from_json(data: dict) -> Vocab:
    """The vocabulary described by ``data``, as written by :meth:`Vocab.to_json`."""
    kinds = {vocab_class.format: vocab_class for vocab_class in VOCAB_CLASSES.values()}
    if not isinstance(data, dict) or data.get("format") not in kinds:
        raise SeqlabError(f"not a seqlab vocabulary (expected a format among {sorted(kinds)})")
    if data.get("version") != _FORMAT_VERSION:
        raise SeqlabError(f"unsupported vocabulary version {data.get('version')!r}")
    return kinds[data["format"]]._from_entries(data)
