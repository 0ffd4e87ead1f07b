"""The vocabulary of one side of a translation: special ids shared with subwords, words or characters."""

from __future__ import annotations

import pytest

from seqlab.data.sequence_vocab import SequenceVocab
from seqlab.data.subwords import SubwordTokenizer
from seqlab.errors import SeqlabError


def test_special_ids_are_those_of_the_subword_tokenizer():
    vocab = SequenceVocab.from_lines(["a b"], level="word")
    for name in ("unk_id", "eos_id", "bos_id", "pad_id"):
        assert getattr(vocab, name) == getattr(SubwordTokenizer, name)
    assert vocab.tokens[:4] == ("<unk>", "<eos>", "<bos>", "<pad>")


def test_tokens_are_ranked_by_count_then_by_themselves_and_rare_ones_become_unknown():
    vocab = SequenceVocab.from_lines(["b a c", "a b", "a d"], level="word", min_count=2)
    assert vocab.tokens[4:] == ("a", "b")
    assert vocab.encode("a c b", add_bos=True, add_eos=True) == [2, 4, 0, 5, 1]
    assert vocab.decode([2, 4, 0, 5, 1, 3, 3]) == "a <unk> b"


def test_characters_keep_spaces_and_round_trip():
    vocab = SequenceVocab.from_lines(["3 may 1979"], level="char")
    assert vocab.decode(vocab.encode("3 may 1979")) == "3 may 1979"
    assert vocab.split("ab c") == ["a", "b", " ", "c"]


def test_max_size_counts_the_special_tokens():
    assert len(SequenceVocab.from_lines(["a a b b c"], level="word", max_size=6)) == 6


def test_saved_bytes_read_back_equal_and_other_files_are_refused():
    vocab = SequenceVocab.from_lines(["über den fluss"], level="word")
    assert SequenceVocab.from_bytes(vocab.to_bytes(), source="v.json") == vocab
    with pytest.raises(SeqlabError, match="v.json: not a seqlab"):
        SequenceVocab.from_bytes(b'{"format": "other"}', source="v.json")
    with pytest.raises(SeqlabError, match="v.json"):
        SequenceVocab.from_bytes(b"\xff", source="v.json")


def test_bad_settings_are_named():
    with pytest.raises(SeqlabError, match="level"):
        SequenceVocab([], level="piece")
    with pytest.raises(SeqlabError, match="min_count"):
        SequenceVocab.from_lines([], level="word", min_count=0)
