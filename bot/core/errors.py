"""Domain errors: raised by handlers, turned into Dutch replies by the dispatcher.

Raising rolls back the input's transaction, so nothing is half-saved.
"""

from __future__ import annotations


class UserError(Exception):
    """Bad input or a refused request; `message` is already in the user's language."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class FormErrors(Exception):
    """One Dutch message per field that is wrong."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors
