"""Word-vector files: the word2vec text and binary formats and GloVe's text format.

word2vec text: a header line ``"V D"``, then one line per word: the word and D numbers, separated
by spaces. GloVe text: the same lines without the header. word2vec binary: the header line, then
per word its UTF-8 bytes, a space and D little-endian float32 (4·D bytes); the original C tool
writes a newline after each vector and gensim does not, so the reader accepts both.

Words may not contain whitespace (it separates the fields) and may not be empty. Numbers are
written with 9 significant digits, enough for every float32 to read back bit for bit.

Example:
    >>> import tempfile, pathlib
    >>> kv = KeyedVectors(["king", "queen"], np.eye(2, dtype=np.float32))
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "vectors.bin"
    >>> save_vectors(kv, path)
    >>> load_vectors(path).index_to_key
    ['king', 'queen']
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from seqlab.atomic_file import atomic_path
from seqlab.embeddings.configs import VECTOR_FORMATS
from seqlab.embeddings.keyed_vectors import KeyedVectors
from seqlab.errors import SeqlabError

_FORMAT_OF_SUFFIX = {".bin": "word2vec-binary", ".txt": "word2vec-text", ".vec": "word2vec-text"}
_LINES_PER_BLOCK = 4096  # text lines converted to float32 in one numpy call
_LITTLE_ENDIAN_FLOAT32 = np.dtype("<f4")


def save_word2vec(kv: KeyedVectors, path: str | os.PathLike, *, binary: bool) -> None:
    """Write ``kv`` in word2vec format, rows in the order of ``kv`` (most frequent first, usually).

    Args:
        kv: the vectors to write.
        path: the file to create (overwritten if it exists).
        binary: True for the binary format (with a newline after each vector, as the C tool
            writes it), False for text.

    Raises:
        SeqlabError: a word is empty or contains whitespace.
    """
    words = _encoded_words(kv)
    header = f"{len(kv)} {kv.vector_size}\n".encode()
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        handle.write(header)
        if binary:
            rows = np.asarray(kv.vectors, dtype=_LITTLE_ENDIAN_FLOAT32)
            for word, row in zip(words, rows):
                handle.write(word + b" " + row.tobytes() + b"\n")
        else:
            _write_text_lines(handle, words, kv.vectors)


def save_glove(kv: KeyedVectors, path: str | os.PathLike) -> None:
    """Write ``kv`` in GloVe's text format (word2vec text without the header line).

    Raises:
        SeqlabError: a word is empty or contains whitespace.
    """
    words = _encoded_words(kv)
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        _write_text_lines(handle, words, kv.vectors)


def save_vectors(kv: KeyedVectors, path: str | os.PathLike, format: str | None = None) -> None:
    """Write ``kv`` in ``format``, or by the file's extension: ``.bin`` binary, ``.txt``/``.vec`` word2vec text.

    Raises:
        SeqlabError: unknown format, or no format given and the extension names none.
    """
    if format is None:
        suffix = Path(path).suffix.lower()
        if suffix not in _FORMAT_OF_SUFFIX:
            raise SeqlabError(
                f"cannot tell the vector format of {path} from its extension {suffix!r}: "
                f"use .bin or .txt, or name one of {', '.join(VECTOR_FORMATS)}"
            )
        format = _FORMAT_OF_SUFFIX[suffix]
    _check_format(format)
    if format == "glove":
        save_glove(kv, path)
    else:
        save_word2vec(kv, path, binary=format == "word2vec-binary")


def load_vectors(path: str | os.PathLike, format: str | None = None, limit: int | None = None) -> KeyedVectors:
    """Read a word-vector file.

    Args:
        path: the file.
        format: one of :data:`VECTOR_FORMATS`, or None to detect it: ``.bin`` files are word2vec
            binary; otherwise a first line of exactly two integers is a word2vec header, and
            anything else is GloVe.
        limit: read only the first this many words (the most frequent, in the usual files).

    Returns:
        The vectors, in file order, without counts.

    Raises:
        SeqlabError: the file is malformed; the message names the file, the line (or binary
            entry and byte offset) and the bad value.
    """
    path = Path(path)
    if limit is not None and limit < 1:
        raise SeqlabError(f"limit must be a positive number of words or None, got {limit}")
    if format is None:
        format = detect_format(path)
    _check_format(format)
    if format == "word2vec-binary":
        return _read_word2vec_binary(path, limit)
    with _open_input(path) as handle:
        lines = enumerate(handle, start=1)
        count = dims = None
        if format == "word2vec-text":
            count, dims = _parse_header(next(lines, (1, b"")), path)
        return _read_text_vectors(lines, path, count=count, dims=dims, limit=limit)


def detect_format(path: str | os.PathLike) -> str:
    """The format :func:`load_vectors` assumes for ``path`` when none is given."""
    path = Path(path)
    if path.suffix.lower() == ".bin":
        return "word2vec-binary"
    with _open_input(path) as handle:
        first_line = handle.readline()
    if not first_line.strip():
        raise SeqlabError(f"{path}: the first line is empty; expected a 'words dimensions' header or a word vector")
    fields = first_line.split()
    return "word2vec-text" if len(fields) == 2 and all(field.isdigit() for field in fields) else "glove"


def _open_input(path: Path):
    """``path`` opened for reading bytes, or a SeqlabError saying why it cannot be."""
    try:
        return open(path, "rb")
    except FileNotFoundError:
        raise SeqlabError(f"{path}: no such file") from None
    except OSError as error:
        raise SeqlabError(f"{path}: cannot read: {error.strerror}") from None


def _check_format(format: str) -> None:
    if format not in VECTOR_FORMATS:
        raise SeqlabError(f"unknown vector format {format!r}; choose one of {', '.join(VECTOR_FORMATS)}")


def _encoded_words(kv: KeyedVectors) -> list[bytes]:
    """The words as UTF-8, after checking each is one whitespace-free token."""
    for row, word in enumerate(kv.index_to_key):
        if not word or word.split() != [word]:
            raise SeqlabError(
                f"word {row} {word!r} cannot be written: words in vector files must be non-empty and without whitespace"
            )
    return [word.encode("utf-8") for word in kv.index_to_key]


def _write_text_lines(handle, words: list[bytes], vectors: np.ndarray) -> None:
    """One ``word v1 ... vD`` line per word; ``%.9g`` reads back as the same float32."""
    row_format = " ".join(["%.9g"] * vectors.shape[1])
    for start in range(0, len(words), _LINES_PER_BLOCK):
        rows = vectors[start : start + _LINES_PER_BLOCK].tolist()  # Python floats: fast % formatting
        lines = [word + b" " + (row_format % tuple(row)).encode("ascii") for word, row in zip(words[start:], rows)]
        handle.write(b"\n".join(lines) + b"\n")


def _parse_header(numbered_line: tuple[int, bytes], path: Path) -> tuple[int, int]:
    """(V, D) from a word2vec header line."""
    line_no, line = numbered_line
    fields = line.split()
    if len(fields) != 2 or not all(field.isdigit() for field in fields):
        shown = line.decode("utf-8", errors="replace").strip()
        raise SeqlabError(f"{path}, line {line_no}: expected a header 'words dimensions' (two integers), got {shown!r}")
    count, dims = int(fields[0]), int(fields[1])
    if dims < 1:
        raise SeqlabError(f"{path}, line {line_no}: the header declares {dims} dimensions; need at least 1")
    return count, dims


def _decode_word(word: bytes, where: str) -> str:
    try:
        return word.decode("utf-8")
    except UnicodeDecodeError as error:
        raise SeqlabError(f"{where}: word {word!r} is not valid UTF-8 ({error.reason})") from None


def _read_text_vectors(
    lines: Iterable[tuple[int, bytes]], path: Path, *, count: int | None, dims: int | None, limit: int | None
) -> KeyedVectors:
    """Parse numbered ``word v1 ... vD`` lines; D comes from the header, else from the first line.

    Blank lines are skipped. With a header (``count`` given), the file must hold exactly that many words.
    """
    words: list[str] = []
    line_of_word: dict[str, int] = {}
    blocks: list[np.ndarray] = []
    pending_values: list[bytes] = []
    pending_lines: list[int] = []
    line_no = 1
    for line_no, line in lines:
        fields = line.split()
        if not fields:
            continue
        if len(words) == limit:
            break
        if len(words) == count:
            raise SeqlabError(f"{path}, line {line_no}: more words than the {count} the header declares")
        if dims is None:
            dims = len(fields) - 1
            if dims < 1:
                raise SeqlabError(f"{path}, line {line_no}: a word without numbers; expected 'word v1 ... vD'")
        if len(fields) != dims + 1:
            raise SeqlabError(
                f"{path}, line {line_no}: expected a word and {dims} numbers, found {len(fields) - 1} numbers"
            )
        word = _decode_word(fields[0], f"{path}, line {line_no}")
        if word in line_of_word:
            raise SeqlabError(f"{path}, line {line_no}: word {word!r} already appeared on line {line_of_word[word]}")
        line_of_word[word] = line_no
        words.append(word)
        pending_values.extend(fields[1:])
        pending_lines.append(line_no)
        if len(pending_lines) == _LINES_PER_BLOCK:
            blocks.append(_parse_numbers(pending_values, pending_lines, dims, path))
            pending_values, pending_lines = [], []
    if count is not None and len(words) < count and (limit is None or len(words) < limit):
        raise SeqlabError(
            f"{path}, line {line_no}: the file ends after {len(words)} words but the header declares {count}"
        )
    if dims is None:
        raise SeqlabError(f"{path}: no word vectors in the file")
    blocks.append(_parse_numbers(pending_values, pending_lines, dims, path))
    return KeyedVectors(words, np.concatenate(blocks))


def _parse_numbers(values: list[bytes], line_numbers: list[int], dims: int, path: Path) -> np.ndarray:
    """(len(line_numbers), D) float32 from the number fields of a block of lines."""
    try:
        return np.array(values, dtype=np.float32).reshape(len(line_numbers), dims)
    except ValueError:
        position = next(position for position, value in enumerate(values) if not _is_number(value))
    shown = values[position].decode("utf-8", errors="replace")
    line_no = line_numbers[position // dims]
    raise SeqlabError(f"{path}, line {line_no}: value {position % dims + 1} {shown!r} is not a number")


def _is_number(value: bytes) -> bool:
    try:
        np.float32(value)
    except ValueError:
        return False
    return True


def _read_word2vec_binary(path: Path, limit: int | None) -> KeyedVectors:
    """Parse the binary word2vec format (see the module docstring), memory-mapped."""
    with _open_input(path) as handle:
        if os.fstat(handle.fileno()).st_size == 0:
            raise SeqlabError(f"{path}: the file is empty; expected a 'words dimensions' header")
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _parse_word2vec_binary(data, path, limit)


def _parse_word2vec_binary(data: mmap.mmap, path: Path, limit: int | None) -> KeyedVectors:
    """The words and vectors in the bytes of a binary word2vec file."""
    header_end = data.find(b"\n")
    header_end = len(data) if header_end < 0 else header_end
    count, dims = _parse_header((1, data[:header_end]), path)
    wanted = count if limit is None else min(count, limit)
    row_bytes = dims * _LITTLE_ENDIAN_FLOAT32.itemsize
    entry_of_word: dict[str, int] = {}  # in file order, so its keys are the words
    payload = bytearray()  # the vectors' bytes, gathered so that numpy converts them once
    offset = header_end + 1
    for entry in range(1, wanted + 1):
        if data[offset : offset + 1] == b"\n":  # the C tool ends each vector with a newline
            offset += 1
        space = data.find(b" ", offset)
        end = space + 1 + row_bytes
        if space < 0 or end > len(data):
            raise SeqlabError(
                f"{_entry_place(path, entry, count, offset)}: the file is truncated; "
                f"expected a word, a space and {row_bytes} bytes"
            )
        raw_word = data[offset:space]
        try:
            word = raw_word.decode("utf-8")
        except UnicodeDecodeError:
            word = None
        if word is None or not word or word.split() != [word] or word in entry_of_word:
            raise SeqlabError(_bad_binary_word(raw_word, word, entry_of_word, _entry_place(path, entry, count, offset)))
        entry_of_word[word] = entry
        payload += data[space + 1 : end]
        offset = end
    rest = data[offset:]
    if wanted == count and rest.strip(b"\n"):
        extra_at = offset + len(rest) - len(rest.lstrip(b"\n"))
        raise SeqlabError(f"{path}, byte {extra_at}: more data after the {count} words the header declares")
    vectors = np.frombuffer(payload, dtype=_LITTLE_ENDIAN_FLOAT32).reshape(wanted, dims)
    return KeyedVectors(list(entry_of_word), vectors)


def _entry_place(path: Path, entry: int, count: int, offset: int) -> str:
    return f"{path}, entry {entry} of {count} (byte {offset})"


def _bad_binary_word(raw_word: bytes, word: str | None, entry_of_word: dict[str, int], place: str) -> str:
    """Why a word read from a binary file is refused."""
    if word is None:
        return f"{place}: word {raw_word!r} is not valid UTF-8"
    if word in entry_of_word:
        return f"{place}: word {word!r} already appeared as entry {entry_of_word[word]}"
    return f"{place}: bad word {word!r}; expected a non-empty word without whitespace"
