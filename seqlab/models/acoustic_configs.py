"""The saved shape of a CTC acoustic model: the ``model`` section of a speech run's ``config.json``.

Torch-free, so that the command line can list every setting as a flag without importing torch.
The model is :class:`seqlab.models.acoustic_model.AcousticModel`.
"""

from __future__ import annotations

from dataclasses import dataclass

from seqlab.errors import SeqlabError

CELLS = ("gru", "lstm")


@dataclass
class AcousticConfig:
    """A convolutional front end (optional) and a stack of recurrent layers, read out by CTC."""

    input_size: int = 40  # features per frame (mel bands or MFCCs)
    num_symbols: int = 11  # output symbols, the blank included (blank + the ten digits)
    blank: int = 0  # the CTC blank's id
    conv_channels: int = 128  # channels of the 1-D convolutions over time (0: no front end)
    conv_layers: int = 2  # convolutions in the front end, each kernel conv_kernel, ReLU after each
    conv_kernel: int = 5  # frames each convolution sees (odd: centred on its frame)
    subsample: int = 2  # the front end's total stride in time (1, 2 or 4); the first convolutions stride by 2
    cell: str = "gru"  # the recurrent cell, "gru" or "lstm"
    hidden_size: int = 192  # units per direction
    num_layers: int = 3  # stacked recurrent layers
    bidirectional: bool = True  # read each utterance both ways (recognition of a whole recording)
    dropout: float = 0.2  # between layers and before the output layer

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise SeqlabError(f"cell must be one of {list(CELLS)}, got {self.cell!r}")
        if self.subsample not in (1, 2, 4):
            raise SeqlabError(f"subsample must be 1, 2 or 4, got {self.subsample}")
        if self.subsample > 1 and self.conv_channels == 0:
            raise SeqlabError("subsampling needs the convolutional front end (conv_channels > 0)")
        if self.subsample == 4 and self.conv_layers < 2:
            raise SeqlabError("subsample 4 needs at least 2 convolutions (each strides by 2 at most)")
        if not 0 <= self.blank < self.num_symbols:
            raise SeqlabError(f"blank {self.blank} is not one of the {self.num_symbols} symbols")
        for name in ("input_size", "hidden_size", "num_layers", "conv_kernel"):
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.conv_kernel % 2 == 0:  # padded by k // 2 on each side, only an odd kernel gives ceil(T / stride)
            raise SeqlabError(f"conv_kernel must be odd, got {self.conv_kernel}")
        if not 0 <= self.dropout < 1:
            raise SeqlabError(f"dropout must be in [0, 1), got {self.dropout}")
