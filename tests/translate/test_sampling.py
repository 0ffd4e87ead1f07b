"""Sampling translations (``translate_lines(sampling=...)``, ``seqlab translate run --sample``) from a tiny dates model:
a seed gives the same samples, top-k 1 and temperature near 0 are greedy, each sample carries its model score."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from seqlab.cli.main import main
from seqlab.decode import SamplingConfig
from seqlab.errors import SeqlabError
from seqlab.tasks import translate
from seqlab.tasks.translate.checkpoint import load_translation_model
from seqlab.tasks.translate.translator import max_output_lengths, source_text, translate_lines
from tests.translate.test_run import TINY

LINES = ["3 May 1979", "Tue 10 Jul 2007", "21th of August 2016", "12/31/99"]
FLAT = SamplingConfig(temperature=2.0)  # a flattened distribution: samples of an undertrained model vary


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "dates"
    translate.train(out, overrides=TINY, progress=False, log=lambda line: None)
    return out


@pytest.fixture(scope="module")
def loaded(trained):
    model, source_vocab, target_vocab, data, objective = load_translation_model(trained)
    setup = {"source_vocab": source_vocab, "target_vocab": target_vocab, "data": data, "objective": objective}
    return model, setup


def as_tuples(results) -> list[list[tuple]]:
    return [[(t.text, t.log_prob, t.score) for t in translations] for translations in results]


def test_one_seed_gives_the_same_samples_and_another_seed_others(loaded):
    model, setup = loaded
    options = {"sampling": FLAT, "num_samples": 4, "nbest": 4}
    first = translate_lines(model, LINES, seed=3, **options, **setup)
    assert as_tuples(first) == as_tuples(translate_lines(model, LINES, seed=3, **options, **setup))
    assert as_tuples(first) != as_tuples(translate_lines(model, LINES, seed=4, **options, **setup))
    assert all(len(samples) == 4 for samples in first)
    assert all(a.score >= b.score for samples in first for a, b in zip(samples, samples[1:]))  # best first


@pytest.mark.parametrize("config", [SamplingConfig(temperature=1.0, top_k=1), SamplingConfig(temperature=1e-4)])
def test_top_k_1_and_temperature_near_0_give_the_greedy_translations_and_scores(loaded, config):
    model, setup = loaded
    assert setup["objective"].beam_size == 1  # the run's search is greedy
    greedy = translate_lines(model, LINES, **setup)
    sampled = translate_lines(model, LINES, sampling=config, seed=0, **setup)
    assert as_tuples(sampled) == as_tuples(greedy)


@torch.no_grad()
def teacher_forced_log_prob(model, source_ids: list[int], output_ids: list[int], vocab, *, finished: bool) -> float:
    """log P(y|x) from one teacher-forced pass (not the search code), with EOS's term when the output ended."""
    targets = [*output_ids, vocab.eos_id] if finished else output_ids
    target_input = torch.tensor([[vocab.bos_id, *targets[:-1]]])
    logits = model(torch.tensor([source_ids]), torch.tensor([len(source_ids)]), target_input).logits  # (1, T, V)
    return float(torch.log_softmax(logits.double(), -1)[0].gather(-1, torch.tensor(targets).unsqueeze(-1)).sum())


def test_each_sample_is_scored_by_the_model_whatever_the_filter(loaded):
    model, setup = loaded
    config = SamplingConfig(temperature=0.7, top_k=5, top_p=0.9)
    results = translate_lines(model, LINES, sampling=config, num_samples=3, nbest=3, seed=1, **setup)
    source_vocab, target_vocab = setup["source_vocab"], setup["target_vocab"]
    for line, samples in zip(LINES, results):
        source_ids = source_vocab.encode(source_text(line, setup["data"]))
        limit = int(max_output_lengths(torch.tensor([len(source_ids)]), setup["objective"]))
        for sample in samples:
            finished = len(sample.tokens) < limit  # a sample at the limit was cut, without EOS
            expected = teacher_forced_log_prob(model, source_ids, sample.tokens, target_vocab, finished=finished)
            assert sample.log_prob == pytest.approx(expected, abs=1e-4)
            assert sample.text == target_vocab.decode(sample.tokens)


def test_each_batch_draws_its_own_numbers(loaded):
    # The same line in rows 0 of two batches: a seed shared by the batches would draw it the same samples.
    model, setup = loaded
    results = translate_lines(model, [LINES[0]] * 4, sampling=FLAT, num_samples=5, nbest=5, seed=0, batch_size=2,
                              **setup)  # fmt: skip
    assert as_tuples(results[:2]) != as_tuples(results[2:])


