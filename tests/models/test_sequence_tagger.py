"""The BiLSTM-CRF tagger (Lample et al. 2016) against its pieces written out with torch.nn, padding, constraints."""

from __future__ import annotations

import doctest

import pytest
import torch
import torch.nn.functional as F
from torch.func import functional_call

from seqlab.data.tag_schemes import check_tags, scheme_tags
from seqlab.errors import SeqlabError
from seqlab.models import word_features
from seqlab.models.sequence_tagger import SequenceTagger
from seqlab.models.tagger_configs import TaggerConfig
from seqlab.models.word_features import CharacterCNN, CharacterLSTM

TAGS = scheme_tags(["PER", "LOC"], "BIOES")  # 9 tags
ATOL = 1e-12


def make_tagger(**overrides) -> SequenceTagger:
    torch.manual_seed(0)
    fields = dict(vocab_size=20, tags=TAGS, char_vocab_size=12, embedding_size=6, hidden_size=5,
                  char_embedding_size=4, char_hidden_size=3, dropout=0.0, casing=True, casing_size=2)  # fmt: skip
    return SequenceTagger(TaggerConfig(**{**fields, **overrides})).double()


def random_batch(lengths: list[int], width: int = 4, seed: int = 1) -> dict[str, torch.Tensor]:
    """Words (ids 1..19), characters (1..11, each word 1..width of them), casing (1..7), tags; padding 0."""
    generator = torch.Generator().manual_seed(seed)
    batch, steps = len(lengths), max(lengths)
    real = torch.arange(steps).expand(batch, steps) < torch.tensor(lengths).unsqueeze(1)
    words = torch.randint(1, 20, (batch, steps), generator=generator) * real
    chars = torch.randint(1, 12, (batch, steps, width), generator=generator)
    word_lengths = torch.randint(1, width + 1, (batch, steps), generator=generator)
    chars = chars * (torch.arange(width) < word_lengths.unsqueeze(-1)) * real.unsqueeze(-1)
    casing = torch.randint(1, 8, (batch, steps), generator=generator) * real
    tags = torch.zeros(batch, steps, dtype=torch.long)  # all O: valid in every scheme
    return {"words": words, "lengths": torch.tensor(lengths), "chars": chars, "casing": casing, "tags": tags}


def rows(batch: dict[str, torch.Tensor], index: int) -> dict[str, torch.Tensor]:
    """Sentence ``index`` alone, its padding cut off."""
    length = int(batch["lengths"][index])
    return {name: (value[index : index + 1, :length] if name != "lengths" else value[index : index + 1])
            for name, value in batch.items()}  # fmt: skip


@pytest.mark.parametrize("characters", ["lstm", "cnn", "none"])
@pytest.mark.parametrize("output", ["crf", "softmax"])
def test_padding_changes_nothing(characters, output):
    tagger = make_tagger(character_features=characters, output=output).eval()
    batch = random_batch([5, 2, 3])
    inputs = {name: batch[name] for name in ("chars", "casing")}
    emissions = tagger.features(batch["words"], batch["lengths"], **inputs)
    for index, length in enumerate([5, 2, 3]):
        alone = rows(batch, index)
        single = tagger.features(alone["words"], alone["lengths"], alone["chars"], alone["casing"])
        torch.testing.assert_close(emissions[index, :length], single[0], rtol=0, atol=ATOL)


def test_the_emissions_are_lamples_network_written_out_with_torch_nn():
    """[word embedding; char BiLSTM final states; casing embedding] -> BiLSTM -> linear (Lample et al. §2-§4)."""
    tagger = make_tagger().eval()
    sentence = rows(random_batch([4]), 0)
    reference_lstm = torch.nn.LSTM(6 + 6 + 2, 5, bidirectional=True, batch_first=True).double()
    reference_lstm.load_state_dict(tagger.rnn.state_dict())
    char_lstm = torch.nn.LSTM(4, 3, bidirectional=True, batch_first=True).double()
    char_lstm.load_state_dict(tagger.characters.rnn.state_dict())
    words = []
    for position in range(4):
        characters = sentence["chars"][0, position]
        characters = characters[characters != 0]
        _, (final, _) = char_lstm(tagger.characters.embedding.weight[characters].unsqueeze(0))
        words.append(torch.cat([tagger.embedding.weight[sentence["words"][0, position]], final[0, 0], final[1, 0],
                                tagger.casing.weight[sentence["casing"][0, position]]]))  # fmt: skip
    states, _ = reference_lstm(torch.stack(words).unsqueeze(0))
    expected = states[0] @ tagger.emission.weight.T + tagger.emission.bias
    got = tagger.features(sentence["words"], sentence["lengths"], sentence["chars"], sentence["casing"])
    torch.testing.assert_close(got[0], expected, rtol=0, atol=ATOL)


