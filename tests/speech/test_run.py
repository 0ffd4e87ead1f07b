"""A speech run as a user meets it: trained from Python or the command line, resumed, distributed; evaluated
per held-out part with a confusion matrix; used to transcribe WAV files, with the digits' times and a picture."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from seqlab.checksums import MANIFEST_FILE, write_manifest
from seqlab.cli.main import main
from seqlab.errors import SeqlabError
from seqlab.tasks import speech
from seqlab.tasks.speech.checkpoint import load_recogniser
from seqlab.tasks.speech.recognising import digit_language_model, evaluate_held_out, transcribe_files
from seqlab.tasks.speech.task import Decoding, SpeechTask
from seqlab.training.fit import is_best
from tests.saved_weights import assert_same_weights, weights
from tests.speech.conftest import SAMPLE_RATE, tone

MODEL = {"hidden_size": 32, "conv_channels": 32, "num_layers": 1, "dropout": 0.0}
TRAINING = {"epochs": 2, "lr": 0.02, "warmup_steps": 0, "device": "cpu", "max_minutes": None}
TINY = {"model": MODEL, "data": {"left_out_speaker": "bob", "batch_size": 4}, "training": TRAINING}
FLAGS = ["--hidden-size", "32", "--conv-channels", "32", "--num-layers", "1", "--dropout", "0", "--epochs", "2",
         "--lr", "0.02", "--warmup-steps", "0", "--device", "cpu", "--max-minutes", "none", "--left-out-speaker", "bob",
         "--batch-size", "4", "--no-progress"]  # fmt: skip


def quiet(line: str) -> None:
    """Where the runs' logs go."""


