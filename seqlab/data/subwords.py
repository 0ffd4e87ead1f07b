"""Subword units (BPE or unigram) learnt from raw text with sentencepiece, decoded back to exactly that text.

A translation model reads and writes subword ids; what it writes is decoded to plain,
untokenised text, which sacreBLEU then scores as it scores published systems. Two objects,
as in sentencepiece and HF tokenizers:

* :class:`SubwordTrainer`: the settings of a training run (vocabulary size, ``"bpe"`` or
  ``"unigram"``, threads, a sample size); :meth:`SubwordTrainer.train` learns a model from lines of text
  or from files.
* :class:`SubwordTokenizer`: the frozen model, ``encode`` / ``decode`` / ``encode_pieces``,
  saved as sentencepiece's own ``.model`` file (a protobuf: reading it runs no code, unlike a pickle).

Models: BPE (Sennrich et al. 2016, "Neural Machine Translation of Rare Words with Subword
Units", section 3.2: merge the most frequent pair of symbols, repeatedly) and the unigram
language model (Kudo 2018, "Subword Regularization", section 3.1: EM over a seed vocabulary,
pruned to the pieces whose removal costs least likelihood). Both are sentencepiece's
(Kudo & Richardson 2018), which treats the text as a sequence of characters with spaces as
``▁``, so no pre-tokeniser and no detokeniser are needed.

Every text round-trips exactly, ``decode(encode(text)) == text``, except that sentencepiece reads
its space mark ``▁`` (U+2581, absent from Multi30k) as a space; training uses:

* ``normalization_rule_name="identity"``: no NFKC (which turns a no-break space into a space
  and "№" into "No"), and ``remove_extra_whitespaces=False`` (keeps double, leading and trailing
  spaces, and tabs);
* ``byte_fallback=True``: a character not in the vocabulary is spelled as its UTF-8 bytes
  (256 pieces ``<0x00>`` ... ``<0xFF>``), never as ``<unk>``;
* ``character_coverage=1.0``: every character of the training text has its own piece.

Special ids follow seqlab's vocabularies (:mod:`seqlab.data.vocab`): ``<unk>`` is 0 and
``<eos>`` is 1, as in :class:`~seqlab.data.vocab.WordVocab`; then ``<bos>`` 2 and ``<pad>`` 3.
The three control pieces never come out of :meth:`SubwordTokenizer.encode` (a literal
``"<eos>"`` in a text is spelled by ordinary pieces) and decode to nothing; ``<unk>`` is never
produced by encoding either, and decodes to ``"<unk>"`` if a model outputs it.

sentencepiece is imported inside the functions that need it, so importing :mod:`seqlab.data`
stays light.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from seqlab.atomic_directory import open_directory, replaced_directory
from seqlab.checksums import verified_bytes
from seqlab.data.vocab import EOS_TOKEN, UNK_TOKEN
from seqlab.errors import SeqlabError
from seqlab.text_file import read_text_file

BOS_TOKEN = "<bos>"
PAD_TOKEN = "<pad>"
MODEL_TYPES = ("bpe", "unigram")
MODEL_FILE = "subwords.model"  # the file :meth:`SubwordTokenizer.save` writes in its directory
_SPECIAL_PIECES = {UNK_TOKEN: 0, EOS_TOKEN: 1, BOS_TOKEN: 2, PAD_TOKEN: 3}
_BYTE_PIECES = 256  # <0x00> ... <0xFF>, added by byte fallback


def _lines_of_files(paths: Sequence[str | Path]) -> Iterator[str]:
    """The lines of UTF-8 text files in order, without line breaks (``\\n`` or ``\\r\\n``)."""
    for path in paths:
        text = read_text_file(path)
        for line in text.removesuffix("\n").split("\n"):
            yield line.removesuffix("\r")


@dataclass(frozen=True)
class SubwordTrainer:
    """The settings of a sentencepiece training run; :meth:`train` returns a :class:`SubwordTokenizer`.

    Training is deterministic: the same lines and settings give the same model, byte for byte.
    There is no seed to set: the sample that ``max_sentences`` draws is the same on every run
    (sentencepiece 0.2.3 seeds its sampler itself; ``set_random_generator_seed`` does not change it).

    Args:
        vocab_size: pieces in the model, the 4 special pieces and the 256 byte pieces included.
        model_type: ``"bpe"`` or ``"unigram"``.
        threads: training threads. A unigram model depends on the thread count (on Multi30k,
            1 and 2 threads give different pieces; ``benchmarks/subwords.py`` measures it), a BPE
            model does not; the default, 1, gives the same model on every machine.
        max_sentences: train on a sample of this many sentences (more than 100); 0 reads them all.

    Example:
        >>> lines = ["Ein Mann fährt Rad.", "A man rides a bike.", "Zwei Hunde spielen im Park.", "Two dogs play."] * 10
        >>> tokenizer = SubwordTrainer(vocab_size=295, model_type="bpe").train(lines)
        >>> tokenizer.decode(tokenizer.encode("Ein Hund fährt. Ωμέγα!"))
        'Ein Hund fährt. Ωμέγα!'
    """

    vocab_size: int = 8000  # 8,000 pieces: the size measured on Multi30k in benchmarks/subwords.py
    model_type: str = "bpe"  # fewer pieces per sentence than unigram on Multi30k, and the same at any thread count
    threads: int = 1  # unigram models differ with the thread count; 1 is reproducible everywhere
    max_sentences: int = 0  # 0: every sentence

    def __post_init__(self) -> None:
        if self.model_type not in MODEL_TYPES:
            raise SeqlabError(f"model_type must be one of {list(MODEL_TYPES)}, got {self.model_type!r}")
        minimum = len(_SPECIAL_PIECES) + _BYTE_PIECES + 1
        if self.vocab_size < minimum:
            raise SeqlabError(
                f"vocab_size must be at least {minimum} (4 special and 256 byte pieces, and one more), "
                f"got {self.vocab_size}"
            )
        if self.threads < 1:
            raise SeqlabError(f"threads must be at least 1, got {self.threads}")
        if self.max_sentences != 0 and self.max_sentences <= 100:  # sentencepiece's own limit
            raise SeqlabError(f"max_sentences must be 0 (every sentence) or more than 100, got {self.max_sentences}")

    def train(self, lines: Iterable[str]) -> SubwordTokenizer:
        """Learn a model from ``lines``, one sentence each.

        Empty lines are skipped, and sentencepiece leaves lines over 4,192 bytes out of training
        (they still encode and decode exactly).

        Raises:
            SeqlabError: no line holds text, or the text has too few distinct pieces for
                ``vocab_size`` (the message gives the largest size it allows).
        """
        import io

        import sentencepiece

        sentences = [line for line in lines if line.strip()]
        if not sentences:
            raise SeqlabError("no text to learn subword units from: every line is empty")
        model = io.BytesIO()
        try:
            sentencepiece.SentencePieceTrainer.train(
                sentence_iterator=iter(sentences),
                model_writer=model,
                **self._options(),
            )
        except RuntimeError as error:
            raise SeqlabError(f"sentencepiece could not train the model: {_reason(error)}") from None
        return SubwordTokenizer(model.getvalue())

    def train_files(self, paths: str | Path | Sequence[str | Path]) -> SubwordTokenizer:
        """Learn a model from the lines of one or more UTF-8 text files (several languages: a joint model).

        Raises:
            SeqlabError: a file is missing, empty, or not UTF-8 (the message names it), or as :meth:`train`.
        """
        if isinstance(paths, (str, os.PathLike)):
            paths = [paths]
        return self.train(_lines_of_files(paths))

    def _options(self) -> dict[str, Any]:
        """sentencepiece's trainer options: exact round trips, and seqlab's special ids."""
        return {
            "model_type": self.model_type,
            "vocab_size": self.vocab_size,
            "num_threads": self.threads,
            "input_sentence_size": self.max_sentences,
            "shuffle_input_sentence": True,  # a uniform sample when max_sentences is set
            "character_coverage": 1.0,
            "normalization_rule_name": "identity",
            "remove_extra_whitespaces": False,
            "byte_fallback": True,
            "unk_id": _SPECIAL_PIECES[UNK_TOKEN],
            "eos_id": _SPECIAL_PIECES[EOS_TOKEN],
            "bos_id": _SPECIAL_PIECES[BOS_TOKEN],
            "pad_id": _SPECIAL_PIECES[PAD_TOKEN],
            "unk_piece": UNK_TOKEN,
            "eos_piece": EOS_TOKEN,
            "bos_piece": BOS_TOKEN,
            "pad_piece": PAD_TOKEN,
            "unk_surface": UNK_TOKEN,  # how a <unk> output decodes, as CharVocab writes it
            "minloglevel": 2,  # warnings and errors only
        }


def _reason(error: RuntimeError) -> str:
    """sentencepiece's message without its source location (``INTERNAL: src/x.cc(744) [...]``)."""
    message = str(error).strip()
    return re.sub(r"^[A-Z_]+: \S+\(\d+\) \[.*?\]\s*", "", message) or message