def test_the_character_cnn_is_ma_and_hovys_max_over_a_convolution():
    torch.manual_seed(0)
    cnn = CharacterCNN(12, 4, 7, 3, padding_id=0).double()
    chars = torch.tensor([[[3, 5, 2, 0, 0], [9, 0, 0, 0, 0]]])
    out = cnn(chars)
    for position, length in enumerate([3, 1]):
        embedded = cnn.embedding.weight[chars[0, position, :length]]  # (C, E)
        padded = torch.cat([torch.zeros(1, 4, dtype=embedded.dtype), embedded, torch.zeros(1, 4, dtype=embedded.dtype)])
        windows = torch.stack([padded[i : i + 3].flatten() for i in range(length)])  # (C, 3E), [c-1, c, c+1]
        weight = cnn.convolution.weight.permute(0, 2, 1).flatten(1)  # (F, 3E) in the same order
        expected = (windows @ weight.T + cnn.convolution.bias).max(0).values
        torch.testing.assert_close(out[0, position], expected, rtol=0, atol=ATOL)


def test_a_padded_word_gets_zero_character_features():
    chars = torch.tensor([[[3, 5], [0, 0]]])
    torch.manual_seed(0)
    for module in (CharacterLSTM(12, 4, 3, padding_id=0), CharacterCNN(12, 4, 3, 3, padding_id=0)):
        assert module(chars)[0, 1].abs().max() == 0


def test_the_crf_loss_is_the_nll_of_the_sentences_per_word_and_softmax_the_cross_entropy():
    batch = random_batch([5, 2, 3])
    for output in ("crf", "softmax"):
        tagger = make_tagger(output=output).eval()
        out = tagger(batch["words"], batch["lengths"], chars=batch["chars"], casing=batch["casing"], tags=batch["tags"])
        mask = out.mask
        if output == "crf":
            expected = tagger.crf(out.emissions, batch["tags"], mask, reduction="sum") / 10
        else:
            expected = F.cross_entropy(out.emissions[mask], batch["tags"][mask])
        torch.testing.assert_close(out.loss, expected, rtol=0, atol=ATOL)
        assert out.words == 10
        out.loss.backward()
        assert all(parameter.grad is not None for parameter in tagger.parameters())


@pytest.mark.parametrize("scheme", ["BIO", "BIOES", "IOB1"])
def test_the_crf_never_decodes_a_move_the_scheme_forbids(scheme):
    tags = scheme_tags(["PER", "LOC"], scheme)
    tagger = make_tagger(tags=tags, scheme=scheme).eval()
    with torch.no_grad():  # emissions that favour I- and E- tags, which a free decoder would put anywhere
        tagger.emission.bias.copy_(torch.tensor([3.0 if tag[0] in "IE" else 0.0 for tag in tags]))
    batch = random_batch([6, 1, 4, 3], seed=3)
    out = tagger(batch["words"], batch["lengths"], chars=batch["chars"], casing=batch["casing"])
    decoded = tagger.decode(out.emissions, out.mask)
    assert [len(path) for path in decoded] == [6, 1, 4, 3]
    for path in decoded:
        check_tags([tags[i] for i in path], scheme)  # raises on an invalid move


def test_softmax_decoding_is_each_words_best_tag():
    tagger = make_tagger(output="softmax").eval()
    batch = random_batch([3, 2])
    out = tagger(batch["words"], batch["lengths"], chars=batch["chars"], casing=batch["casing"])
    assert tagger.decode(out.emissions, out.mask) == [out.emissions[0, :3].argmax(-1).tolist(),
                                                      out.emissions[1, :2].argmax(-1).tolist()]  # fmt: skip


