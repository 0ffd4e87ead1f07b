"""Subword units: every text decodes back exactly, seqlab's special ids, saving, errors, determinism.

Models are tiny (400 pieces, trained on a few dozen lines in milliseconds). Two properties of
the algorithms are checked against the papers written out here: BPE's first merges are the most
frequent adjacent pairs (Sennrich et al. 2016, Algorithm 1), and a unigram segmentation is the
one of highest total log-probability among all segmentations (Kudo 2018, section 3.1, found by
brute force).
"""

from __future__ import annotations

import ast
import doctest
import itertools
from collections import Counter
from pathlib import Path

import pytest

import seqlab.data.subwords
from seqlab.checksums import CorruptFileError
from seqlab.data.subwords import MODEL_FILE, SubwordTokenizer, SubwordTrainer
from seqlab.data.vocab import CharVocab, WordVocab
from seqlab.errors import SeqlabError

SENTENCES = [
    "Ein Mann mit einer roten Mütze fährt auf einem Fahrrad.",
    "Zwei Hunde spielen im Schnee, 3 Kinder schauen zu!",
    "Eine Frau trinkt Kaffee (schwarz) um 7:45 Uhr.",
    "Große Straßen; kleine Häuser – „schön“, oder?",
    "A man in a red hat rides a bicycle.",
    "Two dogs play in the snow; 12 children watch.",
    'A woman drinks coffee at 7:45 a.m. — "black", she says.',
    "Café «déjà vu»: naïve façade, 100% œuvre.",
    "Numbers: 0 1 2 3 4 5 6 7 8 9, 2016-05-09, 3.14159, #42 & @home.",
    "  Leading spaces, double  spaces,\ta tab, and a trailing space ",
    "No\u00a0break\u00a0space and a literal <eos> or <unk> in the text.",
]
LINES = SENTENCES * 4
UNSEEN = [
    "Ωμέγα",  # Greek
    "😀 🚲",  # emoji, 4 bytes each
    "北京",  # CJK
    "№5 ĳ ﬁ",  # characters NFKC would rewrite
    "e\u0301",  # a combining accent
    "\u2028",  # a line separator inside a sentence
]
VOCAB_SIZE = 400  # 4 special + 256 byte pieces + 81 characters + some merges
MODEL_TYPES = ["bpe", "unigram"]


@pytest.fixture(scope="module", params=MODEL_TYPES)
def tokenizer(request) -> SubwordTokenizer:
    return SubwordTrainer(vocab_size=VOCAB_SIZE, model_type=request.param).train(LINES)


def test_every_training_line_round_trips(tokenizer):
    for line in SENTENCES:
        assert tokenizer.decode(tokenizer.encode(line)) == line


def test_unseen_characters_round_trip_as_their_utf8_bytes(tokenizer):
    for text in UNSEEN:
        ids = tokenizer.encode(text)
        assert tokenizer.decode(ids) == text
        assert tokenizer.unk_id not in ids
    assert tokenizer.encode_pieces("Ω")[-2:] == [f"<0x{byte:02X}>" for byte in "Ω".encode()]  # b"\xce\xa9"


def test_unseen_mixed_with_seen_round_trips(tokenizer):
    text = " Ein Ωμέγα-Fahrrad 😀 fährt\u00a0um 7:45  Uhr. "
    assert tokenizer.decode(tokenizer.encode(text)) == text


@pytest.mark.parametrize("text", ["", " ", "   ", "a\nb\r\nc", "\x00\x7f", "<0x41>", "\ufeffBOM", "<unk> <eos>"])
def test_edge_texts_round_trip(tokenizer, text):
    assert tokenizer.decode(tokenizer.encode(text)) == text


def test_the_space_mark_itself_decodes_to_a_space(tokenizer):
    """sentencepiece's one exception to exact round trips, stated in the module's docstring."""
    assert tokenizer.decode(tokenizer.encode("a\u2581b")) == "a b"


