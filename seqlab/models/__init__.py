"""Models built from seqlab.nn layers."""

from seqlab.models.char_lm import CharLM, CharLMConfig, CharLMOutput, load_char_lm

__all__ = ["CharLM", "CharLMConfig", "CharLMOutput", "load_char_lm"]
