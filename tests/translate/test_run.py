"""A translation run as a user meets it: trained from Python or the command line, resumed, distributed,
then used to translate, score and draw attention."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from seqlab.cli.main import main
from seqlab.decode import loop as decode_loop
from seqlab.errors import SeqlabError
from seqlab.metrics.bleu import corpus_bleu
from seqlab.tasks import translate
from seqlab.tasks.translate import translator
from seqlab.tasks.translate.checkpoint import load_translation_model
from seqlab.tasks.translate.config import STOPPING_RULES, ObjectiveConfig
from seqlab.tasks.translate.data import prepare_translation_data
from seqlab.tasks.translate.translator import source_text, translate_lines
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


SMALL_TRANSFORMER = {"d_model": 8, "nhead": 2, "num_encoder_layers": 1, "num_decoder_layers": 1, "dim_feedforward": 16}


def small_multi30k(corpus: Path, german: str = "ein hund läuft im park", english: str = "a dog runs in the park"):
    """A folder laid out as Multi30k's ``tok/``: every line a prefix of the sentence of its language."""
    (corpus / "tok").mkdir(parents=True)
    for split, count in (("train", 40), ("val", 6), ("test_2016_flickr", 6)):
        for language, words in (("de", german), ("en", english)):
            lines = [" ".join(words.split()[: 2 + i % 4]) for i in range(count)]
            (corpus / "tok" / f"{split}.lc.norm.tok.{language}").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return corpus


@pytest.mark.parametrize(
    "preset, model",
    [("cho-multi30k", MODEL), ("bahdanau-multi30k", MODEL), ("luong-multi30k", MODEL),
     ("transformer-multi30k", SMALL_TRANSFORMER)],
)  # fmt: skip
def test_each_multi30k_preset_trains_word_level_on_a_folder_laid_out_as_multi30k(tmp_path, preset, model):
    corpus = small_multi30k(tmp_path / "multi30k")
    report = translate.train(tmp_path / "run", preset=preset, corpus=corpus, progress=False, log=lambda line: None,
                             overrides={"model": model, "training": {"epochs": 1, "device": "cpu"}})  # fmt: skip
    assert set(report.held_out) == {"loss", "perplexity", "bleu", "exact_match"}
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["data"]["corpus"] == str(corpus.resolve()) and config["preset"] == preset
    loaded, *_ = load_translation_model(tmp_path / "run")
    assert type(loaded).__name__ == ("TransformerSeq2Seq" if preset.startswith("transformer") else "Seq2Seq")


@pytest.mark.skipif(not torch.distributed.is_available(), reason="needs torch.distributed")
def test_two_processes_share_the_batches_and_train_to_the_end(trained, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(translate.__file__).parents[3])}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "seqlab",
               "translate", "train", "--out", str(tmp_path / "two"), *FLAGS]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("stopped:") == 1  # rank 0 alone reports
    assert weights(tmp_path / "two").keys() == weights(trained).keys()


@torch.no_grad()
def teacher_forced_log_prob(model, source_ids: list[int], output_ids: list[int], vocab) -> float:
    """log P(y|x) = Σ_t log p(y_t | y_<t, x), EOS included, from one teacher-forced pass (not the search code)."""
    source = torch.tensor([source_ids])
    target_input = torch.tensor([[vocab.bos_id, *output_ids]])
    targets = torch.tensor([[*output_ids, vocab.eos_id]])
    logits = model(source, torch.tensor([len(source_ids)]), target_input).logits
    return float(torch.log_softmax(logits.double(), -1).gather(-1, targets.unsqueeze(-1)).sum())


@pytest.mark.parametrize("beam_size", [1, 4])
def test_error_analysis_blames_search_when_the_model_prefers_the_reference(trained, beam_size):
    from seqlab.tasks.translate.error_analysis import MARGIN, analyse_errors

    model, source_vocab, target_vocab, data, objective = load_translation_model(trained, which="last")
    encoded = prepare_translation_data(data, vocabularies=(source_vocab, target_vocab))
    sources, references = encoded.sources["valid"], encoded.references["valid"]
    analysis = analyse_errors(model, sources, references, source_vocab=source_vocab, target_vocab=target_vocab,
                              data=data, objective=objective, beam_size=beam_size, alpha=0.0, examples=100)  # fmt: skip
    assert analysis.correct + analysis.search_errors + analysis.model_errors == len(sources)
    assert len(analysis.search_examples) == analysis.search_errors
    assert len(analysis.model_examples) == analysis.model_errors
    for example in analysis.search_examples + analysis.model_examples:
        source_ids = source_vocab.encode(example.source)
        for text, score in ((example.reference, example.reference_score), (example.output, example.output_score)):
            expected = teacher_forced_log_prob(model, source_ids, target_vocab.encode(text), target_vocab)
            assert score == pytest.approx(expected, abs=1e-4)
    assert all(e.reference_score > e.output_score + MARGIN for e in analysis.search_examples)
    assert all(e.reference_score <= e.output_score + MARGIN for e in analysis.model_examples)