def test_gradcheck_through_every_part_of_the_tagger():
    tagger = make_tagger(embedding_size=3, hidden_size=2, char_embedding_size=2, char_hidden_size=2).eval()
    batch = random_batch([3, 2], width=2)
    tags = torch.tensor([[TAGS.index("B-PER"), TAGS.index("E-PER"), 0], [TAGS.index("S-LOC"), 0, 0]])
    names = ["embedding.weight", "characters.rnn.weight_ih_l0", "casing.weight", "rnn.weight_hh_l0_reverse",
             "emission.weight", "crf.transitions", "crf.start_transitions"]  # fmt: skip
    parameters = dict(tagger.named_parameters())
    values = tuple(parameters[name].detach().clone().requires_grad_() for name in names)

    def loss(*given):
        inputs = {"chars": batch["chars"], "casing": batch["casing"], "tags": tags}
        return functional_call(tagger, dict(zip(names, given)), (batch["words"], batch["lengths"]), inputs).loss

    assert torch.autograd.gradcheck(loss, values)


def dropout_input_and_output(tagger: SequenceTagger, batch: dict[str, torch.Tensor]):
    """What the tagger's dropout saw and gave at its first use: the word representation (B, T, W)."""
    seen = []
    handle = tagger.dropout.register_forward_hook(lambda module, inputs, output: seen.append((inputs[0], output)))
    tagger(batch["words"], batch["lengths"], chars=batch["chars"], casing=batch["casing"])
    handle.remove()
    return seen[0]


def test_locked_dropout_drops_a_unit_at_every_word_of_a_sentence_or_at_none():
    # Gal & Ghahramani 2016, §4: z_t = x_t * m with one m ~ Bernoulli(1 - p) / (1 - p) per sequence.
    torch.manual_seed(3)
    tagger = make_tagger(dropout=0.5, dropout_kind="locked").train()
    batch = random_batch([6, 4, 5])
    before, after = dropout_input_and_output(tagger, batch)
    for sentence, length in enumerate([6, 4, 5]):
        ratio = after[sentence, :length] / before[sentence, :length]  # (T, W); the inputs are never 0 here
        assert set(ratio.unique().tolist()) == {0.0, 2.0}
        assert (ratio == ratio[0]).all()
    standard = make_tagger(dropout=0.5).train()
    before, after = dropout_input_and_output(standard, batch)
    ratio = after[0, :6] / before[0, :6]
    assert not (ratio == ratio[0]).all()  # a fresh mask at every word


def test_word_dropout_zeroes_every_occurrence_of_a_dropped_word_and_scales_the_kept_ones():
    # Gal & Ghahramani 2016, §4.2: a word of the vocabulary is dropped from the whole batch, or kept / (1 - p).
    torch.manual_seed(4)
    tagger = make_tagger(word_dropout=0.5, character_features="none", casing=False).train()
    batch = random_batch([8, 8, 8])
    represented, _ = dropout_input_and_output(tagger, batch)  # dropout is 0: the embeddings alone
    weight = tagger.embedding.weight
    fates = {}
    for word, vector in zip(batch["words"].flatten().tolist(), represented.reshape(-1, weight.size(1))):
        kept = bool(vector.abs().sum() > 0)
        assert fates.setdefault(word, kept) == kept
        torch.testing.assert_close(vector, weight[word] * 2.0 if kept else torch.zeros_like(vector), rtol=0, atol=ATOL)
    assert {True, False} <= set(fates.values())


@pytest.mark.parametrize("kind", ["standard", "locked"])
def test_every_dropout_is_the_identity_in_evaluation(kind):
    batch = random_batch([5, 3])
    inputs = {"chars": batch["chars"], "casing": batch["casing"]}
    plain = make_tagger().eval().features(batch["words"], batch["lengths"], **inputs)
    dropped = make_tagger(dropout=0.5, dropout_kind=kind, word_dropout=0.3).eval()
    torch.testing.assert_close(dropped.features(batch["words"], batch["lengths"], **inputs), plain, rtol=0, atol=0)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"output": "mlp"}, "output must be one of"),
        ({"character_features": "bytes"}, "character_features must be one of"),
        ({"tags": ["O", "O"]}, "distinct tag"),
        ({"scheme": "IOB2"}, "scheme must be one of"),
        ({"character_features": "lstm", "char_vocab_size": 0}, "needs char_vocab_size"),
        ({"dropout": 1.0}, "dropout must be in"),
        ({"dropout_kind": "gaussian"}, "dropout_kind must be one of"),
        ({"word_dropout": 1.0}, "word_dropout must be in"),
    ],
)
def test_bad_configs_are_one_line_errors(fields, message):
    base = dict(vocab_size=10, tags=TAGS, char_vocab_size=5)
    with pytest.raises(SeqlabError, match=message):
        TaggerConfig(**{**base, **fields})


def test_the_word_features_examples_run():
    assert doctest.testmod(word_features).failed == 0
