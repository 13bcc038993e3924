"""Errors that subclass built-ins and say how to fix the input."""

from __future__ import annotations


class QuestionError(ValueError):
    """The question cannot be answered as given (empty, too long)."""


class CorpusError(ValueError):
    """The corpus directory is missing, empty, or holds no readable article."""


class IndexCorruptError(RuntimeError):
    """An index directory failed verification; the assistant rebuilds it."""


class IndexWriteError(RuntimeError):
    """The index folder cannot be written (read-only, disk full); the message says what to do."""


class SettingsError(ValueError):
    """A setting has a value outside its valid choices."""


class ReaderError(RuntimeError):
    """The reader model file is missing or fails its checksum; the message says how to re-export."""


class ScopeError(ValueError):
    """A question's article or date filter names no indexed article, or is not a date."""
