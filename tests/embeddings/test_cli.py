"""``seqlab embed``: every sub-command on a small corpus the test writes itself."""

import json
from pathlib import Path

import numpy as np
import pytest

from seqlab.cli import embed
from seqlab.cli.main import main
from seqlab.embeddings.formats import load_vectors, save_vectors
from seqlab.embeddings.keyed_vectors import KeyedVectors


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    rng = np.random.default_rng(0)
    topics = [["king", "queen", "prince", "princess", "royal"], ["car", "truck", "bus", "road", "engine"]]
    glue = ["the", "a", "of", "and", "man", "woman"]
    lines = []
    for _ in range(400):
        topic = topics[rng.integers(2)]
        lines.append(" ".join(str(rng.choice(topic if rng.random() < 0.6 else glue)) for _ in range(10)))
    path = tmp_path_factory.mktemp("text") / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def vectors(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("vectors") / "vectors.bin"
    assert main(["embed", "train", str(corpus), "--out", str(out), "--dim", "12", "--epochs", "2",
                 "--threads", "1", "--quiet"]) == 0  # fmt: skip
    return out


@pytest.mark.parametrize(
    "flags",
    [
        ["--method", "cbow", "--loss", "hierarchical"],
        ["--method", "skipgram", "--loss", "softmax", "--window", "2"],
        ["--method", "glove", "--epochs", "3", "--window", "4"],
    ],
)
def test_train_writes_vectors_gensim_can_read(corpus, tmp_path, flags, capsys):
    from gensim.models import KeyedVectors as GensimVectors

    out = tmp_path / "v.txt"
    assert (
        main(["embed", "train", str(corpus), "--out", str(out), "--dim", "8", "--threads", "1", "--quiet", *flags]) == 0
    )
    theirs = GensimVectors.load_word2vec_format(str(out))
    assert theirs.vector_size == 8 and "king" in theirs.key_to_index
    assert "epoch" in capsys.readouterr().out


def test_training_continues_from_a_saved_model_with_new_words(corpus, tmp_path):
    model = tmp_path / "model"
    assert main(["embed", "train", str(corpus), "--out", str(tmp_path / "a.bin"), "--dim", "8", "--epochs", "1",
                 "--threads", "1", "--quiet", "--save-model", str(model)]) == 0  # fmt: skip
    more = tmp_path / "more.txt"
    more.write_text("king zebra queen zebra\n" * 20)
    assert main(["embed", "train", str(more), "--continue-from", str(model), "--out", str(tmp_path / "b.bin"),
                 "--epochs", "1", "--quiet"]) == 0  # fmt: skip
    before, after = load_vectors(tmp_path / "a.bin"), load_vectors(tmp_path / "b.bin")
    assert "zebra" not in before and "zebra" in after
    assert after.index_to_key[: len(before)] == before.index_to_key


@pytest.fixture(scope="module")
def saved_model(corpus, tmp_path_factory):
    """A skip-gram model of dim 8 saved with its defaults otherwise (learning rate 0.025, seed 1, ...)."""
    folder = tmp_path_factory.mktemp("saved")
    assert main(["embed", "train", str(corpus), "--out", str(folder / "a.bin"), "--dim", "8", "--epochs", "1",
                 "--threads", "1", "--quiet", "--save-model", str(folder / "model")]) == 0  # fmt: skip
    return folder / "model"


@pytest.mark.parametrize(
    "flags, named",
    [
        (["--dim", "16"], "--dim 16 (the model's: 8)"),
        (["--learning-rate", "0.1"], "--learning-rate 0.1 (the model's: 0.025)"),
        (["--dim", "16", "--window", "2", "--seed", "7"], "--dim 16 (the model's: 8), --window 2 (the model's: 5), "
         "--seed 7 (the model's: 1)"),
        (["--method", "cbow", "--loss", "hierarchical"], "--method cbow (the model's: skipgram), --loss hierarchical"),
        (["--negative", "2", "--min-count", "1", "--sample", "0"], "--negative 2 (the model's: 5), --min-count 1"),
        (["--max-vocab-size", "5", "--min-learning-rate", "0.001"], "--max-vocab-size 5 (the model's: none)"),
        (["--x-max", "10", "--weighting-exponent", "1", "--memory-mb", "10"],
         "--x-max (GloVe's), --weighting-exponent (GloVe's), --memory-mb (GloVe's)"),
    ],
)  # fmt: skip
def test_continuing_refuses_settings_the_saved_model_keeps(saved_model, corpus, tmp_path, capsys, flags, named):
    out = tmp_path / "b.bin"
    command = ["embed", "train", str(corpus), "--continue-from", str(saved_model), "--out", str(out), "--quiet"]

    assert main([*command, "--epochs", "1", *flags]) == 2

    error = capsys.readouterr().err
    assert error.startswith("seqlab: error: ") and error.count("\n") == 1  # one line
    assert named in error and "--epochs" not in error.split("only")[0]
    assert not out.exists()


def test_continuing_takes_the_saved_values_and_the_settings_that_may_change(saved_model, corpus, tmp_path):
    more = tmp_path / "more.txt"
    more.write_text("king zebra queen zebra\n" * 20)
    same = ["--dim", "8", "--learning-rate", "0.025", "--method", "skipgram", "--seed", "1", "--window", "5"]
    allowed = ["--epochs", "2", "--threads", "1", "--quiet", "--save-model", str(tmp_path / "model2")]
    assert main(["embed", "train", str(more), "--continue-from", str(saved_model), "--out", str(tmp_path / "b.bin"),
                 *same, *allowed]) == 0  # fmt: skip
    assert "zebra" in load_vectors(tmp_path / "b.bin")
    assert json.loads((tmp_path / "model2" / "config.json").read_text())["config"]["epochs"] == 2


def test_similar_and_analogy_print_ranked_words(vectors, capsys):
    assert main(["embed", "similar", str(vectors), "king", "--topn", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and "king" not in [line.split()[0] for line in lines]
    assert main(["embed", "analogy", str(vectors), "man", "king", "woman", "--method", "mul", "--topn", "2"]) == 0
    assert capsys.readouterr().out.startswith("man : king :: woman : ?")


def test_evaluate_prints_json_scores(vectors, tmp_path, capsys):
    analogies = tmp_path / "analogies.txt"
    analogies.write_text(": royal\nman king woman queen\nking queen prince princess\n")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("king\tqueen\t9\ncar\ttruck\t8\nking\tcar\t1\nroad\tqueen\t0.5\n")
    assert main(["embed", "evaluate", str(vectors), "--analogies", str(analogies), "--word-pairs", str(pairs),
                 "--json"]) == 0  # fmt: skip
    analogy_result, pair_result = json.loads(capsys.readouterr().out)
    assert analogy_result["sections"][0]["total"] == 2
    assert pair_result["pairs"] == 4


def test_evaluate_without_files_uses_the_standard_sets(vectors, capsys, monkeypatch):
    monkeypatch.delenv("SEQLAB_EMBEDDING_EVAL", raising=False)
    monkeypatch.delenv("SEQLAB_DATA", raising=False)  # so gensim's bundled copies are used
    assert main(["embed", "evaluate", str(vectors), "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [Path(result["path"]).name for result in results] == [
        "questions-words.txt",
        "wordsim353.tsv",
        "simlex999.txt",
    ]


def test_evaluate_with_no_sets_anywhere_says_what_to_give(vectors, capsys, monkeypatch):
    monkeypatch.setattr(embed, "default_evaluation_folder", lambda: None)
    assert main(["embed", "evaluate", str(vectors)]) == 2
    assert "--analogies" in capsys.readouterr().err


def test_convert_plot_and_debias(vectors, tmp_path, capsys):
    glove = tmp_path / "v.glove.txt"
    assert main(["embed", "convert", str(vectors), str(glove), "--format", "glove"]) == 0
    assert not glove.read_text().splitlines()[0].split()[0].isdigit()  # no header line
    assert load_vectors(glove, format="glove").index_to_key == load_vectors(vectors).index_to_key
    png = tmp_path / "words.png"
    assert main(["embed", "plot", str(vectors), "king", "queen", "car", "truck", "zebra", "--skip-missing",
                 "--out", str(png)]) == 0  # fmt: skip
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "zebra" in capsys.readouterr().out
    rng = np.random.default_rng(1)
    words = ["she", "he", "her", "his", "woman", "man", "girl", "boy", "nurse", "engineer", "table"]
    gendered = KeyedVectors(words, rng.standard_normal((len(words), 6)).astype(np.float32))
    save_vectors(gendered, tmp_path / "gendered.txt")
    out = tmp_path / "debiased.txt"
    assert main(["embed", "debias", str(tmp_path / "gendered.txt"), "--out", str(out), "--show", "nurse"]) == 0
    printed = capsys.readouterr().out
    assert "nurse" in printed and "-> +0.0000" in printed.replace("-> -0.0000", "-> +0.0000")


def test_bad_output_name_is_refused_before_training(corpus, tmp_path, capsys):
    assert main(["embed", "train", str(corpus), "--out", str(tmp_path / "vectors.model")]) == 2
    assert "name the output .bin" in capsys.readouterr().err


def test_an_unknown_word_is_named(vectors, capsys):
    assert main(["embed", "similar", str(vectors), "xylophone"]) == 2
    assert "xylophone" in capsys.readouterr().err
