"""The spoken-digit recordings: file names, splits by recording and speaker, and connected-digit recipes."""

from __future__ import annotations

import dataclasses
import shutil

import numpy as np
import pytest

from seqlab.data.spoken_digits import (
    SAMPLE_RATE,
    DigitStringStyle,
    draw_digit_strings,
    isolated,
    parse_file_name,
    read_spoken_digits,
    render,
    samples_of,
    transcript,
)
from seqlab.errors import SeqlabError


@pytest.fixture(scope="module")
def digits(digit_folder):
    return read_spoken_digits(digit_folder.parent)  # the folder above recordings/ is found too


def test_a_file_name_gives_digit_speaker_and_index():
    recording = parse_file_name("7_jackson_32.wav")
    assert (recording.digit, recording.speaker, recording.index) == (7, "jackson", 32)
    with pytest.raises(SeqlabError, match="notes.wav: not a spoken-digit file name"):
        parse_file_name("notes.wav")


def test_a_folder_without_recordings_is_an_error(tmp_path):
    with pytest.raises(SeqlabError, match="no .wav files"):
        read_spoken_digits(tmp_path)


def test_the_splits_hold_every_recording_once_and_keep_the_left_out_speaker_apart(digits):
    splits = digits.split("bob")
    everything = sorted(position for pool in splits.values() for position in pool)
    assert everything == list(range(len(digits.recordings)))
    described = {name: {(digits.recordings[p].speaker, digits.recordings[p].index) for p in pool}
                 for name, pool in splits.items()}  # fmt: skip
    assert {index for _, index in described["test"]} == set(range(5))
    assert {speaker for speaker, _ in described["test"]} == {"alice", "bob", "carol"}
    assert {speaker for speaker, _ in described["valid-speaker"]} == {"bob"}
    assert {index for _, index in described["valid-speaker"]} == set(range(5, 12))
    assert {index for _, index in described["valid"]} == set(range(5, 10))
    assert {speaker for speaker, _ in described["train"] | described["valid"]} == {"alice", "carol"}
    assert {index for _, index in described["train"]} == {10, 11}


def test_leaving_out_an_unknown_speaker_is_an_error(digits):
    with pytest.raises(SeqlabError, match="no recording of speaker 'dave'.*alice, bob, carol"):
        digits.split("dave")


def test_digit_strings_are_one_speakers_recordings_of_the_pool_within_the_styles_ranges(digits):
    pool = digits.split("bob")["train"]
    style = DigitStringStyle(min_digits=2, max_digits=5, max_gap=0.3, max_edge=0.2, max_gain=4.0)
    strings = draw_digit_strings(digits.recordings, pool, 200, style, seed=3)
    assert strings == draw_digit_strings(digits.recordings, pool, 200, style, seed=3)
    assert strings != draw_digit_strings(digits.recordings, pool, 200, style, seed=4)
    for string in strings:
        assert 2 <= len(string.recordings) <= 5 and set(string.recordings) <= set(pool)
        assert len({digits.recordings[p].speaker for p in string.recordings}) == 1
        assert len(string.gaps) == len(string.recordings) + 1 and len(string.gains) == len(string.recordings)
        assert all(0 <= gap <= 0.3 for gap in string.gaps[1:-1])
        assert 0 <= string.gaps[0] <= 0.2 and 0 <= string.gaps[-1] <= 0.2
        assert all(abs(gain) <= 4.0 for gain in string.gains)
        assert string.snr is None or 10 <= string.snr <= 30
    assert {len(string.recordings) for string in strings} == {2, 3, 4, 5}
    assert 0.7 < np.mean([string.snr is not None for string in strings]) < 0.9  # noise_share 0.8


def test_a_recipe_without_noise_is_its_recordings_with_their_gains_in_silence(digits):
    string = draw_digit_strings(digits.recordings, range(len(digits.recordings)), 1,
                                DigitStringStyle(noise_share=0.0), seed=0)[0]  # fmt: skip
    signal, spans = render(string, digits)
    assert len(signal) == samples_of(string, digits)
    expected_start = 0
    for position, gap, gain, (start, end) in zip(string.recordings, string.gaps, string.gains, spans):
        expected_start += round(gap * SAMPLE_RATE)
        assert start == expected_start
        np.testing.assert_allclose(signal[start:end], digits.samples[position] * 10 ** (gain / 20), rtol=1e-6)
        expected_start = end
    assert len(signal) - expected_start == round(string.gaps[-1] * SAMPLE_RATE)
    silent = np.ones(len(signal), dtype=bool)
    for start, end in spans:
        silent[start:end] = False
    assert not signal[silent].any()
    assert transcript(string, digits) == [digits.recordings[p].digit for p in string.recordings]


def test_background_noise_sits_at_the_recipes_snr_below_the_digits(digits):
    strings = draw_digit_strings(digits.recordings, range(len(digits.recordings)), 40,
                                 DigitStringStyle(noise_share=1.0, max_gain=0.0), seed=1)  # fmt: skip
    for string in strings:
        clean, spans = render(dataclasses.replace(string, snr=None), digits)
        noisy, _ = render(string, digits)
        noise = noisy.astype(np.float64) - clean
        speech = np.concatenate([clean[start:end] for start, end in spans]).astype(np.float64)
        measured = 10 * np.log10(np.mean(speech**2) / np.mean(noise**2))
        assert measured == pytest.approx(string.snr, abs=0.01)
        assert np.abs(noisy).max() <= 1.0


def test_isolated_utterances_are_each_recording_as_recorded(digits):
    pool = digits.split(None)["valid"]
    for string, position in zip(isolated(pool), pool):
        signal, spans = render(string, digits)
        np.testing.assert_array_equal(signal, digits.samples[position])
        assert spans == [(0, len(signal))]


def test_a_corrupt_recording_in_the_folder_is_a_one_line_error_naming_it(digit_folder, tmp_path):
    folder = tmp_path / "recordings"
    shutil.copytree(digit_folder, folder)
    (folder / "3_alice_7.wav").write_bytes(b"RIFF\x10\x00\x00\x00WAVEfmt ")  # a header cut short
    with pytest.raises(SeqlabError, match=r"3_alice_7\.wav") as raised:
        read_spoken_digits(folder)
    assert "\n" not in str(raised.value)
