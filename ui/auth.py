"""Login wiring: streamlit-authenticator's controllers and cookie, with users, sessions and lockout from our database.

The library's Authenticate holds a controller and a cookie controller; we hand it our own two, so that
every check goes through core.auth and every user lives in the `users` table, never in a YAML file.
The login, registration and password forms are drawn here and call those controllers as the library's
widgets do: its widgets set autocomplete="off" on every field, so password managers could not fill them.
Its logout and cookie component are used as they are.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import streamlit as st
import streamlit_authenticator as stauth
from sqlalchemy.exc import SQLAlchemyError
from streamlit_authenticator.utilities import LoginError, RegisterError, ResetError

from common.config import Settings, get_settings
from common.errors import Refusal
from core.audit import set_client_address
from core.auth import cookie_signing_key
from core.auth.client_address import client_address_from_forwarded_lines
from core.passwords import PASSWORD_RULES
from core.services import accounts
from db.engine import database_error_message
from db.models import User
from db.repositories.actor import Actor
from ui.text import plain

AUTH_STATE_KEY = "candlecast_auth"
AUTHENTICATOR_KEY = "_candlecast_authenticator"
# The keys streamlit-authenticator's widgets read.
_LIBRARY_KEYS = ("name", "username", "email", "roles", "authentication_status")


def client_ip() -> str | None:
    """The browser's address, through a trusted proxy if one is configured; None outside a request."""
    try:
        headers = st.context.headers
        peer = st.context.ip_address
    except Exception:  # noqa: BLE001 - no request context (bare mode)
        return None
    if not headers:
        return None  # no browser behind this run (AppTest)
    # Every line: `get` gives the first, which the client wrote when a proxy appends a line of its own.
    return client_address_from_forwarded_lines(
        peer if isinstance(peer, str) else None,
        headers.get_all("X-Forwarded-For"),
        get_settings().trusted_proxy_networks,
    )


def bind_client_address() -> None:
    """Once per run, before any page code: every audit row this run writes carries the address."""
    set_client_address(client_ip())


@contextlib.contextmanager
def database_or_stop() -> Iterator[None]:
    """A database that fails or does not answer shows one message and ends the run, never a traceback."""
    try:
        yield
    except SQLAlchemyError as error:
        st.error(plain(database_error_message(error)), icon=":material/cloud_off:")
        st.stop()


def _session_start_time(user: User) -> float:
    """Now, but always after the user's last revocation, so the new session is never born revoked."""
    now = time.time()
    if user.logged_out_at is not None:
        now = max(now, user.logged_out_at.timestamp() + 1e-3)
    return now


def start_session(user: User, *, set_cookie: bool = True) -> None:
    now = _session_start_time(user)
    st.session_state.pop("auth_notice", None)
    st.session_state[AUTH_STATE_KEY] = {
        "user_id": str(user.id),
        "issued_at": now,
        "last_seen": now,
        "cookie_pending": set_cookie,
        "cookie_issued_at": now,
    }
    st.session_state.update(
        {
            "name": user.full_name or user.username,
            "username": user.username,
            "email": user.email,
            "roles": [user.role],
            "authentication_status": True,
            "logout": False,
        }
    )


SESSION_ENDED = "Your session has ended. Please log in again."


def end_session(notice: str | None = None) -> None:
    # Whatever the pages kept for this user (a last forecast, say) goes with the session.
    for key in list(st.session_state.keys()):
        if key != AUTHENTICATOR_KEY:
            with contextlib.suppress(KeyError):
                del st.session_state[key]
    for key in _LIBRARY_KEYS:
        st.session_state[key] = None
    # Keeps the library's cookie check from logging this browser session straight back in.
    st.session_state["logout"] = True
    if notice:
        st.session_state["auth_notice"] = notice


