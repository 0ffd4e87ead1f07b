"""`seqlab tag score FILE`: conlleval's very report on its own input format, seqeval's modes, one-line errors."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from seqlab.cli.main import main
from seqlab.metrics.tag_files import read_tag_pairs
from tests.metrics.test_entity_f1 import REALISTIC_GOLD, REALISTIC_PREDICTED, conlleval_script, seqeval_report

# A CoNLL-2003-like file: a document marker (a token to conlleval), POS and chunk columns,
# sentences apart by blank lines and by a -X- line, and no blank line at the end.
HEADER = "-DOCSTART- -X- -X- O O\n\n"


def write_corpus(path, gold, predicted, separator="\n") -> None:
    sentences = [
        "".join(f"w{i} NN I-NP {a} {b}\n" for i, (a, b) in enumerate(zip(truth, guess)))
        for truth, guess in zip(gold, predicted)
    ]
    path.write_text(HEADER + separator.join(sentences), encoding="utf-8")


@pytest.fixture
def tagged_file(tmp_path):
    path = tmp_path / "dev.conll"
    write_corpus(path, REALISTIC_GOLD, REALISTIC_PREDICTED)
    return path


def test_the_report_is_what_conlleval_prints_for_the_file(tagged_file, capsys):
    assert main(["tag", "score", str(tagged_file)]) == 0
    with tagged_file.open() as stream:
        expected = subprocess.run(["perl", str(conlleval_script())], stdin=stream, capture_output=True, text=True)
    assert capsys.readouterr().out == expected.stdout


def test_a_boundary_line_separates_sentences_as_a_blank_line_does(tmp_path):
    blank, marked = tmp_path / "blank.conll", tmp_path / "marked.conll"
    write_corpus(blank, REALISTIC_GOLD, REALISTIC_PREDICTED)
    write_corpus(marked, REALISTIC_GOLD, REALISTIC_PREDICTED, separator="-X- -X- -X- O O\n")
    assert read_tag_pairs(blank) == read_tag_pairs(marked)
    sentences, first_lines = read_tag_pairs(blank)
    assert len(sentences) == 1 + len(REALISTIC_GOLD)  # the document marker is a sentence of one token
    assert first_lines[:3] == [1, 3, 12]


@pytest.mark.parametrize("flag", ["--strict", "--lenient"])
def test_json_gives_seqevals_scores_in_percent(tagged_file, capsys, flag):
    assert main(["tag", "score", str(tagged_file), flag, "--json"]) == 0
    ours = json.loads(capsys.readouterr().out)
    gold, predicted = [["O"], *REALISTIC_GOLD], [["O"], *REALISTIC_PREDICTED]
    expected = seqeval_report(gold, predicted, flag.strip("-"), "BIO")
    assert ours["mode"] == flag.strip("-") and ours["scheme"] == ("BIO" if flag == "--strict" else None)
    assert ours["overall"]["f1"] == pytest.approx(100 * expected["micro avg"]["f1-score"], abs=1e-10)
    for name, scores in ours["by_type"].items():
        assert scores["precision"] == pytest.approx(100 * expected[name]["precision"], abs=1e-10)
        assert scores["gold"] == expected[name]["support"]


def test_strict_reads_bioes_when_the_file_has_e_and_s_tags(tmp_path, capsys):
    path = tmp_path / "bioes.conll"
    write_corpus(path, [["B-PER", "E-PER", "S-LOC"]], [["B-PER", "E-PER", "B-LOC"]])
    assert main(["tag", "score", str(path), "--strict", "--json"]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["scheme"] == "BIOES"
    assert (scored["overall"]["gold"], scored["overall"]["predicted"], scored["overall"]["correct"]) == (2, 1, 1)


@pytest.mark.parametrize(
    ("content", "arguments", "message"),
    [
        ("a NN B-PER B-PER\nb O O\n", [], r"t\.conll, line 2: 3 columns, expected 4, as the first tagged line"),
        ("a B-PER\n", [], r"t\.conll, line 1: 2 columns, expected at least 3"),
        ("a NN O O\n\nb NN S-PER O\n", ["--strict", "--scheme", "BIO"],
         r"t\.conll, sentence at line 3: tag 'S-PER' is not one of the BIO scheme's"),
        ("a NN X-PER O\n", ["--strict"], r"t\.conll: tags with the prefix 'X' belong to none of"),
        ("", [], r"t\.conll: file is empty"),
        ("a NN O O\n", ["--scheme", "BIO"], r"--scheme is used by --strict only"),
    ],
    ids=["column-count", "too-few-columns", "tag-outside-scheme", "unknown-prefix", "empty", "scheme-alone"],
)  # fmt: skip
def test_bad_input_is_one_line_naming_file_and_line(tmp_path, capsys, content, arguments, message):
    path = tmp_path / "t.conll"
    path.write_text(content, encoding="utf-8")
    assert main(["tag", "score", str(path), *arguments]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert re.search(message, error), error
