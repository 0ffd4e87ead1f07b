"""Using a trained tagger: tag sentences of words, and score a CoNLL file as conlleval would.

``seqlab tag predict`` and ``seqlab tag evaluate`` call these. Tags come out in the scheme of the
files the model was trained on (IOB1 for CoNLL-2003) unless another is asked for; entities come
with their word spans.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from seqlab.data.conll import read_conll
from seqlab.data.sequence_vocab import SequenceVocab
from seqlab.data.tag_schemes import Span, spans
from seqlab.errors import SeqlabError
from seqlab.metrics.conlleval import conlleval_statistics
from seqlab.metrics.entity_counts import EntityStatistics
from seqlab.models.sequence_tagger import SequenceTagger
from seqlab.tasks.tag.config import DataConfig
from seqlab.tasks.tag.data import encode_words, retag
from seqlab.tasks.tag.task import pad_chars

BATCH_SIZE = 64  # sentences tagged at once


@dataclass(frozen=True)
class TaggedWords:
    """One sentence as the tagger saw it."""

    words: list[str]
    tags: list[str]  # in the scheme asked for
    entities: list[Span]  # word spans, end exclusive

    def as_dict(self) -> dict:
        entities = [{"start": span.start, "end": span.end, "type": span.type,
                     "text": " ".join(self.words[span.start : span.end])} for span in self.entities]  # fmt: skip
        return {"words": self.words, "tags": self.tags, "entities": entities}


@torch.no_grad()
def tag_sentences(model: SequenceTagger, word_vocab: SequenceVocab, char_vocab: SequenceVocab, config: DataConfig,
                  sentences: list[list[str]], *, scheme: str | None = None,
                  batch_size: int = BATCH_SIZE) -> list[TaggedWords]:  # fmt: skip
    """Tag each sentence (a list of words) with ``model``, in ``scheme`` (the training files' when None).

    The sentences are tagged ``batch_size`` at a time in order of length, so that a batch holds
    little padding, and come back in the order given.

    Raises:
        SeqlabError: an empty sentence.
    """
    scheme = scheme or config.files()[2]
    for number, words in enumerate(sentences, start=1):
        if not words:
            raise SeqlabError(f"sentence {number} is empty: give one sentence of words per line")
    by_length = sorted(range(len(sentences)), key=lambda index: len(sentences[index]))
    tagged: dict[int, TaggedWords] = {}
    for start in range(0, len(sentences), batch_size):
        indices = by_length[start : start + batch_size]
        batch = [sentences[index] for index in indices]
        for index, words, path in zip(indices, batch, _best_paths(model, word_vocab, char_vocab, config, batch)):
            tags = retag([model.config.tags[tag] for tag in path], scheme)
            tagged[index] = TaggedWords(list(words), tags, spans(tags, scheme))
    return [tagged[index] for index in range(len(sentences))]


def _best_paths(model: SequenceTagger, word_vocab: SequenceVocab, char_vocab: SequenceVocab, config: DataConfig,
                batch: list[list[str]]) -> list[list[int]]:  # fmt: skip
    """The model's best tag ids for each sentence of one batch."""
    device = next(model.parameters()).device
    encoded = [encode_words(words, word_vocab, char_vocab, config) for words in batch]
    lengths = torch.tensor([len(words) for words in batch])
    steps = int(lengths.max())
    words = torch.full((len(batch), steps), word_vocab.pad_id, dtype=torch.long)
    casing = torch.zeros((len(batch), steps), dtype=torch.long)
    for row, (ids, _, classes) in enumerate(encoded):
        words[row, : len(ids)] = torch.tensor(ids)
        casing[row, : len(ids)] = torch.tensor(classes)
    chars = pad_chars([chars for _, chars, _ in encoded], char_vocab.pad_id)
    out = model(words.to(device), lengths.to(device), chars=chars.to(device), casing=casing.to(device))
    return model.decode(out.emissions, out.mask)


Row = tuple[list[str], tuple[str, ...], list[str]]  # a sentence's words, gold tags and predicted tags


def evaluate_file(model: SequenceTagger, word_vocab: SequenceVocab, char_vocab: SequenceVocab, config: DataConfig,
                  path: str | Path) -> tuple[EntityStatistics, list[Row]]:  # fmt: skip
    """conlleval's counts of ``model`` on a CoNLL file of the training files' scheme, and each sentence's
    words, gold tags and predicted tags.

    Raises:
        SeqlabError: the file cannot be read or has a malformed line (file and line).
    """
    scheme = config.files()[2]
    sentences = read_conll(path, scheme)
    if not sentences:
        raise SeqlabError(f"{path}: no tagged sentence")
    tagged = tag_sentences(model, word_vocab, char_vocab, config, [list(s.words) for s in sentences])
    rows = [(list(s.words), s.tags, t.tags) for s, t in zip(sentences, tagged)]
    statistics = conlleval_statistics([list(zip(gold, predicted)) for _, gold, predicted in rows])
    return statistics, rows


def conll_lines(rows: list[Row]) -> str:
    """conlleval's input: ``word gold predicted`` per line, a blank line after each sentence."""
    return "".join("".join(f"{w} {g} {p}\n" for w, g, p in zip(*row)) + "\n" for row in rows)
