"""A labelled 2-D scatter plot of chosen words, saved as PNG.

Drawn with ``matplotlib.figure.Figure`` on an Agg canvas, never through pyplot, so plotting
leaves the user's interactive backend and open figures alone.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from seqlab.atomic_file import atomic_path
from seqlab.embeddings.keyed_vectors import KeyedVectors
from seqlab.embeddings.projection import pca_2d, tsne_2d
from seqlab.errors import SeqlabError

PROJECTIONS = {"pca": ("PCA", 2), "tsne": ("t-SNE", 3)}  # method -> (axis name, fewest words)
DPI = 150
UNGROUPED_COLOUR = "dimgrey"
LABEL_OFFSET = (4, 3)  # points right of and above the marker: the label's preferred spot
MARKER_RADIUS = 4  # pixels around a marker's centre that labels keep clear of
# the thin grey line from a label moved away from its marker back to the marker
LEADER_LINE = dict(arrowstyle="-", color="0.55", linewidth=0.6, shrinkA=1, shrinkB=3)


@dataclass(frozen=True)
class WordPlot:
    """What :func:`plot_words` drew.

    Attributes:
        path: the PNG written.
        words: the words drawn, in order.
        skipped: the words left out because they are not in the vocabulary (``skip_missing=True``).
    """

    path: Path
    words: tuple[str, ...]
    skipped: tuple[str, ...]


def plot_words(
    kv: KeyedVectors,
    words: Sequence[str],
    out_path: str | os.PathLike,
    *,
    method: str = "pca",
    title: str | None = None,
    seed: int = 0,
    groups: Mapping[str, Sequence[str]] | None = None,
    skip_missing: bool = False,
) -> WordPlot:
    """Project the words' unit vectors to 2-D and draw each as a labelled point.

    Unit vectors are projected, so the picture follows cosine similarity, the geometry that
    similarity queries use. The PNG is written to a temporary file beside ``out_path`` and
    renamed over it, so a reader never sees half a file.

    Args:
        kv: the word vectors.
        words: the words to draw (duplicates drawn once).
        out_path: where the PNG goes; missing parent folders are created.
        method: "pca" or "tsne" (see :mod:`seqlab.embeddings.projection`).
        title: the plot's title; by default the method and the number of words.
        seed: passed to t-SNE.
        groups: group name -> words, one colour per group with a legend; group words missing
            from ``words`` are drawn too.
        skip_missing: leave out words not in the vocabulary (listed in the result) instead of
            raising.

    Returns:
        The path written and the words drawn and skipped.

    Raises:
        SeqlabError: an unknown method, words not in the vocabulary (all named), a word in two
            groups, or too few words for the method.
    """
    if method not in PROJECTIONS:
        raise SeqlabError(f"unknown projection method {method!r}; choose from {', '.join(PROJECTIONS)}")
    group_of = _group_of_each_word(groups or {})
    requested = list(dict.fromkeys([*words, *group_of]))
    skipped = tuple(word for word in requested if word not in kv)
    if skipped and not skip_missing:
        raise SeqlabError(f"not in the vocabulary ({len(skipped)} of {len(requested)} words): {', '.join(skipped)}")
    drawn = tuple(word for word in requested if word in kv)
    axis_name, fewest = PROJECTIONS[method]
    if len(drawn) < fewest:
        raise SeqlabError(f"a {axis_name} plot needs at least {fewest} words in the vocabulary, got {len(drawn)}")
    vectors = kv.unit_vectors[[kv.index(word) for word in drawn]]  # (N, D)
    points = pca_2d(vectors) if method == "pca" else tsne_2d(vectors, seed=seed)
    figure = _scatter_figure(drawn, points, group_of, axis_name, title or f"{axis_name} of {len(drawn)} word vectors")
    path = Path(out_path)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=DPI)
    return WordPlot(path, drawn, skipped)


def _group_of_each_word(groups: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """word -> its group's name, refusing a word listed in two groups."""
    group_of: dict[str, str] = {}
    for name, members in groups.items():
        for word in members:
            if group_of.setdefault(word, name) != name:
                raise SeqlabError(f"word {word!r} is in two groups: {group_of[word]!r} and {name!r}")
    return group_of