class SubwordTokenizer:
    """A trained subword model: text to ids and back, exactly.

    Args:
        model: the bytes of a sentencepiece ``.model`` file made by :class:`SubwordTrainer`.

    Raises:
        SeqlabError: ``model`` is not a sentencepiece model, or not one with seqlab's special
            pieces and byte fallback.

    Example:
        >>> lines = ["Ein Mann fährt Rad.", "A man rides a bike.", "Zwei Hunde spielen im Park.", "Two dogs play."] * 10
        >>> tokenizer = SubwordTrainer(vocab_size=292, model_type="unigram").train(lines)
        >>> ids = tokenizer.encode("Ein Hund", add_eos=True)
        >>> ids[-1] == tokenizer.eos_id, tokenizer.decode(ids)
        (True, 'Ein Hund')
        >>> tokenizer.encode_pieces("Hunde Ω")  # Ω is not in the training text: its UTF-8 bytes
        ['▁', 'H', 'u', 'n', 'de', '▁', '<0xCE>', '<0xA9>']
    """

    unk_id: ClassVar[int] = _SPECIAL_PIECES[UNK_TOKEN]  # 0, as in every seqlab vocabulary
    eos_id: ClassVar[int] = _SPECIAL_PIECES[EOS_TOKEN]  # 1, as in WordVocab
    bos_id: ClassVar[int] = _SPECIAL_PIECES[BOS_TOKEN]
    pad_id: ClassVar[int] = _SPECIAL_PIECES[PAD_TOKEN]

    def __init__(self, model: bytes, *, source: str = "subword model"):
        self._model = bytes(model)
        self._processor = _load_processor(self._model, source)

    @classmethod
    def from_bytes(cls, model: bytes, *, source: str = "subword model") -> SubwordTokenizer:
        """The tokenizer in ``model``, the bytes of a ``.model`` file read from ``source`` (named in errors)."""
        return cls(model, source=source)

    def to_bytes(self) -> bytes:
        """The sentencepiece ``.model`` file (a protobuf), as :meth:`save` writes it."""
        return self._model

    def save(self, directory: str | Path) -> None:
        """Write the model to ``directory`` as ``subwords.model``, with its checksum, replacing the directory whole.

        A process killed while saving leaves the previous version (or the new one) complete.
        """
        with replaced_directory(directory, required=[MODEL_FILE], kind="seqlab subword model") as staged:
            (staged.path / MODEL_FILE).write_bytes(self._model)

    @classmethod
    def load(cls, directory: str | Path) -> SubwordTokenizer:
        """The tokenizer :meth:`save` wrote to ``directory``.

        Raises:
            SeqlabError: the directory or its ``subwords.model`` is missing, the file's checksum
                differs from the one saved with it, or the file is not a seqlab subword model.
        """
        directory = open_directory(directory, required=[MODEL_FILE])  # finishes a save that was interrupted
        if not directory.is_dir():
            raise SeqlabError(f"{directory}: no such subword model directory")
        path = directory / MODEL_FILE
        if not path.is_file():
            raise SeqlabError(f"{path}: subword model file not found")
        return cls(verified_bytes(path), source=str(path))

    def __len__(self) -> int:
        return self._processor.get_piece_size()

    def __eq__(self, other: object) -> bool:
        """The same model file, byte for byte (it also records the training settings, threads included)."""
        return isinstance(other, SubwordTokenizer) and self._model == other._model

    def __hash__(self) -> int:
        return hash(self._model)

    def __repr__(self) -> str:
        return f"SubwordTokenizer({len(self)} pieces)"

    @property
    def pieces(self) -> tuple[str, ...]:
        """Every piece, in id order (``▁`` marks a piece that begins with a space)."""
        processor = self._processor
        return tuple(processor.id_to_piece(index) for index in range(len(self)))

    def encode(self, text: str, *, add_bos: bool = False, add_eos: bool = False) -> list[int]:
        """The ids of ``text``'s pieces, optionally between :attr:`bos_id` and :attr:`eos_id`.

        Shape:
            - returns: one id per piece (a character outside the vocabulary is one id per UTF-8 byte)
        """
        return self._processor.encode(text, add_bos=add_bos, add_eos=add_eos)

    def encode_batch(
        self, texts: Sequence[str], *, add_bos: bool = False, add_eos: bool = False, threads: int = 1
    ) -> list[list[int]]:
        """:meth:`encode` of each text, in one call (``threads`` threads); the same ids as one at a time."""
        return self._processor.encode(list(texts), add_bos=add_bos, add_eos=add_eos, num_threads=threads)

    def encode_pieces(self, text: str) -> list[str]:
        """The pieces of ``text`` as strings (for attention maps and inspection), one per id of :meth:`encode`."""
        return self._processor.encode(text, out_type=str)

    def decode(self, ids: Iterable[int]) -> str:
        """The text spelled by ``ids``: ``<bos>``, ``<eos>`` and ``<pad>`` write nothing, ``<unk>`` writes ``"<unk>"``.

        Byte pieces that do not form valid UTF-8 (a model may output them) decode to U+FFFD.

        Raises:
            SeqlabError: an id is negative or not below ``len(self)``.
        """
        ids = [int(index) for index in ids]
        size = len(self)
        bad = [index for index in ids if not 0 <= index < size]
        if bad:
            raise SeqlabError(f"ids out of range for a model of {size} pieces: {bad[:5]}")
        return self._processor.decode(ids)


def _load_processor(model: bytes, source: str) -> Any:
    """A sentencepiece processor of ``model``, after checking that it is one :class:`SubwordTrainer` makes."""
    import sentencepiece

    if not model:
        raise SeqlabError(f"{source}: empty, not a sentencepiece model")
    processor = sentencepiece.SentencePieceProcessor()
    try:
        processor.load_from_serialized_proto(model)
    except RuntimeError:
        raise SeqlabError(f"{source}: not a sentencepiece model (the protobuf does not parse)") from None
    wrong = {
        piece: processor.piece_to_id(piece)
        for piece, index in _SPECIAL_PIECES.items()
        if processor.piece_to_id(piece) != index or processor.id_to_piece(index) != piece
    }
    if wrong:
        raise SeqlabError(
            f"{source}: not a seqlab subword model: special pieces at {wrong}, expected {_SPECIAL_PIECES}"
        )
    if not processor.is_byte(processor.piece_to_id("<0xFF>")):
        raise SeqlabError(
            f"{source}: not a seqlab subword model: it has no byte fallback, so it cannot spell every text"
        )
    return processor
