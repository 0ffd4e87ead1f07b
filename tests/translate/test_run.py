"""A translation run as a user meets it: trained from Python or the command line, resumed, distributed,
then used to translate, score and draw attention."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from seqlab.cli.main import main
from seqlab.errors import SeqlabError
from seqlab.metrics.bleu import corpus_bleu
from seqlab.tasks import translate
from seqlab.tasks.translate.checkpoint import load_translation_model
from seqlab.tasks.translate.data import prepare_translation_data
from seqlab.tasks.translate.translator import translate_lines
from tests.saved_weights import assert_same_weights, weights

SIZES = {"dates_train": 120, "dates_valid": 24, "dates_test": 8, "batch_size": 16}
MODEL = {"embedding_size": 8, "hidden_size": 12, "attention_size": 8}
TINY = {"model": MODEL, "data": SIZES, "training": {"epochs": 2, "device": "cpu", "warmup_steps": 0}}
FLAGS = ["--embedding-size", "8", "--hidden-size", "12", "--attention-size", "8", "--dates-train", "120",
         "--dates-valid", "24", "--dates-test", "8", "--batch-size", "16", "--epochs", "2", "--device", "cpu",
         "--warmup-steps", "0", "--no-progress"]  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "dates"
    translate.train(out, overrides=TINY, progress=False, log=lambda line: None)
    return out


def test_python_and_the_command_line_start_the_same_run_and_write_the_same_files(trained, tmp_path):
    assert main(["translate", "train", "--out", str(tmp_path / "cli"), *FLAGS]) == 0
    names = sorted(path.name for path in trained.iterdir())
    assert names == sorted(path.name for path in (tmp_path / "cli").iterdir())
    assert {"source_vocab.json", "target_vocab.json", "config.json", "metrics.jsonl", "curves.png"} <= set(names)
    assert_same_weights(trained, tmp_path / "cli")
    assert json.loads((trained / "config.json").read_text()) == json.loads(
        (tmp_path / "cli" / "config.json").read_text()
    )


def test_a_run_stopped_part_way_and_resumed_trains_the_same_weights(trained, tmp_path):
    part = {**TINY, "training": {**TINY["training"], "max_steps": 5}}
    translate.train(tmp_path / "parts", overrides=part, progress=False, log=lambda line: None)
    rest = {"training": {"max_steps": None}}
    report = translate.train(tmp_path / "parts", overrides=rest, resume=True, progress=False, log=lambda line: None)
    assert report.stop_reason == "finished 2 epoch(s)"
    assert_same_weights(trained, tmp_path / "parts")


def test_evaluation_scores_the_translations_translate_run_gives(trained):
    model, source_vocab, target_vocab, data, objective = load_translation_model(trained, which="last")
    encoded = prepare_translation_data(data, vocabularies=(source_vocab, target_vocab))
    translations = translate_lines(model, encoded.sources["valid"], source_vocab=source_vocab,
                                   target_vocab=target_vocab, data=data, objective=objective)  # fmt: skip
    hypotheses = [best[0].text for best in translations]
    bleu = corpus_bleu(hypotheses, [encoded.references["valid"]], tokenize="char").score
    exact = 100 * sum(h == r for h, r in zip(hypotheses, encoded.references["valid"])) / len(hypotheses)
    last = json.loads((trained / "metrics.jsonl").read_text().splitlines()[-1])
    assert last["valid_bleu"] == pytest.approx(bleu, abs=1e-9)
    assert last["valid_exact_match"] == pytest.approx(exact, abs=1e-9)


def test_translate_run_prints_a_line_per_input_line_and_json_with_scores_and_attention(trained, tmp_path, capsys):
    source = tmp_path / "input.txt"
    source.write_text("3 May 1979\nTue 10 Jul 2007\n", encoding="utf-8")
    assert main(["translate", "run", str(trained), str(source), "--beam", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert main(["translate", "run", str(trained), str(source), "--json", "--nbest", "2"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [record["source"] for record in records] == ["3 May 1979", "Tue 10 Jul 2007"]
    for record in records:
        first, second = record["translations"]
        assert first["score"] >= second["score"]
        attention = torch.tensor(first["attention"])
        assert attention.shape[1] == len(record["source"])  # a column per source character
        torch.testing.assert_close(attention.sum(1), torch.ones(attention.shape[0]), rtol=0, atol=1e-5)


def test_an_empty_input_line_is_named_and_nothing_is_printed(trained, tmp_path, capsys):
    source = tmp_path / "input.txt"
    source.write_text("3 May 1979\n\n", encoding="utf-8")
    assert main(["translate", "run", str(trained), str(source)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "line 2" in captured.err


def test_the_attention_command_draws_a_png(trained, tmp_path, capsys):
    assert main(["translate", "attention", str(trained), "21th of August 2016", "--out", str(tmp_path / "m.png")]) == 0
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_language_model_checkpoint_is_refused_by_name(tmp_path, capsys):
    from seqlab.tasks import lm

    text = tmp_path / "text.txt"
    text.write_text("the cat sat on the mat\n" * 200, encoding="utf-8")
    lm.train(tmp_path / "lm", corpus=text, samples=0, progress=False, log=lambda line: None,
             overrides={"model": {"hidden_size": 8, "embedding_size": 4}, "training": {"max_steps": 1, "device": "cpu"},
                        "data": {"batch_size": 2, "eval_batch_size": 2, "bptt": 8, "valid_fraction": 0.1}})  # fmt: skip
    with pytest.raises(SeqlabError, match="not a translation model"):
        load_translation_model(tmp_path / "lm")
    assert main(["translate", "run", str(tmp_path / "lm"), str(text)]) == 2
    assert "not a translation model" in capsys.readouterr().err


def test_a_multi30k_folder_trains_word_level(tmp_path):
    corpus = tmp_path / "multi30k"
    for split, count in (("train", 40), ("val", 6), ("test_2016_flickr", 6)):
        for language, words in (("de", "ein hund läuft im park"), ("en", "a dog runs in the park")):
            lines = [" ".join(words.split()[: 2 + i % 4]) for i in range(count)]
            (corpus / "tok").mkdir(parents=True, exist_ok=True)
            (corpus / "tok" / f"{split}.lc.norm.tok.{language}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = translate.train(tmp_path / "run", preset="bahdanau-multi30k", corpus=corpus, progress=False,
                             overrides={"model": MODEL, "training": {"epochs": 1, "device": "cpu"}},
                             log=lambda line: None)  # fmt: skip
    assert set(report.held_out) == {"loss", "perplexity", "bleu", "exact_match"}
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["data"]["corpus"] == str(corpus.resolve()) and config["model"]["attention"] == "bahdanau"


@pytest.mark.skipif(not torch.distributed.is_available(), reason="needs torch.distributed")
def test_two_processes_share_the_batches_and_train_to_the_end(trained, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(translate.__file__).parents[3])}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "seqlab",
               "translate", "train", "--out", str(tmp_path / "two"), *FLAGS]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("stopped:") == 1  # rank 0 alone reports
    assert weights(tmp_path / "two").keys() == weights(trained).keys()