def _scatter_figure(
    words: Sequence[str], points: np.ndarray, group_of: Mapping[str, str], axis_name: str, title: str
) -> Figure:
    """The scatter plot of ``points`` (N, 2), each labelled with its word and coloured by its group."""
    crowded = len(words) > 60
    figure = Figure(figsize=(12, 10) if crowded else (9, 7), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    group_per_word = [group_of.get(word) for word in words]  # None: in no group
    names = list(dict.fromkeys(group_per_word))
    colours = {name: f"C{i % 10}" for i, name in enumerate(name for name in names if name is not None)}
    colours[None] = UNGROUPED_COLOUR if group_of else "C0"
    for name in names:
        members = [i for i, group in enumerate(group_per_word) if group == name]
        label = "other" if name is None else name
        axes.scatter(points[members, 0], points[members, 1], s=28, color=colours[name], label=label, alpha=0.85)
    axes.margins(0.12)  # room for the labels of the outermost points
    axes.set_xlabel(f"{axis_name} 1")
    axes.set_ylabel(f"{axis_name} 2")
    axes.set_title(title)
    axes.grid(alpha=0.25)
    if group_of:
        axes.legend(loc="best", fontsize=9)
    figure.tight_layout()
    _place_labels(axes, words, points, fontsize=8 if crowded else 10)
    return figure


def _place_labels(axes, words: Sequence[str], points: np.ndarray, *, fontsize: float) -> None:
    """Label each point at the nearby spot where its label hides the least of the markers and earlier labels.

    Spots are tried in order: the four corners of the marker (right above first), then further up
    and down on the right and on the left; ties go to the earlier spot, and spots leaving the axes
    come last. A label away from its marker's corner gets a thin leader line. Positions are
    worked out in the figure's pixels, so the axes must already be laid out.
    """
    renderer = axes.figure.canvas.get_renderer()
    pixels_per_point = axes.figure.dpi / 72
    frame = axes.get_window_extent(renderer)
    anchors = axes.transData.transform(points)  # (N, 2) pixels
    markers = np.hstack([anchors - MARKER_RADIUS, anchors + MARKER_RADIUS])  # (N, 4) rows x0, y0, x1, y1
    labels = np.zeros_like(markers)  # the boxes of the labels placed so far, same layout
    for i, (word, point) in enumerate(zip(words, points)):
        label = axes.annotate(word, point, xytext=LABEL_OFFSET, textcoords="offset points", fontsize=fontsize)
        box = label.get_window_extent(renderer)
        width, height = box.width / pixels_per_point, box.height / pixels_per_point  # points
        spots = [LABEL_OFFSET, (4, -3 - height), (-4 - width, 3), (-4 - width, -3 - height)]
        spots += [(x, 3 + sign * step * height) for x in (4, -4 - width) for step in range(1, 7) for sign in (1, -1)]
        shifts = (np.array(spots) - LABEL_OFFSET) * pixels_per_point  # (S, 2) pixels
        candidates = np.array([box.x0, box.y0, box.x1, box.y1]) + np.tile(shifts, 2)  # (S, 4)
        best = int(np.argmin(_clutter(candidates, markers, labels[:i], frame)))
        label.remove()  # it was only there to be measured
        leader = LEADER_LINE if best >= 4 else None  # beyond the marker's corners
        axes.annotate(word, point, xytext=spots[best], textcoords="offset points", fontsize=fontsize, arrowprops=leader)
        labels[i] = candidates[best]


def _clutter(candidates: np.ndarray, markers: np.ndarray, labels: np.ndarray, frame) -> np.ndarray:
    """(S,) how badly each candidate label box (S, 4) hides the markers (M, 4) and labels (L, 4).

    A covered label costs 3, a covered marker 1, leaving the axes ``frame`` more than any overlap.
    Boxes are rows x0, y0, x1, y1.
    """

    def overlaps(boxes: np.ndarray) -> np.ndarray:  # (S,) how many of boxes each candidate intersects
        x0, y0, x1, y1 = (candidates[:, k, None] for k in range(4))
        return np.sum((x0 < boxes[:, 2]) & (x1 > boxes[:, 0]) & (y0 < boxes[:, 3]) & (y1 > boxes[:, 1]), axis=1)

    inside = (
        (candidates[:, 0] >= frame.x0)
        & (candidates[:, 2] <= frame.x1)
        & (candidates[:, 1] >= frame.y0)
        & (candidates[:, 3] <= frame.y1)
    )
    return 3 * overlaps(labels) + overlaps(markers) + np.where(inside, 0, 3 * (len(labels) + len(markers)) + 1)
