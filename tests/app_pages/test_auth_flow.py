"""The login gate as a person meets it, through the real widgets (AppTest)."""

import json
import time
import uuid
from datetime import datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import sessionmaker
from streamlit.proto.TextInput_pb2 import TextInput
from streamlit.runtime.context import ContextProxy, StreamlitHeaders
from streamlit.testing.v1 import AppTest

from common.config import PROJECT_ROOT, get_settings, load_settings
from core.auth import LOGIN_REFUSED, LOGIN_UNAVAILABLE
from core.data.frames import normalise_provider_frame
from db.engine import create_engine_from_settings, session_scope
from db.models import AuditLog, User
from db.models.accounts import Role
from db.repositories.prices import upsert_prices
from db.types import utc_now
from tests.accounts import DEFAULT_PASSWORD, logged_in_app, make_account, unique_name
from tests.fixtures import gspc_2018_frame
from ui.text import plain


@pytest.fixture
def database(monkeypatch, committing_sqlite_url):
    # Logging in commits: never into the database whose rows the rolled-back tests count.
    monkeypatch.setenv("DATABASE_URL", committing_sqlite_url.render_as_string(hide_password=False))
    return committing_sqlite_url


def visit() -> AppTest:
    return AppTest.from_file(str(PROJECT_ROOT / "Home.py"), default_timeout=30).run()


def inputs(at: AppTest, label: str) -> list:
    return [widget for widget in at.text_input if widget.label == label]


def button(at: AppTest, label: str):
    return next(widget for widget in at.button if widget.label == label)


def log_in(at: AppTest, username: str, password: str) -> AppTest:
    inputs(at, "Username")[0].input(username)
    inputs(at, "Password")[0].input(password)
    return button(at, "Log in").click().run()


def titles(at: AppTest) -> list[str]:
    return [title.value for title in at.title]


def signed_in_as(at: AppTest) -> str:
    return " ".join(markdown.value for markdown in at.sidebar.markdown)


def cookie_component_calls(at: AppTest) -> list[dict]:
    """The arguments of each call to the cookie component this run rendered; each one's answer reruns the page."""
    return [
        json.loads(component.proto.json_args)
        for component in at.get("component_instance")
        if component.proto.component_name.endswith("cookie_manager")
    ]


def cookie_calls(at: AppTest) -> list[str]:
    return [call["method"] for call in cookie_component_calls(at)]


def test_a_visitor_gets_only_the_login_page(database):
    at = visit()
    assert not at.exception
    assert titles(at) == ["Candlecast"]
    assert [tab.label for tab in at.tabs] == ["Log in", "Register"]
    at.switch_page("app_pages/account.py").run()
    assert titles(at) == ["Candlecast"], "a typed page URL shows the login page, not the page"
    assert "Change password" not in [heading.value for heading in [*at.header, *at.subheader]]


def test_login_lands_on_the_page_the_visitor_asked_for_with_its_view(database):
    actor = make_account(database)
    ticker = f"T{uuid.uuid4().hex[:6].upper()}"
    with session_scope() as session:
        bars = normalise_provider_frame(gspc_2018_frame()).frame
        upsert_prices(session=session, frame=bars, ticker=ticker, owner_id=None, source="yahoo")
    at = visit()
    at.query_params["ticker"] = ticker
    at.switch_page("app_pages/indicators.py").run()
    assert titles(at) == ["Candlecast"]
    assert at.query_params["next"] == "indicators"
    # The browser now shows the login page; AppTest needs telling, as it keeps the page it was sent to.
    at.switch_page("app_pages/login.py")
    at = log_in(at, actor.username, DEFAULT_PASSWORD)
    assert not at.exception
    assert titles(at) == ["Indicators"]
    assert "next" not in at.query_params
    assert at.query_params["ticker"] == ticker


