"""Errors caused by user input: the CLI reports them as one line, never a traceback."""


class SeqlabError(ValueError):
    """Bad input (a file, a value, a shape) described in words that name the problem.

    Subclasses ``ValueError`` so library users can catch it the usual way.
    """


class TrainingDiverged(SeqlabError):
    """The loss or the gradient became NaN or infinite; the step was not taken."""
