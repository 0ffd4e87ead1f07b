"""Using a trained classifier: classify sentences, score a treebank file, draw its confusion matrix.

``seqlab classify predict`` and ``seqlab classify evaluate`` call these.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from seqlab.atomic_file import atomic_path
from seqlab.data.sentiment_trees import read_sentiment_trees
from seqlab.data.sequence_vocab import SequenceVocab
from seqlab.errors import SeqlabError
from seqlab.models.sentence_classifier import SentenceClassifier
from seqlab.tasks.classify.config import DataConfig
from seqlab.tasks.classify.data import class_of, word_id, word_key
from seqlab.tasks.classify.task import confusion_scores

BATCH_SIZE = 64  # sentences classified at once
CELL = 0.9  # inches per cell of the confusion matrix


@dataclass(frozen=True)
class Prediction:
    """The class of one sentence and the probability of every class."""

    words: list[str]
    label: int
    name: str
    probabilities: list[float]

    def as_dict(self) -> dict:
        return {"text": " ".join(self.words), "label": self.label, "name": self.name,
                "probabilities": self.probabilities}  # fmt: skip


@torch.no_grad()
def classify_sentences(model: SentenceClassifier, vocab: SequenceVocab, config: DataConfig,
                       sentences: list[list[str]]) -> list[Prediction]:  # fmt: skip
    """The most likely class of each sentence (a list of words).

    Raises:
        SeqlabError: an empty sentence.
    """
    for number, words in enumerate(sentences, start=1):
        if not words:
            raise SeqlabError(f"sentence {number} is empty: give one sentence of words per line")
    device = next(model.parameters()).device
    predictions: list[Prediction] = []
    for start in range(0, len(sentences), BATCH_SIZE):
        batch = sentences[start : start + BATCH_SIZE]
        lengths = torch.tensor([len(words) for words in batch])
        tokens = torch.full((len(batch), int(lengths.max())), vocab.pad_id, dtype=torch.long)
        for row, words in enumerate(batch):
            tokens[row, : len(words)] = torch.tensor([word_id(vocab, word_key(word, config)) for word in words])
        probabilities = model(tokens.to(device), lengths.to(device)).logits.softmax(-1).cpu()
        for words, row in zip(batch, probabilities):
            label = int(row.argmax())
            predictions.append(Prediction(list(words), label, config.class_names[label], row.tolist()))
    return predictions


def evaluate_file(model: SentenceClassifier, vocab: SequenceVocab, config: DataConfig,
                  path: str | Path) -> tuple[np.ndarray, dict[str, float]]:  # fmt: skip
    """The confusion matrix [reference, predicted] of the sentences of a treebank file, and its scores.

    Sentences without a class under the run's labels (neutral ones for SST-2) are left out.

    Raises:
        SeqlabError: the file cannot be read, a tree is malformed, or no sentence has a class.
    """
    trees = [(tree, cls) for tree in read_sentiment_trees(path) if (cls := class_of(tree.label, config)) is not None]
    if not trees:
        raise SeqlabError(f"{path}: no sentence with a {config.labels} label")
    predictions = classify_sentences(model, vocab, config, [list(tree.words) for tree, _ in trees])
    classes = len(config.class_names)
    confusion = np.zeros((classes, classes), dtype=np.int64)
    for (_, reference), prediction in zip(trees, predictions):
        confusion[reference, prediction.label] += 1
    return confusion, confusion_scores(confusion)


def class_report(confusion: np.ndarray, class_names: tuple[str, ...]) -> str:
    """Precision, recall, F1 and support of each class, then accuracy and macro-F1, as a text table."""
    correct, predicted, reference = np.diag(confusion), confusion.sum(0), confusion.sum(1)
    width = max(len(name) for name in class_names)
    lines = [f"{'':>{width}}  precision  recall     F1  support"]
    for index, name in enumerate(class_names):
        precision = 100 * correct[index] / predicted[index] if predicted[index] else 0.0
        recall = 100 * correct[index] / reference[index] if reference[index] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        lines.append(f"{name:>{width}}  {precision:9.2f}  {recall:6.2f}  {f1:5.2f}  {reference[index]:7d}")
    scores = confusion_scores(confusion)
    total = f"{confusion.sum()} sentences"
    lines.append(f"accuracy {scores['accuracy']:.2f}% | macro-F1 {scores['macro_f1']:.2f} | {total}")
    return "\n".join(lines) + "\n"


def plot_confusion(confusion: np.ndarray, class_names: tuple[str, ...], path: str | Path, *, title: str = "") -> None:
    """Draw the confusion matrix as a PNG, written atomically: each row (reference class) as shares of
    its sentences, with the counts in the cells."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    classes = len(class_names)
    shares = confusion / np.maximum(confusion.sum(1, keepdims=True), 1)
    figure = Figure(figsize=(2.2 + CELL * classes, 1.6 + CELL * classes), dpi=120, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    axes.set_xticks(range(classes), class_names, rotation=45, ha="right")
    axes.set_yticks(range(classes), class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("reference")
    for row in range(classes):
        for column in range(classes):
            colour = "white" if shares[row, column] > 0.5 else "black"
            axes.text(column, row, f"{confusion[row, column]}", ha="center", va="center", color=colour)
    figure.colorbar(image, ax=axes, label="share of the reference class")
    if title:
        axes.set_title(title)
    with atomic_path(path) as temporary:
        figure.savefig(temporary, format="png")
