"""Decoding: the per-step choice (sampling.py) apart from the loop that applies it."""

from seqlab.decode.generate import generate
from seqlab.decode.sampling import SamplingConfig, filter_logits, sample_next

__all__ = ["SamplingConfig", "filter_logits", "generate", "sample_next"]
