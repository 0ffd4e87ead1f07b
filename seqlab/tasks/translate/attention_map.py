"""Attention heat-maps as PNG: the source tokens across the top, the output tokens down the side.

Row ``t`` of the map is the attention the decoder paid to each source token while writing output
token ``t`` (Bahdanau et al. 2015, section 5.2.2 and figure 3, draw it the same way). The colour
scale is fixed to [0, 1] so that maps of different sentences and models can be compared by eye.

Drawn with ``matplotlib.figure.Figure`` on an Agg canvas, never through pyplot, so plotting leaves
the user's interactive backend and open figures alone (as :mod:`seqlab.embeddings.plot` does).
NumPy and matplotlib are imported inside the functions, so importing this module costs nothing
for a command line that only parses its arguments.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqlab.atomic_file import atomic_path
from seqlab.errors import SeqlabError

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 150
CMAP = "Greys"  # white for 0, black for 1: prints well, and reads like the papers' figures
CELL = 0.3  # inches per token in each direction: 60 tokens make an 18-inch side
FONT_SIZE = 9  # points, tick labels; a 9-point label fits a 0.3-inch (21.6-point) cell
CHARACTER_WIDTH = 0.08  # inches per character of a 9-point label, a little above DejaVu Sans's mean
ANNOTATE_UP_TO = 20  # cell values are written on maps with at most this many tokens each way
SMALLEST_SHOWN = 0.005  # values that would print as 0.00 are left blank rather than cluttering
VISIBLE_SPACE = "\u2423"  # "␣" stands for a token made of spaces, which would otherwise be a blank label
EMPTY_TOKEN = "\u2205"  # "∅" for an empty token
SPECIAL_TOKEN_COLOUR = "tab:blue"  # "<eos>", "<unk>", ...: drawn, in a colour of their own


@dataclass(frozen=True)
class AttentionExample:
    """One sentence's attention for :func:`plot_attention_grid`.

    Attributes:
        weights: (T, S) array-like, row t the attention over the source while writing output token t.
        source_tokens: the S source tokens (the columns).
        target_tokens: the T output tokens (the rows).
        title: drawn above this example's map.
    """

    weights: Any
    source_tokens: Sequence[str]
    target_tokens: Sequence[str]
    title: str | None = None


def plot_attention(
    weights: Any,
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    path: str | os.PathLike,
    *,
    title: str | None = None,
    annotate: bool | None = None,
    cmap: str = CMAP,
) -> Path:
    """Draw one attention map and write it as a PNG, atomically.

    The PNG is written to a temporary file beside ``path`` and renamed over it, so a reader never
    sees half a file, and a failed drawing leaves ``path`` as it was.

    Args:
        weights: numpy array or torch tensor (any device, dtype or ``requires_grad``); each row
            normally sums to 1 (0 for an output position that attended nowhere), but a cropped map
            is drawn as well. Values must lie in [0, 1].
        source_tokens: the source tokens, special ones such as ``<eos>`` included.
        target_tokens: the output tokens, special ones included.
        path: where the PNG goes; missing parent folders are created.
        title: drawn above the map.
        annotate: write each cell's value in it; by default when both sides have at most
            :data:`ANNOTATE_UP_TO` tokens.
        cmap: a matplotlib colour map name; grey-scale or perceptually uniform ones ("viridis") read best.

    Shape:
        - weights: ``(T, S)`` with T = ``len(target_tokens)`` and S = ``len(source_tokens)``.

    Returns:
        The path written.

    Raises:
        SeqlabError: weights not 2-D, not matching the tokens, empty, NaN or infinite, or outside [0, 1].

    Example:
        >>> weights = [[0.9, 0.1], [0.2, 0.8]]  # (T, S) = (2 output tokens, 2 source tokens)
        >>> plot_attention(weights, ["hallo", "<eos>"], ["hello", "<eos>"], "map.png")  # doctest: +SKIP
    """
    figure = attention_figure(weights, source_tokens, target_tokens, title=title, annotate=annotate, cmap=cmap)
    return _save(figure, path)


def plot_attention_grid(
    examples: Sequence[AttentionExample | tuple],
    path: str | os.PathLike,
    *,
    columns: int | None = None,
    title: str | None = None,
    annotate: bool | None = None,
    cmap: str = CMAP,
) -> Path:
    """Draw several sentences' attention maps in one PNG, with one colour bar, atomically.

    Args:
        examples: :class:`AttentionExample` or tuples ``(weights, source_tokens, target_tokens[, title])``.
        path: where the PNG goes; missing parent folders are created.
        columns: maps per row; by default ``ceil(sqrt(len(examples)))`` (4 examples make 2 x 2).
        title: drawn above the whole figure.
        annotate: as in :func:`plot_attention`, decided for each map on its own by default.
        cmap: a matplotlib colour map name.

    Returns:
        The path written.

    Raises:
        SeqlabError: no examples, ``columns`` below 1, or a bad example (named by its position, from 1).
    """
    figure = attention_grid_figure(examples, columns=columns, title=title, annotate=annotate, cmap=cmap)
    return _save(figure, path)


def attention_figure(
    weights: Any,
    source_tokens: Sequence[str],
    target_tokens: Sequence[str],
    *,
    title: str | None = None,
    annotate: bool | None = None,
    cmap: str = CMAP,
) -> Figure:
    """The figure :func:`plot_attention` saves: the map and its colour bar, on an Agg canvas.

    Arguments, shapes and errors are those of :func:`plot_attention`.
    """
    matrix, source, target = _checked(weights, source_tokens, target_tokens)
    figure = _new_figure(_map_size(source, target))
    axes = figure.add_subplot()
    image = _draw_map(axes, matrix, source, target, title=title, annotate=annotate, cmap=cmap)
    figure.colorbar(image, ax=axes, label="attention weight", shrink=_colour_bar_shrink(len(target)))
    return figure


def attention_grid_figure(
    examples: Sequence[AttentionExample | tuple],
    *,
    columns: int | None = None,
    title: str | None = None,
    annotate: bool | None = None,
    cmap: str = CMAP,
) -> Figure:
    """The figure :func:`plot_attention_grid` saves; arguments and errors are the same."""
    if not examples:
        raise SeqlabError("no attention maps to draw: the list of examples is empty")
    if columns is not None and columns < 1:
        raise SeqlabError(f"columns must be at least 1, got {columns}")
    checked = []
    for number, example in enumerate(examples, start=1):
        example = example if isinstance(example, AttentionExample) else AttentionExample(*example)
        parts = _checked(example.weights, example.source_tokens, example.target_tokens, where=f"example {number}: ")
        checked.append((*parts, example.title))
    columns = min(columns or math.ceil(math.sqrt(len(checked))), len(checked))
    rows = math.ceil(len(checked) / columns)
    # every cell of the grid is as large as the largest map, so that all maps share one cell size
    widths, heights = zip(*(_map_size(source, target, colour_bar=False) for _, source, target, _ in checked))
    figure = _new_figure((columns * max(widths) + 1.0, rows * max(heights) + (0.4 if title else 0.0)))
    grid = figure.subplots(rows, columns, squeeze=False).ravel()
    for axes, (matrix, source, target, example_title) in zip(grid, checked):
        image = _draw_map(axes, matrix, source, target, title=example_title, annotate=annotate, cmap=cmap)
    for axes in grid[len(checked) :]:
        axes.set_axis_off()
    figure.colorbar(image, ax=list(grid), label="attention weight", shrink=0.6)
    if title:
        figure.suptitle(title)
    return figure


def _checked(
    weights: Any, source_tokens: Sequence[str], target_tokens: Sequence[str], *, where: str = ""
) -> tuple[np.ndarray, list[str], list[str]]:
    """The weights as a float64 (T, S) array and the tokens as strings, or a one-line error."""
    import numpy as np

    if hasattr(weights, "detach"):  # a torch tensor, on any device, possibly bfloat16 or requiring grad
        weights = weights.detach().cpu().double().numpy()
    try:
        matrix = np.array(weights, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise SeqlabError(f"{where}attention weights must be numbers in a (T, S) array: {error}") from None
    source, target = [_label(token) for token in source_tokens], [_label(token) for token in target_tokens]
    if matrix.ndim != 2:
        raise SeqlabError(f"{where}attention weights must be 2-D (target x source), got shape {tuple(matrix.shape)}")
    if matrix.shape != (len(target), len(source)):
        raise SeqlabError(
            f"{where}attention weights of shape {tuple(matrix.shape)} (target x source) do not match "
            f"{len(target)} target tokens and {len(source)} source tokens"
        )
    if matrix.size == 0:
        raise SeqlabError(f"{where}nothing to draw: {len(target)} target tokens and {len(source)} source tokens")
    for name, bad in (("NaN", np.isnan(matrix)), ("infinities", np.isinf(matrix))):
        if bad.any():
            raise SeqlabError(f"{where}attention weights contain {name} ({int(bad.sum())} of {matrix.size} values)")
    low, high = matrix.min(), matrix.max()
    if low < -1e-6 or high > 1 + 1e-6:  # float32 softmax outputs may stray past 1 by an ulp or two
        raise SeqlabError(f"{where}attention weights must lie in [0, 1], found values from {low:.4g} to {high:.4g}")
    return matrix.clip(0, 1), source, target


def _map_size(source: Sequence[str], target: Sequence[str], *, colour_bar: bool = True) -> tuple[float, float]:
    """(width, height) in inches: square cells, plus room for the labels, the colour bar and a title.

    Source labels stand upright across the top, so the longest source token adds height and the
    longest target token adds width.
    """
    source_labels = CHARACTER_WIDTH * max(len(token) for token in source) + 0.6  # + tick and axis label
    target_labels = CHARACTER_WIDTH * max(len(token) for token in target) + 0.6
    width = CELL * len(source) + target_labels + (1.2 if colour_bar else 0.0) + 0.4
    height = CELL * len(target) + source_labels + 0.8  # + title and margins
    return max(width, 3.5), max(height, 2.5)


def _wrapped(title: str, width: float) -> str:
    """``title`` broken at spaces into lines that fit ``width`` inches at the title's font size.

    A title sets no width of its own (the map does), so a long sentence and its translation would
    otherwise run past both edges of the picture.
    """
    import textwrap

    characters = int(width / (CHARACTER_WIDTH * (FONT_SIZE + 1) / FONT_SIZE))
    return textwrap.fill(title, width=max(characters, 10), break_long_words=True)


def _colour_bar_shrink(rows: int) -> float:
    """A colour bar as tall as the map for small maps, at most 6 inches for tall ones."""
    return min(1.0, 6.0 / (CELL * rows))


def _new_figure(size: tuple[float, float]) -> Figure:
    """An empty figure of ``size`` inches on its own Agg canvas, laid out so that no label is cut."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _draw_map(
    axes: Axes,
    matrix: np.ndarray,
    source: Sequence[str],
    target: Sequence[str],
    *,
    title: str | None,
    annotate: bool | None,
    cmap: str,
):
    """Draw ``matrix`` (T, S) on ``axes`` with the tokens as tick labels; returns the image."""
    image = axes.imshow(matrix, cmap=cmap, vmin=0.0, vmax=1.0, aspect="equal", interpolation="nearest")
    axes.xaxis.tick_top()
    axes.xaxis.set_label_position("top")
    # parse_math=False: a token such as "$5" or "$x$" is drawn as written, never as TeX
    axes.set_xticks(range(len(source)), source, rotation=90, fontsize=FONT_SIZE, parse_math=False)
    axes.set_yticks(range(len(target)), target, fontsize=FONT_SIZE, parse_math=False)
    for label in [*axes.get_xticklabels(), *axes.get_yticklabels()]:
        if _is_special(label.get_text()):
            label.set_color(SPECIAL_TOKEN_COLOUR)
    axes.set_xlabel("source")
    axes.set_ylabel("output")
    axes.tick_params(length=2)
    if title:
        axes.set_title(_wrapped(title, axes.figure.get_figwidth()), fontsize=FONT_SIZE + 1)
    if annotate if annotate is not None else max(matrix.shape) <= ANNOTATE_UP_TO:
        _write_values(axes, matrix, image)
    return image


