"""A tiny spoken-digit folder made for the tests: each digit a tone, each speaker a voice of its own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

SAMPLE_RATE = 8_000
SPEAKERS = {"alice": 1.0, "bob": 0.96, "carol": 1.04}  # each speaker's pitch factor
RECORDINGS = 12  # per speaker and digit: indices 0-4 test, 5-9 valid, 10-11 train


def tone(digit: int, pitch: float, index: int) -> np.ndarray:
    """A digit's 'word': a tone whose pitch tells the digit (300-2,820 Hz), 0.12-0.2 s long, faded in and out."""
    seconds = 0.12 + 0.008 * ((digit + index) % 10)
    time = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    envelope = np.sin(np.pi * time / seconds)
    return (0.5 * envelope * np.sin(2 * np.pi * pitch * (300 + 280 * digit) * time)).astype(np.float32)


def write_digit_folder(folder: Path, speakers: dict[str, float] = SPEAKERS, recordings: int = RECORDINGS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for speaker, pitch in speakers.items():
        for digit in range(10):
            for index in range(recordings):
                soundfile.write(folder / f"{digit}_{speaker}_{index}.wav", tone(digit, pitch, index), SAMPLE_RATE,
                                subtype="PCM_16")  # fmt: skip
    return folder


@pytest.fixture(scope="session")
def digit_folder(tmp_path_factory) -> Path:
    return write_digit_folder(tmp_path_factory.mktemp("fsdd") / "recordings")
