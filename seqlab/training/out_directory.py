"""The output directory of a new run: empty or new, never someone else's files."""

from __future__ import annotations

from pathlib import Path

from seqlab.atomic_directory import open_directory
from seqlab.errors import SeqlabError
from seqlab.training.checkpoint import MODEL_FILES


def holds_earlier_run(out: Path) -> bool:
    """Whether ``out`` holds a seqlab checkpoint (a run that can be resumed or evaluated).

    A save killed part-way is finished first, so a run killed between the renames of its last
    save is found, not started over.
    """
    out = open_directory(out, required=MODEL_FILES)
    return all((out / name).is_file() for name in MODEL_FILES)


def prepare_out_directory(out: Path) -> None:
    """Check that a new run may write to ``out``: it does not exist, or is an empty directory.

    Raises:
        SeqlabError: ``out`` is a file, or a directory with files in it (an earlier run's or
            anything else), which a new run would overwrite.
    """
    out = open_directory(out, required=MODEL_FILES)
    if not out.exists():
        return
    if not out.is_dir():
        raise SeqlabError(f"{out} is a file; choose a directory for --out")
    if any(out.iterdir()):
        what = "an earlier run" if holds_earlier_run(out) else "files"
        raise SeqlabError(
            f"{out} is not empty (it holds {what}): pass --resume to continue the checkpoint there, "
            "--if-exists resume to continue it if there is one, or choose another --out"
        )
