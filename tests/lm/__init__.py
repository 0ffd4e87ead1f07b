"""Tests of the character-level language model: data, model, training, decoding, CLI."""
