"""The Account page: requests per API key, and the admin's invitations, through the account services."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import URL

from common.config import get_settings
from core.api_usage import record_key_request
from core.auth.api_keys import MAX_ACTIVE_KEYS_PER_USER
from core.services import accounts
from db.engine import session_scope
from db.models import ApiKey, AuditLog, Invitation
from db.models.accounts import Role
from db.repositories.audit import add_audit_event
from db.repositories.invitations import add_invitation
from db.types import utc_now
from tests.accounts import DEFAULT_PASSWORD, logged_in_app, make_account, unique_name
from ui.text import plain


@pytest.fixture
def database(committing_database: URL) -> URL:
    """A database of its own: these tests commit invitations other tests count."""
    return committing_database


def test_each_key_has_a_table_of_its_requests_by_endpoint(database):
    actor = make_account(database)
    nightly = accounts.create_api_key(actor, name="nightly", expires_in_days=30).record
    notebook = accounts.create_api_key(actor, name="notebook", expires_in_days=None).record
    with session_scope() as session:
        for _ in range(3):
            record_key_request(session=session, api_key_id=nightly.id, endpoint="GET /v1/prices/{ticker}")
        record_key_request(session=session, api_key_id=nightly.id, endpoint="GET /v1/ledger")
        record_key_request(session=session, api_key_id=notebook.id, endpoint="POST /v1/predict")
    accounts.revoke_api_key(actor, key_id=notebook.id)

    at = logged_in_app("app_pages/account.py", actor).run()
    assert not at.exception
    summaries = [text.value for text in at.text if ", last on" in text.value]
    assert [line.split(", last on")[0] for line in summaries] == [
        f"nightly ({nightly.prefix}…): 4 requests",
        f"notebook ({notebook.prefix}…) · revoked: 1 request",
    ]
    tables = [frame.value for frame in at.dataframe if "Endpoint" in frame.value.columns]
    assert dict(zip(tables[0]["Endpoint"], tables[0]["Requests"], strict=True)) == {
        "GET /v1/ledger": 1,
        "GET /v1/prices/{ticker}": 3,
    }
    assert list(tables[1]["Endpoint"]) == ["POST /v1/predict"]


def test_key_dates_read_in_local_minutes_like_every_other_table(database):
    actor = make_account(database)
    accounts.create_api_key(actor, name="nightly", expires_in_days=30)
    at = logged_in_app("app_pages/account.py", actor).run()
    table = next(frame.value for frame in at.dataframe if "Prefix" in frame.value.columns)
    assert list(table.columns) == ["Name", "Prefix", "Created", "Last used", "Expires", "Status"]
    assert table["Created"].dt.tz is None, "local time, no +00:00 to read past"
    assert table["Expires"].dt.tz is None
    formats = {name: config.get("type_config", {}).get("format") for name, config in column_config(at).items()}
    assert formats["Created"] == formats["Expires"] == "YYYY-MM-DD HH:mm"


def column_config(at) -> dict:
    frame = next(frame for frame in at.dataframe if "Prefix" in frame.value.columns)
    return json.loads(frame.proto.columns)


def test_a_revoked_key_is_confirmed_after_the_page_refreshes(database):
    actor = make_account(database)
    key = accounts.create_api_key(actor, name="nightly", expires_in_days=30).record
    at = logged_in_app("app_pages/account.py", actor).run()
    next(s for s in at.selectbox if s.label == "Revoke a key").set_value(f"nightly ({key.prefix}…)").run()
    next(b for b in at.button if b.label == "Revoke").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [plain(f"Revoked nightly ({key.prefix}…): it no longer authenticates.")]
    assert "Revoke a key" not in [s.label for s in at.selectbox], "no active key is left to revoke"


def test_an_expired_key_reads_expired_and_is_not_offered_for_revocation(database):
    actor = make_account(database)
    live = accounts.create_api_key(actor, name="live", expires_in_days=30).record
    old = accounts.create_api_key(actor, name="old", expires_in_days=30).record
    gone = accounts.create_api_key(actor, name="gone", expires_in_days=None).record
    accounts.revoke_api_key(actor, key_id=gone.id)
    with session_scope() as session:
        session.execute(update(ApiKey).where(ApiKey.id == old.id).values(expires_at=utc_now() - timedelta(days=1)))
        for key in (live, old, gone):
            record_key_request(session=session, api_key_id=key.id, endpoint="GET /v1/tickers")

    at = logged_in_app("app_pages/account.py", actor).run()
    assert not at.exception
    table = next(frame.value for frame in at.dataframe if "Prefix" in frame.value.columns)
    assert dict(zip(table["Name"], table["Status"], strict=True)) == {
        "live": "active",
        "old": "expired",
        "gone": "revoked",
    }
    assert next(s for s in at.selectbox if s.label == "Revoke a key").options == [f"live ({live.prefix}…)"]
    summaries = sorted(text.value.split(":")[0] for text in at.text if ", last on" in text.value)
    assert summaries == [
        f"gone ({gone.prefix}…) · revoked",
        f"live ({live.prefix}…)",
        f"old ({old.prefix}…) · expired",
    ]


def test_a_key_past_the_cap_is_refused_with_the_way_out(database):
    actor = make_account(database)
    for number in range(MAX_ACTIVE_KEYS_PER_USER):
        accounts.create_api_key(actor, name=f"k{number}", expires_in_days=30)
    at = logged_in_app("app_pages/account.py", actor).run()
    next(w for w in at.text_input if w.label == "Key name").input("one more")
    next(b for b in at.button if b.label == "Create key").click().run()
    assert not at.exception
    assert not at.code, "no key was made"
    [error] = [e.value for e in at.error]
    assert f"{MAX_ACTIVE_KEYS_PER_USER} active API keys" in error
    assert "revoke one" in error


def test_an_invitation_from_the_admin_panel_is_stored_and_audited(database):
    admin = make_account(database, role=Role.ADMIN)
    email = f"{unique_name('guest')}@example.com"
    at = logged_in_app("app_pages/account.py", admin).run()
    next(w for w in at.text_input if w.label == "E-mail address to invite").input(email)
    next(b for b in at.button if b.label == "Invite").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [
        plain(f"Invited {email}. Pass this code on with the address; it is shown only once:")
    ]
    (code,) = [c.value for c in at.code]
    with session_scope() as session:
        assert session.scalar(select(Invitation.invited_by).where(Invitation.email == email)) == admin.user_id
        statuses = session.scalars(
            select(AuditLog.status).where(AuditLog.user_id == admin.user_id, AuditLog.action == "invite")
        ).all()
    assert statuses == ["ok"]
    table = next(
        frame.value for frame in at.dataframe if "E-mail" in frame.value.columns and "Code" in frame.value.columns
    )
    assert table.set_index("E-mail").loc[email, "Code"] == "given"
    at.run()
    assert code not in [c.value for c in at.code], "shown once"


def test_an_invitation_made_before_codes_is_flagged_and_given_a_new_code(database, monkeypatch):
    monkeypatch.setenv("REGISTRATION_MODE", "invite")
    get_settings.cache_clear()
    admin = make_account(database, role=Role.ADMIN)
    email = f"{unique_name('early')}@example.com"
    with session_scope() as session:
        add_invitation(session=session, actor=admin, email=email)  # as stored before revision 0021
    at = logged_in_app("app_pages/account.py", admin).run()
    table = next(frame.value for frame in at.dataframe if "Code" in frame.value.columns)
    assert table.set_index("E-mail").loc[email, "Code"] == "none: give it a new code"
    assert any("made before invitation codes" in caption.value for caption in at.caption)
    next(s for s in at.selectbox if s.label == "Give a new code to").set_value(email).run()
    next(b for b in at.button if b.label == "New code").click().run()
    assert not at.exception
    (code,) = [c.value for c in at.code]
    assert [s.value for s in at.success] == [
        plain(f"New code for {email}; the one before no longer works. Pass it on; it is shown only once:")
    ]
    assert accounts_register_with(email, code).email == email


def accounts_register_with(email: str, code: str):
    return accounts.register(
        username=unique_name("early"),
        email=email,
        password="long enough pw",
        password_repeat="long enough pw",
        full_name=None,
        invitation_code=code,
    )


def test_an_admin_s_change_of_role_and_deactivation_show_in_the_users_table(database):
    admin = make_account(database, role=Role.ADMIN)
    name = unique_name("member")
    make_account(database, username=name)
    at = logged_in_app("app_pages/account.py", admin).run()

    def row() -> dict:
        users = next(frame.value for frame in at.dataframe if "Username" in frame.value.columns)
        return users.set_index("Username").loc[name].to_dict()

    assert row()["Role"] == "analyst"
    assert row()["Active"]
    next(s for s in at.selectbox if s.label == "Manage a user").set_value(name).run()
    next(s for s in at.selectbox if s.label == "Role").set_value("viewer").run()
    next(b for b in at.button if b.label == "Change role").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [plain(f"{name} is now viewer.")]
    assert row()["Role"] == "viewer", "the table above says what was just done"
    next(b for b in at.button if b.label == "Deactivate").click().run()
    assert [s.value for s in at.success] == [plain(f"{name} deactivated: they can no longer log in.")]
    assert not row()["Active"]
    assert "Reactivate" in [b.label for b in at.button]


def test_choosing_another_user_shows_their_stored_role_not_the_last_ones_unsaved_choice(database):
    admin = make_account(database, role=Role.ADMIN)
    bob, carol = make_account(database), make_account(database)
    at = logged_in_app("app_pages/account.py", admin).run()

    def widget(widgets, label: str):
        return next(w for w in widgets if w.label == label)

    widget(at.selectbox, "Manage a user").set_value(bob.username).run()
    widget(at.selectbox, "Role").set_value("admin").run()  # chosen for bob, never applied
    widget(at.selectbox, "Manage a user").set_value(carol.username).run()
    assert widget(at.selectbox, "Role").value == "analyst"
    assert widget(at.button, "Change role").disabled, "no click can make carol admin"
    widget(at.selectbox, "Manage a user").set_value(bob.username).run()
    assert widget(at.selectbox, "Role").value == "analyst", "bob's unsaved choice went when he was left"


def test_an_admin_s_password_reset_says_how_many_api_keys_it_revoked(database):
    admin = make_account(database, role=Role.ADMIN)
    name = unique_name("member")
    member = make_account(database, username=name)
    for key_name in ("nightly", "notebook"):
        accounts.create_api_key(member, name=key_name, expires_in_days=None)
    at = logged_in_app("app_pages/account.py", admin).run()
    next(s for s in at.selectbox if s.label == "Manage a user").set_value(name).run()
    next(b for b in at.button if b.label == "Reset password").click().run()
    assert not at.exception
    assert not at.code, "one click only asks"
    with session_scope() as session:
        working = session.scalars(select(ApiKey.name).where(ApiKey.user_id == member.user_id, ApiKey.is_active)).all()
    assert sorted(working) == ["nightly", "notebook"]
    assert [w.value for w in at.warning] == [
        plain(
            f"Reset {name}'s password? Their sessions end and every API key of theirs is revoked; "
            "you get a temporary password to pass on."
        )
    ]
    next(b for b in at.button if b.label == "Yes, reset password").click().run()
    assert not at.exception
    assert [s.value for s in at.success] == [
        plain(f"Reset {name}'s password: their sessions have ended and 2 API keys were revoked.")
    ]
    assert at.warning[-1].value == plain(f"Temporary password for {name}, shown once; they should change it:")
    (temporary,) = [c.value for c in at.code]
    assert temporary
    assert name not in temporary
    with session_scope() as session:
        working = session.scalars(select(ApiKey.name).where(ApiKey.user_id == member.user_id, ApiKey.is_active)).all()
    assert working == []


def test_the_audit_log_says_how_many_rows_it_leaves_out_and_offers_every_stored_status(database):
    admin = make_account(database, role=Role.ADMIN)
    action = unique_name("probe")
    with session_scope() as session:
        for number in range(230):
            add_audit_event(
                session=session, action=action, status="ok", username=admin.username, detail=f"row {number}"
            )
        for status in ("queued", "accepted", "partial", "rejected"):
            add_audit_event(session=session, action=action, status=status, username=admin.username)
    at = logged_in_app("app_pages/account.py", admin).run()
    assert not at.exception
    statuses = next(s for s in at.selectbox if s.label == "Status").options
    assert {"ok", "queued", "accepted", "partial", "rejected"} <= set(statuses)
    next(s for s in at.selectbox if s.label == "Action").set_value(action).run()
    audit = next(frame.value for frame in at.dataframe if "Latency (ms)" in frame.value.columns)
    assert len(audit) == 200
    assert "Showing the newest 200 of 234 matching events: narrow the filters to see older ones." in [
        caption.value for caption in at.caption
    ]
    next(s for s in at.selectbox if s.label == "Status").set_value("partial").run()
    audit = next(frame.value for frame in at.dataframe if "Latency (ms)" in frame.value.columns)
    assert list(audit["Status"]) == ["partial"]
    assert not [caption.value for caption in at.caption if "Showing the newest" in caption.value], "all are shown"


def test_a_cancelled_password_reset_changes_nothing(database):
    admin = make_account(database, role=Role.ADMIN)
    member = make_account(database)
    accounts.create_api_key(member, name="nightly", expires_in_days=None)
    at = logged_in_app("app_pages/account.py", admin).run()
    next(s for s in at.selectbox if s.label == "Manage a user").set_value(member.username).run()
    next(b for b in at.button if b.label == "Reset password").click().run()
    next(b for b in at.button if b.label == "Cancel").click().run()
    assert not at.exception
    assert not at.code
    assert not at.warning
    assert [key.name for key in accounts.list_api_keys(member) if key.is_active] == ["nightly"]
    assert accounts.log_in(username=member.username, password=DEFAULT_PASSWORD).ok


def test_an_admin_s_own_row_offers_no_deactivation(database):
    admin = make_account(database, role=Role.ADMIN)
    at = logged_in_app("app_pages/account.py", admin).run()
    next(s for s in at.selectbox if s.label == "Manage a user").set_value(admin.username).run()
    deactivate = next(b for b in at.button if b.label == "Deactivate")
    assert deactivate.disabled
    assert deactivate.help == "You cannot deactivate yourself: another admin can."


def test_the_admin_tables_read_moments_in_local_time_like_every_other_table(database):
    # Users, invitations and the audit log showed raw UTC with seconds and "+00:00" beside the keys' local minutes.
    admin = make_account(database, role=Role.ADMIN)
    accounts.invite(admin, email="new@example.com")
    at = logged_in_app("app_pages/account.py", admin).run()
    assert not at.exception
    shown_as = {"At": "YYYY-MM-DD HH:mm:ss"}  # a log's order within a minute matters
    for moments in (("Last login", "Created"), ("Invited", "Used"), ("At",)):
        frame = next(frame for frame in at.dataframe if moments[0] in frame.value.columns)
        formats = {
            name: config.get("type_config", {}).get("format")
            for name, config in json.loads(frame.proto.columns).items()
        }
        for column in moments:
            assert frame.value[column].dt.tz is None, f"{column}: local time, no +00:00 to read past"
            assert formats[column] == shown_as.get(column, "YYYY-MM-DD HH:mm"), column
