"""Every audit row carries the client's address; X-Forwarded-For counts only from a trusted proxy."""

import ipaddress
import threading

import pytest
from sqlalchemy import select

from common.config import ConfigError, load_settings
from core.audit import client_address, current_client_address, record_event, set_client_address
from core.auth.client_address import LOOPBACK, resolve_client_address
from core.data.service import load_sample
from db.models import AuditLog
from db.models.accounts import Role
from db.repositories.actor import Actor
from db.repositories.users import create_user

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("127.0.0.1/32"))


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        ("198.51.100.7", None, (), "198.51.100.7"),
        ("198.51.100.7", "203.0.113.1", (), "198.51.100.7"),  # no trusted proxy: the header is ignored
        ("198.51.100.7", "203.0.113.1", PROXIES, "198.51.100.7"),  # the peer itself is not a proxy
        ("10.1.2.3", "203.0.113.1", PROXIES, "203.0.113.1"),
        ("10.1.2.3", "6.6.6.6, 203.0.113.1, 10.9.9.9", PROXIES, "203.0.113.1"),  # a client's own claim is skipped
        ("10.1.2.3", "not-an-address", PROXIES, "10.1.2.3"),
        (None, None, (), LOOPBACK),  # Streamlit names no address for localhost
        (None, "203.0.113.5", PROXIES, "203.0.113.5"),  # a proxy on the same machine
        (None, "203.0.113.5", (), LOOPBACK),
        ("10.1.2.3", "2001:db8::1", PROXIES, "2001:db8::1"),
    ],
)
def test_the_client_address_is_resolved(peer, forwarded, proxies, expected):
    assert resolve_client_address(peer, forwarded, proxies) == expected


def test_trusted_proxies_are_checked_and_named():
    assert load_settings(trusted_proxies="10.0.0.0/8, 127.0.0.1").trusted_proxy_networks == PROXIES
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES: 'nonsense' is not an IP address"):
        load_settings(trusted_proxies="10.0.0.0/8,nonsense")


def test_a_sample_load_carries_the_request_address(session):
    """Actions other than login passed no address; the request's address reaches them anyway."""
    analyst = Actor.of(create_user(session=session, username="ann", email="ann@example.com", password_hash="h"))
    with client_address("198.51.100.23"):
        load_sample(session=session, actor=analyst)
    event = session.scalars(select(AuditLog).where(AuditLog.action == "load sample")).one()
    assert event.ip == "198.51.100.23"


def test_an_explicit_address_wins_and_outside_a_request_there_is_none(session):
    admin = Actor.of(
        create_user(session=session, username="adm", email="adm@example.com", password_hash="h", role=Role.ADMIN)
    )
    with client_address("198.51.100.1"):
        record_event(session=session, action="x", status="ok", actor=admin, ip="192.0.2.2")
    record_event(session=session, action="y", status="ok", actor=admin)
    ips = dict(session.execute(select(AuditLog.action, AuditLog.ip).where(AuditLog.user_id == admin.user_id)).all())
    assert ips == {"x": "192.0.2.2", "y": None}


def test_each_thread_serves_its_own_request():
    seen = {}

    def serve(address: str) -> None:
        set_client_address(address)
        barrier.wait()
        seen[address] = current_client_address()

    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=serve, args=(a,)) for a in ("192.0.2.1", "192.0.2.2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"192.0.2.1": "192.0.2.1", "192.0.2.2": "192.0.2.2"}
    assert current_client_address() is None
