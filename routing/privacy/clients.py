"""Who a client is for the per-address rate limits: a keyed pseudonym of its network, never its address.

Every per-address limit (callback intake, withdrawal, status reads without a key, login, partner links)
counts by `rate_limit_id`, so they all agree and no address reaches a Redis key or a log line.
An IPv4 client counts by its full address, an IPv6 client by its /64 prefix (one subscriber gets a whole
/64, so counting single IPv6 addresses would give one attacker 2^64 of them), an IPv4-mapped IPv6 address
(::ffff:203.0.113.8, a dual-stack socket) as the IPv4 address it carries. The callback intake counts a
network many citizens share (CALLBACK_SHARED_NETWORKS: a town hall) as one client of its own (`shared_network`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from routing.privacy import crypto

IPV6_PREFIX = 64
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def network(address: str | None) -> str:
    """The part of an address a limit counts: an IPv4 address itself, an IPv6 address's /64. Text that is
    no IP address (a unix socket, nothing) is counted as it is."""
    ip = _ip(address)
    if ip is None:
        return (address or "").strip() or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, IPV6_PREFIX), strict=False))
    return str(ip)


def shared_network(address: str | None, networks: Iterable[IPNetwork]) -> IPNetwork | None:
    """The first of `networks` that holds `address`."""
    ip = _ip(address)
    if ip is None:
        return None
    return next((net for net in networks if ip.version == net.version and ip in net), None)


def _ip(address: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address without an IPv6 zone ("fe80::1%eth0"); an IPv4-mapped IPv6 address as the IPv4 address it
    carries; None for text that is no IP address."""
    try:
        ip = ipaddress.ip_address((address or "").strip().split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def rate_limit_id(address: str | None) -> str:
    """The client's rate-limit identity: the keyed pseudonym of its `network`."""
    return crypto.pseudonym_key("client", network(address))


def current_rate_limit_id() -> str:
    """`rate_limit_id` of the current request's client (its address after ProxyFix, TRUSTED_PROXY_HOPS)."""
    from flask import request

    return rate_limit_id(request.remote_addr)