def test_the_analyse_command_reports_each_beam_width(trained, tmp_path, capsys):
    model, source_vocab, target_vocab, data, _ = load_translation_model(trained)
    encoded = prepare_translation_data(data, vocabularies=(source_vocab, target_vocab))
    (tmp_path / "src.txt").write_text("\n".join(encoded.sources["valid"][:10]) + "\n", encoding="utf-8")
    (tmp_path / "ref.txt").write_text("\n".join(encoded.references["valid"][:10]) + "\n", encoding="utf-8")
    argv = ["translate", "analyse", str(trained), str(tmp_path / "src.txt"), str(tmp_path / "ref.txt")]
    assert main([*argv, "--beams", "1", "3", "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [record["beam_size"] for record in records] == [1, 3]
    assert all(r["correct"] + r["search_errors"] + r["model_errors"] == 10 for r in records)
    (tmp_path / "ref.txt").write_text("2001-01-01\n", encoding="utf-8")
    assert main(argv) == 2
    assert "src.txt" in capsys.readouterr().err


def test_the_stopping_flag_reaches_the_search_and_the_bound_is_never_less_likely(
    trained, tmp_path, capsys, monkeypatch
):
    source = tmp_path / "input.txt"
    source.write_text("3 May 1979\nTue 10 Jul 2007\nSaturday May 9 2018\n21th of August 2016\n", encoding="utf-8")
    rules, real_search = [], translator.search
    monkeypatch.setattr(translator, "search", lambda *a, **k: rules.append(k["stopping"]) or real_search(*a, **k))
    best = {}
    for rule in STOPPING_RULES:
        assert main(["translate", "run", str(trained), str(source), "--beam", "4", "--stopping", rule, "--json"]) == 0
        records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        best[rule] = [record["translations"][0]["log_prob"] for record in records]
    assert rules == list(STOPPING_RULES)  # one batch each
    # With alpha 0 the bound stops only when no live hypothesis can beat the best finished one, where the
    # count rule stops at K finished: the bound's best is at least as likely, sentence by sentence.
    assert all(bound >= count - 1e-5 for bound, count in zip(best["bound"], best["count"]))
    with pytest.raises(SystemExit):
        main(["translate", "run", str(trained), str(source), "--stopping", "never"])


def test_the_objective_names_the_search_s_stopping_rules_and_refuses_others(trained, monkeypatch):
    assert STOPPING_RULES == decode_loop.STOPPING_RULES
    with pytest.raises(SeqlabError, match="stopping must be one of count, bound; got 'never'"):
        ObjectiveConfig(stopping="never")
    model, source_vocab, target_vocab, data, objective = load_translation_model(trained)
    rules = []
    real_search = translator.search
    monkeypatch.setattr(translator, "search", lambda *a, **k: rules.append(k["stopping"]) or real_search(*a, **k))
    for rule in STOPPING_RULES:
        translate_lines(model, ["3 May 1979"], source_vocab=source_vocab, target_vocab=target_vocab, data=data,
                        objective=dataclasses.replace(objective, beam_size=3, stopping=rule))  # fmt: skip
    assert rules == list(STOPPING_RULES)


def test_the_pruning_flags_reach_beam_search_and_keeping_only_the_best_candidate_is_greedy(
    trained, tmp_path, capsys, monkeypatch
):
    source = tmp_path / "input.txt"
    source.write_text("3 May 1979\nTue 10 Jul 2007\nSaturday May 9 2018\n", encoding="utf-8")
    policies, real_search = [], translator.search
    monkeypatch.setattr(translator, "search", lambda *a, **k: policies.append(a[2]) or real_search(*a, **k))

    def texts(*flags):
        assert main(["translate", "run", str(trained), str(source), *flags]) == 0
        return capsys.readouterr().out

    greedy = texts("--beam", "1")
    assert texts("--beam", "4", "--prune-relative", "1.0") == greedy  # P <= 1 × P_best: only the best stays
    texts("--beam", "4", "--prune-relative", "0.6", "--prune-absolute", "2.5")
    assert (policies[-1].relative_threshold, policies[-1].absolute_threshold) == (0.6, 2.5)
    assert main(["translate", "run", str(trained), str(source), "--beam", "4", "--prune-absolute", "0"]) == 2
    assert "prune_absolute must be positive" in capsys.readouterr().err


@pytest.fixture(scope="module")
def trained_again(tmp_path_factory) -> Path:
    """The dates run of ``trained`` with another seed: the same vocabularies, other weights."""
    out = tmp_path_factory.mktemp("runs") / "dates-seed-2"
    translate.train(out, overrides={**TINY, "training": {**TINY["training"], "seed": 2}}, progress=False,
                    log=lambda line: None)  # fmt: skip
    return out


@torch.no_grad()
def teacher_forced_mean(models, source_ids: list[int], output_ids: list[int], vocab) -> tuple[float, torch.Tensor]:
    """log P(y|x) under the mean of the models' next-token probabilities at each position, and their mean attention."""
    source, lengths = torch.tensor([source_ids]), torch.tensor([len(source_ids)])
    target_input = torch.tensor([[vocab.bos_id, *output_ids]])
    targets = torch.tensor([[*output_ids, vocab.eos_id]])
    outputs = [model(source, lengths, target_input) for model in models]
    probabilities = sum(torch.softmax(output.logits.double(), -1) for output in outputs) / len(models)  # (1, T, V)
    log_prob = float(probabilities.gather(-1, targets.unsqueeze(-1)).log().sum())
    return log_prob, sum(output.attention for output in outputs) / len(models)


def test_translate_run_with_an_ensemble_scores_by_the_mean_of_the_runs_probabilities(
    trained, trained_again, tmp_path, capsys
):
    source = tmp_path / "input.txt"
    source.write_text("3 May 1979\nTue 10 Jul 2007\nSaturday May 9 2018\n", encoding="utf-8")
    argv = ["translate", "run", str(trained), str(source), "--beam", "3", "--json"]
    assert main([*argv, "--ensemble", str(trained_again)]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    models = [load_translation_model(run)[0] for run in (trained, trained_again)]
    _, source_vocab, target_vocab, data, _ = load_translation_model(trained)
    for record in records:
        best = record["translations"][0]
        source_ids = source_vocab.encode(source_text(record["source"], data))
        log_prob, attention = teacher_forced_mean(models, source_ids, target_vocab.encode(best["text"]), target_vocab)
        assert best["log_prob"] == pytest.approx(log_prob, abs=1e-4)
        torch.testing.assert_close(torch.tensor(best["attention"]), attention[0], rtol=0, atol=1e-5)
    assert main([*argv, "--ensemble", str(trained)]) == 0  # a run with itself: the run alone
    doubled = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(argv) == 0
    alone = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["translations"][0]["text"] for r in doubled] == [r["translations"][0]["text"] for r in alone]
    png = tmp_path / "ensemble.png"
    attention = ["translate", "attention", str(trained), "3 May 1979", "--out", str(png)]
    assert main([*attention, "--ensemble", str(trained_again)]) == 0  # the map of the mean attention
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and len(capsys.readouterr().out.splitlines()) == 1
    # The error analysis of the ensemble blames each output it gets wrong on search or model: on the
    # mean of the runs' probabilities, the output of beam 3 above against the reference.
    references = tmp_path / "references.txt"
    references.write_text("1979-05-03\n2007-07-10\n2018-05-09\n", encoding="utf-8")
    analyse = ["translate", "analyse", str(trained), str(source), str(references), "--beams", "3", "--json",
               "--examples", "3"]  # fmt: skip
    assert main([*analyse, "--ensemble", str(trained_again)]) == 0
    [analysis] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    examples = analysis["search_examples"] + analysis["model_examples"]
    outputs = [record["translations"][0]["text"] for record in records]
    wrong = [output for output, line in zip(outputs, references.read_text().splitlines()) if output != line]
    assert examples and sorted(example["output"] for example in examples) == sorted(wrong)
    for example in examples:
        expected, _ = teacher_forced_mean(models, source_vocab.encode(source_text(example["source"], data)),
                                          target_vocab.encode(example["reference"]), target_vocab)  # fmt: skip
        assert example["reference_score"] == pytest.approx(expected, abs=1e-4)


def test_an_ensemble_of_runs_with_other_units_or_vocabularies_is_refused_by_file(trained, tmp_path, capsys):
    runs = {}
    for name, english in (("dog", "a dog runs in the park"), ("cat", "a cat sleeps in the sun")):
        corpus = small_multi30k(tmp_path / f"multi30k-{name}", english=english)
        runs[name] = tmp_path / name
        translate.train(runs[name], preset="bahdanau-multi30k", corpus=corpus, progress=False, log=lambda line: None,
                        overrides={"model": MODEL, "training": {"max_steps": 1, "device": "cpu"}})  # fmt: skip
    source = tmp_path / "input.txt"
    source.write_text("ein hund\n", encoding="utf-8")
    argv = ["translate", "run", str(runs["dog"]), str(source), "--ensemble"]
    assert main([*argv, str(runs["cat"])]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and f"{runs['cat']}: its target_vocab.json differs from {runs['dog']}'s" in captured.err
    assert main([*argv, str(trained)]) == 2
    assert "its units are 'char'" in capsys.readouterr().err