def test_encoding_never_produces_unk_or_control_ids(tokenizer):
    specials = {tokenizer.unk_id, tokenizer.eos_id, tokenizer.bos_id, tokenizer.pad_id}
    for text in [*SENTENCES, *UNSEEN, "<eos><bos><pad><unk>"]:
        assert specials.isdisjoint(tokenizer.encode(text))


def test_special_ids_follow_seqlab_vocabularies(tokenizer):
    assert tokenizer.pieces[:4] == ("<unk>", "<eos>", "<bos>", "<pad>")
    assert (tokenizer.unk_id, tokenizer.eos_id, tokenizer.bos_id, tokenizer.pad_id) == (0, 1, 2, 3)
    assert tokenizer.unk_id == CharVocab.unk_id == WordVocab.unk_id
    assert tokenizer.eos_id == WordVocab.eos_id


def test_bos_and_eos_surround_the_text_and_decode_to_nothing(tokenizer):
    plain = tokenizer.encode("Zwei Hunde.")
    assert tokenizer.encode("Zwei Hunde.", add_bos=True, add_eos=True) == [tokenizer.bos_id, *plain, tokenizer.eos_id]
    assert tokenizer.decode([tokenizer.bos_id, *plain, tokenizer.eos_id, tokenizer.pad_id, tokenizer.pad_id]) == (
        "Zwei Hunde."
    )
    assert tokenizer.decode([*plain, tokenizer.unk_id]) == "Zwei Hunde.<unk>"


def test_length_pieces_and_encode_pieces_agree(tokenizer):
    assert len(tokenizer) == VOCAB_SIZE == len(tokenizer.pieces) == len(set(tokenizer.pieces))
    for line in SENTENCES:
        assert [tokenizer.pieces[index] for index in tokenizer.encode(line)] == tokenizer.encode_pieces(line)
    assert tokenizer.encode_pieces("Ein Mann")[0].startswith("▁")  # a space begins a word's first piece


def test_batch_encoding_equals_one_at_a_time(tokenizer):
    texts = [*SENTENCES, *UNSEEN, ""]
    assert tokenizer.encode_batch(texts, add_eos=True, threads=2) == [tokenizer.encode(t, add_eos=True) for t in texts]


def test_decode_rejects_ids_out_of_range(tokenizer):
    with pytest.raises(SeqlabError, match=r"out of range .* 400 pieces: \[400, -1\]"):
        tokenizer.decode([5, 400, -1])


def test_save_and_load_give_an_equal_tokenizer(tokenizer, tmp_path):
    tokenizer.save(tmp_path / "subwords")
    loaded = SubwordTokenizer.load(tmp_path / "subwords")
    assert loaded == tokenizer and loaded.pieces == tokenizer.pieces
    assert all(loaded.encode(line) == tokenizer.encode(line) for line in SENTENCES)
    assert SubwordTokenizer.from_bytes(tokenizer.to_bytes()) == tokenizer
    assert (tmp_path / "subwords" / MODEL_FILE).read_bytes() == tokenizer.to_bytes()  # sentencepiece's own file
    assert sorted(path.name for path in (tmp_path / "subwords").iterdir()) == ["checksums.json", MODEL_FILE]


def test_saving_again_replaces_the_model(tmp_path):
    first, second = (SubwordTrainer(vocab_size=size).train(LINES) for size in (380, 400))
    first.save(tmp_path / "subwords")
    second.save(tmp_path / "subwords")
    assert SubwordTokenizer.load(tmp_path / "subwords") == second != first


@pytest.mark.parametrize("model_type", MODEL_TYPES)
def test_training_twice_gives_the_same_model(model_type):
    trainer = SubwordTrainer(vocab_size=VOCAB_SIZE, model_type=model_type)
    assert trainer.train(LINES).to_bytes() == trainer.train(LINES).to_bytes()


def test_bpe_pieces_do_not_depend_on_the_thread_count():
    one, two = (SubwordTrainer(vocab_size=VOCAB_SIZE, model_type="bpe", threads=n).train(LINES) for n in (1, 2))
    assert one.pieces == two.pieces


