"""Starting a tagger from another one (``transfer_from``): what is copied, what starts afresh, and the run around it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from seqlab.cli.main import main
from seqlab.data.sequence_vocab import SPECIAL_TOKENS, SequenceVocab
from seqlab.errors import SeqlabError
from seqlab.models.sequence_tagger import SequenceTagger
from seqlab.models.tagger_configs import TaggerConfig
from seqlab.tasks import tag
from seqlab.tasks.tag.checkpoint import load_tagger, read_vocabularies
from seqlab.tasks.tag.config import DataConfig
from seqlab.tasks.tag.transfer import SourceTagger, transfer_weights
from tests.saved_weights import assert_same_weights
from tests.tag.test_run import FLAGS, TINY, write_corpus

PER_LOC = ["O", "B-LOC", "I-LOC", "E-LOC", "S-LOC", "B-PER", "I-PER", "E-PER", "S-PER"]
PRODUCTS = ["O", "B-product", "I-product", "E-product", "S-product"]
SIZES = {"embedding_size": 6, "hidden_size": 5, "char_embedding_size": 3, "char_hidden_size": 4}


def tagger(words: list[str], chars: str, tags: list[str], seed: int,
           **settings) -> tuple[SequenceTagger, SequenceVocab, SequenceVocab]:  # fmt: skip
    """A fresh tagger over these words and characters, with its vocabularies."""
    torch.manual_seed(seed)
    word_vocab, char_vocab = SequenceVocab(words, level="word"), SequenceVocab(dict.fromkeys(chars), level="char")
    config = TaggerConfig(vocab_size=len(word_vocab), tags=tags, char_vocab_size=len(char_vocab),
                          padding_id=word_vocab.pad_id, char_padding_id=char_vocab.pad_id,
                          **{**SIZES, **settings})  # fmt: skip
    return SequenceTagger(config), word_vocab, char_vocab


def source_of(words: list[str], chars: str, tags: list[str], **settings) -> SourceTagger:
    model, word_vocab, char_vocab = tagger(words, chars, tags, seed=1, **settings)
    return SourceTagger(Path("source"), model, word_vocab, char_vocab, tuple(words))


def row(model: SequenceTagger, vocab: SequenceVocab, token: str) -> torch.Tensor:
    return model.embedding.weight[vocab.tokens.index(token)]


def test_shared_words_and_characters_take_the_source_rows_and_the_others_keep_theirs():
    data = DataConfig()
    source = source_of(["Paris", "Mary", "visited"], "PMarisvted", PER_LOC)
    target, word_vocab, char_vocab = tagger(["visited", "Berlin", "Paris"], "BPerlinvisted", PRODUCTS, seed=2)
    berlin_before = row(target, word_vocab, "Berlin").clone()
    chars_before = target.characters.embedding.weight.clone()

    summary = transfer_weights(target, word_vocab, char_vocab, source, data)

    for word in ("Paris", "visited", "<unk>"):
        assert torch.equal(row(target, word_vocab, word), row(source.model, source.word_vocab, word)), word
    assert torch.equal(row(target, word_vocab, "Berlin"), berlin_before)
    source_chars, target_chars = source.char_vocab.tokens, char_vocab.tokens
    for index, char in enumerate(target_chars):
        expected = (source.model.characters.embedding.weight[source_chars.index(char)] if char in source_chars
                    else chars_before[index])  # fmt: skip
        assert torch.equal(target.characters.embedding.weight[index], expected), char
    shared_chars = sum(char in source_chars for char in target_chars[len(SPECIAL_TOKENS) :])
    assert (summary.words, summary.characters) == (2, shared_chars)  # ordinary tokens: Paris, visited


def test_every_layer_but_the_output_is_copied_when_the_tags_differ():
    data = DataConfig()
    source = source_of(["Paris"], "Paris", PER_LOC)
    target, word_vocab, char_vocab = tagger(["Paris"], "Paris", PRODUCTS, seed=2)
    emission_before = target.emission.weight.clone()

    summary = transfer_weights(target, word_vocab, char_vocab, source, data)

    theirs = source.model.state_dict()
    layers = [name for name in theirs if name.startswith(("rnn.", "characters.rnn."))]
    assert len(layers) == 16  # the word and the character BiLSTMs: 2 directions x 4 tensors each
    for name in layers:
        assert torch.equal(target.state_dict()[name], theirs[name]), name
    assert torch.equal(target.emission.weight, emission_before) and not summary.output_layer
    assert target.crf.transitions.shape == (len(PRODUCTS), len(PRODUCTS))


def test_the_emissions_and_the_crf_are_copied_too_when_the_tags_are_the_same():
    data = DataConfig()
    source = source_of(["Paris"], "Paris", PER_LOC)
    target, word_vocab, char_vocab = tagger(["Rome"], "Rome", PER_LOC, seed=2)
    summary = transfer_weights(target, word_vocab, char_vocab, source, data)
    assert summary.output_layer
    assert torch.equal(target.emission.weight, source.model.emission.weight)
    assert torch.equal(target.crf.transitions, source.model.crf.transitions)


def test_source_words_are_matched_as_the_target_looks_words_up():
    data = DataConfig(lowercase=True)  # the target reads "Paris" as "paris"; the source knew "Paris" and "PARIS"
    source = source_of(["Paris", "PARIS"], "PARIS", PER_LOC)
    target, word_vocab, char_vocab = tagger(["paris"], "paris", PER_LOC, seed=2)
    transfer_weights(target, word_vocab, char_vocab, source, data)
    assert torch.equal(row(target, word_vocab, "paris"), row(source.model, source.word_vocab, "Paris"))  # the first


def test_a_source_of_other_shapes_is_refused_naming_each_difference():
    data = DataConfig()
    source = source_of(["Paris"], "Paris", PER_LOC, hidden_size=7, cell="gru")
    target, word_vocab, char_vocab = tagger(["Paris"], "Paris", PER_LOC, seed=2)
    with pytest.raises(SeqlabError, match=r"source: .*cell 'gru' \(this run: 'lstm'\); hidden_size 7 \(this run: 5\)"):
        transfer_weights(target, word_vocab, char_vocab, source, data)


def test_settings_of_features_that_neither_tagger_has_do_not_matter():
    data = DataConfig()
    source = source_of(["Paris"], "Paris", PER_LOC, character_features="none", char_hidden_size=9)
    target, word_vocab, char_vocab = tagger(["Paris"], "Paris", PER_LOC, seed=2, character_features="none")
    assert transfer_weights(target, word_vocab, char_vocab, source, data).characters == 0


# Mapped types (transfer_tags): other tags, whose output starts from the source tags of the mapped types.

PERSONS_AND_PRODUCTS = ["O", "B-person", "I-person", "E-person", "S-person", "B-product", "I-product", "E-product",
                        "S-product"]  # fmt: skip


def test_mapped_types_start_their_emissions_and_moves_from_the_source_tags_and_the_others_start_afresh():
    source = source_of(["Paris"], "Paris", PER_LOC)
    target, word_vocab, char_vocab = tagger(["Paris"], "Paris", PERSONS_AND_PRODUCTS, seed=2)
    before = {name: tensor.clone() for name, tensor in target.state_dict().items()}
    data = DataConfig(transfer_from="source", transfer_tags="person=PER")

    summary = transfer_weights(target, word_vocab, char_vocab, source, data)

    # written out by name: O reads O, X-person reads X-PER for each prefix X; products read nothing
    read = {"O": "O", **{f"{x}-person": f"{x}-PER" for x in "BIES"}}
    ours, theirs = PERSONS_AND_PRODUCTS, PER_LOC
    emission, source_emission = target.emission, source.model.emission
    crf, source_crf = target.crf, source.model.crf
    for i, target_tag in enumerate(ours):
        j = theirs.index(read[target_tag]) if target_tag in read else None
        for name in ("weight", "bias"):
            expected = before[f"emission.{name}"][i] if j is None else getattr(source_emission, name)[j]
            assert torch.equal(getattr(emission, name)[i], expected), (target_tag, name)
        for name in ("start_transitions", "end_transitions"):
            expected = before[f"crf.{name}"][i] if j is None else getattr(source_crf, name)[j]
            assert torch.equal(getattr(crf, name)[i], expected), (target_tag, name)
        for k, following in enumerate(ours):
            mapped = j is not None and following in read
            expected = (source_crf.transitions[j, theirs.index(read[following])] if mapped
                        else before["crf.transitions"][i, k])  # fmt: skip
            assert torch.equal(crf.transitions[i, k], expected), (target_tag, following)
    assert (summary.output_layer, summary.mapped_tags, summary.tags) == (False, 5, 9)
    assert torch.equal(crf.allowed_transitions, before["crf.allowed_transitions"])  # the target's own scheme
    assert "the output for 5 of 9 tags by their mapped types" in summary.describe(Path("source"), len(word_vocab))


def test_two_types_mapped_to_one_source_type_start_alike():
    source = source_of(["Paris"], "Paris", PER_LOC)
    target, word_vocab, char_vocab = tagger(["Paris"], "Paris", PERSONS_AND_PRODUCTS, seed=2)
    data = DataConfig(transfer_from="source", transfer_tags="person=LOC, product=LOC")
    assert transfer_weights(target, word_vocab, char_vocab, source, data).mapped_tags == 9
    for prefix in "BIES":
        person, product = (PERSONS_AND_PRODUCTS.index(f"{prefix}-{type_}") for type_ in ("person", "product"))
        assert torch.equal(target.emission.weight[person], target.emission.weight[product])
        assert torch.equal(target.emission.weight[person], source.model.emission.weight[PER_LOC.index(f"{prefix}-LOC")])


@pytest.mark.parametrize(
    ("types", "message"),
    [
        ("people=PER", r"no type 'people' among this run's tags \(types: person, product\)"),
        ("person=PERSON", r"no type 'PERSON' among the tags of source \(types: LOC, PER\)"),
    ],
)
def test_a_type_that_is_not_among_the_tags_is_refused_naming_the_types_there_are(types, message):
    source = source_of(["Paris"], "Paris", PER_LOC)
    target, word_vocab, char_vocab = tagger(["Paris"], "Paris", PERSONS_AND_PRODUCTS, seed=2)
    with pytest.raises(SeqlabError, match=message):
        transfer_weights(
            target, word_vocab, char_vocab, source, DataConfig(transfer_from="source", transfer_tags=types)
        )


def test_mapped_types_need_the_same_scheme_and_output():
    source = source_of(["Paris"], "Paris", PER_LOC)
    target, word_vocab, char_vocab = tagger(["Paris"], "Paris", ["O", "B-person", "I-person"], seed=2, scheme="BIO")
    data = DataConfig(transfer_from="source", transfer_tags="person=PER")
    with pytest.raises(SeqlabError, match="same scheme and output.* BIOES with a crf output, this run BIO with a crf"):
        transfer_weights(target, word_vocab, char_vocab, source, data)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"transfer_tags": "person=PER"}, "give transfer_from too"),
        ({"transfer_from": "source", "transfer_tags": "person"}, "'person' is not TYPE=SOURCE_TYPE"),
        ({"transfer_from": "source", "transfer_tags": "person=PER,=LOC"}, "'=LOC' is not TYPE=SOURCE_TYPE"),
        ({"transfer_from": "source", "transfer_tags": "person=PER,person=LOC"}, "type 'person' is mapped twice"),
    ],
)
def test_a_malformed_type_map_is_refused_before_anything_runs(settings, message):
    with pytest.raises(SeqlabError, match=message):
        DataConfig(**settings)


# The run: a tagger of persons and places started from one trained on another corpus with other tags.


@pytest.fixture(scope="module")
def source_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "source"
    corpus = write_corpus(tmp_path_factory.mktemp("data") / "source", seed=5)
    tag.train(out, corpus=corpus, overrides=TINY, progress=False, log=lambda line: None)
    return out


def product_corpus(folder: Path) -> Path:
    """BIO files of products, in words partly shared with the source's corpus."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, count in (("train.txt", 24), ("dev.txt", 8)):
        sentences = [[("Mary", "O"), ("bought", "O"), ("an", "O"), ("Xbox", "B-product"), ("One", "I-product"),
                      ("in", "O"), ("Paris", "O")] for _ in range(count)]  # fmt: skip
        (folder / name).write_text("\n\n".join("\n".join(f"{w}\t{t}" for w, t in s) for s in sentences) + "\n")
    return folder


