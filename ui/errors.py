"""The one way a page shows that a service call did not happen."""

from __future__ import annotations

from collections.abc import Callable
from typing import ParamSpec, TypeVar

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from common.errors import Refusal
from db.engine import database_error_message
from ui.text import plain

P = ParamSpec("P")
T = TypeVar("T")


def attempt(service: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
    """Call one service; a refusal or a database failure becomes one error line and None.

    Everything else is a fault: it propagates (session_scope has logged it once) and Streamlit
    shows its type only, as .streamlit/config.toml asks.
    """
    try:
        return service(*args, **kwargs)
    except Refusal as refusal:
        st.error(plain(refusal), icon=":material/block:")
    except SQLAlchemyError as error:
        st.error(plain(database_error_message(error)), icon=":material/database:")
    return None
