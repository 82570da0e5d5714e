"""The errors s2s raises: each names the file, line and construct, shows the line, and says what
to write instead."""

from __future__ import annotations


class S2SError(Exception):
    """Base class of every error s2s raises on bad input."""

    def __init__(
        self,
        message: str,
        *,
        filename: str | None = None,
        lineno: int | None = None,
        col: int | None = None,
        source_line: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.filename = filename
        self.lineno = lineno
        self.col = col
        self.source_line = source_line
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        parts = []
        if self.filename is not None:
            where = f"{self.filename}:{self.lineno if self.lineno is not None else '?'}"
            if self.col is not None:
                where += f":{self.col + 1}"
            parts.append(f"{where}: {self.message}")
        else:
            parts.append(self.message)
        if self.source_line:
            parts.append("    " + self.source_line.strip())
            if self.col is not None:
                indent = len(self.source_line) - len(self.source_line.lstrip())
                parts.append("    " + " " * max(self.col - indent, 0) + "^")
        if self.hint:
            parts.append("hint: " + self.hint)
        return "\n".join(parts)

    def __str__(self) -> str:
        return self._render()


class SourceUnavailableError(S2SError):
    """The function's source code cannot be read (builtins, C extensions, REPL input)."""


class UnsupportedSyntaxError(S2SError):
    """A Python construct that s2s does not differentiate."""


class NoRuleError(S2SError):
    """A call to a function with no derivative rule and no readable source."""


class WrtError(S2SError):
    """`wrt` names no parameter of the function."""


class NonScalarOutputError(S2SError):
    """`grad` of a function whose output is not a scalar."""


class NameResolutionError(S2SError):
    """A name in the function cannot be resolved."""


class ArgumentError(S2SError):
    """The arguments given to a generated gradient do not fit what s2s supports."""


class ComplexValueError(S2SError):
    """A complex value reached the gradient of a real argument (the rules assume real values)."""
