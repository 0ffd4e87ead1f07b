"""A saved word2vec model: written whole with checksums, and damage reported as damage when it is loaded."""

import json
import os

import numpy as np
import pytest

import seqlab.atomic_directory as atomic_directory
from seqlab.checksums import MANIFEST_FILE, CorruptFileError, file_digest
from seqlab.embeddings.word2vec import Word2Vec, Word2VecConfig
from seqlab.errors import SeqlabError

MODEL_FILES = ["config.json", "vocabulary.json", "weights.safetensors"]


def small_model(seed: int = 1) -> Word2Vec:
    sentences = [["the", "cat", "sat", "on", "the", "mat"], ["a", "dog", "sat", "on", "a", "log"]] * 5
    config = Word2VecConfig(dim=8, window=2, min_count=1, epochs=1, threads=1, seed=seed)
    model = Word2Vec.from_sentences(sentences, config)
    model.train_sentences(sentences)
    return model


def assert_same_model(loaded: Word2Vec, saved: Word2Vec) -> None:
    assert loaded.config == saved.config and loaded.vocabulary.words == saved.vocabulary.words
    np.testing.assert_array_equal(loaded.input_vectors, saved.input_vectors)
    np.testing.assert_array_equal(loaded.output_vectors, saved.output_vectors)


def test_the_manifest_lists_every_file_with_its_size_and_sha256(tmp_path):
    model = small_model()
    model.save(tmp_path / "model")

    assert sorted(path.name for path in (tmp_path / "model").iterdir()) == sorted([*MODEL_FILES, MANIFEST_FILE])
    manifest = json.loads((tmp_path / "model" / MANIFEST_FILE).read_text())
    assert manifest["algorithm"] == "sha256"
    assert manifest["files"] == {name: file_digest(tmp_path / "model" / name) for name in MODEL_FILES}
    assert list(tmp_path.iterdir()) == [tmp_path / "model"]  # no staging directory left behind
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "model").stat().st_mode & 0o777 == 0o777 & ~umask  # not the staging directory's 0o700
    assert_same_model(Word2Vec.load(tmp_path / "model"), model)


@pytest.mark.parametrize("name", MODEL_FILES)
@pytest.mark.parametrize("where", [0.1, 0.5, 0.9])
def test_a_flipped_byte_is_reported_as_corruption_of_that_file(tmp_path, name, where):
    small_model().save(tmp_path / "model")
    path = tmp_path / "model" / name
    data = bytearray(path.read_bytes())
    data[int(where * len(data))] ^= 0x01  # the lowest bit: JSON often stays valid, a float stays a float
    path.write_bytes(bytes(data))

    with pytest.raises(CorruptFileError, match=f"{name}: corrupt: its SHA-256 differs"):
        Word2Vec.load(tmp_path / "model")


@pytest.mark.parametrize("name", MODEL_FILES)
def test_a_truncated_file_is_reported_as_truncated(tmp_path, name):
    small_model().save(tmp_path / "model")
    path = tmp_path / "model" / name
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[: size // 2])

    with pytest.raises(CorruptFileError, match=rf"{name}: corrupt \(truncated\): {size // 2:,} bytes where {size:,}"):
        Word2Vec.load(tmp_path / "model")


def test_a_model_saved_without_checksums_still_loads(tmp_path):
    model = small_model()
    model.save(tmp_path / "model")
    (tmp_path / "model" / MANIFEST_FILE).unlink()  # as saved before seqlab kept checksums

    assert_same_model(Word2Vec.load(tmp_path / "model"), model)


def test_saving_again_replaces_the_model_and_passes_other_files_on(tmp_path):
    small_model(seed=1).save(tmp_path / "model")
    (tmp_path / "model" / "notes.txt").write_text("mine")
    second = small_model(seed=2)

    second.save(tmp_path / "model")

    assert_same_model(Word2Vec.load(tmp_path / "model"), second)
    assert (tmp_path / "model" / "notes.txt").read_text() == "mine"
    assert "notes.txt" in json.loads((tmp_path / "model" / MANIFEST_FILE).read_text())["files"]
    assert list(tmp_path.iterdir()) == [tmp_path / "model"]


def test_a_failed_save_leaves_no_directory_behind(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("seqlab.embeddings.word2vec.save_file", fail)
    with pytest.raises(OSError, match="disk full"):
        small_model().save(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_a_save_killed_between_its_renames_leaves_the_new_model_to_load(tmp_path, monkeypatch):
    small_model(seed=1).save(tmp_path / "model")
    rename = os.rename
    renamed = []

    def die_after_one(source, target):
        if renamed:
            raise KeyboardInterrupt  # as if the process died here: the old model aside, the new one staged
        renamed.append(target)
        rename(source, target)

    monkeypatch.setattr(atomic_directory.os, "rename", die_after_one)
    monkeypatch.setattr(atomic_directory.shutil, "rmtree", lambda *args, **kwargs: None)  # a kill cleans nothing
    second = small_model(seed=2)
    with pytest.raises(KeyboardInterrupt):
        second.save(tmp_path / "model")
    monkeypatch.undo()

    assert not (tmp_path / "model").exists()  # only the old model aside and the new one staged are left
    assert_same_model(Word2Vec.load(tmp_path / "model"), second)  # the complete new one is put in place
    assert list(tmp_path.iterdir()) == [tmp_path / "model"]


def test_a_file_where_the_directory_should_be_is_refused(tmp_path):
    (tmp_path / "model").write_text("not a directory")
    with pytest.raises(SeqlabError, match="exists and is not a saved word2vec model"):
        small_model().save(tmp_path / "model")
    assert (tmp_path / "model").read_text() == "not a directory"


@pytest.mark.parametrize(
    "old, new",
    [('"config.json"', '"confiG.json"'), ('"files": {', '"files": {"extra.bin": {"bytes": 1, "sha256": ""}, ')],
)
def test_a_checksum_list_that_does_not_list_the_model_files_is_reported_as_corrupt(tmp_path, old, new):
    small_model().save(tmp_path / "model")
    manifest = tmp_path / "model" / MANIFEST_FILE
    manifest.write_text(manifest.read_text().replace(old, new, 1))

    with pytest.raises(CorruptFileError, match=f"{MANIFEST_FILE}: corrupt"):  # not loaded with a file unchecked
        Word2Vec.load(tmp_path / "model")


def test_a_checksum_list_that_is_not_json_is_reported_as_corrupt(tmp_path):
    small_model().save(tmp_path / "model")
    manifest = tmp_path / "model" / MANIFEST_FILE
    manifest.write_text(manifest.read_text().replace("{", "[", 1))

    with pytest.raises(CorruptFileError, match=f"{MANIFEST_FILE}: corrupt"):
        Word2Vec.load(tmp_path / "model")