def test_the_model_types_differ():
    bpe, unigram = (SubwordTrainer(vocab_size=VOCAB_SIZE, model_type=kind).train(LINES) for kind in MODEL_TYPES)
    assert bpe.pieces != unigram.pieces


def test_bpe_first_merges_are_the_most_frequent_pairs():
    """Sennrich et al. 2016, Algorithm 1: count adjacent symbol pairs within words, merge the most frequent."""
    counts = {"hugs": 3, "pun": 2, "newer": 1, "pug": 5, "lowest": 3}
    lines = [" ".join(word for word, count in counts.items() for _ in range(count))] * 2
    words = Counter(word for line in lines for word in line.split())
    vocab = {("▁", *word): count for word, count in words.items()}  # sentencepiece marks a word's start with ▁
    expected = []
    for _ in range(3):
        pairs = Counter()
        for symbols, count in vocab.items():
            for pair in itertools.pairwise(symbols):
                pairs[pair] += count
        (best, best_count), (_, runner_up) = pairs.most_common(2)
        assert best_count > runner_up  # no tie, so the order of merges is the algorithm's alone
        expected.append("".join(best))
        vocab = {_merge(symbols, best): count for symbols, count in vocab.items()}
    tokenizer = SubwordTrainer(vocab_size=278, model_type="bpe").train(lines)
    learnt = [piece for piece in tokenizer.pieces[4:] if not piece.startswith("<0x")]
    assert learnt[:3] == expected


def _merge(symbols: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    merged, index = [], 0
    while index < len(symbols):
        if symbols[index : index + 2] == pair:
            merged.append(pair[0] + pair[1])
            index += 2
        else:
            merged.append(symbols[index])
            index += 1
    return tuple(merged)


def test_unigram_segmentation_is_the_most_probable_one():
    """Kudo 2018, section 3.1: x* = argmax over segmentations x of sum_i log p(x_i), by brute force."""
    import sentencepiece

    tokenizer = SubwordTrainer(vocab_size=VOCAB_SIZE, model_type="unigram").train(LINES)
    processor = sentencepiece.SentencePieceProcessor(model_proto=tokenizer.to_bytes())
    ordinary = [
        i
        for i in range(len(tokenizer))
        if processor.is_control(i) + processor.is_unknown(i) + processor.is_byte(i) == 0
    ]
    log_p = {processor.id_to_piece(i): processor.get_score(i) for i in ordinary}  # the model's log p(x_i)
    for word in ["▁Fahrrad", "▁schauen", "▁children", "▁Kaffee.", "▁Straßen;"]:
        scored = sorted((sum(log_p[p] for p in pieces), pieces) for pieces in _segmentations(word, log_p))
        assert scored[-1][0] > scored[-2][0] + 1e-6  # a unique best segmentation
        assert tokenizer.encode_pieces(word.removeprefix("▁")) == scored[-1][1]


def _segmentations(word: str, known: dict[str, float]) -> list[list[str]]:
    """Every way of cutting ``word`` into pieces of ``known``."""
    results = []
    for cuts in itertools.product([False, True], repeat=len(word) - 1):
        bounds = [0, *(i + 1 for i, cut in enumerate(cuts) if cut), len(word)]
        pieces = [word[a:b] for a, b in itertools.pairwise(bounds)]
        if all(piece in known for piece in pieces):
            results.append(pieces)
    return results


def test_train_files_learns_a_joint_model_and_reads_crlf(tmp_path):
    german, english = tmp_path / "train.de", tmp_path / "train.en"
    german.write_bytes("\r\n".join(SENTENCES[:4] * 4).encode() + b"\r\n")
    english.write_text("\n".join(SENTENCES[4:] * 4) + "\n", encoding="utf-8")
    trainer = SubwordTrainer(vocab_size=350)
    tokenizer = trainer.train_files([german, english])
    assert tokenizer == trainer.train(SENTENCES[:4] * 4 + SENTENCES[4:] * 4)
    assert "\r" not in "".join(tokenizer.pieces)
    assert trainer.train_files(english) == trainer.train(SENTENCES[4:] * 4)  # one path, not a list


def test_train_files_names_a_missing_file(tmp_path):
    with pytest.raises(SeqlabError, match="missing.de: no such file"):
        SubwordTrainer(vocab_size=VOCAB_SIZE).train_files([tmp_path / "missing.de"])


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"model_type": "wordpiece"}, r"model_type must be one of \['bpe', 'unigram'\], got 'wordpiece'"),
        ({"vocab_size": 260}, "vocab_size must be at least 261"),
        ({"threads": 0}, "threads must be at least 1"),
        ({"max_sentences": 100}, r"max_sentences must be 0 \(every sentence\) or more than 100, got 100"),
    ],
)
def test_trainer_rejects_bad_settings(settings, message):
    with pytest.raises(SeqlabError, match=message):
        SubwordTrainer(**settings)


