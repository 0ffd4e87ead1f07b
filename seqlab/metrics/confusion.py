"""The confusion matrix of isolated items (a spoken digit, a sentence's class): counts, accuracy, recall, precision.

``counts[r, p]`` is the number of items of reference class ``r`` predicted as class ``p``. The matrices of
parts of a test set add (``ConfusionMatrix`` adds), so processes that score parts add theirs and compute
the rates once. A class with no reference item has recall 0, one never predicted precision 0 (as
``sklearn.metrics`` gives them by default); the accuracy of no items is 0.

Example:
    >>> matrix = confusion_matrix(["one", "two", "two", "one"], ["one", "two", "one", "one"])
    >>> matrix.labels, matrix.counts.tolist(), matrix.accuracy
    (('one', 'two'), [[2, 0], [1, 1]], 0.75)
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqlab.atomic_file import atomic_path

CELL = 0.6  # inches per cell of the drawn matrix: ten digits make a 6-inch square
ANNOTATE_UP_TO = 30  # counts are written in the cells of matrices with at most this many classes


@dataclass(frozen=True, eq=False)
class ConfusionMatrix:
    """Counts of (reference class, predicted class) pairs; rows are references, columns predictions."""

    labels: tuple[Hashable, ...]  # the classes, in the order of the rows and of the columns
    counts: np.ndarray  # (C, C) int64, counts[reference, predicted]

    def __post_init__(self) -> None:
        classes = len(self.labels)
        if len(set(self.labels)) != classes:
            raise ValueError(f"the labels repeat a class: {self.labels}")
        if np.shape(self.counts) != (classes, classes):
            raise ValueError(f"counts of shape {np.shape(self.counts)} for {classes} labels")

    def __add__(self, other: ConfusionMatrix) -> ConfusionMatrix:
        if tuple(self.labels) != tuple(other.labels):
            raise ValueError(f"cannot add confusion matrices of labels {self.labels} and {other.labels}")
        return ConfusionMatrix(self.labels, self.counts + other.counts)

    def __radd__(self, other: object) -> ConfusionMatrix:
        if other == 0:  # so that sum(matrices) works
            return self
        return NotImplemented

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ConfusionMatrix):
            return NotImplemented
        return self.labels == other.labels and np.array_equal(self.counts, other.counts)

    @property
    def total(self) -> int:
        """Items counted."""
        return int(self.counts.sum())

    @property
    def correct(self) -> int:
        """Items predicted as their reference class (the diagonal)."""
        return int(np.trace(self.counts))

    @property
    def accuracy(self) -> float:
        """Correct items / all items, a fraction; 0 when there is none."""
        return self.correct / self.total if self.total else 0.0

    @property
    def recall(self) -> np.ndarray:
        """(C,) for each class, its items predicted as it / its items; 0 for a class with none."""
        return _ratio(np.diag(self.counts), self.counts.sum(1))

    @property
    def precision(self) -> np.ndarray:
        """(C,) for each class, the items predicted as it that are of it / the items predicted as it; 0 if none."""
        return _ratio(np.diag(self.counts), self.counts.sum(0))

    def as_list(self) -> list[int]:
        """The counts row by row, for summing as arrays (across workers, say)."""
        return self.counts.ravel().tolist()

    @classmethod
    def from_list(cls, labels: Sequence[Hashable], values: Sequence[float]) -> ConfusionMatrix:
        """The inverse of ``as_list`` (values may be floats holding integers, as summed arrays are)."""
        counts = np.rint(np.asarray(values, dtype=np.float64)).astype(np.int64)
        return cls(tuple(labels), counts.reshape(len(labels), len(labels)))


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.divide(numerator, denominator, out=np.zeros(len(numerator)), where=denominator > 0)


def confusion_matrix(
    references: Sequence[Hashable], predictions: Sequence[Hashable], labels: Sequence[Hashable] | None = None
) -> ConfusionMatrix:
    """Count the (reference, prediction) pairs.

    Args:
        references: the class of each item.
        predictions: the class predicted for each, in the same order.
        labels: the classes, in the order wanted; None takes the sorted classes that occur.

    Raises:
        ValueError: the numbers of items differ, or an item's class is not among ``labels``.
    """
    if len(references) != len(predictions):
        raise ValueError(f"{len(references)} references but {len(predictions)} predictions")
    labels = tuple(sorted(set(references) | set(predictions)) if labels is None else labels)
    index = {label: position for position, label in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for reference, prediction in zip(references, predictions):
        for label in (reference, prediction):
            if label not in index:
                raise ValueError(f"class {label!r} is not among the labels {labels}")
        counts[index[reference], index[prediction]] += 1
    return ConfusionMatrix(labels, counts)


def plot_confusion_matrix(matrix: ConfusionMatrix, path: str | Path, *, title: str | None = None) -> Path:
    """Draw the matrix as a PNG, written atomically: each row as shares of its reference class's items.

    The colour of a cell is its share of its row (so classes of different sizes compare), the number
    in it the count (up to ``ANNOTATE_UP_TO`` classes). Drawn on an Agg canvas, never through pyplot.

    Returns:
        ``path``, as a ``Path``.

    Raises:
        ValueError: the matrix has no class.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    classes = len(matrix.labels)
    if not classes:
        raise ValueError("a confusion matrix of no class cannot be drawn")
    shares = matrix.counts / np.maximum(matrix.counts.sum(1, keepdims=True), 1)
    side = CELL * max(classes, 2)
    figure = Figure(figsize=(side + 2.4, side + 1.6), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    names = [str(label) for label in matrix.labels]
    if max(map(len, names)) > 2:  # long names slant, ending under their column
        axes.set_xticks(range(classes), names, rotation=45, ha="right", rotation_mode="anchor")
    else:
        axes.set_xticks(range(classes), names)
    axes.set_yticks(range(classes), names)
    axes.set(xlabel="predicted", ylabel="reference")
    if classes <= ANNOTATE_UP_TO:
        for row, column in np.ndindex(classes, classes):
            colour = "white" if shares[row, column] > 0.5 else "black"
            axes.text(column, row, str(matrix.counts[row, column]), ha="center", va="center", color=colour)
    figure.colorbar(image, ax=axes, label="share of the reference class")
    axes.set_title(title if title is not None else f"accuracy {100 * matrix.accuracy:.2f}% of {matrix.total}")
    path = Path(path)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
    return path
