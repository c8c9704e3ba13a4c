"""Where we may send a webhook: https to public addresses only, unless development says otherwise.

A partner-supplied URL must not let a caller make this server reach its own
network (SSRF): loopback, private, link-local (cloud metadata at 169.254.169.254),
multicast and reserved addresses are refused, after resolving the host name, both
when an endpoint is registered and again before every delivery. IPv6 transition
addresses are refused whatever they embed: 6to4 (2002::/16, RFC 7526 deprecates it)
and Teredo (2001::/32) both carry an IPv4 address a relay would reach for us, such
as 169.254.169.254 inside ``2002:a9fe:a9fe::1``.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from agency.errors import InvalidInput


class UnsafeUrl(InvalidInput):
    code = "unsafe_webhook_url"


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.sixtofour is not None or ip.teredo is not None:
            return False
        if ip.ipv4_mapped:
            ip = ip.ipv4_mapped
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_link_local)


def check_url(url: str, *, allow_private: bool, resolve: bool = True) -> str | None:
    """Raise UnsafeUrl (422 on ``url``) unless the URL is one we may POST to.

    Returns the checked public address to connect to (so that a second DNS answer cannot
    swap in a private one: DNS rebinding), or None when not resolving or private
    addresses are allowed (development).
    """
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError when out of 0..65535 or not a number
    except ValueError:
        raise UnsafeUrl(errors={"url": ["Not a valid URL (check the host and port)."]}) from None
    if port == 0:
        raise UnsafeUrl(errors={"url": ["Port 0 is not a port we can connect to."]})
    allowed_schemes = {"https", "http"} if allow_private else {"https"}
    if parts.scheme not in allowed_schemes or not parts.hostname:
        raise UnsafeUrl(errors={"url": ["Use an https:// URL with a host name."]})
    if parts.username or parts.password:
        raise UnsafeUrl(errors={"url": ["Credentials in the URL are not allowed."]})
    if allow_private or not resolve:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise UnsafeUrl(errors={"url": ["The host name does not resolve."]}) from None
    addresses = [str(info[4][0]) for info in infos]
    if not addresses or not all(_is_public(address) for address in addresses):
        raise UnsafeUrl(errors={"url": ["The host resolves to a private or reserved address."]})
    return addresses[0]
