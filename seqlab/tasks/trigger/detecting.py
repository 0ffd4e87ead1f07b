"""Using a trained trigger detector: over a recording as a stream, on the held-out clips, with chimes.

:class:`StreamingDetector` takes a recording chunk by chunk, as a microphone would give it:

    samples ─ FeatureStream (causal log-mel; samples short of a frame wait) ─ frames
            ─ TriggerDetector(frames, state) (normalised with the training statistics; the convolution's
              left context and the GRUs' states carried) ─ a probability per 40 ms output step
            ─ FiringRule (threshold, armed again only below it, refractory period) ─ firing times

Each stage carries its state between chunks, so the probabilities and firings do not depend on
how the recording is cut (``tests/trigger/test_streaming.py``: equal to the whole file at once to
1e-5 in float32). A firing's time is the end of its output step, t_j = (j + 1)·Δ: the step's last
frame has read up to n_fft / 2 − hop samples (6 ms) past it.

The rules that score firings against triggers are :mod:`seqlab.tasks.trigger.events`'.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from seqlab.audio.wav import read_wav, write_wav
from seqlab.data.spoken_digits import SAMPLE_RATE
from seqlab.errors import SeqlabError
from seqlab.models.trigger_detector import TriggerDetector
from seqlab.tasks.trigger.config import DataConfig
from seqlab.tasks.trigger.data import PARTS, prepare_trigger_data
from seqlab.tasks.trigger.events import FiringRule, refractory_steps
from seqlab.tasks.trigger.features import CausalLogMel
from seqlab.tasks.trigger.task import TriggerTask


class StreamingDetector:
    """Fires on the trigger in a recording given chunk by chunk (module docstring).

    Args:
        model: a trained detector (put in eval mode here).
        config: its run's data settings (features, threshold, refractory period).
        threshold, refractory: override the run's.

    Example:
        >>> detector = StreamingDetector(*load_detector("runs/seven"))  # doctest: +SKIP
        >>> for chunk in microphone_chunks():  # doctest: +SKIP
        ...     for time in detector.push(chunk):
        ...         print(f"heard at {time:.2f} s")
    """

    def __init__(self, model: TriggerDetector, config: DataConfig, *, threshold: float | None = None,
                 refractory: float | None = None):  # fmt: skip
        if threshold is not None and not 0 < threshold < 1:
            raise SeqlabError(f"threshold must be in (0, 1), got {threshold}")
        if refractory is not None and refractory < 0:
            raise SeqlabError(f"refractory must be non-negative seconds, got {refractory}")
        self.model = model.eval()
        device = next(model.parameters()).device
        self.features = CausalLogMel(config, device).stream()
        self.step_seconds = model.config.conv_stride * self.features.features.hop / SAMPLE_RATE
        refractory = config.refractory if refractory is None else refractory
        self.rule = FiringRule(config.threshold if threshold is None else threshold,
                               refractory_steps=refractory_steps(refractory, self.step_seconds))  # fmt: skip
        self.state = None
        self._probabilities: list[np.ndarray] = []

    @torch.no_grad()
    def push(self, samples: np.ndarray) -> list[float]:
        """The times (seconds from the recording's start) at which the chunk's output steps fire.

        Shape:
            samples: ``(S,)`` float at :data:`SAMPLE_RATE`, the recording's next S samples.
        """
        frames = self.features.push(samples)  # (T, F)
        out = self.model(frames[None], self.state)
        self.state = out.state
        probabilities = torch.sigmoid(out.logits[0]).cpu().numpy()  # (T',)
        self._probabilities.append(probabilities)
        return [(step + 1) * self.step_seconds for step in self.rule(probabilities)]

    @property
    def probabilities(self) -> np.ndarray:
        """The output of every step so far ``(steps,)``."""
        return np.concatenate(self._probabilities) if self._probabilities else np.zeros(0, dtype=np.float32)


@torch.no_grad()
def whole_file_probabilities(model: TriggerDetector, config: DataConfig, samples: np.ndarray) -> np.ndarray:
    """The outputs over a recording taken at once (what a stream gives, in one call). Shape: (S,) -> (T',)."""
    device = next(model.parameters()).device
    frames = CausalLogMel(config, device).whole(torch.as_tensor(np.asarray(samples, dtype=np.float32))[None])
    return torch.sigmoid(model.eval()(frames).logits[0]).cpu().numpy()


@dataclass(frozen=True)
class Detection:
    """Where the trigger was heard in one recording, and the detector's output over it."""

    file: str
    times: list[float]  # seconds from the start, one per firing
    probabilities: np.ndarray = field(repr=False)  # (steps,) the output per step
    step_seconds: float
    threshold: float
    seconds: float  # the recording's length

    def as_dict(self) -> dict:
        return {"file": self.file, "times": [round(time, 3) for time in self.times], "seconds": self.seconds,
                "threshold": self.threshold}  # fmt: skip


def detect_file(model: TriggerDetector, config: DataConfig, path: str | Path, *, chunk_seconds: float = 0.5,
                threshold: float | None = None,
                refractory: float | None = None) -> tuple[Detection, np.ndarray]:  # fmt: skip
    """Stream a WAV file (read at 8 kHz, mixed down to mono) through the detector in chunks of ``chunk_seconds``.

    Returns:
        the detection and the recording's samples ``(S,)``.

    Raises:
        SeqlabError: a file that is not readable audio (named), or a chunk of no samples.
    """
    chunk = round(chunk_seconds * SAMPLE_RATE)
    if chunk < 1:
        raise SeqlabError(f"--chunk-seconds must give one sample at least, got {chunk_seconds}")
    samples = read_wav(path, sample_rate=SAMPLE_RATE).samples
    detector = StreamingDetector(model, config, threshold=threshold, refractory=refractory)
    times = [time for start in range(0, len(samples), chunk) for time in detector.push(samples[start : start + chunk])]
    detection = Detection(str(path), times, detector.probabilities, detector.step_seconds, detector.rule.threshold,
                          len(samples) / SAMPLE_RATE)  # fmt: skip
    return detection, samples


def chime(*, seconds: float = 0.25, frequency: float = 1320.0, amplitude: float = 0.5) -> np.ndarray:
    """A short bell-like tone at :data:`SAMPLE_RATE`: a note and its fifth, decaying exponentially. Shape: (S,)."""
    time = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    envelope = np.exp(-time / (seconds / 5)) * np.minimum(1.0, time / 0.005)  # a 5 ms attack, no click
    tone = np.sin(2 * np.pi * frequency * time) + 0.5 * np.sin(2 * np.pi * 1.5 * frequency * time)
    return (amplitude / 1.5 * envelope * tone).astype(np.float32)


def mix_chimes(samples: np.ndarray, times: list[float]) -> np.ndarray:
    """The recording with a :func:`chime` starting at each time (cut at the end), clipped to [-1, 1]. Shape kept."""
    mixed = np.asarray(samples, dtype=np.float32).copy()
    bell = chime()
    for time in times:
        start = round(time * SAMPLE_RATE)
        if 0 <= start < len(mixed):
            end = min(len(mixed), start + len(bell))
            mixed[start:end] += bell[: end - start]
    return np.clip(mixed, -1.0, 1.0)


def write_chimed(path: str | Path, samples: np.ndarray, times: list[float]) -> Path:
    """Write the recording with a chime at each firing as a 16-bit WAV at 8 kHz."""
    write_wav(path, mix_chimes(samples, times), SAMPLE_RATE)
    return Path(path)


@dataclass(frozen=True)
class HeldOutReport:
    """Event scores on the run's held-out clips at the chosen threshold, and the miss / false-alarm curve."""

    scores: dict[str, float]
    curves: dict[str, list[dict[str, float]]]  # "all" and each part: one point per threshold
    counts: dict[str, dict[str, float]]  # per part: clips, seconds, hits, false alarms, misses at the threshold
    threshold: float

    def as_dict(self) -> dict:
        parts = {part: points for part, points in self.curves.items() if part != "all"}
        return {"threshold": self.threshold, **self.scores, "counts": self.counts, "curve": self.curves["all"],
                "part_curves": parts}  # fmt: skip

    def text(self) -> str:
        s = self.scores
        lines = [f"threshold {self.threshold:g}: F1 {s['f1']:.4f} (precision {s['precision']:.4f}, recall "
                 f"{s['recall']:.4f}), {s['false_alarms_per_hour']:.2f} false alarms per hour"]  # fmt: skip
        for part, counts in self.counts.items():
            lines.append(f"{part:>10}: F1 {s[f'f1_{part}']:.4f}  false alarms "
                         f"{s[f'false_alarms_per_hour_{part}']:.2f}/h  ({int(counts['clips'])} clips, "
                         f"{counts['seconds'] / 3600:.2f} h: {int(counts['hits'])} hits, "
                         f"{int(counts['false_alarms'])} false alarms, {int(counts['misses'])} misses)")  # fmt: skip
        return "\n".join(lines) + "\n"


@torch.no_grad()
def evaluate_held_out(model: TriggerDetector, config: DataConfig, *, threshold: float | None = None) -> HeldOutReport:
    """Detect the trigger in the run's held-out clips (made again from its data settings) and score the firings."""
    if threshold is not None:
        config = dataclasses.replace(config, threshold=threshold)
    device = next(model.parameters()).device
    task = TriggerTask(prepare_trigger_data(config), config, device, stride=model.config.conv_stride, seed=0)
    statistics = task.evaluate(model.eval(), "valid")
    parts = [part for part in PARTS.values() if statistics[f"{part}:clips"]]
    counts = {}
    for part in parts:
        hits, false_alarms, misses, seconds = task.counts(statistics, config.threshold, [part])
        counts[part] = {"clips": statistics[f"{part}:clips"], "seconds": seconds, "hits": hits,
                        "false_alarms": false_alarms, "misses": misses}  # fmt: skip
    curves = {"all": task.curve(statistics), **{part: task.curve(statistics, [part]) for part in parts}}
    return HeldOutReport(task.scores(statistics), curves, counts, config.threshold)
