"""Attention heat-maps: a PNG written atomically, tokens on the axes, the weights drawn as given, bad input refused."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import matplotlib.image
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from seqlab.errors import SeqlabError
from seqlab.tasks.translate.attention_map import (
    AttentionExample,
    attention_figure,
    attention_grid_figure,
    plot_attention,
    plot_attention_grid,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SOURCE = ["ein", "Hund", "läuft", ".", "<eos>"]
TARGET = ["a", "dog", "runs", ".", "<eos>"]


def attention(rows: int, columns: int, *, seed: int = 0) -> np.ndarray:
    """(rows, columns) weights, each row a peaked distribution summing to 1."""
    logits = np.random.default_rng(seed).normal(scale=3.0, size=(rows, columns))
    weights = np.exp(logits)
    return weights / weights.sum(axis=1, keepdims=True)


def tokens(prefix: str, count: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(count)]


def png_pixels(path) -> tuple[int, int]:
    """(width, height) of the PNG, read back by matplotlib."""
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    image = matplotlib.image.imread(path)  # (H, W, 4) RGBA
    assert image.ndim == 3 and image.shape[2] == 4
    return image.shape[1], image.shape[0]


def tick_labels(axes) -> tuple[list[str], list[str]]:
    """The x and y tick labels, each in the order of its tick positions, which must be 0, 1, 2, ..."""
    for ticks in (axes.get_xticks(), axes.get_yticks()):
        np.testing.assert_array_equal(ticks, np.arange(len(ticks)))
    return [label.get_text() for label in axes.get_xticklabels()], [
        label.get_text() for label in axes.get_yticklabels()
    ]


# ---------------------------------------------------------------------------------------------- the PNG


def test_a_png_is_written_and_reads_back(tmp_path):
    out = tmp_path / "maps" / "attention.png"  # the folder is created
    assert plot_attention(attention(5, 5), SOURCE, TARGET, out, title="ein Hund läuft .") == out
    width, height = png_pixels(out)
    assert width > 0 and height > 0
    assert os.listdir(out.parent) == ["attention.png"]  # the temporary file is gone


def test_the_picture_grows_with_the_number_of_tokens(tmp_path):
    sizes = []
    for rows, columns in [(5, 6), (12, 15), (25, 30)]:
        out = tmp_path / f"{rows}x{columns}.png"
        plot_attention(attention(rows, columns), tokens("s", columns), tokens("t", rows), out, annotate=False)
        sizes.append(png_pixels(out))
    (w1, h1), (w2, h2), (w3, h3) = sizes
    assert w1 < w2 < w3 and h1 < h2 < h3


def test_a_60_by_60_map_has_readable_cells_and_labels_that_neither_overlap_nor_leave_the_picture():
    source = [f"Quelle{i}" for i in range(59)] + ["<eos>"]
    target = [f"target{i}" for i in range(59)] + ["<eos>"]
    figure = attention_figure(attention(60, 60), source, target)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    axes = figure.axes[0]
    frame = axes.get_window_extent(renderer)
    assert frame.width / 60 >= 30 and frame.height / 60 >= 30  # pixels per cell; a 9-point label is ~19 px tall
    picture = figure.bbox
    for labels in (axes.get_xticklabels(), axes.get_yticklabels()):
        boxes = [label.get_window_extent(renderer) for label in labels]
        assert not any(a.overlaps(b) for a, b in itertools.pairwise(boxes))  # neighbours are the closest
        assert all(
            picture.x0 <= box.x0 and box.x1 <= picture.x1 and picture.y0 <= box.y0 and box.y1 <= picture.y1
            for box in boxes
        )


def test_a_title_longer_than_the_map_is_wrapped_inside_the_picture():
    sentence = "leute reparieren das dach eines hauses , während ein hund im garten schläft ."
    title = f"{sentence} → people are fixing the roof of a house while a dog sleeps in the garden ."
    figure = attention_figure(attention(5, 5), SOURCE, TARGET, title=title)
    figure.canvas.draw()
    drawn = figure.axes[0].title
    box, picture = drawn.get_window_extent(figure.canvas.get_renderer()), figure.bbox
    assert picture.x0 <= box.x0 and box.x1 <= picture.x1 and box.y1 <= picture.y1
    assert drawn.get_text().split() == title.split()  # every word kept, in order
    assert drawn.get_text().count("\n") >= 2


# ----------------------------------------------------------------------------------- what the map shows


def test_source_tokens_label_the_columns_and_target_tokens_the_rows():
    weights = attention(5, 5)
    figure = attention_figure(weights, SOURCE, TARGET, title="ein Hund läuft .")
    assert isinstance(figure, Figure)
    axes, colour_bar = figure.axes  # the map and its colour bar
    assert tick_labels(axes) == (SOURCE, TARGET)
    assert axes.get_title() == "ein Hund läuft ."
    (image,) = axes.images
    np.testing.assert_array_equal(image.get_array(), weights)  # rows = output tokens, not transposed
    assert image.get_clim() == (0.0, 1.0)  # one fixed scale, so that maps can be compared
    assert colour_bar.get_ylim() == (0.0, 1.0)
    assert all(label.get_rotation() == 90 for label in axes.get_xticklabels())  # source labels stand upright


def test_a_torch_tensor_that_requires_grad_is_drawn_as_its_values():
    weights = torch.softmax(torch.randn(3, 4, generator=torch.Generator().manual_seed(0)), dim=-1).requires_grad_()
    figure = attention_figure(weights, tokens("s", 4), tokens("t", 3))
    torch.testing.assert_close(
        torch.from_numpy(np.asarray(figure.axes[0].images[0].get_array())), weights.detach().double(), rtol=0, atol=0
    )


def test_special_tokens_and_dollar_signs_are_drawn_as_written_and_blank_tokens_are_made_visible(tmp_path):
    source = ["<bos>", "$5", "$x$", "a_b", " ", "", "\t", "<eos>"]
    target = ["$$", "</s>", "<eos>"]
    figure = attention_figure(attention(3, 8), source, target)
    figure.canvas.draw()  # mathtext would fail on "$$" and turn "$x$" into an italic x
    x_labels, y_labels = tick_labels(figure.axes[0])
    assert x_labels == ["<bos>", "$5", "$x$", "a_b", "\u2423", "\u2205", "'\\t'", "<eos>"]
    assert y_labels == target
    specials = {label.get_text() for label in figure.axes[0].get_yticklabels() if label.get_color() != "black"}
    assert specials == {"</s>", "<eos>"}  # drawn in a colour of their own


def test_small_maps_show_each_cell_value_large_maps_do_not():
    weights = np.array([[1.0, 0.0, 0.0], [0.1, 0.004, 0.896]])  # (T, S) = (2, 3)
    axes = attention_figure(weights, tokens("s", 3), tokens("t", 2)).axes[0]
    written = {(text.get_position(), text.get_text(), text.get_color()) for text in axes.texts}
    # (column, row) positions; values under 0.005 left blank; light text on dark cells
    assert written == {((0, 0), "1.00", "white"), ((0, 1), ".10", "black"), ((2, 1), ".90", "white")}
    assert len(attention_figure(attention(21, 5), tokens("s", 5), tokens("t", 21)).axes[0].texts) == 0
    assert len(attention_figure(weights, tokens("s", 3), tokens("t", 2), annotate=False).axes[0].texts) == 0
    assert len(attention_figure(attention(21, 5), tokens("s", 5), tokens("t", 21), annotate=True).axes[0].texts) > 0


def test_rows_of_zeros_and_float32_rounding_past_one_are_accepted():
    weights = np.array([[1.0 + 1e-7, 0.0], [0.0, 0.0]])  # an output position that attended nowhere
    image = attention_figure(weights, ["a", "b"], ["x", "<pad>"]).axes[0].images[0]
    assert np.asarray(image.get_array()).max() == 1.0  # clipped into the scale


# -------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.full((4, 5), 0.2), r"shape \(4, 5\) \(target x source\) do not match 5 target tokens and 5 source tokens"),
        (np.full((5, 6), 0.2), r"shape \(5, 6\) \(target x source\) do not match 5 target tokens and 5 source tokens"),
        (np.full(5, 0.2), r"must be 2-D \(target x source\), got shape \(5,\)"),
        (np.full((1, 5, 5), 0.2), r"must be 2-D \(target x source\), got shape \(1, 5, 5\)"),
        (np.where(np.eye(5) == 1, np.nan, 0.0), r"contain NaN \(5 of 25 values\)"),
        (np.where(np.eye(5) == 1, np.inf, 0.0), r"contain infinities \(5 of 25 values\)"),
        (np.eye(5) * 2 - 0.5, r"must lie in \[0, 1\], found values from -0.5 to 1.5"),
        ([["a"] * 5] * 5, r"must be numbers in a \(T, S\) array"),
    ],
)
def test_bad_weights_are_refused_in_one_line_and_nothing_is_written(tmp_path, weights, message):
    out = tmp_path / "map.png"
    with pytest.raises(SeqlabError, match=message) as raised:
        plot_attention(weights, SOURCE, TARGET, out)
    assert "\n" not in str(raised.value)
    assert os.listdir(tmp_path) == []


def test_an_empty_map_is_refused():
    with pytest.raises(SeqlabError, match="nothing to draw: 0 target tokens and 3 source tokens"):
        attention_figure(np.zeros((0, 3)), ["a", "b", "c"], [])


def test_a_failed_drawing_leaves_the_old_file_and_no_partial_one(tmp_path, monkeypatch):
    out = tmp_path / "map.png"
    out.write_bytes(b"the previous map")

    def savefig_that_fails(self, fname, **kwargs):
        with open(fname, "wb") as half:
            half.write(PNG_SIGNATURE)  # half a PNG, then the failure
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", savefig_that_fails)
    with pytest.raises(OSError, match="disk full"):
        plot_attention(attention(5, 5), SOURCE, TARGET, out)
    assert out.read_bytes() == b"the previous map"
    assert os.listdir(tmp_path) == ["map.png"]


# ------------------------------------------------------------------------------------------------- grid


def test_a_grid_draws_each_example_with_its_tokens_and_one_colour_bar(tmp_path):
    examples = [
        AttentionExample(attention(11, 11, seed=i), list("3 may 1979") + ["<eos>"], list("1979-05-03") + ["<eos>"])
        for i in range(3)
    ] + [(attention(4, 6), tokens("s", 6), tokens("t", 4), "a tuple with a title")]
    figure = attention_grid_figure(examples, title="dates", annotate=False)  # values are tested on one map
    maps = [axes for axes in figure.axes if axes.images]
    assert len(maps) == 4 and len(figure.axes) == 5  # 2 x 2 maps and the colour bar
    for axes, example in zip(maps, examples):
        example = example if isinstance(example, AttentionExample) else AttentionExample(*example)
        source = [token if token != " " else "\u2423" for token in example.source_tokens]
        assert tick_labels(axes) == (source, list(example.target_tokens))
        np.testing.assert_array_equal(axes.images[0].get_array(), example.weights)
    assert maps[3].get_title() == "a tuple with a title"
    # each map sits in the middle of its cell of the grid (a short map is centred, not stretched)
    centres = {tuple(np.round(axes.get_position().get_points().mean(axis=0), 2)) for axes in maps}
    assert len({x for x, _ in centres}) == 2 and len({y for _, y in centres}) == 2  # two columns, two rows
    out = plot_attention_grid(examples, tmp_path / "grid.png", title="dates", annotate=False)
    width, height = png_pixels(out)
    assert width > 0 and height > 0 and os.listdir(tmp_path) == ["grid.png"]


def test_a_grid_with_a_missing_cell_hides_it():
    figure = attention_grid_figure([(attention(2, 2), "ab", "xy")] * 3, columns=2)
    assert [axes.axison for axes in figure.axes if not axes.images and axes.get_label() != "<colorbar>"] == [False]


@pytest.mark.parametrize(
    ("examples", "columns", "message"),
    [
        ([], None, "no attention maps to draw: the list of examples is empty"),
        ([(np.eye(2), "ab", "xy")], 0, "columns must be at least 1, got 0"),
        (
            [(np.eye(2), "ab", "xy"), (np.eye(2), "abc", "xy")],
            None,
            r"example 2: attention weights of shape \(2, 2\) \(target x source\) do not match 2 target tokens and 3",
        ),
        ([(np.eye(2), "ab", "xy"), (np.full((2, 2), np.nan), "ab", "xy")], None, "example 2: attention weights con"),
    ],
)
def test_bad_grids_are_refused(tmp_path, examples, columns, message):
    with pytest.raises(SeqlabError, match=message):
        plot_attention_grid(examples, tmp_path / "grid.png", columns=columns)
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------------------- import costs


def test_importing_costs_nothing_and_drawing_leaves_pyplot_alone(tmp_path):
    script = (
        "import sys\n"
        "import seqlab.tasks.translate.attention_map as m\n"
        "assert not {'numpy', 'matplotlib', 'torch'} & set(sys.modules), sorted(sys.modules)\n"
        f"m.plot_attention([[1.0, 0.0], [0.5, 0.5]], ['a', 'b'], ['x', 'y'], {str(tmp_path / 'p.png')!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
    assert (tmp_path / "p.png").read_bytes().startswith(PNG_SIGNATURE)
