"""Training text: a UTF-8 file given by the user, or Python's own standard library.

The default corpus is the source code of the running Python's standard library, so a
language model can be trained offline on any machine that has Python, and learns to write
Python. Files are read in sorted order, which makes the corpus the same on every run.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from seqlab.errors import SeqlabError
from seqlab.text_file import read_text_file

# Directories of the standard library that are not ordinary library code: the test suites
# (mostly repetitive assertions), third-party installs, and generated tables or data
# (codec charmaps, the pydoc topics blob) that would teach the model little Python.
STDLIB_EXCLUDED_DIRS = frozenset(
    {
        "test",
        "tests",
        "idlelib",
        "site-packages",
        "dist-packages",
        "encodings",
        "pydoc_data",
        "lib2to3",
        "turtledemo",
        "ensurepip",
        "__pycache__",
        "__phello__",
    }
)


@dataclass(frozen=True)
class Corpus:
    """A training text and where it came from.

    Attributes:
        text: the whole text, one continuous string.
        source: the file it was read from, or a description of the built-in corpus; error
            messages about the corpus name it.
    """

    text: str
    source: str


def stdlib_source_files(root: str | Path | None = None) -> list[Path]:
    """The standard library's ``.py`` files outside :data:`STDLIB_EXCLUDED_DIRS`, sorted.

    Args:
        root: the standard library directory; by default the running Python's.

    Returns:
        Absolute paths, sorted by their path relative to ``root`` so the order is the same
        on every machine with the same Python.
    """
    root = Path(root if root is not None else sysconfig.get_paths()["stdlib"])
    files = []
    for directory, subdirs, names in os.walk(root):
        # Pruning here keeps the walk out of site-packages, which can be huge.
        subdirs[:] = [name for name in subdirs if name not in STDLIB_EXCLUDED_DIRS and not name.startswith("config-")]
        files.extend(Path(directory, name) for name in names if name.endswith(".py"))
    return sorted(files, key=lambda path: path.relative_to(root).as_posix())


def load_stdlib_corpus(max_chars: int, root: str | Path | None = None) -> Corpus:
    """The standard library's source as one text, whole files up to ``max_chars`` characters.

    Files are taken in :func:`stdlib_source_files` order until the next one would exceed
    ``max_chars``; each is followed by a blank line. Files that are not valid UTF-8 are
    skipped (the standard library's are, but a patched install might not be).

    Raises:
        SeqlabError: no source file fits (or none was found).
    """
    texts: list[str] = []
    total = 0
    for path in stdlib_source_files(root):
        try:
            text = path.read_text(encoding="utf-8").rstrip("\n") + "\n\n"
        except (UnicodeDecodeError, OSError):
            continue
        if total + len(text) > max_chars:
            break
        texts.append(text)
        total += len(text)
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    source = f"Python {version} standard library ({len(texts)} files, {total:,} characters)"
    if not texts:
        raise SeqlabError(f"{source}: corpus is empty (is max_chars={max_chars} too small?)")
    return Corpus(text="".join(texts), source=source)


def load_corpus(path: str | Path | None, *, stdlib_max_chars: int) -> Corpus:
    """The corpus in ``path``, or the standard library corpus when ``path`` is None."""
    if path is None:
        return load_stdlib_corpus(stdlib_max_chars)
    return Corpus(text=read_text_file(path), source=str(path))


def split_train_valid(text: str, valid_fraction: float) -> tuple[str, str]:
    """Split ``text`` into training text and the held-out last ``valid_fraction`` of it.

    The held-out part is the end of the text rather than a random sample, so no
    validation character was seen in training as part of the same passage.

    Returns:
        ``(train, valid)``, which concatenate back to ``text``.
    """
    if not 0.0 < valid_fraction < 1.0:
        raise SeqlabError(f"valid_fraction must be between 0 and 1, got {valid_fraction}")
    cut = len(text) - max(1, round(len(text) * valid_fraction))
    return text[:cut], text[cut:]
