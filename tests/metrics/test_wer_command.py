"""`seqlab wer REFERENCE HYPOTHESIS`: jiwer's numbers in text and JSON, one-line errors naming files and counts."""

from __future__ import annotations

import json
import random

import jiwer
import pytest

from seqlab.cli.main import main

DIGITS = "zero one two three four five six seven eight nine oh".split()


def write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def transcripts(tmp_path):
    """Spoken digit strings and recognised ones with errors of every kind, a blank line and a CRLF among them."""
    rng = random.Random(12)
    references = [" ".join(rng.choices(DIGITS, k=rng.randint(1, 7))) for _ in range(40)]
    hypotheses = []
    for line in references:
        spoken = [word for word in line.split() if rng.random() > 0.1]
        spoken = [rng.choice(DIGITS) if rng.random() < 0.1 else word for word in spoken]
        hypotheses.append(" ".join(spoken + (rng.choices(DIGITS, k=1) if rng.random() < 0.1 else [])))
    references[3], hypotheses[3] = "", "oh"
    hypotheses[5] += "  \r"
    return write(tmp_path / "ref.txt", references), write(tmp_path / "hyp.txt", hypotheses), references, hypotheses


def test_json_has_jiwers_rates_and_counts(transcripts, capsys):
    reference, hypothesis, references, hypotheses = transcripts
    assert main(["wer", str(reference), str(hypothesis), "--json"]) == 0
    ours = json.loads(capsys.readouterr().out)
    theirs = jiwer.process_words(references, hypotheses)
    assert {key: ours[key] for key in ("wer", "mer", "wil", "wip", "hits", "substitutions", "deletions",
                                       "insertions")} == {
        "wer": theirs.wer, "mer": theirs.mer, "wil": theirs.wil, "wip": theirs.wip, "hits": theirs.hits,
        "substitutions": theirs.substitutions, "deletions": theirs.deletions, "insertions": theirs.insertions,
    }  # fmt: skip
    assert ours["reference_length"] == sum(len(line.split()) for line in references)
    assert ours["sentences"] == 40 and "cer" not in ours
    assert theirs.substitutions and theirs.deletions and theirs.insertions  # the corpus has every kind of error


def test_cer_adds_jiwers_character_rate_and_counts(transcripts, capsys):
    reference, hypothesis, references, hypotheses = transcripts
    assert main(["wer", str(reference), str(hypothesis), "--cer", "--json"]) == 0
    ours = json.loads(capsys.readouterr().out)
    theirs = jiwer.process_characters(references, hypotheses)
    assert ours["cer"] == theirs.cer and ours["wer"] == jiwer.wer(references, hypotheses)
    counts = ours["characters"]
    assert (counts["hits"], counts["substitutions"], counts["deletions"], counts["insertions"]) == (
        theirs.hits, theirs.substitutions, theirs.deletions, theirs.insertions)  # fmt: skip


def test_text_line_gives_the_percentage_and_the_counts(transcripts, capsys):
    reference, hypothesis, references, hypotheses = transcripts
    assert main(["wer", str(reference), str(hypothesis), "--cer"]) == 0
    words, chars = capsys.readouterr().out.strip().split("\n")
    theirs = jiwer.process_words(references, hypotheses)
    n = theirs.hits + theirs.substitutions + theirs.deletions
    assert words == (f"WER = {100 * theirs.wer:.2f}% (S = {theirs.substitutions}, D = {theirs.deletions}, "
                     f"I = {theirs.insertions}, N = {n} words, hits = {theirs.hits})")  # fmt: skip
    assert chars.startswith(f"CER = {100 * jiwer.cer(references, hypotheses):.2f}% (S = ")


def test_the_order_is_reference_then_hypothesis(tmp_path, capsys):
    said = write(tmp_path / "said.txt", ["one two three four"])
    heard = write(tmp_path / "heard.txt", ["one two"])
    assert main(["wer", str(said), str(heard), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["deletions"], report["insertions"], report["wer"]) == (2, 0, 0.5)


def test_different_line_counts_are_one_line_naming_both_files_and_counts(transcripts, capsys):
    reference, hypothesis, _, hypotheses = transcripts
    write(hypothesis, hypotheses[:25])
    assert main(["wer", str(reference), str(hypothesis)]) == 2
    assert capsys.readouterr().err.strip() == f"seqlab: error: {reference} has 40 lines but {hypothesis} has 25"


def test_a_missing_file_is_named(transcripts, tmp_path, capsys):
    reference, _, _, _ = transcripts
    absent = tmp_path / "absent.txt"
    assert main(["wer", str(reference), str(absent)]) == 2
    assert capsys.readouterr().err.strip() == f"seqlab: error: {absent}: no such file"


def test_undecodable_text_is_one_line_naming_the_file(transcripts, capsys):
    reference, hypothesis, _, _ = transcripts
    hypothesis.write_bytes(b"one \xff two\n")
    assert main(["wer", str(reference), str(hypothesis)]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith(f"seqlab: error: {hypothesis}: cannot read: ") and "\n" not in error


def test_empty_files_have_nothing_to_score(tmp_path, capsys):
    empty = [tmp_path / "ref.txt", tmp_path / "hyp.txt"]
    for path in empty:
        path.write_text("", encoding="utf-8")
    assert main(["wer", *map(str, empty)]) == 2
    assert capsys.readouterr().err.strip() == f"seqlab: error: {empty[0]}: no lines to score"
