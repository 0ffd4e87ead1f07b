"""The confusion matrix of isolated items (seqlab.metrics.confusion): counts, rates worked out by hand, sums, PNG."""

from __future__ import annotations

import random

import numpy as np
import pytest
from numpy.testing import assert_allclose

from seqlab.metrics.confusion import ConfusionMatrix, confusion_matrix, plot_confusion_matrix

# ten spoken items of three classes; "two" is never said, "one" never recognised
REFERENCES = ["zero", "zero", "zero", "zero", "one", "one", "one", "oh", "oh", "oh"]
PREDICTIONS = ["zero", "zero", "zero", "oh", "zero", "two", "oh", "oh", "oh", "zero"]
LABELS = ("zero", "one", "two", "oh")


def test_counts_accuracy_recall_and_precision_worked_out_by_hand():
    matrix = confusion_matrix(REFERENCES, PREDICTIONS, LABELS)
    assert matrix.counts.tolist() == [
        [3, 0, 0, 1],  # zero: 3 right, 1 heard as oh
        [1, 0, 1, 1],  # one: heard as zero, two, oh
        [0, 0, 0, 0],  # two: never said
        [1, 0, 0, 2],  # oh: 2 right, 1 heard as zero
    ]
    assert (matrix.total, matrix.correct, matrix.accuracy) == (10, 5, 0.5)
    assert_allclose(matrix.recall, [3 / 4, 0, 0, 2 / 3], rtol=0, atol=1e-15)  # two: no item, recall 0
    assert_allclose(matrix.precision, [3 / 5, 0, 0, 2 / 4], rtol=0, atol=1e-15)  # one: never predicted, 0


def test_labels_default_to_the_sorted_classes_that_occur():
    assert confusion_matrix([3, 1], [1, 2]).labels == (1, 2, 3)


def test_matrices_of_parts_add_up_to_the_whole():
    rng = random.Random(0)
    references = rng.choices(range(5), k=200)
    predictions = [label if rng.random() < 0.7 else rng.randrange(5) for label in references]
    labels = range(5)
    parts = [confusion_matrix(references[a:b], predictions[a:b], labels) for a, b in ((0, 50), (50, 120), (120, 200))]
    whole = confusion_matrix(references, predictions, labels)
    assert sum(parts) == whole
    assert whole.correct == sum(r == p for r, p in zip(references, predictions))
    assert ConfusionMatrix.from_list(labels, [float(count) for count in whole.as_list()]) == whole


def test_mistakes_are_value_errors():
    with pytest.raises(ValueError, match="class 'nine' is not among the labels"):
        confusion_matrix(["one"], ["nine"], ["one", "two"])
    with pytest.raises(ValueError, match="2 references but 1 predictions"):
        confusion_matrix(["one", "two"], ["one"])
    with pytest.raises(ValueError, match="cannot add"):
        confusion_matrix(["a"], ["a"]) + confusion_matrix(["b"], ["b"])
    with pytest.raises(ValueError, match="counts of shape"):
        ConfusionMatrix(("a", "b"), np.zeros((3, 3), dtype=np.int64))


def test_no_items_give_zeros_not_errors():
    matrix = confusion_matrix([], [], ["a", "b"])
    assert matrix.accuracy == 0.0 and matrix.recall.tolist() == [0.0, 0.0] and matrix.precision.tolist() == [0, 0]


def test_a_matrix_of_no_class_is_not_drawn(tmp_path):
    with pytest.raises(ValueError, match="no class"):
        plot_confusion_matrix(confusion_matrix([], []), tmp_path / "empty.png")
    assert not list(tmp_path.iterdir())


def test_the_matrix_is_drawn_as_a_png_of_the_size_asked(tmp_path):
    from matplotlib.image import imread

    matrix = confusion_matrix(REFERENCES, PREDICTIONS, LABELS)
    path = plot_confusion_matrix(matrix, tmp_path / "figures" / "digits.png")
    assert path == tmp_path / "figures" / "digits.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width, _ = imread(path).shape
    assert (width, height) == (round(120 * (0.6 * 4 + 2.4)), round(120 * (0.6 * 4 + 1.6)))
    assert [p.name for p in path.parent.iterdir()] == ["digits.png"]  # no temporary file left behind