class DatabaseAuthController:
    """The controller streamlit-authenticator's widgets call, backed by core.auth and the database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def login(
        self,
        username: str | None = None,
        password: str | None = None,
        max_concurrent_users: int | None = None,
        max_login_attempts: int | None = None,
        token: dict[str, Any] | None = None,
        single_session: bool = False,
        callback: Any = None,
        captcha: bool = False,
        entered_captcha: str | None = None,
    ) -> bool | None:
        if token:
            user = accounts.current_user(user_id=uuid.UUID(token["user_id"]), issued_at=token["issued_at"])
            if user is None:
                return None
            start_session(user, set_cookie=False)
            st.session_state[AUTH_STATE_KEY]["issued_at"] = token["issued_at"]
            st.session_state[AUTH_STATE_KEY]["cookie_issued_at"] = token["issued_at"]
            return True
        # A submitted form: its outcome replaces any earlier notice ("You are logged out.").
        st.session_state.pop("auth_notice", None)
        if not username or not password:
            raise LoginError("Enter your username and password.")
        try:
            outcome = accounts.log_in(username=username, password=password)
        except SQLAlchemyError as error:
            raise LoginError(database_error_message(error)) from None
        if not outcome.ok:
            st.session_state["authentication_status"] = False
            raise LoginError(outcome.message)
        start_session(outcome.user)
        return True

    def logout(self, callback: Any = None) -> None:
        actor = current_actor(self.settings)
        if actor is not None:
            accounts.log_out(actor)
        end_session("You are logged out.")

    def register_user(
        self,
        new_first_name: str,
        new_last_name: str,
        new_email: str,
        new_username: str,
        new_password: str,
        new_password_repeat: str,
        password_hint: str | None = None,
        pre_authorized: list[str] | None = None,
        domains: list[str] | None = None,
        roles: list[str] | None = None,
        callback: Any = None,
        captcha: bool = False,
        entered_captcha: str | None = None,
        *,
        invitation_code: str = "",
    ) -> tuple[str, str, str]:
        full_name = f"{new_first_name.strip()} {new_last_name.strip()}".strip()
        try:
            user = accounts.register(
                username=new_username,
                email=new_email,
                password=new_password,
                password_repeat=new_password_repeat,
                full_name=full_name or None,
                invitation_code=invitation_code,
            )
        except Refusal as error:
            raise RegisterError(str(error)) from None
        except SQLAlchemyError as error:
            raise RegisterError(database_error_message(error)) from None
        return user.email, user.username, user.full_name or user.username

    def reset_password(
        self, username: str, password: str, new_password: str, new_password_repeat: str, callback: Any = None
    ) -> bool:
        actor = current_actor(self.settings)
        if actor is None:
            raise ResetError("Your session has ended: log in again")
        try:
            user = accounts.change_password(actor, current=password, new=new_password, new_repeat=new_password_repeat)
        except Refusal as error:
            raise ResetError(str(error)) from None
        except SQLAlchemyError as error:
            raise ResetError(database_error_message(error)) from None
        # The change revoked every session; this one continues with a fresh cookie.
        start_session(user)
        return True


class SessionCookieController:
    """Reads, sets and deletes the signed session cookie for the library's widgets."""

    def __init__(self, settings: Settings, cookie_manager: Any) -> None:
        self.settings = settings
        self.cookie_manager = cookie_manager
        self.name = settings.cookie_name

    @property
    def lifetime_seconds(self) -> float:
        return session_lifetime_seconds(self.settings)

    def get_cookie(self) -> dict[str, Any] | None:
        return session_cookie_token(self.settings)

    def set_cookie(self) -> None:
        """Called by the login widget on success: the cookie is written on the next run.

        The login page reruns at once to show the app, which would drop a cookie component
        rendered now before the browser runs it; Home writes it in the following run instead.
        """
        state = st.session_state.get(AUTH_STATE_KEY)
        if state:
            state["cookie_pending"] = True

    def write_cookie(self, widget_key: str = "set") -> None:
        """Sign a fresh token for the logged-in user and hand it to the browser.

        The cookie stays pending until the component answers that the browser set it: a run that
        replaces this one before the browser mounts the component drops it unrun, and the next
        page load would find no cookie and show the login page. Until then every run writes again.
        """
        state = st.session_state.get(AUTH_STATE_KEY)
        if not state:
            return
        now = max(time.time(), state["issued_at"])
        token = accounts.session_cookie(
            user_id=uuid.UUID(state["user_id"]), lifetime_seconds=self.lifetime_seconds, now=now
        )
        if token is None:
            return
        state["cookie_issued_at"] = now
        self.cookie_manager.set(
            self.name,
            token,
            key=widget_key,
            # With an offset: the browser reads a zone-less time as its own local time.
            expires_at=datetime.fromtimestamp(now + self.lifetime_seconds, tz=UTC),
            same_site="strict",
        )
        state["cookie_pending"] = st.session_state.get(widget_key) is not True  # True: the browser's answer

    def delete_cookie(self) -> None:
        # KeyError: the browser had no cookie to delete.
        with contextlib.suppress(KeyError):
            self.cookie_manager.delete(self.name)


# How stale the cookie may grow while the user is active. Each write renders the cookie component, whose
# answer reruns the whole page, so it is not written on every click; it lives this much longer than the
# idle window instead, so that written at most this long before the last click, it still outlives the window.
COOKIE_RENEWAL_SECONDS = 5 * 60.0


