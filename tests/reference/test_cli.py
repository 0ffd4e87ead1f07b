"""``seqlab reference train``: end to end on a tiny corpus made in a temp directory."""

import argparse
import subprocess
import sys

import pytest

from seqlab.cli import reference
from seqlab.errors import SeqlabError

FAST = ["--hidden", "16", "--seq-length", "10", "--steps", "40", "--print-every", "10"]


def _parse(argv):
    """Parse with the group registered on a parser of our own, as seqlab.cli.main does."""
    parser = argparse.ArgumentParser(prog="seqlab")
    reference.register(parser.add_subparsers(dest="group", required=True))
    return parser.parse_args(argv)


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("the cat sat on the mat.\n" * 10, encoding="utf-8")
    return path


def test_train_prints_falling_loss_and_samples(corpus, capsys):
    args = _parse(
        ["reference", "train", str(corpus), *FAST, "--sample-every", "20", "--sample-length", "15", "--lr", "0.5"]
    )

    exit_code = args.func(args)

    out = capsys.readouterr().out
    losses = [float(line.split("loss")[1].split()[0]) for line in out.splitlines() if line.startswith("step")]
    assert exit_code == 0
    assert "12 distinct" in out and "log V = 2.4849" in out
    assert len(losses) == 4 and losses[-1] < losses[0]
    assert out.count("----- sample after step") == 2  # steps 20 and 40


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_every_cell_trains(corpus, capsys, cell):
    args = _parse(["reference", "train", str(corpus), "--cell", cell, *FAST])

    assert args.func(args) == 0
    assert "step     40" in capsys.readouterr().out


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        (b"", "file is empty"),
        (b"abc\n\x80", r"byte offset 4 \(line 2"),
        (b"a", "at least 2 characters"),
    ],
    ids=["missing", "empty", "not-utf8", "one-character"],
)
def test_bad_input_is_a_seqlab_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "corpus.txt"
    if content is not None:
        path.write_bytes(content)
    args = _parse(["reference", "train", str(path)])

    with pytest.raises(SeqlabError, match=message) as raised:
        args.func(args)

    assert str(path) in str(raised.value)


@pytest.mark.parametrize(
    "option, value",
    [("--hidden", "0"), ("--lr", "-0.1"), ("--lr", "inf"), ("--steps", "ten"), ("--cell", "cnn")],
)
def test_bad_option_values_stop_with_a_usage_error(corpus, option, value, capsys):
    with pytest.raises(SystemExit) as stopped:
        _parse(["reference", "train", str(corpus), option, value])

    assert stopped.value.code == 2
    assert option in capsys.readouterr().err


def _run_seqlab(*argv):
    command = [sys.executable, "-m", "seqlab", "reference", "train", *argv]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def test_python_dash_m_seqlab_smoke(corpus):
    result = _run_seqlab(str(corpus), *FAST, "--sample-every", "40")

    assert result.returncode == 0, result.stderr
    assert "step     40" in result.stdout and "----- sample after step 40" in result.stdout


def test_python_dash_m_seqlab_reports_bad_input_in_one_line(tmp_path):
    missing = tmp_path / "missing.txt"

    result = _run_seqlab(str(missing))

    assert result.returncode == 2
    assert result.stderr.strip() == f"seqlab: error: {missing}: no such file"
