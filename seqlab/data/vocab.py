"""A character vocabulary: a frozen mapping between characters and integer ids."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from seqlab.errors import SeqlabError

UNK_TOKEN = "<unk>"
_FORMAT = "seqlab.char_vocab"
_FORMAT_VERSION = 1


class CharVocab:
    """Characters to ids and back; id 0 is ``<unk>``, every character unseen in training.

    The vocabulary is built once from training text (:meth:`from_text`) and is then a frozen
    artefact: it is saved next to a model and never changes while the model trains.
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

    unk_id = 0

    def __init__(self, chars: Sequence[str]):
        chars = tuple(chars)
        bad = [char for char in chars if not isinstance(char, str) or len(char) != 1]
        if bad:
            raise SeqlabError(f"vocabulary entries must be single characters, got {bad[:5]!r}")
        if len(set(chars)) != len(chars):
            raise SeqlabError("vocabulary has repeated characters")
        self._tokens = (UNK_TOKEN, *chars)
        self._ids = {char: index for index, char in enumerate(chars, start=1)}

    @classmethod
    def from_text(cls, text: str) -> CharVocab:
        """The vocabulary of every character in ``text``, in code-point order."""
        return cls(sorted(set(text)))

    @property
    def chars(self) -> tuple[str, ...]:
        """The known characters, in id order (ids 1, 2, ...)."""
        return self._tokens[1:]

    def __len__(self) -> int:
        return len(self._tokens)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CharVocab) and self._tokens == other._tokens

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} tokens)"

    def encode(self, text: str) -> list[int]:
        """The id of each character of ``text``; unknown characters become :attr:`unk_id`."""
        ids = self._ids
        return [ids.get(char, self.unk_id) for char in text]

    def decode(self, ids: Iterable[int]) -> str:
        """The text spelled by ``ids``; :attr:`unk_id` is written as ``"<unk>"``."""
        tokens = self._tokens
        return "".join(tokens[int(index)] for index in ids)

    def to_json(self) -> dict:
        """A JSON-ready description from which :meth:`from_json` rebuilds this vocabulary."""
        return {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "unk_token": UNK_TOKEN,
            "chars": list(self.chars),
        }

    @classmethod
    def from_json(cls, data: dict) -> CharVocab:
        """The vocabulary described by ``data``, as written by :meth:`to_json`."""
        if not isinstance(data, dict) or data.get("format") != _FORMAT:
            raise SeqlabError(f"not a seqlab character vocabulary (expected format {_FORMAT!r})")
        if data.get("version") != _FORMAT_VERSION:
            raise SeqlabError(f"unsupported character vocabulary version {data.get('version')!r}")
        return cls(data["chars"])

    def save(self, path: str | Path) -> None:
        """Write the vocabulary to ``path`` as JSON."""
        Path(path).write_text(json.dumps(self.to_json(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> CharVocab:
        """Read a vocabulary written by :meth:`save`."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls.from_json(data)
        except FileNotFoundError:
            raise SeqlabError(f"{path}: vocabulary file not found") from None
        except (ValueError, KeyError, TypeError) as error:
            raise SeqlabError(f"{path}: not a valid vocabulary file: {error}") from None
