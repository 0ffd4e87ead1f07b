"""Word plots: a PNG written atomically, missing words named, labels kept apart."""

import itertools
import os
import stat
import struct
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.text import Text

from seqlab.embeddings.keyed_vectors import KeyedVectors
from seqlab.embeddings.plot import _scatter_figure, plot_words
from seqlab.errors import SeqlabError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
GROUPS = {"fruit": ["apple", "pear", "plum", "fig"], "tools": ["hammer", "saw", "drill", "wrench"]}


@pytest.fixture
def kv() -> KeyedVectors:
    """Two planted clusters of four words in 20 dimensions, and two loose words."""
    rng = np.random.default_rng(0)
    keys, rows = [], []
    for members in GROUPS.values():
        centre = rng.normal(size=20) * 3
        keys += members
        rows += [centre + rng.normal(size=20) for _ in members]
    keys += ["cloud", "river"]
    rows += list(rng.normal(size=(2, 20)) * 3)
    return KeyedVectors(keys, np.array(rows))


def png_size(path) -> tuple[int, int]:
    """(width, height) in pixels, read from the PNG's IHDR chunk."""
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE and header[12:16] == b"IHDR"
    return struct.unpack(">II", header[16:24])


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_a_png_of_the_words_is_written(kv, tmp_path, method):
    out = tmp_path / "plots" / "words.png"  # the folder is created
    result = plot_words(kv, ["apple", "saw", "cloud", "apple"], out, method=method, groups=GROUPS, title="test")
    assert result.path == out and result.skipped == ()
    assert result.words == ("apple", "saw", "cloud", "pear", "plum", "fig", "hammer", "drill", "wrench")
    assert png_size(out) == (9 * 150, 7 * 150)  # 9 x 7 inches at 150 dpi
    assert out.stat().st_size > 20_000  # the labels make a few tens of kB; a blank figure is far smaller
    assert os.listdir(out.parent) == ["words.png"]  # the temporary file is gone


def test_the_file_is_replaced_and_gets_the_usual_permissions(kv, tmp_path):
    out = tmp_path / "words.png"
    out.write_bytes(b"old")
    plot_words(kv, ["apple", "pear", "saw"], out)
    assert out.read_bytes().startswith(PNG_SIGNATURE)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~umask


def test_missing_words_are_named_and_nothing_is_written(kv, tmp_path):
    out = tmp_path / "words.png"
    with pytest.raises(SeqlabError, match=r"not in the vocabulary \(2 of 4 words\): ghost, phantom"):
        plot_words(kv, ["apple", "ghost", "pear", "phantom"], out)
    assert not out.exists() and os.listdir(tmp_path) == []


def test_missing_words_can_be_skipped_and_are_reported(kv, tmp_path):
    result = plot_words(kv, ["apple", "ghost", "pear", "saw"], tmp_path / "words.png", skip_missing=True)
    assert result.skipped == ("ghost",) and result.words == ("apple", "pear", "saw")
    assert result.path.read_bytes().startswith(PNG_SIGNATURE)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (dict(words=["apple", "pear"], method="umap"), "unknown projection method 'umap'; choose from pca, tsne"),
        (dict(words=["apple", "pear"], method="tsne"), "a t-SNE plot needs at least 3 words in the vocabulary, got 2"),
        (dict(words=["apple", "ghost"], skip_missing=True), "needs at least 2 words in the vocabulary, got 1"),
        (dict(words=[], groups={"a": ["saw"], "b": ["saw"]}), "word 'saw' is in two groups: 'a' and 'b'"),
    ],
)
def test_bad_requests_are_refused(kv, tmp_path, arguments, message):
    with pytest.raises(SeqlabError, match=message):
        plot_words(kv, out_path=tmp_path / "words.png", **arguments)


def test_labels_of_a_crowded_cluster_do_not_overlap():
    words = [f"word{i}" for i in range(10)]
    points = np.random.default_rng(1).normal(scale=0.01, size=(10, 2))
    points[0] = [5, 5]  # one far point squeezes the cluster into a corner of the picture
    figure = _scatter_figure(words, points, {}, "PCA", "crowded")
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    # Text's own extent: an Annotation's would include its leader line
    boxes = [Text.get_window_extent(text, renderer) for text in figure.axes[0].texts]
    assert sorted(text.get_text() for text in figure.axes[0].texts) == sorted(words)
    assert not any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))


def test_plotting_leaves_pyplot_and_its_backend_alone(tmp_path):
    script = (
        "import sys, numpy as np\n"
        "from seqlab.embeddings.keyed_vectors import KeyedVectors\n"
        "from seqlab.embeddings.plot import plot_words\n"
        "kv = KeyedVectors(['a', 'b', 'c'], np.eye(3))\n"
        f"plot_words(kv, ['a', 'b', 'c'], {str(tmp_path / 'p.png')!r})\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
