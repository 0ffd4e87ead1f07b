"""Config dataclasses: reading them from JSON-ready dicts, overriding fields, and their comments.

Every config in seqlab is a dataclass whose fields carry a trailing ``# comment`` saying what
they mean; the comment is the field's documentation and the help text of its command-line
flag. Standard library only, so that any layer (and ``seqlab --help``) can use it cheaply.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from typing import Any

from seqlab.errors import SeqlabError

_FIELD_COMMENT = re.compile(r"^\s+(\w+):[^#]*#\s*(.*)$")


def from_dict(config_class: type, data: dict[str, Any], *, source: str) -> Any:
    """The dataclass ``config_class`` built from ``data``, as read from ``source``.

    Raises:
        SeqlabError: ``data`` has unknown keys, lacks required ones, or holds bad values.
    """
    if not isinstance(data, dict):
        raise SeqlabError(f"{source}: expected a JSON object for {config_class.__name__}")
    fields = {field.name for field in dataclasses.fields(config_class)}
    unknown = sorted(set(data) - fields)
    if unknown:
        raise SeqlabError(f"{source}: unknown {config_class.__name__} keys {unknown}")
    try:
        return config_class(**data)
    except (TypeError, SeqlabError) as error:
        raise SeqlabError(f"{source}: {config_class.__name__}: {error}") from None


def replace_fields(config: Any, overrides: dict[str, Any], *, what: str) -> Any:
    """A copy of the dataclass ``config`` with ``overrides`` applied.

    Args:
        config: a dataclass instance.
        overrides: field names and new values.
        what: how to name the config in the error message, e.g. ``"model config"``.

    Raises:
        SeqlabError: a key of ``overrides`` is not a field of ``config``, or a value is invalid.
    """
    fields = {field.name for field in dataclasses.fields(config)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise SeqlabError(f"unknown {what} keys {unknown}; known keys are {sorted(fields)}")
    return dataclasses.replace(config, **overrides)


def field_comments(config_class: type) -> dict[str, str]:
    """The trailing ``# comment`` of each field in the class's source, by field name."""
    try:
        source = inspect.getsource(config_class)
    except (OSError, TypeError):
        return {}
    return {match[1]: match[2] for line in source.splitlines() if (match := _FIELD_COMMENT.match(line))}
