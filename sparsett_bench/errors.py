"""The project's own exceptions: everything a user can cause, reported without a traceback.

The CLI catches `SparsettError`, prints its message and exits with status 2; library callers
catch it to tell bad input from bugs.
"""

from __future__ import annotations

from pathlib import Path


class SparsettError(Exception):
    """Base class of every error a user can cause (bad path, malformed file, bad option)."""


class InputFileError(SparsettError):
    """A file is missing or malformed; the message names the file and, when known, the line."""

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class ResultsMismatchError(SparsettError):
    """Results do not cover the benchmark as the protocol requires (missing sequences/frames)."""
