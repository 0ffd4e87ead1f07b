"""A trigger run as a user meets it: trained from Python or the command line, resumed, distributed; evaluated
with the miss / false-alarm curve; used to detect the trigger in a WAV file, with chimes and a picture."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from seqlab.audio.resample import resample
from seqlab.checksums import MANIFEST_FILE, write_manifest
from seqlab.cli.main import main
from seqlab.errors import SeqlabError
from seqlab.tasks import trigger
from seqlab.tasks.trigger.checkpoint import load_detector
from seqlab.tasks.trigger.detecting import chime, detect_file, evaluate_held_out
from seqlab.tasks.trigger.task import TriggerTask
from seqlab.training.fit import is_best
from tests.saved_weights import assert_same_weights, weights
from tests.speech.conftest import SAMPLE_RATE, tone
from tests.trigger.conftest import DATA, TINY, TRAINING, TRIGGER, quiet

FLAGS = ["--conv-channels", "16", "--hidden-size", "16", "--num-layers", "2", "--dropout", "0", "--epochs", "2",
         "--lr", "0.01", "--warmup-steps", "0", "--device", "cpu", "--max-minutes", "none", "--left-out-speaker", "bob",
         "--trigger", str(TRIGGER), "--clip-seconds", "2", "--train-clips", "48", "--valid-clips", "8",
         "--max-triggers", "2", "--max-distractors", "2", "--min-gap", "0.2", "--batch-size", "8",
         "--normalisation-clips", "16", "--no-progress"]  # fmt: skip


@pytest.fixture(scope="module")
def trained(digit_folder, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "three"
    trigger.train(out, corpus=digit_folder, overrides=TINY, progress=False, log=quiet)
    return out


@pytest.fixture(scope="module")
def learned(digit_folder, tmp_path_factory) -> Path:
    """A run long enough to have learned the trigger's tone (12 epochs, a few seconds)."""
    out = tmp_path_factory.mktemp("runs") / "learned"
    trigger.train(out, corpus=digit_folder, overrides={**TINY, "training": {**TRAINING, "epochs": 12}},
                  progress=False, log=quiet)  # fmt: skip
    return out


def test_python_and_the_command_line_start_the_same_run_and_write_the_same_files(digit_folder, trained, tmp_path):
    assert main(["trigger", "train", str(digit_folder), "--out", str(tmp_path / "cli"), *FLAGS]) == 0
    names = sorted(path.name for path in trained.iterdir())
    assert names == sorted(path.name for path in (tmp_path / "cli").iterdir())
    assert {"config.json", "metrics.jsonl", "curves.png", "model.safetensors"} <= set(names)
    assert_same_weights(trained, tmp_path / "cli")
    saved = json.loads((trained / "config.json").read_text())
    assert (saved["task"], saved["preset"], saved["data"]["trigger"], saved["model"]["input_size"]) == (
        "trigger", "digits-trigger", TRIGGER, 40)  # fmt: skip
    mean = weights(trained)["feature_mean"]
    assert mean.shape == (40,) and mean.std() > 0  # measured on the training clips, not left at 0


def test_a_run_stopped_part_way_and_resumed_trains_the_same_weights(digit_folder, trained, tmp_path):
    part = {**TINY, "training": {**TRAINING, "max_steps": 8}}
    trigger.train(tmp_path / "parts", corpus=digit_folder, overrides=part, progress=False, log=quiet)
    report = trigger.train(tmp_path / "parts", overrides={"training": {"max_steps": None}}, resume=True,
                           progress=False, log=quiet)  # fmt: skip
    assert report.stop_reason == "finished 2 epoch(s)"
    assert_same_weights(trained, tmp_path / "parts")


