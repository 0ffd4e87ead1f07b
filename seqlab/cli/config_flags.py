"""Command-line flags for every field of the config dataclasses: ``--hidden-size 650``.

Each field ``name`` of a section's dataclasses becomes ``--name-with-dashes`` (booleans also
``--no-name``), typed from the field's annotation, with the field's trailing comment as
its help; a comment that says "one of NAME" names a constant of the dataclass's module (a tuple or
a dict of the allowed values), and the help lists those values. Flags default to None, so the
flags given are told apart from those left out.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
import typing
from typing import Any

from seqlab.configs import field_comments

_NONE_WORDS = ("none", "null")
GIVEN_NONE = object()  # what a flag's "none" parses to: None itself would read as a flag not given


def _value_parser(hint: Any, flag: str):
    """A function turning a flag's text into a value of type ``hint`` (``X | None`` accepts "none")."""
    arguments = typing.get_args(hint)
    optional = type(None) in arguments
    (base,) = [argument for argument in arguments if argument is not type(None)] if arguments else [hint]

    def parse(text: str) -> Any:
        if optional and text.lower() in _NONE_WORDS:
            return GIVEN_NONE
        try:
            return base(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} expects {base.__name__}, got {text!r}") from None

    return parse


def add_config_flags(parser: argparse.ArgumentParser, sections: dict[str, list[type]], *, skip: set[str]) -> None:
    """Add a flag for every field of every dataclass in ``sections``, dest ``"section:field"``.

    Args:
        parser: where to add the flags, one argument group per section.
        sections: section name -> the dataclasses whose fields it may hold. A field of the
            same name in two classes of a section gets one flag.
        skip: field names to leave out (set otherwise, e.g. from the data).
    """
    seen: set[str] = set()
    for section, classes in sections.items():
        group = parser.add_argument_group(f"{section} settings (override the preset)")
        for config_class in classes:
            hints = typing.get_type_hints(config_class)
            comments = field_comments(config_class)
            for field in dataclasses.fields(config_class):
                if field.name in skip or field.name in seen:
                    continue
                seen.add(field.name)
                flag = "--" + field.name.replace("_", "-")
                hint = hints[field.name]
                help_text = _with_choices(comments.get(field.name, ""), config_class).replace("%", "%%")
                if hint is bool:
                    group.add_argument(flag, dest=f"{section}:{field.name}", action=argparse.BooleanOptionalAction,
                                       default=None, help=help_text)  # fmt: skip
                else:
                    metavar = _metavar(hint)
                    group.add_argument(flag, dest=f"{section}:{field.name}", type=_value_parser(hint, flag),
                                       default=None, metavar=metavar, help=help_text)  # fmt: skip


def _with_choices(comment: str, config_class: type) -> str:
    """``comment`` with each "one of NAME" followed by NAME's values, NAME a constant of the class's module."""
    module = sys.modules[config_class.__module__]

    def listed(match: re.Match) -> str:
        values = getattr(module, match.group(1), None)
        if not isinstance(values, (tuple, list, dict)):
            return match.group(0)
        return "one of " + ", ".join(f'"{value}"' for value in values)

    return re.sub(r"\bone of ([A-Z][A-Z_]*)\b", listed, comment)


def _metavar(hint: Any) -> str:
    arguments = [argument for argument in typing.get_args(hint) if argument is not type(None)] or [hint]
    name = {int: "N", float: "X", str: "TEXT"}.get(arguments[0], "VALUE")
    return f"{name}|none" if type(None) in typing.get_args(hint) else name


def given_overrides(args: argparse.Namespace, sections: list[str]) -> dict[str, dict[str, Any]]:
    """The config flags given on the command line: section -> field -> value."""
    given: dict[str, dict[str, Any]] = {section: {} for section in sections}
    for key, value in vars(args).items():
        if ":" in key and value is not None:
            section, field = key.split(":", 1)
            given[section][field] = None if value is GIVEN_NONE else value
    return given
