"""`seqlab bleu` and `seqlab chrf`: sacrebleu's numbers and JSON fields, one-line errors naming files and counts."""

from __future__ import annotations

import json

import pytest
import sacrebleu

from seqlab.cli.main import main
from tests.metrics.cases import random_corpus


@pytest.fixture
def files(tmp_path):
    hypotheses, references = random_corpus(0, sentences=30, streams=2)
    paths = {"hyp": tmp_path / "hyp.txt", "ref1": tmp_path / "ref1.txt", "ref2": tmp_path / "ref2.txt"}
    for path, lines in zip(paths.values(), [hypotheses, *references]):
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths, hypotheses, references


def test_bleu_json_has_sacrebleus_fields_and_values(files, capsys):
    paths, hypotheses, references = files
    assert main(["bleu", str(paths["hyp"]), str(paths["ref1"]), str(paths["ref2"]), "--json", "-tok", "intl"]) == 0
    ours = json.loads(capsys.readouterr().out)
    metric = sacrebleu.BLEU(tokenize="intl")
    score = metric.corpus_score(hypotheses, references)
    theirs = json.loads(score.format(1, signature=str(metric.get_signature()), is_json=True))
    assert ours["version"].startswith("seqlab-")
    assert {k: v for k, v in ours.items() if k not in ("version", "signature")} == {
        k: v for k, v in theirs.items() if k not in ("version", "signature")
    }


def test_chrf_text_line_is_sacrebleus(files, capsys):
    paths, hypotheses, references = files
    assert main(["chrf", str(paths["hyp"]), str(paths["ref1"]), "--chrf-word-order", "2", "-w", "2"]) == 0
    metric = sacrebleu.CHRF(word_order=2)
    expected = metric.corpus_score(hypotheses, references[:1]).format(2, signature=str(metric.get_signature()))
    assert capsys.readouterr().out.strip().split("version:")[0] == expected.split("version:")[0]


def test_paired_bootstrap_prints_both_systems(files, capsys):
    paths, _, _ = files
    assert main(["bleu", str(paths["hyp"]), str(paths["ref1"]), "--compare", str(paths["ref2"]), "--paired-bs",
                 "--paired-bs-n", "100", "--json"]) == 0  # fmt: skip
    report = json.loads(capsys.readouterr().out)
    assert [entry["system"] for entry in report["systems"]] == [str(paths["hyp"]), str(paths["ref2"])]
    assert report["systems"][0]["p_value"] is None and 0 < report["systems"][1]["p_value"] <= 1
    assert "bs:100|seed:12345" in report["signature"]


def test_different_line_counts_are_one_line_naming_both_files(files, capsys):
    paths, _, _ = files
    paths["ref1"].write_text("only one line\n", encoding="utf-8")
    assert main(["bleu", str(paths["hyp"]), str(paths["ref1"])]) == 2
    error = capsys.readouterr().err.strip()
    assert error == f"seqlab: error: {paths['hyp']} has 30 lines but {paths['ref1']} has 1"


def test_a_missing_file_is_named(files, capsys):
    paths, _, _ = files
    assert main(["chrf", str(paths["hyp"]), "absent.txt"]) == 2
    assert capsys.readouterr().err.strip() == "seqlab: error: absent.txt: no such file"
