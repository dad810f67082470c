"""Choices that live in the page's URL (ticker, range, panes), so a refresh or a bookmark reopens the same view.

A choice is read from the URL first, then from what the user prefers, then from the first option;
whatever the widget ends up showing is written back to the URL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from core.data.table import shorten
from core.data.tickers import TickerError, normalise_ticker

LIST_SEPARATOR = ","
SHOWN_URL_VALUES = 5
SHOWN_URL_CHARS = 40


def _from_url(param: str) -> str | None:
    value = st.query_params.get(param)
    return value or None


def keep_in_url(param: str, value: str | Sequence[str] | None) -> None:
    """Write a choice to the URL; an empty choice removes the parameter."""
    text = value if isinstance(value, str) or value is None else LIST_SEPARATOR.join(value)
    if not text:
        if param in st.query_params:
            del st.query_params[param]
    elif st.query_params.get(param) != text:
        st.query_params[param] = text


def preselect(param: str, options: Sequence[str], preferred: Sequence[str] = ()) -> str | None:
    """The option to start with: the URL's, else the first preferred one on offer, else the first option."""
    wanted = _from_url(param)
    if wanted in options:
        return wanted
    return next((option for option in preferred if option in options), options[0] if options else None)


def not_on_offer(param: str, options: Sequence[str], *, many: bool = False) -> list[str]:
    """The URL's values for `param` that are not among the options (a ticker since deleted, a typo), read
    before the widgets, which put what they show instead into the URL."""
    text = _from_url(param)
    if text is None or (many and text == "none"):
        return []
    return [value for value in (text.split(LIST_SEPARATOR) if many else [text]) if value not in options]


def url_notice(missing: dict[str, list[str]], shown: dict[str, str]) -> str | None:
    """One sentence naming what the link asked for and was not found, and what is shown instead; None if all was.

    Plain words the caller shows as text: the URL is typed by whoever sends the link.
    """
    asked = {name: values for name, values in missing.items() if values}
    if not asked:
        return None

    def quoted(values: list[str]) -> str:
        # A link can carry kilobytes: a few short values say what went wrong as well as all of them.
        shown = ", ".join(shorten(value, SHOWN_URL_CHARS) for value in values[:SHOWN_URL_VALUES])
        return shown + (f" and {len(values) - SHOWN_URL_VALUES} more" if len(values) > SHOWN_URL_VALUES else "")

    not_found = "; ".join(f"{name} {quoted(values)}" for name, values in asked.items())
    instead = "; ".join(f"{name} {shown[name] or 'none'}" for name in asked)
    return f"Not found in the link: {not_found}. Shown instead: {instead}."


def _seed(key: str, value: Any, valid: Any) -> None:
    # A keyed widget takes its start value from the session state, once per visit to the page.
    if key not in st.session_state or not valid(st.session_state[key]):
        st.session_state[key] = value


def url_select(
    label: str,
    options: Sequence[str],
    *,
    param: str,
    preferred: Sequence[str] = (),
    container: Any = st,
    **widget: Any,
) -> str | None:
    """A selectbox whose choice is kept in the URL under `param`."""
    options = list(options)
    key = f"url_{param}"
    _seed(key, preselect(param, options, preferred), lambda value: value in options)
    chosen = container.selectbox(label, options, key=key, **widget)
    keep_in_url(param, chosen)
    return chosen


def users_default_tickers() -> list[str]:
    """The signed-in user's default tickers, for pages that have not loaded their preferences."""
    from core.services.accounts import read_preferences
    from ui.auth import require_login

    return read_preferences(require_login()).default_tickers


def preferred_tickers(tickers: Sequence[str], preferred: Sequence[str] | None = None) -> list[str]:
    """The user's default tickers that are on offer, or else the first ticker: a multiselect's start."""
    preferred = users_default_tickers() if preferred is None else preferred
    return [t for t in preferred if t in tickers] or list(tickers[:1])


def tidy_url_ticker(param: str = "ticker") -> None:
    """Write the URL's ticker as the app spells tickers: a link typed as ?ticker=msft means MSFT, as everywhere
    else, not a ticker not found. A value that is no ticker at all is left as sent, for the page's notice."""
    sent = _from_url(param)
    try:
        symbol = normalise_ticker(sent) if sent else None
    except TickerError:
        return
    if symbol and symbol != sent:
        st.query_params[param] = symbol


def ticker_not_on_offer(tickers: Sequence[str], param: str = "ticker") -> list[str]:
    """not_on_offer for a ticker picker, read after the URL's ticker is spelt as the picker's are."""
    tidy_url_ticker(param)
    return not_on_offer(param, tickers)


def ticker_picker(
    tickers: Sequence[str],
    preferred: Sequence[str] | None = None,
    *,
    label: str = "Ticker",
    param: str = "ticker",
    container: Any = st,
    **widget: Any,
) -> str | None:
    """The one ticker picker: the URL's ticker, else the user's first default ticker on offer.

    Without `preferred`, the signed-in user's default tickers are looked up.
    """
    preferred = users_default_tickers() if preferred is None else preferred
    tidy_url_ticker(param)
    return url_select(label, tickers, param=param, preferred=preferred, container=container, **widget)


def url_segment(
    label: str, options: Sequence[str], *, param: str, default: str, container: Any = st, **widget: Any
) -> str:
    """A segmented control with one choice, kept in the URL; never empty."""
    options = list(options)
    key = f"url_{param}"
    _seed(key, preselect(param, options, [default]), lambda value: value in options)
    chosen = container.segmented_control(label, options, key=key, **widget) or default
    keep_in_url(param, chosen)
    return chosen


def url_multiselect(
    label: str,
    options: Sequence[str],
    *,
    param: str,
    default: Sequence[str],
    container: Any = st,
    **widget: Any,
) -> list[str]:
    """A multiselect whose choices are kept in the URL as a comma-separated list ('none' for none)."""
    options = list(options)
    key = f"url_{param}"
    text = _from_url(param)
    if text is None:
        start = [option for option in default if option in options]
    elif text == "none":
        start = []
    else:
        start = [option for option in text.split(LIST_SEPARATOR) if option in options]
    _seed(key, start, lambda value: isinstance(value, list) and set(value) <= set(options))
    chosen = container.multiselect(label, options, key=key, **widget)
    keep_in_url(param, chosen or "none")
    return chosen
