"""What every task's settings share: overrides per section, which of them a resumed run may change, and
the words that say where a run's settings came from.

A run's settings are sections of dataclass fields, as ``config.json`` holds them (``model``,
``training``, ``data``, and any the task adds); overrides come per section, as the command line's
flags give them: ``{"model": {"hidden_size": 650}, "training": {"epochs": 1}}``.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from seqlab.errors import SeqlabError

# Settings a resumed run may change: how long it goes on and where it runs. Every other
# setting given with a resumed run must equal the checkpoint's, or the run would not continue.
RESUMABLE_SETTINGS = frozenset({"epochs", "max_steps", "max_minutes", "eval_every", "device", "patience"})

Overrides = dict[str, dict[str, Any]]
DATA_FOLDER = Path(__file__).resolve().parents[2].parent / "shared" / "data"  # beside a checkout of seqlab


def checked_overrides(overrides: Overrides | None, sections: tuple[str, ...]) -> Overrides:
    """A copy of ``overrides`` with every section present; an unknown section is an error."""
    overrides = {section: dict(fields) for section, fields in (overrides or {}).items()}
    unknown = sorted(set(overrides) - set(sections))
    if unknown:
        raise SeqlabError(f"unknown settings sections {unknown}; the sections are {list(sections)}")
    return {section: overrides.get(section, {}) for section in sections}


def check_model_fields(values: dict[str, Any], config_class: type) -> None:
    """Reject model settings ``config_class`` does not have, naming them as flags."""
    known = {field.name for field in dataclasses.fields(config_class)}
    unknown = sorted(set(values) - known)
    if unknown:
        flags = ", ".join("--" + name.replace("_", "-") for name in unknown)
        raise SeqlabError(f"{flags}: not a setting of {config_class.__name__} (model section)")


def check_unchanged(section: str, given: dict[str, Any], saved: dict[str, Any], out: Path) -> None:
    """A resumed run's overrides of ``section`` either repeat the checkpoint's values or are resumable."""
    changed = [
        f"{field}={value!r} (checkpoint: {saved.get(field)!r})"
        for field, value in given.items()
        if field not in RESUMABLE_SETTINGS and saved.get(field) != value
    ]
    if changed:
        raise SeqlabError(f"--resume: {out} was trained with other {section} settings: " + ", ".join(changed))


def overridden(overrides: Overrides) -> str:
    """``", overridden by a=1, b=2"`` for the log line that says where settings came from ('' if none)."""
    given = [f"{field}={value!r}" for fields in overrides.values() for field, value in fields.items()]
    return f", overridden by {', '.join(given)}" if given else ""


def absolute(path: str | Path) -> str:
    """Absolute, so that a resumed run finds its data from any working directory."""
    return str(Path(path).resolve())


def find_corpus(name: str) -> str:
    """A corpus folder: ``name`` as a path, else under ``$SEQLAB_DATA``, else under the shared data folder.

    Raises:
        SeqlabError: none of them exists; the message lists where it looked.
    """
    candidates = [Path(name)]
    if os.environ.get("SEQLAB_DATA"):
        candidates.append(Path(os.environ["SEQLAB_DATA"]) / name)
    candidates.append(DATA_FOLDER / name)
    for candidate in candidates:
        if candidate.is_dir():
            return absolute(candidate)
    raise SeqlabError(f"corpus {name!r} not found (looked in {', '.join(str(c) for c in candidates)}); "
                      "give its folder, or set SEQLAB_DATA to the folder that holds it")  # fmt: skip