def test_sampling_arguments_without_sampling_or_more_best_than_samples_are_refused(loaded):
    model, setup = loaded
    with pytest.raises(SeqlabError, match="are for sampling"):
        translate_lines(model, LINES, seed=1, **setup)
    with pytest.raises(SeqlabError, match="nbest must be between 1 and num_samples 2, got 3"):
        translate_lines(model, LINES, sampling=FLAT, num_samples=2, nbest=3, **setup)
    with pytest.raises(SeqlabError, match="num_samples must be at least 1"):
        translate_lines(model, LINES, sampling=FLAT, num_samples=0, **setup)


@pytest.fixture
def input_file(tmp_path) -> Path:
    path = tmp_path / "input.txt"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    return path


def test_translate_run_sample_prints_the_librarys_samples_and_repeats_them_with_the_seed(
    trained, loaded, input_file, capsys
):
    argv = ["translate", "run", str(trained), str(input_file), "--sample", "--temperature", "2", "--samples", "3"]
    assert main([*argv, "--seed", "5"]) == 0
    printed = capsys.readouterr().out
    assert main([*argv, "--seed", "5"]) == 0
    assert capsys.readouterr().out == printed
    model, setup = loaded
    expected = translate_lines(model, LINES, sampling=FLAT, num_samples=3, nbest=3, seed=5, **setup)
    assert printed.splitlines() == [sample.text for samples in expected for sample in samples]
    assert main([*argv, "--seed", "6"]) == 0
    assert capsys.readouterr().out != printed


def test_translate_run_sample_json_gives_each_samples_scores(trained, loaded, input_file, capsys):
    argv = ["translate", "run", str(trained), str(input_file), "--sample", "--top-p", "0.9", "--samples", "2"]
    assert main([*argv, "--seed", "7", "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    model, setup = loaded
    expected = translate_lines(model, LINES, sampling=SamplingConfig(top_p=0.9), num_samples=2, nbest=2, seed=7,
                               **setup)  # fmt: skip
    assert [record["source"] for record in records] == LINES
    for record, samples in zip(records, expected):
        assert [(t["text"], t["log_prob"], t["score"]) for t in record["translations"]] == [
            (s.text, s.log_prob, s.score) for s in samples
        ]
        assert all(len(t["attention"]) >= 1 for t in record["translations"])


def test_translate_run_sample_with_top_k_1_prints_the_greedy_translations(trained, input_file, capsys):
    assert main(["translate", "run", str(trained), str(input_file), "--beam", "1"]) == 0
    greedy = capsys.readouterr().out
    assert main(["translate", "run", str(trained), str(input_file), "--sample", "--top-k", "1", "--beam", "1"]) == 0
    assert capsys.readouterr().out == greedy


@pytest.mark.parametrize(
    "flags, message",
    [(["--sample", "--beam", "3"], "--sample draws instead of searching: it does not go with --beam 3"),
     (["--temperature", "0.5"], "--temperature is for sampling: add --sample"),
     (["--top-k", "3", "--seed", "1"], "--top-k, --seed are for sampling: add --sample"),
     (["--sample", "--nbest", "2"], "--nbest ranks the translations a search finds; with --sample, --samples N "
                                    "draws N per line"),
     (["--sample", "--top-p", "1.5"], "top_p must be in (0, 1], got 1.5"),
     (["--sample", "--temperature", "0"], "temperature must be positive, got 0.0"),
     (["--sample", "--samples", "0"], "num_samples must be at least 1, got 0")],
)  # fmt: skip
def test_contradictory_or_bad_sampling_flags_are_one_line_errors(trained, input_file, capsys, flags, message):
    assert main(["translate", "run", str(trained), str(input_file), *flags]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"seqlab: error: {message}\n"


def test_the_help_describes_each_sampling_flag_and_the_librarys_default_temperature(capsys):
    from seqlab.cli.translate import SAMPLING_TEMPERATURE

    with pytest.raises(SystemExit):
        main(["translate", "run", "--help"])
    text = capsys.readouterr().out
    for flag in ("--sample ", "--temperature T", "--top-k K", "--top-p P", "--samples N", "--seed SEED"):
        assert f"\n  {flag}" in text
    assert SAMPLING_TEMPERATURE == SamplingConfig().temperature
    assert f"(default: {SAMPLING_TEMPERATURE})" in text
