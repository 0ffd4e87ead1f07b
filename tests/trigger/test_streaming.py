"""A stream equals the whole recording: causal features, the detector's outputs and its firings do not depend
on how the recording is cut into chunks; and nothing a stream has not heard yet changes what it said."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seqlab.audio.features import LogMelSpectrogram
from seqlab.tasks.trigger.config import DataConfig
from seqlab.tasks.trigger.detecting import StreamingDetector, whole_file_probabilities
from seqlab.tasks.trigger.events import FiringRule, refractory_steps
from seqlab.tasks.trigger.features import CausalLogMel
from tests.speech.conftest import tone
from tests.trigger.conftest import a_detector

CONFIG = DataConfig(threshold=0.5, refractory=0.2)


def recording(seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    samples = (0.02 * rng.standard_normal(round(seconds * 8000))).astype(np.float32)
    for start in (1000, 9000, 15000):
        word = tone(3, 1.0, start % 7)
        samples[start : start + len(word)] += word
    return samples


def chunks(samples: np.ndarray, rng: np.random.Generator, largest: int) -> list[np.ndarray]:
    """The samples cut at random places into pieces of 0 to ``largest`` samples."""
    cuts = np.cumsum(rng.integers(0, largest + 1, size=len(samples)))
    return np.split(samples, cuts[cuts < len(samples)])


def test_causal_frames_are_the_centred_frames_of_librosa_s_layout_that_need_no_samples_past_the_end():
    """Frame t is centred on sample t·hop with zeros before the start, as librosa's ``center=True``."""
    samples = recording()
    causal = CausalLogMel(CONFIG).whole(torch.from_numpy(samples)[None])[0]
    centred = LogMelSpectrogram(8000, center=True, top_db=None)(torch.from_numpy(samples)[None])[0][0]
    assert causal.shape == (1 + (len(samples) + 128 - 256) // 80, 40) and len(centred) == causal.shape[0] + 2
    torch.testing.assert_close(causal, centred[: len(causal)], rtol=0, atol=1e-4)


@pytest.mark.parametrize("largest", [1, 37, 80, 700, 5000])
def test_frames_pushed_in_chunks_of_any_size_are_the_whole_recordings(largest):
    samples = recording()
    features = CausalLogMel(CONFIG)
    whole = features.whole(torch.from_numpy(samples)[None])[0]
    stream = features.stream()
    rng = np.random.default_rng(largest)
    streamed = torch.cat([stream.push(piece) for piece in chunks(samples, rng, largest)])
    assert streamed.shape == whole.shape == (features.frames(len(samples)), 40)
    torch.testing.assert_close(streamed, whole, rtol=0, atol=1e-4)  # dB; float32 FFTs of differing batch sizes


@pytest.mark.parametrize("largest", [1, 3, 9, 60])
def test_the_detector_over_frames_in_chunks_equals_it_over_the_whole_in_float64(largest):
    model = a_detector(torch.float64)
    frames = torch.randn(2, 203, 40, dtype=torch.float64) * 15 - 40
    whole = model(frames)
    state, pieces = None, []
    rng = np.random.default_rng(largest)
    start = 0
    while start < frames.shape[1]:
        size = int(rng.integers(0, largest + 1))
        out = model(frames[:, start : start + size], state)
        state, start = out.state, start + size
        pieces.append(out.logits)
    streamed = torch.cat(pieces, dim=1)
    assert streamed.shape == whole.logits.shape == (2, 203 // 4)
    torch.testing.assert_close(streamed, whole.logits, rtol=0, atol=1e-10)
    torch.testing.assert_close(state.frames, whole.state.frames, rtol=0, atol=0)
    for carried, expected in zip(state.hidden, whole.state.hidden):
        torch.testing.assert_close(carried, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("chunk_seconds", [0.01, 0.0375, 0.25, 1.3])
def test_the_streaming_detector_gives_the_whole_files_outputs_and_firings(chunk_seconds):
    samples = recording(seed=1)
    model = a_detector()
    whole = whole_file_probabilities(model, CONFIG, samples)
    detector = StreamingDetector(model, CONFIG)
    chunk = round(chunk_seconds * 8000)
    times = [t for start in range(0, len(samples), chunk) for t in detector.push(samples[start : start + chunk])]
    assert detector.probabilities.shape == whole.shape == ((1 + (len(samples) + 128 - 256) // 80) // 4,)
    np.testing.assert_allclose(detector.probabilities, whole, rtol=0, atol=1e-5)
    ordered = np.sort(whole)[len(whole) // 2 :]  # a threshold the random detector crosses now and then, far
    gap = int(np.argmax(np.diff(ordered)))  # from every output, so that rounding cannot tip a step over it
    threshold = float(ordered[gap] + ordered[gap + 1]) / 2
    rule = FiringRule(threshold, refractory_steps=refractory_steps(CONFIG.refractory, 0.04))
    expected = [(step + 1) * 0.04 for step in rule(whole)]
    again = StreamingDetector(model, CONFIG, threshold=threshold)
    got = [t for start in range(0, len(samples), chunk) for t in again.push(samples[start : start + chunk])]
    assert got == pytest.approx(expected, abs=1e-12) and len(got) >= 1
    assert all(t == pytest.approx(round(t / 0.04) * 0.04) for t in times + got)  # at the ends of 40 ms steps


def test_what_the_stream_has_not_heard_yet_does_not_change_what_it_said():
    model = a_detector()
    samples = recording(seed=2)
    changed = samples.copy()
    changed[12_000:] = np.random.default_rng(5).standard_normal(len(samples) - 12_000) * 0.3
    before, after = whole_file_probabilities(model, CONFIG, samples), whole_file_probabilities(model, CONFIG, changed)
    # step j has read samples up to (j + 1)·320 + 48: steps j ≤ 35 end before sample 12,000
    np.testing.assert_array_equal(before[:36], after[:36])
    assert np.abs(before[38:] - after[38:]).max() > 1e-3
