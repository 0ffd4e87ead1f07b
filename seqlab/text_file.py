"""Reading a UTF-8 text file, with errors that say what is wrong and where.

Standard library only, so that the NumPy reference can use it without importing torch.
"""

from __future__ import annotations

from pathlib import Path

from seqlab.errors import SeqlabError


def read_text_file(path: str | Path) -> str:
    """The contents of a UTF-8 text file (a leading byte-order mark is dropped).

    Args:
        path: the file.

    Returns:
        The decoded text, never empty or only whitespace.

    Raises:
        SeqlabError: the file is missing, unreadable, empty or only whitespace, or not valid
            UTF-8; the message names the file and, for bad UTF-8, the byte offset, line and
            column of the first bad byte.
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
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise SeqlabError(
            f"{path}: not valid UTF-8 at byte offset {error.start} "
            f"(line {line}, byte {column} of the line): {error.reason}"
        ) from None
    if not text.strip():
        what = "empty" if not text else "only whitespace"
        raise SeqlabError(f"{path}: file is {what}, there is no text to learn from")
    return text
