"""Starting a tagger from another tagger's weights: NER transfer from a large corpus to a small one.

Lee, Dernoncourt & Szolovits (2018, "Transfer learning for named-entity recognition with neural
networks", LREC) train a BiLSTM-CRF tagger on a large source corpus, initialise the tagger of a
small target corpus with its parameters and go on training all of them on the target; in their
de-identification experiments the gain was largest with the fewest target sentences. Here the
source is a finished tagging run (``transfer_from``), e.g. CoNLL-2003's 14,041 sentences for
WNUT-17's 3,394, and these are seqlab's choices:

- **Vocabularies.** The source's words (as the target's ``word_key`` writes them) and characters
  join the target's vocabularies, so that a word learnt on the source keeps its embedding even
  where the target's training data never has it.
- **Embeddings.** Every word and character the source knows gets the source's row (of its best
  weights, or its last before its first evaluation); the others keep their start (random, or
  the vectors of ``vectors``, which are copied first).
- **Layers.** The character features, the casing embedding and the BiLSTM are copied whole; the
  output layer (emissions, and the CRF) only when both taggers have the same tags in the same
  order and the same output (the same task on new data), and otherwise start afresh.
- **Mapped types** (``transfer_tags``, seqlab's option, not Lee et al.'s). Where the tags differ, a
  map of entity types (``corporation=ORG,creative-work=MISC``) starts each target tag of a mapped
  type, and ``O``, from the source tag of the same prefix and the mapped type: its emission row
  and bias, and the CRF's scores of starting, ending and moving between two such tags. The other
  tags' rows and moves start afresh; the moves the target's scheme forbids stay forbidden (its
  masks are the target's own). Both taggers must write the same scheme with the same output.

The engine's own ``StartFrom`` (``seqlab lm train --finetune-from``) copies every tensor of a
model of identical shape; here the vocabularies and the tags differ, so rows are matched by token.
A source whose copied layers have other shapes is refused with one line naming the settings
that differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from seqlab.data.sequence_vocab import SPECIAL_TOKENS, SequenceVocab
from seqlab.data.tag_schemes import OUTSIDE, split_tag
from seqlab.errors import SeqlabError
from seqlab.models.sequence_tagger import SequenceTagger
from seqlab.tasks.tag.checkpoint import load_tagger
from seqlab.tasks.tag.config import DataConfig, tag_type_map
from seqlab.tasks.tag.data import word_key
from seqlab.training.fit import available_weights

# the settings named when the copied layers' shapes differ
SHAPING_SETTINGS = ("cell", "embedding_size", "hidden_size", "num_layers", "character_features",
                    "char_embedding_size", "char_hidden_size", "char_window", "casing", "casing_size")  # fmt: skip
_EMBEDDINGS = ("embedding.weight", "characters.embedding.weight")  # matched row by row
_OUTPUT_LAYERS = ("emission.", "crf.")  # copied only when these settings agree:
_OUTPUT_SETTINGS = ("tags", "scheme", "output")


@dataclass(frozen=True)
class SourceTagger:
    """A finished tagger to start from: its weights and vocabularies, with its words as the target reads them."""

    directory: Path
    model: SequenceTagger
    word_vocab: SequenceVocab
    char_vocab: SequenceVocab
    words: tuple[str, ...]  # the source's ordinary words rewritten by the target's word_key, first ones kept

    @classmethod
    def load(cls, directory: str | Path, target_data: DataConfig) -> SourceTagger:
        """Read the run in ``directory`` (its best weights, or its last before any evaluation).

        Raises:
            SeqlabError: not a tagging run, or its files missing or corrupt.
        """
        directory = Path(directory)
        model, word_vocab, char_vocab, _ = load_tagger(directory, which=available_weights(directory))
        words = tuple(dict.fromkeys(word_key(word, target_data) for word in _ordinary(word_vocab)))
        return cls(directory, model, word_vocab, char_vocab, words)

    @property
    def characters(self) -> tuple[str, ...]:
        """The source's ordinary characters."""
        return _ordinary(self.char_vocab)


@dataclass(frozen=True)
class TransferSummary:
    """What a transfer copied."""

    words: int  # ordinary words of the target that got the source's embedding
    characters: int  # ordinary characters of the target that got the source's embedding
    output_layer: bool  # whether the output layer (emissions, CRF) was copied: the same tags
    mapped_tags: int = 0  # other tags: how many target tags took their output rows through transfer_tags
    tags: int = 0  # the target's tags

    def describe(self, directory: Path, vocab_size: int) -> str:
        if self.output_layer:
            layers = "every layer"
        elif self.mapped_tags:
            layers = f"every layer, the output for {self.mapped_tags} of {self.tags} tags by their mapped types"
        else:
            layers = "every layer but the output (other tags: it starts afresh)"
        return (f"transfer: {self.words:,} of {vocab_size - len(SPECIAL_TOKENS):,} words, {self.characters:,} "
                f"characters and {layers} from {directory}")  # fmt: skip


