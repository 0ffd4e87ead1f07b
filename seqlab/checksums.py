"""Checksums of the files a directory holds (a checkpoint, a saved model), checked when read.

A directory written by seqlab lists its files in ``checksums.json`` with their size and
SHA-256. Reading a listed file goes through :func:`verified_bytes` or :func:`verify_file`,
so a file that was truncated or had a byte flipped is reported as corruption, naming the
file, rather than loaded silently or reported as some other mismatch further on. The list
is sealed with the SHA-256 of its own entries, so damage to ``checksums.json`` itself is
reported as its own corruption, not blamed on a file it lists (nor does it drop a file
from the check).

Standard library only, so that any layer may use it.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "config.json").write_text("{}")
    >>> write_manifest(folder, ["config.json"])
    >>> verified_bytes(folder / "config.json")
    b'{}'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from seqlab.errors import SeqlabError

MANIFEST_FILE = "checksums.json"
_CHUNK = 1 << 20  # bytes hashed per read: large files are never held whole for hashing


class CorruptFileError(SeqlabError):
    """A file's size or SHA-256 differs from what was recorded when it was written."""


def file_digest(path: str | Path) -> dict[str, Any]:
    """``{"bytes": size, "sha256": hex digest}`` of the file at ``path``."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"bytes": size, "sha256": digest.hexdigest()}


def write_manifest(
    directory: str | Path, names: Iterable[str], *, known: Mapping[str, dict[str, Any]] | None = None
) -> None:
    """Write ``checksums.json`` into ``directory``, listing the files ``names`` (relative to it).

    The caller makes the directory appear atomically (it is written into a staging directory
    that is renamed into place), so the manifest is written plainly.

    Args:
        known: digests (as :func:`file_digest` gives them) of some of the files, already
            taken or checked, so that they are not hashed again: a file passed on unchanged
            from a verified copy, or a copy of a file just hashed.
    """
    directory = Path(directory)
    known = known or {}
    files = {name: dict(known[name]) if name in known else file_digest(directory / name) for name in sorted(names)}
    (directory / MANIFEST_FILE).write_bytes(_manifest_text(files).encode("utf-8"))


def read_manifest(directory: str | Path) -> dict[str, dict[str, Any]] | None:
    """The recorded size and digest of each listed file, or None when the directory has no manifest.

    Raises:
        CorruptFileError: the manifest itself is not the JSON seqlab writes, or differs from
            it in any byte (its seal does not match).
        SeqlabError: the manifest cannot be read.
    """
    path = Path(directory) / MANIFEST_FILE
    try:
        text = path.read_bytes().decode("utf-8")  # bytes, so that no newline is translated unseen
    except FileNotFoundError:
        return None
    except OSError as error:
        raise SeqlabError(f"{path}: cannot be read ({error.strerror})") from None
    except UnicodeDecodeError:
        raise CorruptFileError(f"{path}: corrupt: not UTF-8 text") from None
    try:
        files = json.loads(text)["files"]
        if not all(isinstance(entry["bytes"], int) and isinstance(entry["sha256"], str) for entry in files.values()):
            raise TypeError
    except json.JSONDecodeError as error:
        what = " (truncated)" if _ends_early(text, error) else ""
        raise CorruptFileError(f"{path}: corrupt{what}: not a seqlab checksum list") from None
    except (KeyError, TypeError, AttributeError):
        raise CorruptFileError(f"{path}: corrupt: not a seqlab checksum list") from None
    written = _manifest_text(files)
    if text != written:
        what = " (truncated)" if written.startswith(text) else ""
        raise CorruptFileError(f"{path}: corrupt{what}: not as seqlab wrote it (its seal does not match)")
    return files


def verify_file(path: str | Path) -> None:
    """Check the file at ``path`` against its directory's manifest, if it lists it.

    Files in a directory without ``checksums.json`` (written before seqlab kept one), and
    files the manifest does not list, are not checked.

    Raises:
        CorruptFileError: the file is missing, shorter or longer than recorded (truncated or
            appended to), or has the right size but another SHA-256 (bytes changed).
    """
    path = Path(path)
    manifest = read_manifest(path.parent)
    if manifest is None or path.name not in manifest:
        return
    _compare(path, manifest[path.name])


def verified_bytes(path: str | Path) -> bytes:
    """The contents of ``path``, after checking them against the directory's manifest.

    Reads the file once: the digest is taken of the very bytes returned.

    Raises:
        CorruptFileError: as :func:`verify_file`.
        SeqlabError: the file cannot be read.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SeqlabError(f"{path}: not found") from None
    except OSError as error:
        raise SeqlabError(f"{path}: cannot be read ({error.strerror})") from None
    manifest = read_manifest(path.parent)
    if manifest is not None and path.name in manifest:
        recorded = manifest[path.name]
        _check(path, {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}, recorded)
    return data


def _manifest_text(files: dict[str, dict[str, Any]]) -> str:
    """The manifest listing ``files``, sealed with the SHA-256 of the listing itself.

    :func:`read_manifest` renders what it parsed again and compares the text, so a change
    to any byte (a name, a size, a digest, the seal, even spacing) is caught.
    """
    listing = {"algorithm": "sha256", "files": files}
    seal = hashlib.sha256(json.dumps(listing, sort_keys=True).encode("utf-8")).hexdigest()
    return json.dumps({**listing, "seal": seal}, indent=2, sort_keys=True) + "\n"


def _ends_early(text: str, error: json.JSONDecodeError) -> bool:
    """Whether ``text`` fails to parse because it stops short (cut off), not because a byte changed.

    Every line of a manifest closes the strings it opens, so an unterminated string means
    the text stops within a line.
    """
    return error.pos >= len(text) or error.msg.startswith("Unterminated string")


def _compare(path: Path, recorded: dict[str, Any]) -> None:
    if not path.is_file():
        raise CorruptFileError(f"{path}: missing, though {MANIFEST_FILE} lists it")
    _check(path, file_digest(path), recorded)


def _check(path: Path, actual: dict[str, Any], recorded: dict[str, Any]) -> None:
    if actual["bytes"] != recorded["bytes"]:
        what = "truncated" if actual["bytes"] < recorded["bytes"] else "longer than written"
        raise CorruptFileError(
            f"{path}: corrupt ({what}): {actual['bytes']:,} bytes where {recorded['bytes']:,} were written"
        )
    if actual["sha256"] != recorded["sha256"]:
        raise CorruptFileError(
            f"{path}: corrupt: its SHA-256 differs from the one recorded in {MANIFEST_FILE} when it was written "
            "(bytes changed on disk or in a copy)"
        )