def _write_values(axes: Axes, matrix: np.ndarray, image) -> None:
    """Each cell's value written in it, light on dark cells and dark on light ones."""
    import numpy as np

    for (row, column), value in np.ndenumerate(matrix):
        if value < SMALLEST_SHOWN:
            continue
        red, green, blue, _ = image.cmap(image.norm(value))
        dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5  # perceived brightness (ITU-R BT.601)
        axes.text(
            column,
            row,
            f"{value:.2f}".removeprefix("0"),  # ".42": fits a cell at 6 points
            ha="center",
            va="center",
            fontsize=6,
            color="white" if dark else "black",
            parse_math=False,
        )


def _label(token: Any) -> str:
    """The token as drawn: itself, unless it is blank (spaces of a character-level source, tabs, nothing)."""
    token = str(token)
    if token.strip():
        return token
    if not token:
        return EMPTY_TOKEN
    return VISIBLE_SPACE * len(token) if set(token) == {" "} else repr(token)  # a tab: its repr, quotes included


def _is_special(token: str) -> bool:
    """Tokens such as ``<eos>``, ``<unk>``, ``<pad>``, ``</s>``."""
    return len(token) > 2 and token.startswith("<") and token.endswith(">")


def _save(figure: Figure, path: str | os.PathLike) -> Path:
    """Write ``figure`` as a PNG to ``path`` through a temporary file, so a failure leaves no partial file."""
    path = Path(path)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=DPI)
    return path
