"""Reading a text file to learn from, with errors that say what is wrong and where."""

from __future__ import annotations

from pathlib import Path

from seqlab.errors import SeqlabError


def read_text_file(path: str | Path) -> str:
    """The contents of a UTF-8 text file.

    Args:
        path: the file.

    Returns:
        The decoded text, never empty.

    Raises:
        SeqlabError: the file is missing, unreadable, empty, or not valid UTF-8; the message
            names the file and, for bad UTF-8, the byte offset, line and column.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SeqlabError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SeqlabError(f"{path}: is a directory, not a text file") from None
    except OSError as error:
        raise SeqlabError(f"{path}: cannot read: {error.strerror}") from None
    if not data:
        raise SeqlabError(f"{path}: file is empty, there is no text to learn from")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise SeqlabError(
            f"{path}: not valid UTF-8 at byte offset {error.start} "
            f"(line {line}, byte {column} of the line): {error.reason}"
        ) from None
