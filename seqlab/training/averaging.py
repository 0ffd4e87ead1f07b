"""Weight averaging for averaged SGD (Polyak & Juditsky 1992), as NT-ASGD uses it.

AWD-LSTM trains with plain SGD until the held-out loss stops improving, then keeps SGD
going but evaluates (and finally keeps) the average of the weights over every step since
that moment. :class:`ParameterAverage` is that running average, kept beside the optimiser
so any optimiser can be averaged; with SGD it equals ``torch.optim.ASGD`` with ``t0`` at
the switch and ``lambd=0``. The same average of the tail of any run (``TrainConfig.average_from``:
every step after a given epoch, with AdamW too, as stochastic weight averaging averages the end of
a run, Izmailov et al. 2018) smooths a held-out curve that swings from one epoch to the next.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import torch
from torch import nn


class ParameterAverage:
    """The running mean of a set of parameters over the steps since :meth:`update` was first called.

    Args:
        parameters: the parameters to average (tied ones once, as ``module.parameters()`` gives).

    Example:
        >>> weight = nn.Parameter(torch.tensor([1.0]))
        >>> average = ParameterAverage([weight])
        >>> for value in (1.0, 2.0, 6.0):
        ...     weight.data.fill_(value)
        ...     average.update()
        >>> average.averages[0]
        tensor([3.])
    """

    def __init__(self, parameters: Iterable[nn.Parameter]):
        self.parameters = list(parameters)
        self.averages = [parameter.detach().clone() for parameter in self.parameters]
        self.count = 0  # steps averaged; 0 until the first update

    @property
    def active(self) -> bool:
        """Whether averaging has started."""
        return self.count > 0

    @torch.no_grad()
    def update(self) -> None:
        """Add the parameters' current values to the mean (call after each optimiser step)."""
        self.count += 1
        for average, parameter in zip(self.averages, self.parameters, strict=True):
            average.add_(parameter - average, alpha=1.0 / self.count)  # the first update copies

    @contextmanager
    def applied(self) -> Iterator[None]:
        """Within the block the parameters hold the averages (when active), and after it their own values."""
        if not self.active:
            yield
            return
        own = [parameter.detach().clone() for parameter in self.parameters]
        self._copy_into_parameters(self.averages)
        try:
            yield
        finally:
            self._copy_into_parameters(own)

    @torch.no_grad()
    def _copy_into_parameters(self, values: list[torch.Tensor]) -> None:
        for parameter, value in zip(self.parameters, values, strict=True):
            parameter.copy_(value)

    @torch.no_grad()
    def load(self, averages: list[torch.Tensor], count: int) -> None:
        """Continue from averages and a count saved earlier (the tensors are copied)."""
        for average, saved in zip(self.averages, averages, strict=True):
            average.copy_(saved)
        self.count = count
