"""The client's address from every X-Forwarded-For line of a request, as the app and the API both read it."""

import ipaddress

import pytest

from core.auth.client_address import client_address_from_forwarded_lines

PROXY = ipaddress.ip_network("10.0.0.5/32")


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["6.6.6.6", "203.0.113.7"], "203.0.113.7"),  # the proxy appended a line after the client's
        (["6.6.6.6, 198.51.100.1", "203.0.113.7"], "203.0.113.7"),
        (["203.0.113.7"], "203.0.113.7"),
        (["203.0.113.7", "10.0.0.5"], "203.0.113.7"),  # the proxy's own hop is skipped
        ([], "10.0.0.5"),
        (["6.6.6.6", "not-an-address"], "10.0.0.5"),
    ],
)
def test_every_line_counts_and_the_last_untrusted_hop_is_the_client(lines, expected):
    assert client_address_from_forwarded_lines("10.0.0.5", lines, (PROXY,)) == expected


def test_an_untrusted_peer_is_the_client_whatever_the_lines_say():
    assert client_address_from_forwarded_lines("198.51.100.9", ["6.6.6.6", "203.0.113.7"], (PROXY,)) == "198.51.100.9"


@pytest.mark.parametrize(
    ("hop", "expected"),
    [
        ("203.0.113.7:51234", "203.0.113.7"),  # Azure Application Gateway, IIS ARR
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),  # a bare IPv6 address: its colons are no port
    ],
)
def test_a_hop_with_a_port_names_its_address(hop, expected):
    assert client_address_from_forwarded_lines("10.0.0.5", [hop], (PROXY,)) == expected


def test_a_trusted_proxy_with_a_port_is_still_skipped():
    assert client_address_from_forwarded_lines("10.0.0.5", ["203.0.113.7:5000, 10.0.0.5:443"], (PROXY,)) == (
        "203.0.113.7"
    )
