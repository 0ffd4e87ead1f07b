"""Vocabularies: characters or words to ids and back, <unk> for the rest, saved as JSON."""

from __future__ import annotations

import json

import pytest

from seqlab.data import EOS_TOKEN, UNK_TOKEN, CharVocab, Vocab, WordVocab
from seqlab.errors import SeqlabError


def test_ids_follow_code_point_order_after_unk():
    vocab = CharVocab.from_text("cabbage")
    assert vocab.chars == ("a", "b", "c", "e", "g")
    assert len(vocab) == 6
    assert vocab.encode("abc") == [1, 2, 3]
    assert vocab.unk_id == 0


def test_decode_inverts_encode_for_known_characters():
    text = "def f(x):\n    return x  # ü\t"
    vocab = CharVocab.from_text(text)
    assert vocab.decode(vocab.encode(text)) == text


def test_unseen_characters_encode_to_unk_and_decode_as_its_token():
    vocab = CharVocab.from_text("ab")
    assert vocab.encode("abz") == [1, 2, vocab.unk_id]
    assert vocab.decode(vocab.encode("azb")) == f"a{UNK_TOKEN}b"


def test_empty_text_gives_a_vocabulary_of_unk_only():
    vocab = CharVocab.from_text("")
    assert len(vocab) == 1
    assert vocab.encode("x") == [0]


def test_save_and_load_round_trip(tmp_path):
    vocab = CharVocab.from_text("héllo wörld\n\t\"'")
    vocab.save(tmp_path / "vocab.json")
    assert CharVocab.load(tmp_path / "vocab.json") == vocab


def test_saved_file_is_plain_json_listing_the_characters(tmp_path):
    CharVocab.from_text("ba").save(tmp_path / "vocab.json")
    data = json.loads((tmp_path / "vocab.json").read_text())
    assert data["chars"] == ["a", "b"]
    assert data["unk_token"] == UNK_TOKEN


@pytest.mark.parametrize(
    "content",
    ["not json", "[1, 2]", '{"format": "other"}', '{"format": "seqlab.char_vocab", "version": 1}'],
)
def test_loading_a_bad_file_names_the_file(tmp_path, content):
    path = tmp_path / "vocab.json"
    path.write_text(content)
    with pytest.raises(SeqlabError, match="vocab.json"):
        CharVocab.load(path)


def test_loading_a_missing_file_names_the_file(tmp_path):
    with pytest.raises(SeqlabError, match="nothere.json"):
        CharVocab.load(tmp_path / "nothere.json")


@pytest.mark.parametrize("chars", [["a", "a"], ["ab"], [""]])
def test_entries_must_be_distinct_single_characters(chars):
    with pytest.raises(SeqlabError):
        CharVocab(chars)


def test_char_vocabulary_limits_keep_the_most_frequent_characters():
    text = "aaaabbbcc d"
    assert CharVocab.from_text(text, min_count=2).chars == ("a", "b", "c")
    assert CharVocab.from_text(text, max_size=3).chars == ("a", "b")  # <unk> counts towards the size


def test_words_are_split_on_whitespace_and_every_line_ends_with_eos():
    assert WordVocab.tokenize(" the cat\n\nsat  down") == ["the", "cat", EOS_TOKEN, EOS_TOKEN, "sat", "down", EOS_TOKEN]


def test_word_ids_put_unk_and_eos_first_then_words_by_frequency():
    vocab = WordVocab.from_text("b a b c\nb a\n")
    assert vocab.tokens == (UNK_TOKEN, EOS_TOKEN, "b", "a", "c")
    assert (vocab.unk_id, vocab.eos_id) == (0, 1)
    assert vocab.encode("a z\n") == [3, 0, 1]


def test_a_corpus_that_already_has_unk_keeps_it_as_the_unknown_word():
    vocab = WordVocab.from_text("the <unk> sat\n")  # PTB and WikiText write rare words as <unk>
    assert len(vocab) == 4 and vocab.encode("<unk>") == [vocab.unk_id, vocab.eos_id]


def test_word_vocabulary_limits():
    text = "a a a a b b b c c d\n"
    assert WordVocab.from_text(text, min_count=2).words == ("a", "b", "c")
    assert WordVocab.from_text(text, max_size=4).words == ("a", "b")  # <unk> and <eos> count
    with pytest.raises(SeqlabError, match="max_size must exceed"):
        WordVocab.from_text(text, max_size=2)


def test_word_decode_inverts_encode_up_to_spacing():
    vocab = WordVocab.from_text("the cat sat\non the mat\n")
    assert vocab.decode(vocab.encode("the  cat sat\non the mat\n")) == "the cat sat\non the mat\n"


def test_word_vocabulary_round_trips_and_loads_as_the_right_kind(tmp_path):
    vocab = WordVocab.from_text("grüße aus köln\n")
    vocab.save(tmp_path / "vocab.json")
    assert Vocab.load(tmp_path / "vocab.json") == vocab
    assert WordVocab.load(tmp_path / "vocab.json") == vocab
    with pytest.raises(SeqlabError, match="holds a WordVocab, not a CharVocab"):
        CharVocab.load(tmp_path / "vocab.json")


@pytest.mark.parametrize("words", [["a", "a"], ["two words"], [""], ["<unk>"], ["<eos>"]])
def test_word_entries_must_be_distinct_words_without_whitespace_or_specials(words):
    with pytest.raises(SeqlabError):
        WordVocab(words)