@pytest.fixture(scope="module")
def trained(digit_folder, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "digits"
    speech.train(out, corpus=digit_folder, overrides=TINY, progress=False, log=quiet)
    return out


@pytest.fixture(scope="module")
def learned(digit_folder, tmp_path_factory) -> Path:
    """A run long enough to have learned the tones (20 epochs without SpecAugment, a few seconds)."""
    out = tmp_path_factory.mktemp("runs") / "learned"
    settings = {**TINY, "training": {**TRAINING, "epochs": 20},
                "data": {**TINY["data"], "freq_masks": 0, "time_masks": 0}}  # fmt: skip
    speech.train(out, corpus=digit_folder, overrides=settings, progress=False, log=quiet)
    return out


def test_python_and_the_command_line_start_the_same_run_and_write_the_same_files(digit_folder, trained, tmp_path):
    assert main(["speech", "train", str(digit_folder), "--out", str(tmp_path / "cli"), *FLAGS]) == 0
    names = sorted(path.name for path in trained.iterdir())
    assert names == sorted(path.name for path in (tmp_path / "cli").iterdir())
    assert {"config.json", "metrics.jsonl", "curves.png", "model.safetensors"} <= set(names)
    assert_same_weights(trained, tmp_path / "cli")
    saved = json.loads((trained / "config.json").read_text())
    assert (saved["task"], saved["preset"], saved["model"]["num_symbols"]) == ("speech", "digits-isolated", 11)


def test_a_run_stopped_part_way_and_resumed_trains_the_same_weights(digit_folder, trained, tmp_path):
    part = {**TINY, "training": {**TRAINING, "max_steps": 3}}
    speech.train(tmp_path / "parts", corpus=digit_folder, overrides=part, progress=False, log=quiet)
    report = speech.train(tmp_path / "parts", overrides={"training": {"max_steps": None}}, resume=True,
                          progress=False, log=quiet)  # fmt: skip
    assert report.stop_reason == "finished 2 epoch(s)"
    assert_same_weights(trained, tmp_path / "parts")  # SpecAugment's masks were drawn again the same


def test_connected_utterances_train_and_are_scored_per_part(digit_folder, tmp_path, capsys):
    settings = {**TINY, "data": {**TINY["data"], "utterances": "connected", "train_utterances": 12,
                                 "valid_utterances": 5, "max_digits": 3}}  # fmt: skip
    report = speech.train(tmp_path / "connected", corpus=digit_folder, overrides=settings, progress=False, log=quiet)
    assert {"wer", "wer_recordings", "wer_speaker", "accuracy_recordings", "accuracy_speaker"} <= set(report.held_out)
    counts = evaluate_held_out(*load_recogniser(tmp_path / "connected", which="last")).as_dict()["counts"]
    assert counts["recordings"]["utterances"] == counts["speaker"]["utterances"] == 5
    # the same model scored on isolated digits: every held-out recording, with their confusions
    assert main(["speech", "evaluate", str(tmp_path / "connected"), "--utterances", "isolated", "--json"]) == 0
    isolated = json.loads(capsys.readouterr().out)
    assert isolated["counts"]["recordings"]["utterances"] == 100 and np.array(isolated["confusion"]).sum() == 170


def test_evaluate_reports_what_training_measured_and_draws_the_confusion_matrix(trained, tmp_path, capsys):
    held_out = [json.loads(line) for line in (trained / "metrics.jsonl").read_text().splitlines()][-1]
    png = tmp_path / "confusion.png"
    assert main(["speech", "evaluate", str(trained), "--weights", "last", "--json", "--confusion", str(png)]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["wer"] == pytest.approx(held_out["valid_wer"])
    assert scored["wer_speaker"] == pytest.approx(held_out["valid_wer_speaker"])
    assert np.array(scored["confusion"]).sum() == 100 + 70  # valid: 2 speakers x 10 digits x 5; bob: 10 x 7
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["speech", "evaluate", str(trained), "--weights", "last"]) == 0
    report = capsys.readouterr().out
    assert f"WER {held_out['valid_wer']:.2f}%" in report and "speaker: WER" in report


def test_a_trained_recogniser_tells_the_tones_apart(learned):
    report = evaluate_held_out(*load_recogniser(learned))
    assert report.scores["accuracy_recordings"] >= 60.0, report.text()
    beam = evaluate_held_out(*load_recogniser(learned), decoding=Decoding(beam=8))
    assert beam.scores["wer"] <= report.scores["wer"] + 2.0, beam.text()  # the beam's best is at least as likely


def test_a_language_model_of_the_training_digit_strings_can_join_the_search(learned, capsys):
    model, config = load_recogniser(learned)
    lm = digit_language_model(config, order=2)
    assert lm.order == 2 and lm.symbols == list(range(1, 11))
    plain = evaluate_held_out(model, config, decoding=Decoding(beam=4))
    # a weight of 0 and no bonus leave prefix beam search's ranking as it was
    assert evaluate_held_out(model, config, decoding=Decoding(beam=4, lm=lm, alpha=0.0)).scores == plain.scores
    assert main(["speech", "evaluate", str(learned), "--beam", "4", "--lm-order", "2", "--lm-weight", "0.3",
                 "--digit-bonus", "1.0", "--json"]) == 0  # fmt: skip
    scored = json.loads(capsys.readouterr().out)
    assert scored["decoding"] == "beam 4, 2-gram LM (alpha 0.3, beta 1)"


def test_transcribe_prints_each_files_digits_with_their_times_and_draws_the_alignment(learned, tmp_path, capsys):
    gap = np.zeros(SAMPLE_RATE // 5, dtype=np.float32)
    spoken = np.concatenate([gap, tone(2, 1.0, 7), gap, tone(8, 1.0, 8), gap])
    soundfile.write(tmp_path / "two.wav", np.stack([spoken, spoken], axis=1), SAMPLE_RATE, subtype="PCM_16")  # stereo
    soundfile.write(tmp_path / "six.wav", tone(6, 1.0, 7), 16_000, subtype="PCM_16")  # resampled to 8 kHz
    png = tmp_path / "alignment.png"
    files = [str(tmp_path / "two.wav"), str(tmp_path / "six.wav")]
    assert main(["speech", "transcribe", str(learned), *files, "--json", "--alignment", str(png)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["file"] for line in lines] == files
    for line in lines:
        assert line["text"] == " ".join(digit["digit"] for digit in line["digits"])
        times = [time for digit in line["digits"] for time in (digit["start"], digit["end"])]
        assert times == sorted(times) and all(0 <= time <= 1.0 for time in times)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    model, config = load_recogniser(learned)
    first = transcribe_files(model, config, [tmp_path / "two.wav"])[0]
    assert main(["speech", "transcribe", str(learned), str(tmp_path / "two.wav")]) == 0
    assert capsys.readouterr().out == f"{tmp_path / 'two.wav'}\t{first.text}\n"


def test_a_file_that_is_not_audio_is_a_one_line_error_naming_it(learned, tmp_path, capsys):
    (tmp_path / "notes.wav").write_text("not a recording\n")
    assert main(["speech", "transcribe", str(learned), str(tmp_path / "notes.wav")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "notes.wav" in error, error


def test_a_speech_checkpoint_is_refused_by_the_classifier_and_another_tasks_by_speech(trained, tmp_path, capsys):
    from seqlab.tasks.classify.checkpoint import load_classifier

    with pytest.raises(SeqlabError, match="a checkpoint of the 'speech' task, not a classifier"):
        load_classifier(trained)
    other = Path(shutil.copytree(trained, tmp_path / "other"))
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "task": "tag"}))
    write_manifest(other, json.loads((other / MANIFEST_FILE).read_text())["files"])
    assert main(["speech", "evaluate", str(other)]) == 2
    assert re.search(r"a checkpoint of the 'tag' task, not a speech recogniser", capsys.readouterr().err)


@pytest.mark.skipif(not torch.distributed.is_available(), reason="needs torch.distributed")
def test_two_processes_share_the_batches_and_train_to_the_end(digit_folder, trained, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(speech.__file__).parents[3])}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "seqlab",
               "speech", "train", str(digit_folder), "--out", str(tmp_path / "two"), *FLAGS]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("stopped:") == 1  # rank 0 alone reports
    assert weights(tmp_path / "two").keys() == weights(trained).keys()


def test_the_best_weights_are_chosen_on_unseen_recordings_never_on_the_left_out_speaker():
    history = [{"valid_wer": 10.0, "valid_wer_recordings": 2.0, "valid_wer_speaker": 18.0},
               {"valid_wer": 6.0, "valid_wer_recordings": 3.0, "valid_wer_speaker": 9.0}]  # fmt: skip
    assert not is_best(history, SpeechTask.selection)  # better overall, but only on the left-out speaker
    assert is_best(history + [{"valid_wer": 9.0, "valid_wer_recordings": 1.5, "valid_wer_speaker": 16.5}],
                   SpeechTask.selection)  # fmt: skip
