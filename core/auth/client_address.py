"""Which address a request came from: the connection's peer, or, behind a trusted proxy, X-Forwarded-For."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Streamlit reports no address for a connection from the same machine; this is what is recorded then.
LOOPBACK = "localhost"
_LOOPBACK_ADDRESS = ipaddress.ip_address("127.0.0.1")


def _without_port(text: str) -> str:
    """The address of a hop written with a port, as Azure Application Gateway and IIS ARR write it:
    `203.0.113.7:51234`, `[2001:db8::1]:443`. A bare IPv6 address has several colons and no port."""
    if text.startswith("["):
        closing = text.find("]")
        return text[1:closing] if closing > 0 else text
    if text.count(":") == 1:
        return text.split(":", 1)[0]
    return text


def _parse(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(_without_port(text.strip()))
    except ValueError:
        return None


def _trusted(address: Address, proxies: Sequence[Network]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


def resolve_client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: Sequence[Network]) -> str:
    """The client's address as far as it can be trusted.

    `peer` is the connection's address as Streamlit saw it (None for a loopback connection). Only
    when the peer is a trusted proxy is X-Forwarded-For read, from the right: each trusted proxy
    appended the address it saw, so the first untrusted hop is the client. Anything a client wrote
    further left is its own claim and is ignored; so is a malformed hop.
    """
    peer_address = _parse(peer) if peer else _LOOPBACK_ADDRESS
    shown_peer = peer if peer else LOOPBACK
    if peer_address is None or not forwarded_for or not _trusted(peer_address, trusted_proxies):
        return shown_peer
    for hop in reversed(forwarded_for.split(",")):
        address = _parse(hop)
        if address is None:
            return shown_peer
        if not _trusted(address, trusted_proxies):
            return str(address)
    return shown_peer


def client_address_from_forwarded_lines(
    peer: str | None, forwarded_for_lines: Sequence[str], trusted_proxies: Sequence[Network]
) -> str:
    """The client's address from every X-Forwarded-For line of a request, in the order received.

    A proxy may append its own line rather than extend the client's, so reading one line can mean
    reading only what the client wrote; the lines together are one list (RFC 9110, 5.3).
    """
    return resolve_client_address(peer, ", ".join(forwarded_for_lines) or None, trusted_proxies)