def test_a_run_started_from_another_learns_its_own_tags_over_both_vocabularies(source_run, tmp_path):
    frozen = {**TINY["model"], "freeze_embeddings": True}  # so that the source's rows are still there after training
    data = {**TINY["data"], "file_scheme": "BIO", "transfer_from": str(source_run)}
    lines: list[str] = []
    out = tmp_path / "products"
    tag.train(out, corpus=product_corpus(tmp_path / "corpus"), overrides={**TINY, "model": frozen, "data": data},
              progress=False, log=lines.append)  # fmt: skip

    source, source_words, _, _ = load_tagger(source_run)
    model, words, chars, _ = load_tagger(out)
    assert set(source_words.tokens) | {"bought", "an", "Xbox", "One"} == set(words.tokens)
    source_chars = read_vocabularies(source_run)[1]
    assert set(source_chars.tokens) <= set(chars.tokens)
    for word in ("Mary", "Paris", "visited", "<unk>"):
        assert torch.equal(row(model, words, word), row(source, source_words, word)), word
    assert model.config.tags == PRODUCTS
    assert [line for line in lines if line.startswith("transfer: ")] == [
        f"transfer: {len(source_words) - 4:,} of {len(words) - 4:,} words, {len(source_chars) - 4:,} characters "
        f"and every layer but the output (other tags: it starts afresh) from {source_run}"
    ]
    assert json.loads((out / "config.json").read_text())["data"]["transfer_from"] == str(source_run)


