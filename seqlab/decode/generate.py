"""The decoding loop for a language model: read a prompt, then sample one token at a time."""

from __future__ import annotations

import torch
from torch import nn

from seqlab.data.vocab import Vocab
from seqlab.decode.sampling import SamplingConfig, sample_next
from seqlab.errors import SeqlabError

# With no prompt, generation starts as if after a line break: the start of a line is a
# natural place for text (or code) to begin.
DEFAULT_CONTEXT = "\n"


@torch.no_grad()
def generate(
    model: nn.Module,
    vocab: Vocab,
    *,
    prompt: str = "",
    length: int = 500,
    sampling: SamplingConfig | None = None,
    seed: int | None = None,
) -> str:
    """Continue ``prompt`` with ``length`` sampled tokens (characters or words); never emits ``<unk>``.

    The model reads the whole prompt once, then is fed each chosen token with the
    state it returned. The choice at each step is :func:`~seqlab.decode.sample_next`.
    The model is put in eval mode (no dropout).

    Args:
        model: called as ``model(tokens, state)``, returning a
            :class:`~seqlab.models.LanguageModelOutput`, with time-first tokens ``(T, B)``
            and logits ``(T, B, V)``.
        vocab: the model's vocabulary; tokens of the prompt outside it are read as
            ``<unk>``.
        prompt: the text to continue; empty starts from a line break.
        length: how many tokens to generate.
        sampling: temperature, top-k and top-p; the defaults of :class:`SamplingConfig`.
        seed: seeds a private generator (the global RNG is untouched); None draws a seed.

    Returns:
        The generated text, without the prompt.

    Example:
        >>> from seqlab.data import CharVocab
        >>> from seqlab.models import RNNLanguageModel, RNNLMConfig
        >>> vocab = CharVocab.from_text("abc")
        >>> model = RNNLanguageModel(RNNLMConfig(vocab_size=len(vocab), hidden_size=8))
        >>> len(generate(model, vocab, prompt="ab", length=5, seed=0))
        5
    """
    if length < 0:
        raise SeqlabError(f"length must not be negative, got {length}")
    if len(vocab) < 2:
        raise SeqlabError("the vocabulary has nothing but <unk> to generate")
    sampling = sampling if sampling is not None else SamplingConfig()
    device = next(model.parameters()).device
    generator = torch.Generator(device=device)
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    model.eval()
    context = torch.tensor(vocab.encode_prompt(prompt or DEFAULT_CONTEXT), device=device)  # (P,)
    logits, state = model(context.unsqueeze(1))[:2]  # (P, 1, V)
    chosen: list[int] = []
    while len(chosen) < length:
        next_id = sample_next(  # (1,)
            logits[-1], sampling, banned_ids=(vocab.unk_id,), generator=generator
        )
        chosen.append(int(next_id))
        if len(chosen) < length:
            logits, state = model(next_id.view(1, 1), state)[:2]  # (1, 1, V)
    return vocab.decode(chosen)
