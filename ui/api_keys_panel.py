"""API keys on the Account page: create one (its secret shown once), the keys with their status, revoke an
active one, and each key's requests by endpoint."""

import pandas as pd
import streamlit as st

from common.words import plural
from core.api_usage import KeyUsage
from core.auth import Actor
from core.auth.api_keys import KeyStatus, key_status
from core.services import accounts
from ui.errors import attempt
from ui.format import show_readable
from ui.notices import done_then_rerun
from ui.tables import show_table

EXPIRY_CHOICES = {"in 30 days": 30, "in 90 days": 90, "in 365 days": 365, "never": None}


def render_api_keys(actor: Actor) -> None:
    with st.form("new_api_key", clear_on_submit=True):
        name = st.text_input("Key name", max_chars=100, help="What the key is for, e.g. 'nightly fetch job'")
        expiry = st.selectbox("Expires", list(EXPIRY_CHOICES), index=1)
        submitted = st.form_submit_button("Create key")
    if submitted:
        created = attempt(accounts.create_api_key, actor, name=name, expires_in_days=EXPIRY_CHOICES[expiry])
        if created is not None:
            st.success("Copy the key now: it is shown only once.")
            st.code(created.secret, language=None)

    keys = attempt(accounts.list_api_keys, actor) or []
    if not keys:
        st.caption("No API keys yet.")
        return
    statuses = {key.id: key_status(key) for key in keys}
    rows = [
        {
            "Name": key.name,
            "Prefix": key.prefix + "…",
            "Created": key.created_at,
            "Last used": key.last_used,
            "Expires": key.expires_at,
            "Status": statuses[key.id].value,
        }
        for key in keys
    ]
    # readable(): local time to the minute, as every other table shows moments.
    show_readable(pd.DataFrame(rows, columns=list(rows[0])), keep={name: name for name in rows[0]})
    # An expired key already authenticates nothing: only active ones are worth revoking.
    active = {f"{key.name} ({key.prefix}…)": key.id for key in keys if statuses[key.id] is KeyStatus.ACTIVE}
    if active:
        chosen = st.selectbox("Revoke a key", list(active), index=None, placeholder="Choose a key")
        if st.button("Revoke", disabled=chosen is None) and attempt(
            accounts.revoke_api_key, actor, key_id=active[chosen]
        ):
            done_then_rerun(f"Revoked {chosen}: it no longer authenticates.")
    render_key_usage(actor)


def render_key_usage(actor: Actor) -> None:
    """Each key's requests by endpoint, and the last day it was used, revoked and expired keys included."""
    st.header("Requests per key")
    usage = attempt(accounts.usage_per_key, actor)
    if not usage:
        st.caption("No API requests yet.")
        return
    rows = pd.DataFrame(
        [
            {
                "Key": f"{row.key_name} ({row.key_prefix}…)" + status_suffix(row),
                "Endpoint": row.endpoint,
                "Requests": row.requests,
                "Last used": row.last_day,
            }
            for row in usage
        ]
    )
    for key, requests in rows.groupby("Key", sort=False):
        count = plural(int(requests["Requests"].sum()), "request")
        st.text(f"{key}: {count}, last on {requests['Last used'].max():%Y-%m-%d}")
        show_table(requests.drop(columns="Key"), hide_index=True)


def status_suffix(row: KeyUsage) -> str:
    """' · expired' or ' · revoked' after a key that no longer authenticates; nothing after an active one."""
    return "" if row.key_status is KeyStatus.ACTIVE else f" · {row.key_status.value}"
