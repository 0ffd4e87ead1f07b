"""The examples in the embeddings docstrings run and print what they say."""

import doctest
import importlib

import pytest

MODULES_WITH_EXAMPLES = ["__init__", "cooccurrence", "evaluation", "formats", "glove", "keyed_vectors", "word2vec"]


@pytest.mark.parametrize("name", MODULES_WITH_EXAMPLES)
def test_docstring_examples(name):
    module = importlib.import_module("seqlab.embeddings" + ("" if name == "__init__" else f".{name}"))

    result = doctest.testmod(module)

    assert result.attempted > 0
    assert result.failed == 0