def test_evaluate_reports_what_training_measured_and_draws_the_miss_curve(trained, tmp_path, capsys):
    held_out = [json.loads(line) for line in (trained / "metrics.jsonl").read_text().splitlines()][-1]
    png = tmp_path / "curve.png"
    assert main(["trigger", "evaluate", str(trained), "--weights", "last", "--json", "--curve", str(png)]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["f1"] == pytest.approx(held_out["valid_f1"])
    assert scored["false_alarms_per_hour"] == pytest.approx(held_out["valid_false_alarms_per_hour"])
    assert scored["counts"]["recordings"]["clips"] == scored["counts"]["speaker"]["clips"] == 8
    assert scored["counts"]["speaker"]["seconds"] == 16.0
    thresholds = [point["threshold"] for point in scored["curve"]]
    assert thresholds == sorted(thresholds) and DATA.get("threshold", 0.5) in thresholds
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["trigger", "evaluate", str(trained), "--weights", "last", "--threshold", "0.3"]) == 0
    assert capsys.readouterr().out.startswith("threshold 0.3: F1 ")


def test_a_trained_detector_hears_the_trigger_and_not_the_distractors(learned):
    report = evaluate_held_out(*load_detector(learned))
    assert report.scores["f1"] >= 0.8, report.text()
    counts = [report.counts[part] for part in ("recordings", "speaker")]
    assert sum(c["hits"] for c in counts) >= 15 and sum(c["false_alarms"] for c in counts) <= 2, report.text()


def spoken(words: list[int], gap: float = 0.4) -> tuple[np.ndarray, list[float]]:
    """Tones of the digits with gaps and a little noise; the end time of each trigger."""
    silence = np.zeros(round(gap * SAMPLE_RATE), dtype=np.float32)
    pieces, ends, length = [silence], [], len(silence)
    for index, digit in enumerate(words):
        word = tone(digit, 1.0, 10 + index % 2)
        pieces += [word, silence]
        length += len(word)
        if digit == TRIGGER:
            ends.append(length / SAMPLE_RATE)
        length += len(silence)
    samples = np.concatenate(pieces)
    return samples + 0.005 * np.random.default_rng(0).standard_normal(len(samples)).astype(np.float32), ends


def test_detect_prints_the_times_and_writes_the_chimed_recording_and_the_picture(learned, tmp_path, capsys):
    samples, ends = spoken([TRIGGER, 5, 8, TRIGGER, 1])
    at_16k = resample(samples, SAMPLE_RATE, 16_000)
    soundfile.write(tmp_path / "talk.wav", np.stack([at_16k, at_16k], axis=1), 16_000, subtype="PCM_16")  # stereo
    soundfile.write(tmp_path / "talk8k.wav", samples, SAMPLE_RATE, subtype="PCM_16")
    assert main(["trigger", "detect", str(learned), str(tmp_path / "talk8k.wav")]) == 0
    captured = capsys.readouterr()
    times = [float(line) for line in captured.out.splitlines()]
    assert len(times) == 2 and all(end - 0.2 <= time <= end + 0.6 for time, end in zip(times, ends)), (times, ends)
    chimed, png = tmp_path / "talk8k.chime.wav", tmp_path / "talk8k.trigger.png"
    assert f"heard 2 time(s); wrote {chimed} and {png}" in captured.err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    audio, rate = soundfile.read(chimed, dtype="float32")
    assert rate == SAMPLE_RATE and audio.shape == samples.shape
    bell = chime()
    for time in times:  # the chime is in the recording where the trigger was heard, to 16-bit rounding
        start = round(time * SAMPLE_RATE)
        expected = np.clip(samples[start : start + len(bell)] + bell, -1, 1)
        np.testing.assert_allclose(audio[start : start + len(bell)], expected, rtol=0, atol=2e-4)
    quiet_part = slice(round(0.05 * SAMPLE_RATE), round((times[0] - 0.3) * SAMPLE_RATE))
    np.testing.assert_allclose(audio[quiet_part], samples[quiet_part], rtol=0, atol=2e-4)

    out_png, out_wav = tmp_path / "other.png", tmp_path / "other.wav"
    assert main(["trigger", "detect", str(learned), str(tmp_path / "talk.wav"), "--json", "--chunk-seconds", "0.07",
                 "--plot", str(out_png), "--chimed", str(out_wav)]) == 0  # fmt: skip
    line = json.loads(capsys.readouterr().out)
    assert line["times"] == pytest.approx(times, abs=0.041) and line["chimed"] == str(out_wav)
    assert out_png.is_file() and out_wav.is_file()
    model, config = load_detector(learned)
    once, _ = detect_file(model, config, tmp_path / "talk8k.wav", chunk_seconds=100.0)
    assert once.times == pytest.approx(times, abs=1e-9)  # the whole file as one chunk fires at the same times


