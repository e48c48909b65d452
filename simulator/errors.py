"""Exceptions raised by linkaudit; each also derives from the matching built-in."""


class LinkauditError(Exception):
    """Base class of every error linkaudit raises on purpose."""


class ScenarioError(LinkauditError, ValueError):
    """A scenario file (or a --set override) is not valid.

    ``problems`` holds one line per problem, each ``FILE: path.to.field: message``.
    """

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))

    def __reduce__(self) -> tuple:
        """Pickled with its problems, so a worker's error comes back whole."""
        return (type(self), (self.problems,))


class OutputError(LinkauditError, OSError):
    """An output directory cannot be written as asked."""


class ResourceError(LinkauditError, MemoryError):
    """A run would not fit in the memory it may use (``--memory-limit``)."""


class InputDataError(LinkauditError, ValueError):
    """A data file handed to linkaudit does not have the expected shape."""


class NotFittedError(LinkauditError, ValueError, AttributeError):
    """A model that learns was asked to score before it was fitted."""


class ModelError(LinkauditError, ValueError):
    """A model cannot be built as configured (an import path, a class, parameters)."""


class ModelContractError(LinkauditError, AssertionError):
    """A model breaks the plug-in protocol; ``problems`` lists every broken rule."""

    def __init__(self, name: str, problems: list[str]):
        self.name = name
        self.problems = list(problems)
        super().__init__(
            f"{name} breaks the model protocol:\n  " + "\n  ".join(self.problems)
        )

    def __reduce__(self) -> tuple:
        """Pickled with its name and problems, so a worker's error comes back whole."""
        return (type(self), (self.name, self.problems))


class ScenarioWarning(UserWarning):
    """A scenario was read with a change it did not state, e.g. another kind's fields.

    The command line prints it as one ``linkaudit: warning:`` line.
    """
