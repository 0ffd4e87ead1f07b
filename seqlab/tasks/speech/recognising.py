"""Using a trained recogniser: transcribe WAV files, score the held-out utterances, draw confusions and alignments.

``seqlab speech transcribe`` and ``seqlab speech evaluate`` call these. A transcription carries
each digit's place in time from the forced alignment of the recognised digits (the best CTC path
that spells them, :func:`seqlab.decode.ctc_alignment.ctc_forced_alignment`): output frame f of a model that
subsamples time s times covers the input frames s·f to s·f + s − 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from seqlab.atomic_file import atomic_path
from seqlab.audio.wav import read_wav
from seqlab.data.spoken_digits import SAMPLE_RATE, transcript
from seqlab.decode.ctc_alignment import ctc_forced_alignment
from seqlab.decode.symbol_ngram import SymbolNgramLM
from seqlab.metrics.confusion import ConfusionMatrix, plot_confusion_matrix
from seqlab.models.acoustic_model import AcousticModel
from seqlab.tasks.speech.config import DataConfig
from seqlab.tasks.speech.data import BLANK, PARTS, SYMBOLS, digit_symbol, prepare_speech_data, symbols_text
from seqlab.tasks.speech.features import UtteranceFeatures
from seqlab.tasks.speech.task import GREEDY, OTHER, Decoding, SpeechTask, recognise

BATCH_SIZE = 32  # files recognised at once


@dataclass(frozen=True)
class Transcription:
    """The digits heard in one file, and where each one sits (seconds from the file's start)."""

    file: str
    symbols: list[int]
    spans: list[tuple[float, float]]  # (start, end) of each recognised digit
    spectrogram: np.ndarray = field(repr=False)  # (T, n_mels) the file's log-mel bands in dB, for the picture
    hop_seconds: float = 0.01

    @property
    def text(self) -> str:
        return symbols_text(self.symbols)

    def as_dict(self) -> dict:
        return {"file": self.file, "text": self.text,
                "digits": [{"digit": SYMBOLS[symbol], "start": round(start, 3), "end": round(end, 3)}
                           for symbol, (start, end) in zip(self.symbols, self.spans)]}  # fmt: skip


@torch.no_grad()
def transcribe_files(model: AcousticModel, config: DataConfig, paths: list[Path], *,
                     decoding: Decoding = GREEDY) -> list[Transcription]:  # fmt: skip
    """The digits of each WAV file (read at the model's rate, mixed down to mono).

    Raises:
        SeqlabError: a file that is not readable audio (named).
    """
    device = next(model.parameters()).device
    features_of = UtteranceFeatures(config, device)
    step = config.hop_ms / 1000 * _subsampling(model)
    transcriptions: list[Transcription] = []
    for start in range(0, len(paths), BATCH_SIZE):
        batch = paths[start : start + BATCH_SIZE]
        waves = [read_wav(path, sample_rate=SAMPLE_RATE).samples for path in batch]
        features, lengths = features_of(waves, augment=False)
        out = model(features, lengths)
        for row, (path, symbols) in enumerate(zip(batch, recognise(out.log_probs, out.lengths, decoding))):
            log_probs = out.log_probs[row, : int(out.lengths[row])].cpu()
            spans = [
                (first * step, end * step) for _, first, end in ctc_forced_alignment(log_probs, symbols, blank=BLANK)
            ]
            decibels, _ = features_of.spectrogram(torch.from_numpy(waves[row])[None].to(device),
                                                  torch.tensor([len(waves[row])], device=device))  # fmt: skip
            transcriptions.append(Transcription(str(path), symbols, spans, decibels[0].cpu().numpy(),
                                                config.hop_ms / 1000))  # fmt: skip
    return transcriptions


def _subsampling(model: AcousticModel) -> int:
    return int(np.prod(model.strides)) if model.strides else 1


@dataclass(frozen=True)
class HeldOutReport:
    """Scores on the run's held-out utterances, per part, and the confusions of isolated digits."""

    scores: dict[str, float]
    statistics: dict[str, float]
    confusion: np.ndarray | None  # (10, 11) [reference digit, recognised digit or other]; None for connected
    decoding: Decoding

    def as_dict(self) -> dict:
        parts = {part: {count: int(self.statistics[f"{part}:{count}"]) for count in
                        ("utterances", "hits", "substitutions", "deletions", "insertions", "exact")}
                 for part in PARTS.values()}  # fmt: skip
        result = {"decoding": self.decoding.describe(), **self.scores, "counts": parts}
        if self.confusion is not None:
            result["confusion"] = self.confusion.tolist()
        return result

    def text(self) -> str:
        lines = [
            f"{self.decoding.describe()}: WER {self.scores['wer']:.2f}%, {self.scores['accuracy']:.2f}% exactly right"
        ]
        for part in PARTS.values():
            if f"wer_{part}" not in self.scores:
                continue
            counts = {count: int(self.statistics[f"{part}:{count}"]) for count in
                      ("utterances", "hits", "substitutions", "deletions", "insertions")}  # fmt: skip
            lines.append(f"{part:>10}: WER {self.scores[f'wer_{part}']:6.2f}%  accuracy "
                         f"{self.scores[f'accuracy_{part}']:6.2f}%  ({counts['utterances']} utterances, "
                         f"{counts['hits'] + counts['substitutions'] + counts['deletions']} digits: S "
                         f"{counts['substitutions']}, D {counts['deletions']}, I {counts['insertions']})")  # fmt: skip
        return "\n".join(lines) + "\n"


@torch.no_grad()
def evaluate_held_out(model: AcousticModel, config: DataConfig, *, decoding: Decoding = GREEDY) -> HeldOutReport:
    """Recognise the run's held-out utterances (made again from its data settings) and score them."""
    device = next(model.parameters()).device
    task = SpeechTask(prepare_speech_data(config), config, device, seed=0)
    task.decoding = decoding
    statistics = task.evaluate(model, "valid")
    return HeldOutReport(task.scores(statistics), statistics, task.confusion(statistics) if task.isolated else None,
                         decoding)  # fmt: skip


def digit_language_model(config: DataConfig, order: int) -> SymbolNgramLM:
    """An n-gram model of the digit strings the run trained on (Kneser–Ney, :mod:`seqlab.decode.symbol_ngram`)."""
    data = prepare_speech_data(config)
    strings = [[digit_symbol(digit) for digit in transcript(u.recipe, data.digits)] for u in data.utterances["train"]]
    return SymbolNgramLM.fit(strings, order=order, symbols=range(1, len(SYMBOLS)))


def plot_confusion(report: HeldOutReport, path: Path) -> Path:
    """Draw the isolated digits' confusion matrix (recognised as anything but one digit: "other").

    Raises:
        SeqlabError: the run recognises connected digits, which have no confusion matrix.
    """
    from seqlab.errors import SeqlabError

    if report.confusion is None:
        raise SeqlabError("--confusion: a confusion matrix is drawn for isolated digits only")
    labels = (*SYMBOLS[1:], "other")
    counts = np.zeros((OTHER + 1, OTHER + 1), dtype=np.int64)
    counts[:OTHER] = report.confusion
    title = f"held-out isolated digits: accuracy {report.scores['accuracy']:.2f}%"
    return plot_confusion_matrix(ConfusionMatrix(labels, counts), path, title=title)


def plot_alignment(transcription: Transcription, path: Path) -> Path:
    """Draw the file's log-mel spectrogram with each recognised digit at the frames its forced alignment gives it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames, bands = transcription.spectrogram.shape
    seconds = frames * transcription.hop_seconds
    figure, axes = plt.subplots(figsize=(max(6.0, 2.0 + 4.0 * seconds), 3.5))
    axes.imshow(transcription.spectrogram.T, origin="lower", aspect="auto", cmap="magma",
                extent=(0.0, seconds, 0, bands))  # fmt: skip
    for symbol, (start, end) in zip(transcription.symbols, transcription.spans):
        axes.axvspan(start, end, color="cyan", alpha=0.6)  # CTC's spike: the frames that emit the digit
        axes.text((start + end) / 2, bands * 0.97, SYMBOLS[symbol], color="white", ha="center", va="top",
                  fontsize=14, fontweight="bold")  # fmt: skip
    axes.set_xlim(0.0, seconds)
    axes.set_xlabel("seconds")
    axes.set_ylabel("mel band")
    axes.set_title(f"{Path(transcription.file).name}: {transcription.text or '(nothing heard)'}", fontsize=10)
    figure.tight_layout()
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png", dpi=100)
    plt.close(figure)
    return Path(path)