def test_training_errors_are_one_line_seqlab_errors():
    with pytest.raises(SeqlabError, match="every line is empty"):
        SubwordTrainer(vocab_size=VOCAB_SIZE).train(["", "   ", ""])
    with pytest.raises(SeqlabError, match=r"Vocabulary size too high \(5000\)\. Please set it to a value <= \d+"):
        SubwordTrainer(vocab_size=5000).train(LINES)


def test_load_reports_a_missing_directory_or_file(tmp_path):
    with pytest.raises(SeqlabError, match="no such subword model directory"):
        SubwordTokenizer.load(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(SeqlabError, match="subwords.model: subword model file not found"):
        SubwordTokenizer.load(tmp_path / "empty")


def test_load_reports_a_corrupt_file(tmp_path):
    SubwordTrainer(vocab_size=VOCAB_SIZE).train(LINES).save(tmp_path / "subwords")
    path = tmp_path / "subwords" / MODEL_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptFileError, match=MODEL_FILE):
        SubwordTokenizer.load(tmp_path / "subwords")


@pytest.mark.parametrize("data", [b"", b"not a protobuf at all", b"\x80\x04\x95\x00"])
def test_bytes_that_are_not_a_model_are_refused(data):
    with pytest.raises(SeqlabError, match="source.model: .*not a sentencepiece model"):
        SubwordTokenizer.from_bytes(data, source="source.model")


def test_a_sentencepiece_model_without_seqlab_ids_is_refused():
    import io

    import sentencepiece

    model = io.BytesIO()  # sentencepiece's own defaults: <unk> 0, <s> 1, </s> 2, no byte fallback
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(LINES), model_writer=model, vocab_size=120, minloglevel=2
    )
    with pytest.raises(SeqlabError, match="not a seqlab subword model: special pieces"):
        SubwordTokenizer.from_bytes(model.getvalue())


def test_sentencepiece_is_imported_only_inside_functions():
    """Importing seqlab.data must not load sentencepiece: no import of it at the module's top level."""
    tree = ast.parse(Path(seqlab.data.subwords.__file__).read_text(encoding="utf-8"))
    top_level = [alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names]
    top_level += [node.module for node in tree.body if isinstance(node, ast.ImportFrom)]
    assert top_level and not any(name.split(".")[0] == "sentencepiece" for name in top_level)
    inside = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    assert "sentencepiece" in inside


def test_docstring_examples():
    assert doctest.testmod(seqlab.data.subwords, raise_on_error=False).failed == 0


def test_a_sample_of_sentences_is_the_same_on_every_run():
    lines = [f"{sentence} {number}" for number in range(30) for sentence in SENTENCES]  # 330 lines
    sampled = SubwordTrainer(vocab_size=VOCAB_SIZE, max_sentences=101)
    assert sampled.train(lines) == sampled.train(lines)
    assert sampled.train(lines).pieces != SubwordTrainer(vocab_size=VOCAB_SIZE).train(lines).pieces