def cookie_renewal_seconds(settings: Settings) -> float:
    """How old the cookie may be before a run of the user's renews it (at most half the idle window)."""
    return min(COOKIE_RENEWAL_SECONDS, settings.session_idle_minutes * 60.0 / 2)


def session_lifetime_seconds(settings: Settings) -> float:
    """How long a session cookie lives: the idle window and the renewal interval, so after any of the user's
    runs it expires no sooner than the idle window ends, and at most the renewal interval later."""
    return settings.session_idle_minutes * 60.0 + cookie_renewal_seconds(settings)


def session_cookie_token(settings: Settings) -> dict[str, Any] | None:
    """The still-valid session this browser's cookie carries, read from the request's headers."""
    if st.session_state.get("logout"):
        return None
    token = st.context.cookies.get(settings.cookie_name) if hasattr(st.context, "cookies") else None
    if not token:
        return None
    resumed = accounts.resume_cookie(token=token)
    if resumed is None:
        return None
    user, claims = resumed
    return {"username": user.username, "user_id": str(user.id), "issued_at": claims.issued_at}


def get_authenticator(settings: Settings) -> stauth.Authenticate:
    """The library's Authenticate for this browser session, with our controllers, built when first needed.

    Building it renders the library's cookie component, and the browser's first answer from that
    component reruns the whole page: every page load ran its script twice, charts and all. Plain
    page views never build it (the session cookie comes from the request's headers); the login and
    Account pages, a logout and a cookie renewal do.
    """
    # The component's place, held empty in later runs: a component shown in one run only would
    # shift every element after it while the rerun that its answer causes is drawn.
    place = st.empty()
    authenticator = st.session_state.get(AUTHENTICATOR_KEY)
    if authenticator is not None:
        return authenticator
    with place:
        authenticator = stauth.Authenticate(
            {"usernames": {}},
            cookie_name=settings.cookie_name,
            cookie_key=cookie_signing_key(settings),
            cookie_expiry_days=settings.session_idle_minutes / (24 * 60),
            auto_hash=False,
        )
    cookie_manager = authenticator.cookie_controller.cookie_model.cookie_manager
    authenticator.authentication_controller = DatabaseAuthController(settings)
    authenticator.cookie_controller = SessionCookieController(settings, cookie_manager)
    st.session_state[AUTHENTICATOR_KEY] = authenticator
    return authenticator


def current_actor(settings: Settings, *, activity: bool = True) -> Actor | None:
    """Who is logged in to this browser session, re-checked against the database on every run.

    `activity`: this run is the user's doing, so the idle timeout starts again; a run that happens on its
    own (a fragment's auto-refresh) re-checks the session without keeping it alive.
    """
    state = st.session_state.get(AUTH_STATE_KEY)
    if not state:
        return None
    now = time.time()
    if now - state["last_seen"] > settings.session_idle_minutes * 60:
        end_session(f"Your session ended after {settings.session_idle_minutes} idle minutes. Please log in again.")
        return None
    with database_or_stop():
        user = accounts.current_user(user_id=uuid.UUID(state["user_id"]), issued_at=state["issued_at"])
    if user is None:
        end_session(SESSION_ENDED)
        return None
    if activity:
        state["last_seen"] = now
    return Actor.of(user)


def resume_from_cookie(settings: Settings) -> None:
    """Log this browser session in from a still-valid cookie, before the router picks the page.

    Done here rather than on the login page, so a typed or bookmarked URL opens that page.
    """
    if st.session_state.get(AUTH_STATE_KEY):
        return
    with database_or_stop():
        token = session_cookie_token(settings)
        if token:
            DatabaseAuthController(settings).login(token=token)


def refresh_cookie_if_due(settings: Settings) -> None:
    """Set the cookie after a login, and renew it on the user's activity once it is older than the renewal
    interval, so that it outlives the idle window however the tab is closed (the server ends an idle session
    that stays open)."""
    state = st.session_state.get(AUTH_STATE_KEY)
    if not state:
        return
    if not state.get("cookie_pending") and time.time() - state["cookie_issued_at"] <= cookie_renewal_seconds(settings):
        return
    built_before = AUTHENTICATOR_KEY in st.session_state
    with st.sidebar:  # a cookie component shown for one run moves nothing there
        authenticator = get_authenticator(settings)
        if built_before:
            authenticator.cookie_controller.write_cookie()
    if not built_before:
        # Building it rendered the cookie component, whose answer reruns the page at once and
        # could drop a cookie written now before the browser runs it: that rerun writes it.
        state["cookie_pending"] = True


def log_out(settings: Settings) -> None:
    """End this session and delete the browser's cookie, through the library's logout."""
    get_authenticator(settings).logout(location="unrendered")


