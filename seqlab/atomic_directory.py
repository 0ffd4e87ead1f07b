"""Replacing a whole directory of files (a checkpoint, a saved model) so that a kill at any instant loses nothing.

A new version is written into a staging directory ``.NAME.tmp-XXXXXXXX`` beside the target,
``checksums.json`` last (:mod:`seqlab.checksums`), and flushed to disk; then the old version
is renamed aside to ``.NAME.old-XXXXXXXX``, the staging directory is renamed to NAME, and the
old one is removed. A process killed anywhere in that (even by SIGKILL) leaves NAME whole; or
NAME missing, with the old version and perhaps the new one complete under their temporary
names; or a partly written staging directory. Before the next replacement, and before a
reader opens the directory (:func:`open_directory`), the newest complete version is put back
in place and the leftovers are removed (:func:`_recover`). One replacement or recovery at a
time holds the lock file ``.NAME.lock`` beside the directory (on systems with ``flock``).

Standard library only, beside :mod:`seqlab.checksums`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seqlab.checksums import MANIFEST_FILE, read_manifest, verify_file, write_manifest
from seqlab.errors import SeqlabError

try:
    import fcntl
except ImportError:  # Windows: replacements and recoveries are not serialised between processes there
    fcntl = None

# The leftovers of a replacement, after NAME's ".NAME.": staging directories and retired versions.
_LEFTOVER = re.compile(r"(tmp|old)-[a-z0-9_]{8}")


@dataclass
class StagedDirectory:
    """Where the new version is written, and the digests of files already known (not hashed again)."""

    path: Path
    known_digests: dict[str, dict[str, Any]] = field(default_factory=dict)


@contextlib.contextmanager
def replaced_directory(directory: str | Path, *, required: Sequence[str], kind: str) -> Iterator[StagedDirectory]:
    """Write a new version of ``directory``: the block writes its files into the staging directory.

    On success, the files of the old version that the block did not write (files a person put
    there, say) are passed on, every file is listed in ``checksums.json`` and flushed, and the
    staging directory takes ``directory``'s place atomically; if the block raises,
    ``directory`` is left as it was. While the block runs, the old version is still in place.

    Args:
        directory: the directory to replace; its parent is created if needed.
        required: the files every version holds (a directory with other files and none of
            these is someone else's, and is left alone).
        kind: what the directory is, for the error message (``"seqlab checkpoint"``).

    Raises:
        SeqlabError: ``directory`` is a file, or holds files but none of ``required``.
    """
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    with _locked(directory):
        _recover(directory, required)
        _refuse_to_replace_other_files(directory, required, kind)
        staged = StagedDirectory(_leftover_path(directory, "tmp"))
        staged.path.mkdir()
        try:
            yield staged
            _pass_on_other_files(directory, staged.path)
            write_manifest(staged.path, [path.name for path in staged.path.iterdir()], known=staged.known_digests)
            _make_permissions_ordinary(staged.path)
            for path in staged.path.iterdir():
                fsync(path)
            fsync(staged.path)
            _swap_into_place(staged.path, directory)
        except BaseException:
            shutil.rmtree(staged.path, ignore_errors=True)
            raise


def open_directory(directory: str | Path, *, required: Sequence[str]) -> Path:
    """``directory`` as a Path, after finishing or undoing a replacement that was interrupted there.

    A replacement in progress holds the lock, so this waits for it to end rather than take its
    staging directory for a leftover.

    Raises:
        SeqlabError: the interrupted replacement cannot be finished (a read-only place, say)
            and what is in place is not whole.
    """
    directory = Path(directory)
    if not _leftovers(directory):
        return directory
    try:
        with _locked(directory):
            _recover(directory, required)
    except OSError as error:
        if not _looks_whole(directory, required):
            raise SeqlabError(
                f"{directory}: cannot finish the save that was interrupted there: {error.strerror} ({error.filename})"
            ) from None
    return directory


def fsync(path: Path) -> None:
    """Flush a file, or a directory's entries, to disk (directories only where supported)."""
    if path.is_dir() and os.name == "nt":
        return
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def link_or_copy(source: str | Path, target: str | Path) -> None:
    """Pass an unchanged file on to the new version: a hard link (no copying) where possible."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _pass_on_other_files(directory: Path, staging: Path) -> None:
    """Hard-link (or copy) into ``staging`` what ``directory`` holds that the new version does not."""
    if not directory.is_dir():
        return
    for path in directory.iterdir():
        target = staging / path.name
        if target.exists() or path.name == MANIFEST_FILE:
            continue
        if path.is_dir():
            shutil.copytree(path, target, copy_function=link_or_copy)
        else:
            link_or_copy(path, target)


def _refuse_to_replace_other_files(directory: Path, required: Sequence[str], kind: str) -> None:
    if directory.is_file() or (
        directory.is_dir() and any(directory.iterdir()) and not any((directory / name).exists() for name in required)
    ):
        raise SeqlabError(f"{directory} exists and is not a {kind}; choose another directory")


def _swap_into_place(staging: Path, directory: Path) -> None:
    """Rename ``staging`` to ``directory``, replacing what is there.

    POSIX cannot rename a directory over a non-empty one, so the old version is first renamed
    aside; a process killed between the two renames leaves it complete under that name and
    ``staging`` complete under its own, and :func:`_recover` finishes the swap.
    """
    retired = None
    if directory.exists():
        retired = _leftover_path(directory, "old")
        os.rename(directory, retired)
    os.rename(staging, directory)
    fsync(directory.parent)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)  # the swap is done; what is left goes at the next one


def _recover(directory: Path, required: Sequence[str]) -> None:
    """Put the newest complete version in place at ``directory`` and remove every leftover.

    A replacement killed part-way leaves, beside ``directory``: its staging directory, partly
    written (useless) or complete (``checksums.json``, written last, lists every file and each
    is intact); then, after the first rename of :func:`_swap_into_place`, the old version
    renamed aside with ``directory`` missing; after the second, the old one not yet or partly
    removed. The newest complete version is a complete staging directory (everything had been
    written), else ``directory`` when whole, else the retired one; it is put in place. A
    recovery killed part-way leaves a state of the same kinds, for the next one. Called with
    the lock held.
    """
    leftovers = _leftovers(directory)
    staged = [path for path in leftovers if _kind(path) == "tmp"]
    newest = next((path for path in staged if _is_complete(path, required)), None)
    if newest is None and not _looks_whole(directory, required):
        newest = next((path for path in leftovers if _kind(path) == "old" and _is_complete(path, required)), None)
    if newest is not None:
        leftovers.remove(newest)
        _swap_into_place(newest, directory)
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)


def _looks_whole(directory: Path, required: Sequence[str]) -> bool:
    """Whether ``directory`` has the required files (every one was renamed into place whole)."""
    return directory.is_dir() and all((directory / name).is_file() for name in required)


def _leftovers(directory: Path) -> list[Path]:
    """The staging directories and retired versions beside ``directory``, newest first."""
    prefix = f".{directory.name}."
    try:
        names = [name for name in os.listdir(directory.parent) if name.startswith(prefix)]
    except FileNotFoundError:
        return []
    found = [directory.parent / name for name in names if _LEFTOVER.fullmatch(name[len(prefix) :])]
    return sorted(found, key=_mtime, reverse=True)


def _kind(leftover: Path) -> str:
    """``"tmp"`` for a staging directory, ``"old"`` for a retired version (``.NAME.KIND-XXXXXXXX``)."""
    return leftover.name[-12:-9]


def _is_complete(path: Path, required: Sequence[str]) -> bool:
    """Whether the leftover ``path`` holds a whole version.

    With ``checksums.json``, every file it lists must be there and intact. Without it, only a
    retired version written before seqlab kept checksums can be whole (it was whole when
    renamed aside): a staging directory writes its checksums last.
    """
    try:
        manifest = read_manifest(path)
        if manifest is None:
            return _kind(path) == "old" and _looks_whole(path, required)
        for name in manifest:
            verify_file(path / name)
    except (SeqlabError, OSError):
        return False
    return all(name in manifest for name in required)


def _leftover_path(directory: Path, kind: str) -> Path:
    """A new name beside ``directory`` for a staging directory (``"tmp"``) or a retired version (``"old"``)."""
    return directory.with_name(f".{directory.name}.{kind}-{secrets.token_hex(4)}")


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold the lock file ``.NAME.lock`` beside ``directory``: one replacement or recovery at a time.

    The holder removes the file before releasing it, so a waiter that gets the lock of a
    removed file tries again. A process killed while holding it leaves the file, unlocked
    (the kernel releases a dead process's locks), for the next holder to use and remove.
    """
    path = directory.with_name(f".{directory.name}.lock")
    descriptor = _lock(path) if fcntl is not None else None
    try:
        yield
    finally:
        if descriptor is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            os.close(descriptor)


def _lock(path: Path) -> int | None:
    """An open descriptor of the file ``path`` holding its exclusive lock; None where locks are not supported."""
    while True:
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        except OSError as error:
            os.close(descriptor)
            if error.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS):  # some network file systems
                return None
            raise
        try:
            if os.path.samestat(os.fstat(descriptor), os.stat(path)):
                return descriptor
        except FileNotFoundError:
            pass
        os.close(descriptor)  # its holder removed it: lock the file there is now


def _make_permissions_ordinary(staging: Path) -> None:
    """Give the new version, and every file in it, the permissions of any new file."""
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)
    for path in staging.iterdir():
        path.chmod(0o666 & ~umask)
