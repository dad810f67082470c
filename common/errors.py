"""The one error family: every refusal a user can get derives from Refusal."""

from __future__ import annotations


class Refusal(Exception):  # noqa: N818 - a refusal is expected, not an error of the app
    """A user's request refused on purpose (bad input, a taken name, a wrong password).

    Its message is for the user. It is not a fault of the app, so it is logged at INFO in one
    line, never with a traceback; anything else that escapes a transaction is logged at ERROR.
    """
