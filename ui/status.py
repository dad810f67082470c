"""The system status panel: database backend, health, pool figures, migration revision, Redis, job runners."""

from __future__ import annotations

import streamlit as st

from core.redis_client import RedisState
from core.status import SystemStatus
from ui.text import plain


def render_status_panel(status: SystemStatus) -> None:
    db, rd = status.database, status.redis
    with st.container(border=True):
        st.subheader("System status")
        if status.ok:
            st.success("All systems go", icon=":material/check_circle:")
        left, middle, right = st.columns(3)
        with left:
            st.markdown(f"**Database** · {db.backend}")
            st.caption(db.url)
            if db.health.ok:
                st.markdown(f":green-badge[healthy] {db.health.latency_ms:.1f} ms")
            else:
                st.markdown(":red-badge[unreachable]")
        with middle:
            st.markdown("**Schema**")
            badge = ":green-badge[up to date]" if db.migrated else ":orange-badge[migration needed]"
            st.markdown(f"revision `{db.revision or 'none'}` of `{db.head}` {badge}")
            pool = db.pool
            if pool.size is not None:
                st.caption(f"pool: size {pool.size} · checked out {pool.checked_out} · overflow {pool.overflow}")
        with right:
            st.markdown("**Redis**")
            if rd.state == RedisState.OK:
                st.markdown(f":green-badge[ok] {rd.latency_ms:.1f} ms")
            elif rd.state == RedisState.NOT_CONFIGURED:
                st.markdown(":gray-badge[not configured]")
                st.caption("throttling runs in this process")
            else:
                st.markdown(":red-badge[unreachable]")
        st.caption(f"Training jobs: {status.runner.summary()}")
        if db.problem:
            st.error(db.problem, icon=":material/database:")
        if rd.state == RedisState.UNREACHABLE:
            st.warning(f"REDIS_URL is set but Redis does not answer: {plain(rd.detail)}", icon=":material/warning:")
        if status.runner_problem:
            show_runner_problem(status.runner_problem)


def show_runner_problem(problem: str) -> None:
    """Why queued jobs do not start: core/jobs writes it, from settings, with commands as code spans."""
    st.warning(problem, icon=":material/engineering:")
