"""Webhook calls: GitHub's signature scheme, and targets restricted so that rules cannot
reach internal services.

A target's host must resolve only to public addresses, unless the host (or one of its
addresses) is listed in WEBHOOK_ALLOWED_HOSTS; the connection then goes to the address that
was checked, never to a second lookup (a name that resolves to a public address when checked
and to 127.0.0.1 when called would otherwise get through).
"""

import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from core.errors import InvalidInput

SIGNATURE_HEADER = "X-Signature-256"


def webhook_signature(body: bytes, secret: str) -> str:
    """`sha256=` and the hex HMAC-SHA256 of the body with the secret (GitHub's scheme)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]  # the checked addresses, tried in turn


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _internal(address: str) -> bool:
    """Not a public address, or an IPv6 one that carries an IPv4 address that is not
    (IPv4-mapped, 6to4, NAT64)."""
    ip = ipaddress.ip_address(address)
    if not ip.is_global or ip.is_reserved or getattr(ip, "is_site_local", False):
        return True
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        return embedded is not None and not embedded.is_global
    return False


def _allowed(host: str, address: str) -> bool:
    allowed = {entry.lower() for entry in settings.WEBHOOK_ALLOWED_HOSTS}
    return "*" in allowed or host.lower() in allowed or address in allowed


def webhook_target(url: str, *, unresolved_ok: bool = False) -> Target | None:
    """The URL's target, checked: http(s) only, and no private, loopback, link-local or
    otherwise internal address unless WEBHOOK_ALLOWED_HOSTS lists it (InvalidInput if not).
    A host that does not resolve is refused too, or with `unresolved_ok` (a rule being saved:
    each delivery checks again) gives None."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput({"webhook_url": ["Must be an http or https URL."]})
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidInput({"webhook_url": ["The port must be 1 to 65535."]}) from None
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        if unresolved_ok:
            return None
        raise InvalidInput({"webhook_url": [f"{parts.hostname} does not resolve."]}) from None
    addresses = tuple(dict.fromkeys(info[4][0] for info in found))  # the resolver's order
    for address in addresses:
        if _internal(address) and not _allowed(parts.hostname, address):
            raise InvalidInput(
                {
                    "webhook_url": [
                        f"{parts.hostname} resolves to {address}, an internal address; list "
                        "it in WEBHOOK_ALLOWED_HOSTS to allow it."
                    ]
                }
            )
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, parts.hostname, port, path, addresses)


def _connected(target: Target, timeout: float) -> socket.socket:
    """A connection to the first of the checked addresses that answers."""
    failure: OSError | None = None
    for address in target.addresses:
        try:
            return socket.create_connection((address, target.port), timeout)
        except OSError as error:
            failure = error
    raise failure or OSError("no address")


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._target = target

    def connect(self) -> None:
        self.sock = _connected(self._target, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self._tls)
        self._target = target

    def connect(self) -> None:
        sock = _connected(self._target, self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def webhook_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST the body; the response's status code. Raises InvalidInput for a refused target,
    OSError (timeouts included) for a failed connection and HTTPException for an answer
    that is not HTTP."""
    target = webhook_target(url)
    connection_class = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(target, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "SprocketFactory-Webhook/1",
                **headers,
            },
        )
        response = connection.getresponse()
        response.read(65536)
        return response.status
    finally:
        connection.close()