def test_register_then_log_in_then_log_out(database):
    name = unique_name("new")
    at = visit()
    inputs(at, "First name")[0].input("Ada")
    inputs(at, "Last name")[0].input("Lovelace")
    inputs(at, "Email")[0].input(f"{name}@example.com")
    inputs(at, "Username")[1].input(name)
    inputs(at, "Password")[1].input("engines of analysis")
    inputs(at, "Repeat password")[0].input("engines of analysis")
    button(at, "Register").click().run()
    assert [s.value for s in at.success] == [f"Account '{plain(name)}' created. Log in with it on the Log in tab."]

    at = log_in(at, name, "engines of analysis")
    assert not at.exception
    assert titles(at) == ["Candlecast"]
    assert f"Signed in as **{plain(name)}** · analyst" in signed_in_as(at)
    assert "Watchlist" in [header.value for header in at.header]

    at.sidebar.button[0].click().run()
    assert [info.value for info in at.info] == ["You are logged out."]
    assert "Signed in as" not in signed_in_as(at)
    at.run()  # what the back button does: a rerun of the session, which is logged out
    assert "Watchlist" not in [header.value for header in at.header]
    assert "Signed in as" not in signed_in_as(at)
    assert [info.value for info in at.info] == ["You are logged out."], "the notice outlives a rerun"
    at = log_in(at, name, "engines of analysis")
    assert "Signed in as" in signed_in_as(at)
    assert [info.value for info in at.info] == []


def test_an_empty_login_says_what_is_missing_and_replaces_the_logout_notice(database):
    actor = make_account(database)
    at = log_in(visit(), actor.username, DEFAULT_PASSWORD)
    at.sidebar.button[0].click().run()
    assert [info.value for info in at.info] == ["You are logged out."]
    at = log_in(at, "", "")
    assert [e.value for e in at.error] == ["Enter your username and password."]
    assert [info.value for info in at.info] == [], "the attempt's outcome is what to read now"
    at = log_in(at, actor.username, "not my password")
    assert [e.value for e in at.error] == [LOGIN_REFUSED]
    assert [info.value for info in at.info] == []


def test_registration_errors_are_shown(database):
    at = visit()
    inputs(at, "Email")[0].input("someone@example.com")
    inputs(at, "Username")[1].input("someone")
    inputs(at, "Password")[1].input("short")
    inputs(at, "Repeat password")[0].input("short")
    button(at, "Register").click().run()
    assert [e.value for e in at.error] == ["Password must be at least 8 characters"]


def test_six_wrong_passwords_lock_the_account(database):
    actor = make_account(database)
    at = visit()
    for _ in range(5):
        at = log_in(at, actor.username, "not my password")
        assert [e.value for e in at.error] == [LOGIN_REFUSED]
    at = log_in(at, actor.username, DEFAULT_PASSWORD)
    assert [e.value for e in at.error] == [LOGIN_REFUSED]
    assert "Signed in as" not in signed_in_as(at)


