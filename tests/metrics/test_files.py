"""Scoring files (seqlab.metrics.files): sacrebleu's scores and signatures, one-line errors naming files and counts."""

from __future__ import annotations

import json
import random

import pytest
import sacrebleu
from sacrebleu.significance import PairedTest

from seqlab.errors import SeqlabError
from seqlab.metrics.files import compare_files, read_aligned_files, score_files
from tests.metrics.cases import corrupt, random_corpus

# sacrebleu sums float32 statistics when it resamples (see test_bootstrap.py)
FLOAT32_TOLERANCE = 1e-4


def write(path, lines, *, final_newline=True):
    path.write_text("\n".join(lines) + ("\n" if final_newline else ""), encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path):
    hypotheses, references = random_corpus(5, sentences=40, streams=2)
    hyp = write(tmp_path / "hyp.txt", hypotheses)
    refs = [
        write(tmp_path / "ref1.txt", references[0]),
        write(tmp_path / "ref2.txt", references[1], final_newline=False),
    ]
    return hyp, refs, hypotheses, references


def without_version(signature: str) -> str:
    return signature.rsplit("|version:", 1)[0]


def test_read_aligned_files_reads_lines_with_or_without_a_final_newline(tmp_path):
    a = write(tmp_path / "a.txt", ["one", "", "three"])
    b = write(tmp_path / "b.txt", ["1", "2", "3"], final_newline=False)
    assert read_aligned_files([a, str(b)]) == [["one", "", "three"], ["1", "2", "3"]]


def test_different_line_counts_are_one_line_naming_both_files_and_counts(tmp_path):
    a, b = write(tmp_path / "a.txt", ["x", "y", "z"]), write(tmp_path / "b.txt", ["x"])
    with pytest.raises(SeqlabError) as error:
        read_aligned_files([a, b])
    assert str(error.value) == f"{a} has 3 lines but {b} has 1"


def test_a_missing_or_unreadable_file_is_named(tmp_path):
    a = write(tmp_path / "a.txt", ["x"])
    with pytest.raises(SeqlabError, match=r"^absent\.txt: no such file$"):
        score_files("bleu", a, ["absent.txt"])
    (tmp_path / "latin1.txt").write_bytes("ß\n".encode("latin-1"))
    with pytest.raises(SeqlabError) as error:
        score_files("chrf", tmp_path / "latin1.txt", [a])
    assert str(error.value).startswith(f"{tmp_path / 'latin1.txt'}: cannot read: ") and "\n" not in str(error.value)


def test_an_empty_hypothesis_file_has_no_lines_to_score(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(SeqlabError, match="empty.txt: no lines to score"):
        score_files("bleu", empty, [empty])
    with pytest.raises(SeqlabError, match="empty.txt: no lines to score"):
        compare_files("chrf", empty, empty, [empty])


def test_unknown_metrics_and_options_are_refused(corpus):
    hyp, refs, _, _ = corpus
    with pytest.raises(SeqlabError, match="unknown metric 'ter'"):
        score_files("ter", hyp, refs)
    with pytest.raises(TypeError):
        score_files("bleu", hyp, refs, char_order=4)


# the options of score_files are sacrebleu.BLEU's and sacrebleu.CHRF's keywords
@pytest.mark.parametrize(
    "options",
    [{}, {"tokenize": "intl", "lowercase": True}, {"smooth_method": "floor", "smooth_value": 0.2},
     {"tokenize": "char", "smooth_method": "add-k"}, {"smooth_method": "none"}],
)  # fmt: skip
def test_bleu_of_files_is_sacrebleus(corpus, options):
    hyp, refs, hypotheses, references = corpus
    ours = score_files("bleu", hyp, refs, **options)
    metric = sacrebleu.BLEU(**options)
    expected = metric.corpus_score(hypotheses, references)
    assert ours.score == pytest.approx(expected.score, rel=0, abs=1e-8)
    assert without_version(ours.signature) == without_version(str(metric.get_signature()))
    assert (
        ours.format(2).split("|version:")[0]
        == expected.format(2, signature=str(metric.get_signature())).split("|version:")[0]
    )


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"word_order": 2},
        {"beta": 3, "lowercase": True},
        {"char_order": 4, "whitespace": True, "eps_smoothing": True},
    ],
)
def test_chrf_of_files_is_sacrebleus(corpus, options):
    hyp, refs, hypotheses, references = corpus
    ours = score_files("chrf", hyp, refs[:1], **options)
    metric = sacrebleu.CHRF(**options)
    expected = metric.corpus_score(hypotheses, references[:1])
    assert ours.name == expected.name
    assert ours.score == pytest.approx(expected.score, rel=0, abs=1e-8)
    assert without_version(ours.signature) == without_version(str(metric.get_signature()))


def test_the_json_object_has_sacrebleus_fields(corpus):
    hyp, refs, hypotheses, references = corpus
    ours = json.loads(score_files("bleu", hyp, refs).to_json(1))
    metric = sacrebleu.BLEU()
    theirs = json.loads(
        metric.corpus_score(hypotheses, references).format(1, signature=str(metric.get_signature()), is_json=True)
    )
    assert ours.keys() == theirs.keys()
    assert {k: v for k, v in ours.items() if k not in ("version", "signature")} == {
        k: v for k, v in theirs.items() if k not in ("version", "signature")
    }
    assert ours["version"].startswith("seqlab-")


@pytest.mark.parametrize("metric, name", [("bleu", "BLEU"), ("chrf", "chrF2")])
def test_compare_files_is_sacrebleus_paired_bootstrap(corpus, tmp_path, monkeypatch, metric, name):
    theirs = {"bleu": sacrebleu.BLEU, "chrf": sacrebleu.CHRF}[metric]()
    hyp, refs, hypotheses, references = corpus
    system = [corrupt(line, random.Random(index)) for index, line in enumerate(references[0])]
    other = write(tmp_path / "other.txt", system)
    comparison = compare_files(metric, hyp, other, refs, n_samples=200, seed=7)
    monkeypatch.setenv("SACREBLEU_SEED", "7")
    _, expected = PairedTest([("b", hypotheses), ("s", system)], {name: theirs}, references, test_type="bs",
                             n_samples=200)()  # fmt: skip
    assert comparison.name == name
    assert [path for path, _ in comparison.systems] == [str(hyp), str(other)]
    for (_, mine), their in zip(comparison.systems, expected[name]):
        assert mine.score == pytest.approx(their.score, abs=1e-8)
        assert mine.mean == pytest.approx(their.mean, abs=FLOAT32_TOLERANCE)
        assert mine.ci == pytest.approx(their.ci, abs=FLOAT32_TOLERANCE)
        assert mine.p_value == their.p_value
    assert "|bs:200|seed:7|" in comparison.signature
    report = comparison.to_dict()
    assert [entry["system"] for entry in report["systems"]] == [str(hyp), str(other)]
    assert report["systems"][0]["p_value"] is None and json.loads(comparison.to_json()) == report
    lines = comparison.format(2).splitlines()
    assert lines[0].startswith(f"{hyp}: {name} = ") and lines[1].endswith(")") and "(p = " in lines[1]
    assert lines[2] == f"{name}|{comparison.signature}"