def transfer_weights(model: SequenceTagger, word_vocab: SequenceVocab, char_vocab: SequenceVocab,
                     source: SourceTagger, target_data: DataConfig) -> TransferSummary:  # fmt: skip
    """Copy ``source``'s weights into the new ``model`` (see the module docstring), in place.

    Args:
        model: the target tagger, before training, over ``word_vocab`` and ``char_vocab``.
        target_data: the target run's data settings (how its words are keyed).

    Raises:
        SeqlabError: the source's layers have other shapes (the differing settings named).
    """
    same_output = all(getattr(source.model.config, name) == getattr(model.config, name) for name in _OUTPUT_SETTINGS)
    ours, theirs = model.state_dict(), source.model.state_dict()
    copied = [name for name in ours
              if name not in _EMBEDDINGS and (same_output or not name.startswith(_OUTPUT_LAYERS))]  # fmt: skip
    _check_shapes(copied, ours, theirs, source, model)
    with torch.no_grad():
        for name in copied:
            ours[name].copy_(theirs[name])
        words = _copy_rows(model.embedding.weight, word_vocab, source.model.embedding.weight, source.word_vocab,
                           lambda word: word_key(word, target_data))  # fmt: skip
        characters = 0
        if model.characters is not None and source.model.characters is not None:
            characters = _copy_rows(model.characters.embedding.weight, char_vocab,
                                    source.model.characters.embedding.weight, source.char_vocab,
                                    lambda char: char)  # fmt: skip
        mapped = 0
        if not same_output and target_data.transfer_tags:
            mapped = _copy_mapped_output(model, source, tag_type_map(target_data.transfer_tags))
    return TransferSummary(words, characters, same_output, mapped, model.config.num_tags)


def _copy_mapped_output(model: SequenceTagger, source: SourceTagger, types: dict[str, str]) -> int:
    """Start the output of each target tag of a mapped type, and ``O``, from its source tag; return how many.

    ``types``: target entity type → source entity type. Target tag ``B-corporation`` reads source
    tag ``B-ORG`` for ``corporation=ORG``: its emission row and bias, its start and end scores, and
    the transition score to and from every other tag read this way.

    Raises:
        SeqlabError: the schemes or outputs differ, or a type is not among the tagger's tags.
    """
    ours, theirs = model.config, source.model.config
    if ours.scheme is None or (ours.scheme, ours.output) != (theirs.scheme, theirs.output):
        raise SeqlabError(f"{source.directory}: transfer_tags needs the same scheme and output in both taggers; "
                          f"the source writes {theirs.scheme} with a {theirs.output} output, this run "
                          f"{ours.scheme} with a {ours.output} output")  # fmt: skip
    _check_types(set(types), ours.tags, ours.scheme, "this run's tags")
    _check_types(set(types.values()), theirs.tags, theirs.scheme, f"the tags of {source.directory}")
    source_ids = {tag: index for index, tag in enumerate(theirs.tags)}
    pairs: dict[int, int] = {}
    for target_id, tag in enumerate(ours.tags):
        prefix, type_ = split_tag(tag, ours.scheme)
        source_tag = OUTSIDE if prefix == OUTSIDE else f"{prefix}-{types[type_]}" if type_ in types else None
        if source_tag in source_ids:
            pairs[target_id] = source_ids[source_tag]
    target_rows = torch.tensor(list(pairs), dtype=torch.long)
    source_rows = torch.tensor(list(pairs.values()), dtype=torch.long)
    ours_state, theirs_state = model.state_dict(), source.model.state_dict()
    for name in ("emission.weight", "emission.bias", "crf.start_transitions", "crf.end_transitions"):
        if name in ours_state:
            ours_state[name][target_rows] = theirs_state[name][source_rows].to(ours_state[name].dtype)
    if "crf.transitions" in ours_state:
        moves = ours_state["crf.transitions"]  # [from, to]
        moves[target_rows.unsqueeze(1), target_rows] = theirs_state["crf.transitions"][
            source_rows.unsqueeze(1), source_rows
        ].to(moves.dtype)
    return len(pairs)


def _check_types(types: set[str], tags: list[str], scheme: str, whose: str) -> None:
    """Every type in ``types`` is the type of one of ``tags``; else one line listing the types there are."""
    known = {split_tag(tag, scheme)[1] for tag in tags} - {""}
    unknown = sorted(types - known)
    if unknown:
        raise SeqlabError(f"transfer_tags: no type {', '.join(map(repr, unknown))} among {whose} "
                          f"(types: {', '.join(sorted(known))})")  # fmt: skip


def _copy_rows(target: torch.Tensor, target_vocab: SequenceVocab, source: torch.Tensor, source_vocab: SequenceVocab,
               key: Callable[[str], str]) -> int:  # fmt: skip
    """Give each token of ``target_vocab`` the row of the first source token with its key.

    Returns how many ordinary (not special) tokens got one.

    ``key`` rewrites a source token as the target looks tokens up; the special tokens, which every
    key keeps, take their rows too.
    """
    target_ids = {token: index for index, token in enumerate(target_vocab.tokens)}
    pairs: dict[int, int] = {}
    for source_id, token in enumerate(source_vocab.tokens):
        target_id = target_ids.get(key(token))
        if target_id is not None and target_id not in pairs:
            pairs[target_id] = source_id
    rows = torch.tensor(list(pairs), dtype=torch.long)
    target[rows] = source[torch.tensor(list(pairs.values()), dtype=torch.long)].to(target.dtype)
    return sum(target_id >= len(SPECIAL_TOKENS) for target_id in pairs)


def _check_shapes(names: list[str], ours: dict, theirs: dict, source: SourceTagger, model: SequenceTagger) -> None:
    """Every tensor to copy exists in the source with the target's shape; else one line naming what differs."""
    mismatched = [name for name in names if name not in theirs or theirs[name].shape != ours[name].shape]
    if not mismatched:
        return
    theirs_config, ours_config = source.model.config, model.config
    settings = [f"{name} {getattr(theirs_config, name)!r} (this run: {getattr(ours_config, name)!r})"
                for name in SHAPING_SETTINGS if getattr(theirs_config, name) != getattr(ours_config, name)]  # fmt: skip
    what = "; ".join(settings) if settings else "tensors " + ", ".join(mismatched)
    raise SeqlabError(f"{source.directory}: its tagger cannot start this one: {what}")


def _ordinary(vocab: SequenceVocab) -> tuple[str, ...]:
    return vocab.tokens[len(SPECIAL_TOKENS) :]
