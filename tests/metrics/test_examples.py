"""The runnable examples in seqlab.metrics' docstrings give what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["bleu", "chrf", "signature", "edit_distance", "wer", "confusion"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(f"seqlab.metrics.{name}"))
    assert result.attempted > 0 and result.failed == 0
