"""The one error the jury's services raise: a refusal with a message in the user's language."""

from __future__ import annotations


class JuryRefused(ValueError):
    """An action the rules do not allow; ``message`` is a lazy translated string for the user."""

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message
