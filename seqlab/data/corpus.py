"""Training text: a UTF-8 file given by the user, or Python's own standard library.

The default corpus is the source code of the running Python's standard library, so a
language model can be trained offline on any machine that has Python, and learns to write
Python. Files are read in sorted order, which makes the corpus the same on every run.
"""

from __future__ import annotations

import os
import re
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


@dataclass(frozen=True)
class CorpusFiles:
    """The files of a corpus: training text, and held-out text when the corpus has it."""

    train: Path
    valid: Path | None  # None: the tail of the training file is held out
    test: Path | None


# A corpus directory's parts: train.txt, valid.txt, test.txt (WikiText-2 as distributed by
# pytorch/examples), also with a prefix (ptb.train.txt) or WikiText's .tokens extension.
_SPLIT_NAMES = {split: re.compile(rf"^(?:.*[._-])?{split}\.(?:txt|tokens)$") for split in ("train", "valid", "test")}


def find_corpus_files(path: str | Path) -> CorpusFiles:
    """The training, validation and test files of a corpus file or directory.

    A file is training text alone. A directory holds ``train.txt``, ``valid.txt`` and
    optionally ``test.txt`` (or ``NAME.train.txt`` and so on, or WikiText's ``.tokens``);
    a directory without such names but with exactly one ``.txt`` file (tiny-shakespeare's
    ``input.txt``) is that file.

    Raises:
        SeqlabError: the path is missing, or the directory's files do not fit these rules.
    """
    path = Path(path)
    if path.is_file():
        return CorpusFiles(train=path, valid=None, test=None)
    if not path.is_dir():
        raise SeqlabError(f"{path}: no such file or directory")
    files = sorted(child for child in path.iterdir() if child.is_file())
    found: dict[str, Path | None] = {}
    for split, pattern in _SPLIT_NAMES.items():
        matches = [file for file in files if pattern.match(file.name)]
        if len(matches) > 1:
            raise SeqlabError(f"{path}: more than one {split} file: {', '.join(file.name for file in matches)}")
        found[split] = matches[0] if matches else None
    if found["train"] is None:
        texts = [file for file in files if file.suffix == ".txt"]
        if len(texts) == 1 and found["valid"] is None:
            return CorpusFiles(train=texts[0], valid=None, test=None)
        names = ", ".join(file.name for file in files) or "no files"
        raise SeqlabError(
            f"{path}: not a corpus directory: expected train.txt and valid.txt (optionally test.txt), "
            f"or a single .txt file; found {names}"
        )
    return CorpusFiles(**found)


@dataclass(frozen=True)
class CorpusSplits:
    """A corpus's texts, ready to encode: training, held-out, and test when there is one."""

    train: str
    valid: str
    test: str | None
    source: str  # where the text came from, for messages


def load_corpus_splits(path: str | Path | None, *, valid_fraction: float, stdlib_max_chars: int) -> CorpusSplits:
    """The training, held-out and test texts of ``path`` (see :func:`find_corpus_files`).

    Without a validation file, the last ``valid_fraction`` of the training text is held
    out (:func:`split_train_valid`); ``path=None`` is the standard-library corpus.
    """
    if path is None:
        corpus = load_stdlib_corpus(stdlib_max_chars)
        train, valid = split_train_valid(corpus.text, valid_fraction)
        return CorpusSplits(train, valid, None, corpus.source)
    files = find_corpus_files(path)
    train = read_text_file(files.train)
    test = None if files.test is None else read_text_file(files.test)
    if files.valid is None:
        train, valid = split_train_valid(train, valid_fraction)
        source = f"{files.train} (last {valid_fraction:.0%} held out)"
    else:
        valid = read_text_file(files.valid)
        source = f"{files.train}, {files.valid.name}" + ("" if files.test is None else f", {files.test.name}")
    return CorpusSplits(train, valid, test, source)


def split_train_valid(text: str, valid_fraction: float) -> tuple[str, str]:
    """Split ``text`` into training text and the held-out last ``valid_fraction`` of it.

    The held-out part is the end of the text rather than a random sample, so no
    validation character was seen in training as part of the same passage. It starts at
    the beginning of the line the cut falls in (unless that would more than double it),
    so no word is cut in two.

    Returns:
        ``(train, valid)``, which concatenate back to ``text``.
    """
    if not 0.0 < valid_fraction < 1.0:
        raise SeqlabError(f"valid_fraction must be between 0 and 1, got {valid_fraction}")
    held_out = max(1, round(len(text) * valid_fraction))
    cut = len(text) - held_out
    line_start = text.rfind("\n", 0, cut) + 1
    if line_start > 0 and cut - line_start < held_out:  # at most doubles the held-out part
        cut = line_start
    return text[:cut], text[cut:]
