"""Parallel text: two aligned files, one sentence per line, and the Multi30k layout.

Line *i* of the source file translates to line *i* of the target file, so a reader must never
let the two drift apart. Lines are therefore split at ``"\\n"`` only (with a ``"\\r"`` before it
dropped): :meth:`str.splitlines` also splits at characters such as U+2028 and U+0085, which can
occur inside a sentence and would shift every following pair of one file against the other.
Every way the input can be wrong stops the read with a one-line :class:`~seqlab.errors.SeqlabError`
that names the file and, where there is one, the line; nothing is dropped or repaired silently.

Multi30k (Elliott et al. 2016, Task 1) as distributed by ``multi30k/dataset``::

    DATA_DIR/raw/{train,val,test_2016_flickr}.{de,en}               cased, untokenised
    DATA_DIR/tok/{train,val,test_2016_flickr}.lc.norm.tok.{de,en}   lower-cased, Moses-tokenised
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from seqlab.errors import SeqlabError
from seqlab.text_file import read_text_file

# Our split names -> Multi30k's file stems: val is model selection, test_2016_flickr the classic
# test set (WMT16) that papers and tutorials report on.
MULTI30K_SPLITS = {"train": "train", "valid": "val", "test": "test_2016_flickr"}
MULTI30K_VARIANTS = ("raw", "tok")


@dataclass(frozen=True)
class ParallelText:
    """Aligned sentences: ``sources[i]`` translates to ``targets[i]``.

    Attributes:
        sources: the source sentences, one per line of ``source_path``.
        targets: the target sentences, as many as ``sources``.
        source_path: the file the sources were read from; messages name it.
        target_path: the file the targets were read from.
    """

    sources: list[str]
    targets: list[str]
    source_path: Path
    target_path: Path

    def __len__(self) -> int:
        return len(self.sources)

    def pairs(self) -> list[tuple[str, str]]:
        """The ``(source, target)`` sentence pairs, in file order."""
        return list(zip(self.sources, self.targets))


def read_lines(path: str | Path, *, side: str = "text", strip: bool = True) -> list[str]:
    """The lines of a UTF-8 file with one sentence per line, none of them empty.

    Args:
        path: the file.
        side: what the file is (``"source"``, ``"target"``), for the messages.
        strip: remove whitespace around each line (Multi30k's ``raw/train.de`` has 40 lines with
            a trailing space); ``False`` keeps each line as written, less its line terminator.

    Returns:
        One string per line. A final line terminator is optional and does not make an extra line.

    Raises:
        SeqlabError: the file is missing, unreadable, empty, or not valid UTF-8 (the message gives
            the line and byte of the first bad byte), or a line is empty or only whitespace (the
            message gives its line number; a blank line at the end of the file counts).
    """
    try:
        text = read_text_file(path)
    except SeqlabError as error:
        raise SeqlabError(f"{side} file {error}") from None
    lines = text.removesuffix("\n").split("\n")
    lines = [line.removesuffix("\r") for line in lines]
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            what = "empty" if not line else "only whitespace"
            raise SeqlabError(
                f"{side} file {path}: line {number} is {what}; every line must hold a sentence, "
                f"aligned with the same line of the other file"
            )
    return [line.strip() for line in lines] if strip else lines


def read_parallel_text(source_path: str | Path, target_path: str | Path, *, strip: bool = True) -> ParallelText:
    """Read two aligned files, one sentence per line (see :func:`read_lines` for what a line is).

    Args:
        source_path: the source-language file.
        target_path: the target-language file, line for line a translation of the source.
        strip: remove whitespace around each sentence.

    Returns:
        The aligned sentences.

    Raises:
        SeqlabError: either file cannot be read as :func:`read_lines` requires (the message says
            whether it is the source or the target file), or the files have different numbers of
            lines (the message names both files and both counts).

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp())
        >>> _ = (folder / "a.de").write_text("Ein Hund.\\nZwei Katzen.\\n", encoding="utf-8")
        >>> _ = (folder / "a.en").write_text("A dog.\\nTwo cats.\\n", encoding="utf-8")
        >>> read_parallel_text(folder / "a.de", folder / "a.en").pairs()
        [('Ein Hund.', 'A dog.'), ('Zwei Katzen.', 'Two cats.')]
    """
    source_path, target_path = Path(source_path), Path(target_path)
    sources = read_lines(source_path, side="source", strip=strip)
    targets = read_lines(target_path, side="target", strip=strip)
    if len(sources) != len(targets):
        raise SeqlabError(
            f"parallel files differ in length: source {source_path} has {len(sources):,} lines, "
            f"target {target_path} has {len(targets):,}; line i of one must translate line i of the other"
        )
    return ParallelText(sources, targets, source_path, target_path)


@dataclass(frozen=True)
class ParallelFiles:
    """The two files of one split of a parallel corpus."""

    source: Path
    target: Path

    def read(self, *, strip: bool = True) -> ParallelText:
        """The aligned sentences of the two files (:func:`read_parallel_text`)."""
        return read_parallel_text(self.source, self.target, strip=strip)


@dataclass(frozen=True)
class ParallelSplits:
    """The training, validation and test files of a parallel corpus in one direction."""

    train: ParallelFiles
    valid: ParallelFiles
    test: ParallelFiles

    def read(self, *, strip: bool = True) -> dict[str, ParallelText]:
        """Every split's aligned sentences, keyed ``"train"``, ``"valid"``, ``"test"``."""
        return {split: getattr(self, split).read(strip=strip) for split in MULTI30K_SPLITS}