def test_behind_a_trusted_proxy_a_login_records_the_address_the_proxy_appended(database, monkeypatch):
    # HAProxy's `option forwardfor` adds a line of its own; the first line is whatever the client sent.
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.5")
    get_settings.cache_clear()
    request_headers = StreamlitHeaders([("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "203.0.113.7")])
    monkeypatch.setattr(ContextProxy, "headers", property(lambda _: request_headers))
    monkeypatch.setattr(ContextProxy, "ip_address", property(lambda _: "10.0.0.5"))
    actor = make_account(database)
    at = log_in(visit(), actor.username, DEFAULT_PASSWORD)
    assert "Signed in as" in signed_in_as(at)
    with session_scope() as session:
        addresses = session.scalars(
            select(AuditLog.ip).where(AuditLog.user_id == actor.user_id, AuditLog.action == "login")
        ).all()
    assert addresses == ["203.0.113.7"]


def test_a_locked_out_user_logs_in_with_the_password_an_admin_reset(database):
    member = make_account(database)
    at = visit()
    for _ in range(5):
        at = log_in(at, member.username, "not my password")
    admin_page = logged_in_app("app_pages/account.py", make_account(database, role=Role.ADMIN)).run()
    next(s for s in admin_page.selectbox if s.label == "Manage a user").set_value(member.username).run()
    button(admin_page, "Reset password").click().run()
    button(admin_page, "Yes, reset password").click().run()
    (temporary,) = [code.value for code in admin_page.code]
    at = log_in(visit(), member.username, temporary)
    assert [e.value for e in at.error] == []
    assert "Signed in as" in signed_in_as(at)


def test_an_admin_sees_the_failed_attempts_in_the_audit_log(database):
    victim = make_account(database)
    at = visit()
    for _ in range(2):
        at = log_in(at, victim.username, "guess")
    admin = make_account(database, role=Role.ADMIN)
    at = logged_in_app("app_pages/account.py", admin).run()
    assert not at.exception
    assert "Administration" in [header.value for header in at.header]
    audit = at.dataframe[-1].value
    failed = audit[(audit["User"] == victim.username) & (audit["Action"] == "login")]
    assert list(failed["Status"]) == ["failed", "failed"]
    assert set(failed["Detail"]) == {"wrong password"}


def test_an_analyst_has_no_admin_panel(database):
    at = logged_in_app("app_pages/account.py", make_account(database)).run()
    assert not at.exception
    assert "Administration" not in [header.value for header in at.header]


def test_password_change_through_the_widget(database):
    actor = make_account(database)
    at = logged_in_app("app_pages/account.py", actor).run()
    inputs(at, "Current password")[0].input(DEFAULT_PASSWORD)
    inputs(at, "New password")[0].input("a brand new secret")
    inputs(at, "Repeat new password")[0].input("a brand new secret")
    button(at, "Change password").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == ["Password changed. Your other sessions are logged out."]
    at.run()
    assert titles(at) == ["Account"], "this session goes on"
    old = log_in(visit(), actor.username, DEFAULT_PASSWORD)
    assert [e.value for e in old.error] == [LOGIN_REFUSED]
    assert "Signed in as" in signed_in_as(log_in(visit(), actor.username, "a brand new secret"))


def test_a_page_view_renders_no_cookie_component(database):
    # The session cookie is read from the request: a component reading it again reran every page load.
    for script in ("Home.py", "app_pages/tickers.py", "app_pages/indicators.py", "app_pages/predictions.py"):
        at = logged_in_app(script, make_account(database)).run()
        assert not at.exception
        assert cookie_calls(at) == []


def written_until_confirmed(at: AppTest) -> None:
    """From a run that must write the cookie: the writes it takes, the browser's answer, and quiet after it."""
    at.run()
    # The cookie component's first answer reruns the page at once: a cookie written beside it could be lost.
    assert cookie_calls(at) == ["getAll"]
    at.run()
    assert cookie_calls(at) == ["set"]
    # A run that replaces the writing run before the browser mounts its component drops the write:
    # until the component answers, every run writes again.
    at.run()
    assert cookie_calls(at) == ["set"]
    assert at.session_state["candlecast_auth"]["cookie_pending"], "written, not yet confirmed by the browser"
    at.session_state["set"] = True  # the component's answer: the browser set the cookie
    at.run()
    assert not at.session_state["candlecast_auth"]["cookie_pending"]
    at.run()
    assert cookie_calls(at) == []


def test_a_cookie_older_than_the_renewal_interval_is_renewed_on_the_next_run(database):
    at = logged_in_app("Home.py", make_account(database))
    at.session_state["candlecast_auth"]["cookie_issued_at"] = time.time() - 6 * 60
    written_until_confirmed(at)
    assert time.time() - at.session_state["candlecast_auth"]["cookie_issued_at"] < 60


def test_after_any_activity_the_cookie_outlives_the_idle_window(database):
    # Renewed only past half its life, a cookie written 29 minutes before the user's last click expired
    # 31 minutes after it: closing the tab and coming back within the idle window showed the login page.
    at = logged_in_app("Home.py", make_account(database))
    now = time.time()
    at.session_state["candlecast_auth"].update(issued_at=now - 29 * 60, cookie_issued_at=now - 29 * 60)
    at.run()
    at.run()
    [written] = [call for call in cookie_component_calls(at) if call["method"] == "set"]
    expires = datetime.fromisoformat(written["options"]["expires"]).timestamp()
    assert expires >= time.time() + 60 * 60


def test_a_recent_cookie_is_not_written_again(database):
    # Each write renders the cookie component, whose answer reruns the page: not on every click.
    at = logged_in_app("Home.py", make_account(database))
    at.session_state["candlecast_auth"]["cookie_issued_at"] = time.time() - 4 * 60
    at.run()
    at.run()
    assert cookie_calls(at) == []


def test_a_login_cookie_is_written_again_until_the_browser_confirms_it(database):
    # Taken as written when first rendered, a dropped write left the browser without a cookie, and
    # the next page load showed the login page.
    at = logged_in_app("Home.py", make_account(database))
    at.session_state["candlecast_auth"]["cookie_pending"] = True  # just logged in
    written_until_confirmed(at)


def test_the_cookie_expires_when_its_session_would_in_every_time_zone(database):
    # The browser reads an expiry without an offset as its own local time: east of the server's
    # zone the cookie arrived already expired, and every reload showed the login page.
    at = logged_in_app("Home.py", make_account(database))
    at.session_state["candlecast_auth"]["cookie_pending"] = True
    at.run()
    at.run()
    [written] = [call for call in cookie_component_calls(at) if call["method"] == "set"]
    expires = datetime.fromisoformat(written["options"]["expires"])
    assert expires.utcoffset() is not None, f"{written['options']['expires']!r} names no time zone"
    # The idle window and the renewal interval: renewed at most that often, it outlives the window.
    lifetime = (60 + 5) * 60
    assert abs(expires.timestamp() - (time.time() + lifetime)) < 60


def test_an_idle_session_ends(database):
    at = logged_in_app("Home.py", make_account(database))
    at.session_state["candlecast_auth"]["last_seen"] = time.time() - 61 * 60
    at.run()
    assert "Signed in as" not in signed_in_as(at)
    assert [info.value for info in at.info] == ["Your session ended after 60 idle minutes. Please log in again."]


def test_a_session_revoked_elsewhere_ends_on_the_next_click(database):
    actor = make_account(database)
    at = logged_in_app("Home.py", actor).run()
    assert "Signed in as" in signed_in_as(at)
    engine = create_engine_from_settings(load_settings(), database)
    with session_scope(sessionmaker(bind=engine)) as session:
        session.execute(update(User).where(User.id == actor.user_id).values(logged_out_at=utc_now()))
    engine.dispose()
    at.run()
    assert "Signed in as" not in signed_in_as(at)


@pytest.mark.redis
def test_with_redis_down_login_fails_closed_and_logged_in_pages_render(database, monkeypatch):
    actor = make_account(database)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    at = log_in(visit(), actor.username, DEFAULT_PASSWORD)
    assert [e.value for e in at.error] == [LOGIN_UNAVAILABLE]
    for script in ("Home.py", "app_pages/account.py"):
        page = logged_in_app(script, actor).run()
        assert not page.exception
        assert "Signed in as" in signed_in_as(page) or titles(page) == ["Account"]


def test_a_finished_job_is_announced_once(database):
    from db.models import TrainingJob

    actor = make_account(database)
    at = logged_in_app("Home.py", actor).run()
    assert len(at.toast) == 0, "nothing old is announced at login"
    engine = create_engine_from_settings(load_settings(), database)
    with session_scope(sessionmaker(bind=engine)) as session:
        job = TrainingJob(user_id=actor.user_id, ticker="SPX", status="succeeded", config={}, finished_at=utc_now())
        job.message = "v1: ties with tomorrow = today"
        session.add(job)
    engine.dispose()
    at.run()
    assert [toast.value for toast in at.toast] == [
        "SPX: training of auto ensemble succeeded. v1: ties with tomorrow = today"
    ]
    at.run()
    assert len(at.toast) == 0


def _fragment_check() -> None:
    """What a job panel's auto-refreshing fragment does on each refresh."""
    import streamlit as st

    from ui.auth import signed_in_actor

    st.text(f"signed in: {signed_in_actor() is not None}")


def test_an_auto_refresh_is_no_activity_and_the_idle_session_still_ends(database):
    actor = make_account(database)
    at = AppTest.from_function(_fragment_check, default_timeout=30)
    idle_since = time.time() - 59 * 60
    at.session_state["candlecast_auth"] = {
        "user_id": str(actor.user_id),
        "issued_at": idle_since,
        "last_seen": idle_since,
        "cookie_pending": False,
        "cookie_issued_at": idle_since,
    }
    at.run()
    assert [t.value for t in at.text] == ["signed in: True"], "the session is re-checked and still good"
    assert at.session_state["candlecast_auth"]["last_seen"] == idle_since, "a refresh is not the user's activity"
    at.session_state["candlecast_auth"]["last_seen"] = time.time() - 61 * 60
    at.run()
    assert [t.value for t in at.text] == ["signed in: False"]


def test_invite_only_registration_takes_the_invitation_code(database, monkeypatch):
    from core.services import accounts

    monkeypatch.setenv("REGISTRATION_MODE", "invite")
    get_settings.cache_clear()
    name = unique_name("guest")
    code = accounts.invite(make_account(database, role=Role.ADMIN), email=f"{name}@example.com").code

    def register(typed_code: str) -> AppTest:
        at = visit()
        inputs(at, "Email")[0].input(f"{name}@example.com")
        inputs(at, "Username")[1].input(name)
        inputs(at, "Password")[1].input("engines of analysis")
        inputs(at, "Repeat password")[0].input("engines of analysis")
        inputs(at, "Invitation code")[0].input(typed_code)
        return button(at, "Register").click().run()

    refused = register("AAAA-AAAA-AAAA-AAAA")
    assert [e.value for e in refused.error] == [
        "Registration is by invitation: no open invitation matches this e-mail address and invitation code"
    ]
    at = register(code)
    assert [s.value for s in at.success] == [f"Account '{plain(name)}' created. Log in with it on the Log in tab."]


def test_open_registration_asks_for_no_invitation_code(database):
    assert inputs(visit(), "Invitation code") == []


REGISTRATION_AUTOCOMPLETE = {
    "First name": "given-name",
    "Last name": "family-name",
    "Email": "email",
    "Username": "username",
    "Password": "new-password",
    "Repeat password": "new-password",
}


def autocomplete_by_label(fields) -> dict[str, str]:
    return {field.label: field.proto.autocomplete for field in fields}


def test_the_login_and_registration_fields_say_what_they_hold_for_password_managers(database):
    # The library's forms set autocomplete="off" on every field: browsers and password managers could not fill them.
    at = visit()
    log_in_tab, register_tab = at.tabs
    assert autocomplete_by_label(log_in_tab.text_input) == {"Username": "username", "Password": "current-password"}
    assert autocomplete_by_label(register_tab.text_input) == REGISTRATION_AUTOCOMPLETE
    assert [field.proto.type for field in log_in_tab.text_input] == [TextInput.DEFAULT, TextInput.PASSWORD]


def test_the_login_page_headings_follow_its_outline(database):
    # The library put an h3 straight under the page's h1.
    at = visit()
    assert [heading.value for heading in at.subheader] == []


def test_the_invitation_code_is_a_field_of_its_own(database, monkeypatch):
    monkeypatch.setenv("REGISTRATION_MODE", "invite")
    get_settings.cache_clear()
    register_tab = visit().tabs[1]
    assert autocomplete_by_label(register_tab.text_input) == REGISTRATION_AUTOCOMPLETE | {
        # A one-time code: no saved value for the browser to offer.
        "Invitation code": "off",
    }


def test_the_password_change_fields_say_what_they_hold_under_a_heading_of_the_page_s_outline(database):
    at = logged_in_app("app_pages/account.py", make_account(database, role=Role.ADMIN)).run()
    assert not at.exception
    password_tab = at.tabs[0]
    assert password_tab.label == "Password"
    assert autocomplete_by_label(password_tab.text_input) == {
        "Current password": "current-password",
        "New password": "new-password",
        "Repeat new password": "new-password",
    }
    # The library's h3 came straight under the page's h1 and before the page's h2 "Administration".
    assert "Change password" not in [heading.value for heading in at.subheader]
    assert [heading.value for heading in at.header] == ["Change password", "Administration"]


def test_a_login_sets_what_the_library_s_login_sets_and_the_session_cookie(database):
    actor = make_account(database)
    at = log_in(visit(), actor.username, DEFAULT_PASSWORD)
    assert not at.exception
    assert at.session_state["authentication_status"] is True
    assert at.session_state["username"] == actor.username
    assert at.session_state["name"] == actor.username
    assert at.session_state["roles"] == ["analyst"]
    assert "set" in cookie_calls(at), "the login's cookie is written"
    assert at.session_state["candlecast_auth"]["cookie_pending"], "until the browser confirms it"