def test_a_file_that_is_not_audio_is_a_one_line_error_naming_it(learned, tmp_path, capsys):
    (tmp_path / "notes.wav").write_text("not a recording\n")
    assert main(["trigger", "detect", str(learned), str(tmp_path / "notes.wav")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "notes.wav" in error, error
    assert not (tmp_path / "notes.chime.wav").exists()
    samples, _ = spoken([TRIGGER])
    soundfile.write(tmp_path / "talk.wav", samples, SAMPLE_RATE, subtype="PCM_16")
    for flags, message in ((["--threshold", "1.5"], "threshold must be in (0, 1)"),
                           (["--chunk-seconds", "0"], "--chunk-seconds must give one sample")):  # fmt: skip
        assert main(["trigger", "detect", str(learned), str(tmp_path / "talk.wav"), *flags]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and message in error, error


def test_a_trigger_checkpoint_is_refused_by_speech_and_another_tasks_by_trigger(trained, tmp_path, capsys):
    from seqlab.tasks.speech.checkpoint import load_recogniser

    with pytest.raises(SeqlabError, match="a checkpoint of the 'trigger' task, not a speech recogniser"):
        load_recogniser(trained)
    other = Path(shutil.copytree(trained, tmp_path / "other"))
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "task": "speech"}))
    write_manifest(other, json.loads((other / MANIFEST_FILE).read_text())["files"])
    assert main(["trigger", "evaluate", str(other)]) == 2
    assert "a checkpoint of the 'speech' task, not a trigger detector" in capsys.readouterr().err


def test_help_answers_without_importing_torch():
    code = "import sys; from seqlab.cli.main import build_parser; build_parser(); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(Path(trigger.__file__).parents[3])})  # fmt: skip
    assert result.stdout.strip() == "False", result.stderr


def test_two_processes_share_the_batches_and_train_to_the_end(digit_folder, trained, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(Path(trigger.__file__).parents[3]), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "seqlab",
               "trigger", "train", str(digit_folder), "--out", str(tmp_path / "two"), *FLAGS]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("stopped:") == 1  # rank 0 alone reports
    assert weights(tmp_path / "two").keys() == weights(trained).keys()
    two = [json.loads(line) for line in (tmp_path / "two" / "metrics.jsonl").read_text().splitlines()]
    one = [json.loads(line) for line in (trained / "metrics.jsonl").read_text().splitlines()]
    assert [row["step"] for row in two] == [row["step"] // 2 for row in one]  # each process takes half the batches


def test_the_best_weights_are_chosen_on_unseen_recordings_never_on_the_left_out_speaker():
    history = [{"valid_f1": 0.80, "valid_f1_recordings": 0.97, "valid_f1_speaker": 0.63},
               {"valid_f1": 0.85, "valid_f1_recordings": 0.95, "valid_f1_speaker": 0.75}]  # fmt: skip
    assert not is_best(history, TriggerTask.selection)  # better overall, but only on the left-out speaker
    assert is_best(history + [{"valid_f1": 0.81, "valid_f1_recordings": 0.98, "valid_f1_speaker": 0.64}],
                   TriggerTask.selection)  # fmt: skip
