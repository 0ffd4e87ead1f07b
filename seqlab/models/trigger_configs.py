"""The saved shape of a trigger-word detector: the ``model`` section of a trigger run's ``config.json``.

Torch-free, so that the command line can list every setting as a flag without importing torch.
The model is :class:`seqlab.models.trigger_detector.TriggerDetector`.
"""

from __future__ import annotations

from dataclasses import dataclass

from seqlab.errors import SeqlabError


@dataclass
class TriggerConfig:
    """A causal strided convolution, unidirectional GRU layers and a sigmoid per output step (the material's model)."""

    input_size: int = 40  # features per frame (mel bands)
    conv_channels: int = 196  # filters of the convolution over time (the material's 196)
    conv_kernel: int = 15  # frames each output step's convolution sees (the material's 15)
    conv_stride: int = 4  # frames per output step (the material's 4)
    hidden_size: int = 128  # GRU units (the material's 128)
    num_layers: int = 2  # stacked GRU layers, each followed by dropout and batch normalisation (the material's 2)
    dropout: float = 0.2  # after the convolution, after each GRU and before the output layer

    def __post_init__(self) -> None:
        for name in ("input_size", "conv_channels", "conv_kernel", "conv_stride", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise SeqlabError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.conv_stride > self.conv_kernel:
            raise SeqlabError(f"conv_stride {self.conv_stride} must not exceed conv_kernel {self.conv_kernel}")
        if not 0 <= self.dropout < 1:
            raise SeqlabError(f"dropout must be in [0, 1), got {self.dropout}")