def test_a_resumed_run_keeps_its_vocabulary_and_never_reads_the_source_again(source_run, tmp_path):
    copy = tmp_path / "source"
    shutil.copytree(source_run, copy)
    part = {**TINY, "data": {**TINY["data"], "file_scheme": "BIO", "transfer_from": str(copy)},
            "training": {**TINY["training"], "max_steps": 3}}  # fmt: skip
    corpus, out = product_corpus(tmp_path / "corpus"), tmp_path / "products"
    tag.train(out, corpus=corpus, overrides=part, progress=False, log=lambda line: None)
    words = read_vocabularies(out)[0]
    shutil.rmtree(copy)
    tag.train(out, resume=True, progress=False, log=lambda line: None)
    assert read_vocabularies(out)[0] == words


def test_the_command_line_flag_starts_the_same_run(source_run, tmp_path):
    corpus = product_corpus(tmp_path / "corpus")
    flags = [flag if flag != "IOB1" else "BIO" for flag in FLAGS]
    assert main(["tag", "train", str(corpus), "--out", str(tmp_path / "cli"), *flags,
                 "--transfer-from", str(source_run)]) == 0  # fmt: skip
    data = {**TINY["data"], "file_scheme": "BIO", "transfer_from": str(source_run)}
    tag.train(tmp_path / "python", corpus=corpus, overrides={**TINY, "data": data}, progress=False,
              log=lambda line: None)  # fmt: skip
    assert_same_weights(tmp_path / "cli", tmp_path / "python")