def signed_in_actor() -> Actor | None:
    """For a fragment that reruns on its own, without the page's require_login: the actor re-checked as
    a page run checks it (deactivated, logged out elsewhere, password changed, idle, role changed),
    with the run's client address bound for its audit rows. None once the session has ended.

    A refresh is not the user's activity: an open page with a live job must not keep an idle session alive.
    """
    bind_client_address()
    return current_actor(get_settings(), activity=False)


def require_login() -> Actor:
    """For pages: the logged-in actor, or the page stops (also when a page runs outside the router)."""
    return require_actor(get_settings())


def require_actor(settings: Settings) -> Actor:
    """The logged-in actor, or the page stops with a pointer to the login page."""
    bind_client_address()
    actor = current_actor(settings)
    if actor is None:
        st.warning("Please log in to see this page.", icon=":material/lock:")
        st.stop()
    return actor


def is_logged_in() -> bool:
    return bool(st.session_state.get(AUTH_STATE_KEY))


def render_login(authenticator: stauth.Authenticate) -> bool:
    """The login form; True once the user is logged in.

    The steps of the library's Authenticate.login, through its controllers, without its pause before
    the form: that waits for its cookie component, and our cookie controller reads the request instead.
    """
    try:
        if not is_logged_in():
            token = authenticator.cookie_controller.get_cookie()
            if token:
                authenticator.authentication_controller.login(token=token)
        if not is_logged_in():
            with st.form("login"):
                username = st.text_input("Username", key="login_username", autocomplete="username")
                password = st.text_input(
                    "Password", key="login_password", type="password", autocomplete="current-password"
                )
                submitted = st.form_submit_button("Log in")
            if submitted and authenticator.authentication_controller.login(username=username, password=password):
                authenticator.cookie_controller.set_cookie()
    except LoginError as error:
        st.error(plain(error), icon=":material/lock:")
    return is_logged_in()


def render_registration(authenticator: stauth.Authenticate, settings: Settings) -> None:
    by_invitation = settings.registration_mode == "invite"
    if by_invitation:
        st.caption(
            "Registration is by invitation: use the e-mail address you were invited with and the invitation "
            "code you were given."
        )
    # Row by row, so the fields are read and tabbed through in the order they are seen.
    with st.form("register"):
        first, last = st.columns(2)
        first_name = first.text_input("First name", key="register_first_name", autocomplete="given-name")
        last_name = last.text_input("Last name", key="register_last_name", autocomplete="family-name")
        email_column, username_column = st.columns(2)
        email = email_column.text_input("Email", key="register_email", autocomplete="email")
        username = username_column.text_input("Username", key="register_username", autocomplete="username")
        password_column, repeat_column = st.columns(2)
        password = password_column.text_input(
            "Password", key="register_password", type="password", help=PASSWORD_RULES, autocomplete="new-password"
        )
        password_repeat = repeat_column.text_input(
            "Repeat password", key="register_password_repeat", type="password", autocomplete="new-password"
        )
        invitation_code = ""
        if by_invitation:
            # Used once: nothing a browser should save or offer again.
            invitation_code = st.text_input("Invitation code", key="register_invitation_code", autocomplete="off")
        submitted = st.form_submit_button("Register")
    if not submitted:
        return
    try:
        _, created, _ = authenticator.authentication_controller.register_user(
            first_name,
            last_name,
            email,
            username,
            password,
            password_repeat,
            invitation_code=invitation_code,
        )
    except RegisterError as error:
        st.error(plain(error), icon=":material/error:")
        return
    st.success(f"Account '{plain(created)}' created. Log in with it on the Log in tab.")


def render_password_change(authenticator: stauth.Authenticate, actor: Actor) -> None:
    st.header("Change password")
    with st.form("change_password"):
        current = st.text_input(
            "Current password", key="change_password_current", type="password", autocomplete="current-password"
        )
        new = st.text_input(
            "New password", key="change_password_new", type="password", help=PASSWORD_RULES, autocomplete="new-password"
        )
        new_repeat = st.text_input(
            "Repeat new password", key="change_password_repeat", type="password", autocomplete="new-password"
        )
        submitted = st.form_submit_button("Change password")
    if not submitted:
        return
    try:
        changed = authenticator.authentication_controller.reset_password(actor.username, current, new, new_repeat)
    except ResetError as error:
        st.error(plain(error), icon=":material/error:")
        return
    if changed:
        # This browser's cookie was revoked with the others; give it the new session's cookie.
        authenticator.cookie_controller.write_cookie(widget_key="set-after-password-change")
        st.success("Password changed. Your other sessions are logged out.")
