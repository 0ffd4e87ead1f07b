"""CharVocab: characters to ids and back, <unk> for the unseen, saved as JSON."""

from __future__ import annotations

import json

import pytest

from seqlab.data import UNK_TOKEN, CharVocab
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