def test_a_run_cannot_start_from_other_sizes_or_from_a_folder_that_is_no_run(source_run, tmp_path):
    corpus = product_corpus(tmp_path / "corpus")
    bigger = {**TINY, "model": {**TINY["model"], "hidden_size": 12},
              "data": {**TINY["data"], "file_scheme": "BIO", "transfer_from": str(source_run)}}  # fmt: skip
    with pytest.raises(SeqlabError, match=r"hidden_size 8 \(this run: 12\)"):
        tag.train(tmp_path / "bigger", corpus=corpus, overrides=bigger, progress=False, log=lambda line: None)
    not_a_run = {**TINY, "data": {**TINY["data"], "file_scheme": "BIO", "transfer_from": str(corpus)}}
    with pytest.raises(SeqlabError, match=f"{corpus}: incomplete checkpoint"):
        tag.train(tmp_path / "nothing", corpus=corpus, overrides=not_a_run, progress=False, log=lambda line: None)


def test_the_type_map_flag_starts_the_products_from_the_source_persons(source_run, tmp_path):
    corpus, lines = product_corpus(tmp_path / "corpus"), []
    flags = [flag if flag != "IOB1" else "BIO" for flag in FLAGS]
    data = {**TINY["data"], "file_scheme": "BIO", "transfer_from": str(source_run), "transfer_tags": "product=PER"}
    tag.train(tmp_path / "python", corpus=corpus, overrides={**TINY, "data": data}, progress=False, log=lines.append)
    assert [line for line in lines if line.startswith("transfer: ")][0].endswith(
        f"every layer, the output for 5 of 5 tags by their mapped types from {source_run}"
    )
    assert main(["tag", "train", str(corpus), "--out", str(tmp_path / "cli"), *flags,
                 "--transfer-from", str(source_run), "--transfer-tags", "product=PER"]) == 0  # fmt: skip
    assert_same_weights(tmp_path / "cli", tmp_path / "python")