def multi30k_file(data_dir: str | Path, split: str, language: str, *, variant: str) -> Path:
    """Where Multi30k keeps one language of one split (``split`` is a key of :data:`MULTI30K_SPLITS`)."""
    stem = MULTI30K_SPLITS[split]
    if variant == "raw":
        return Path(data_dir, "raw", f"{stem}.{language}")
    return Path(data_dir, "tok", f"{stem}.lc.norm.tok.{language}")


def find_multi30k_files(data_dir: str | Path, *, src: str, tgt: str, variant: str = "tok") -> ParallelSplits:
    """The file pairs of Multi30k's train, val and test_2016_flickr splits for one direction.

    Args:
        data_dir: the folder holding ``raw/`` and ``tok/`` (e.g. ``../shared/data/multi30k``).
        src: the source language, a file extension such as ``"de"``.
        tgt: the target language, e.g. ``"en"``; either direction works.
        variant: ``"raw"`` (cased, untokenised: for subword models and sacreBLEU) or ``"tok"``
            (lower-cased and tokenised: for word vocabularies and the BLEU papers report).

    Returns:
        The file pairs, ``valid`` being Multi30k's ``val`` and ``test`` its ``test_2016_flickr``.
        Nothing is read; :meth:`ParallelSplits.read` reads them.

    Raises:
        SeqlabError: an unknown variant, the same language on both sides, a missing folder, or
            missing files (all of them named in one line, with the languages the folder has).
    """
    data_dir = Path(data_dir)
    if variant not in MULTI30K_VARIANTS:
        raise SeqlabError(f"unknown Multi30k variant {variant!r}: expected one of {', '.join(MULTI30K_VARIANTS)}")
    if src == tgt:
        raise SeqlabError(f"source and target language are both {src!r}: a translation needs two languages")
    folder = data_dir / variant
    if not folder.is_dir():
        raise SeqlabError(
            f"{data_dir}: not a Multi30k folder: {folder} is missing "
            f"(expected raw/{{train,val,test_2016_flickr}}.{{de,en}} and tok/...lc.norm.tok.{{de,en}})"
        )
    splits = {
        split: ParallelFiles(
            multi30k_file(data_dir, split, src, variant=variant),
            multi30k_file(data_dir, split, tgt, variant=variant),
        )
        for split in MULTI30K_SPLITS
    }
    missing = [path for files in splits.values() for path in (files.source, files.target) if not path.is_file()]
    if missing:
        found = sorted({path.suffix.lstrip(".") for path in folder.iterdir() if path.is_file() and path.suffix})
        raise SeqlabError(
            f"{folder}: missing {len(missing)} of the 6 files of {src}-{tgt}: "
            f"{', '.join(path.name for path in missing)} (languages there: {', '.join(found) or 'none'})"
        )
    return ParallelSplits(**splits)
