"""The examples in the docstrings run and print what they say."""

import doctest
import importlib

import pytest

MODULES_WITH_EXAMPLES = ["rnn", "gru", "lstm", "gradcheck", "char_lm"]


@pytest.mark.parametrize("name", MODULES_WITH_EXAMPLES)
def test_docstring_examples(name):
    module = importlib.import_module(f"seqlab.reference.{name}")

    result = doctest.testmod(module)

    assert result.attempted > 0
    assert result.failed == 0
