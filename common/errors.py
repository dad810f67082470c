"""The one error family: every refusal a user can get derives from Refusal."""

from __future__ import annotations


class Refusal(Exception):  # noqa: N818 - a refusal is expected, not an error of the app
    """A user's request refused on purpose (bad input, a taken name, a wrong password).

    Its message is for the user. It is not a fault of the app, so it is logged at INFO in one
    line, never with a traceback; anything else that escapes a transaction is logged at ERROR.
    """


class NotAllowed(Refusal):
    """The actor's role does not allow the action."""


class LimitReached(Refusal):
    """A quota or rate limit is used up for now; `retry_after_seconds` says when it frees up."""

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class NotFound(Refusal):
    """What the request names does not exist, or is not the actor's to see."""


class Conflict(Refusal):
    """The request collides with another still being handled; the same request a moment later succeeds."""


class BadInput(Refusal):
    """A value the user gave is not acceptable; the message names it."""
