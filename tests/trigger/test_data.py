"""Clip recipes: drawn deterministically, words where the recipe says to the sample, no overlaps, labels at the
right steps, every split's clips from its own recordings."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from seqlab.audio.mixing import decibels_to_amplitude
from seqlab.data.spoken_digits import read_spoken_digits
from seqlab.errors import SeqlabError
from seqlab.tasks.trigger.data import draw_clips, prepare_trigger_data, render_clip, step_labels
from tests.trigger.conftest import TRIGGER, tiny_data_config


@pytest.fixture(scope="module")
def data(digit_folder):
    return prepare_trigger_data(tiny_data_config(digit_folder))


def test_the_same_settings_draw_the_same_clips_and_another_seed_others(digit_folder, data):
    again = prepare_trigger_data(tiny_data_config(digit_folder))
    assert again.clips == data.clips
    other = prepare_trigger_data(tiny_data_config(digit_folder, synthesis_seed=7))
    assert other.clips["train"] != data.clips["train"]


def test_words_do_not_overlap_keep_their_gap_and_lie_inside_the_clip(data):
    config = tiny_data_config(data.digits.folder)
    gap = round(config.min_gap * 8000)
    for clip in data.clips["train"] + data.clips["valid"]:
        assert clip.samples == 16_000 and 1 <= len(clip.words) <= 4
        assert sum(word.trigger for word in clip.words) <= 2 and sum(not word.trigger for word in clip.words) <= 2
        for word in clip.words:
            assert 0 <= word.start < word.end <= clip.samples
            assert word.end - word.start == len(data.digits.samples[word.recording])
            assert word.trigger == (data.digits.recordings[word.recording].digit == TRIGGER)
        for first, second in zip(clip.words, clip.words[1:]):
            assert second.start - first.end >= gap


def test_a_rendered_clip_holds_each_recording_exactly_where_the_recipe_says(data):
    """Without noise and at 0 dB, the clip is the recordings at their gains at their samples, and zero elsewhere."""
    for clip in data.clips["valid"][:6]:
        silent = dataclasses.replace(clip, snr=float("inf"), clip_gain=0.0)
        signal = render_clip(silent, data.digits)
        expected = np.zeros(clip.samples, dtype=np.float32)
        for word in clip.words:
            expected[word.start : word.end] = data.digits.samples[word.recording] * decibels_to_amplitude(word.gain)
        assert np.abs(expected).max() <= 1.0
        np.testing.assert_allclose(signal, expected, rtol=0, atol=1e-7)
        noisy = render_clip(clip, data.digits)
        assert noisy.shape == (clip.samples,) and np.abs(noisy).max() <= 1.0 and np.abs(noisy - signal).max() > 0


def test_each_splits_clips_come_from_its_own_recordings_and_never_the_test_recordings(data):
    recordings = data.digits.recordings
    train = {recordings[w.recording] for clip in data.clips["train"] for w in clip.words}
    assert all(r.index >= 10 and r.speaker != "bob" for r in train)
    for clip in data.clips["valid"]:
        for word in clip.words:
            recording = recordings[word.recording]
            if clip.part == "recordings":
                assert recording.speaker != "bob" and recording.index in range(5, 10)
            else:
                assert clip.part == "speaker" and recording.speaker == "bob" and recording.index >= 5
    assert sum(clip.part == "recordings" for clip in data.clips["valid"]) == 8
    assert sum(clip.part == "speaker" for clip in data.clips["valid"]) == 8


@pytest.mark.parametrize(
    ("ends", "steps", "label_steps", "expected"),
    [
        ([], 6, 2, []),
        ([1000], 10, 2, [3, 4]),  # 1000 / 320 = 3.1: t_3 = 1280 > 1000 is the first step after the end
        ([960], 10, 3, [3, 4, 5]),  # an end exactly at t_2 = 960: step 2 has not heard past it, step 3 has
        ([959], 10, 1, [2]),
        ([1000, 2900], 10, 2, [3, 4, 9]),  # cut at the clip's end
        ([100, 500], 10, 3, [0, 1, 2, 3]),  # two stretches that meet are one
    ],
)
def test_labels_are_ones_for_the_steps_after_each_triggers_end(ends, steps, label_steps, expected):
    labels = step_labels(ends, steps, 320, label_steps)
    assert labels.shape == (steps,) and np.flatnonzero(labels).tolist() == expected


def test_labels_agree_with_their_definition_by_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(200):
        ends = sorted(rng.integers(0, 8000, size=rng.integers(0, 4)).tolist())
        steps, delta, stretch = int(rng.integers(1, 30)), int(rng.integers(1, 400)), int(rng.integers(1, 6))
        labels = step_labels(ends, steps, delta, stretch)
        for j in range(steps):
            t = (j + 1) * delta
            assert labels[j] == any(e < t <= e + stretch * delta for e in ends)


def test_a_pool_without_the_trigger_is_an_error_naming_it(digit_folder):
    digits = read_spoken_digits(digit_folder)
    others = [i for i, r in enumerate(digits.recordings) if r.digit != TRIGGER]
    with pytest.raises(SeqlabError, match="need both the trigger 3"):
        draw_clips(digits, others, 3, tiny_data_config(digit_folder), seed=0, part="train")


def test_too_many_words_for_a_clip_are_dropped_rather_than_overlapped(digit_folder):
    digits = read_spoken_digits(digit_folder)
    config = tiny_data_config(digit_folder, clip_seconds=0.5, max_triggers=3, max_distractors=3)
    for clip in draw_clips(digits, list(range(len(digits.recordings))), 30, config, seed=1, part="train"):
        assert 1 <= len(clip.words) and clip.words[-1].end <= clip.samples
