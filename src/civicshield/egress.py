"""Where the tool may connect: public addresses only, unless the operator allows some networks.

Two things reach out, both only when someone configured them: the service's webhooks, and (opt-in) the
fetching of Content Credentials stored remotely (``provenance.remote``). Both go through this guard.

A subscriber chooses the URL and the service POSTs to it from inside the operator's network. Without a check,
``http://127.0.0.1:6379/``, ``http://10.0.0.5/admin`` or the cloud metadata address ``169.254.169.254`` turn
webhooks into a way to reach internal services (server-side request forgery). So every address that is not
public is refused: loopback, private (RFC 1918, unique-local ``fc00::/7``), shared (``100.64.0.0/10``),
link-local (``169.254.0.0/16``, ``fe80::/10``), site-local, multicast, unspecified, documentation and
reserved ranges, and IPv4 addresses of those kinds inside IPv6 (``::ffff:10.0.0.1``, 6to4, NAT64). An
operator whose receivers live on an internal network lists those networks in
``ServiceSettings.webhook_allowed_networks`` (``CIVICSHIELD_WEBHOOK_ALLOWED_NETWORKS``, comma-separated
CIDRs); nothing else opens the check.

It runs twice. When a subscription is created or its URL changed (`EgressPolicy.check_url`): an IP literal, or
every address the name resolves to then, and a refusal is a ``UsageError`` (400). A name that does not resolve
yet is accepted: the second check decides. That one holds: each delivery's TCP connection goes through
`GuardedBackend`, which resolves the name, refuses unless every address is allowed, and connects to the very
address it checked, so a name that resolved to a public address at subscription and to a private one later
(DNS rebinding) reaches nothing. TLS still checks the certificate against the name in the URL.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

from civicshield.errors import ConfigurationError, RemoteFetchFailed, UsageError

__all__ = [
    "LOOPBACK",
    "AddressNotAllowed",
    "EgressPolicy",
    "GuardedBackend",
    "GuardedClient",
    "GuardedTransport",
    "refusal",
    "resolve",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]

#: The loopback networks, for a demo or tests whose receivers listen on this machine.
LOOPBACK = ("127.0.0.0/8", "::1/128")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class AddressNotAllowed(UsageError):
    """A webhook URL that names, or resolves to, an address webhooks may not reach."""

    def __init__(self, host: str, address: str, kind: str) -> None:
        shown = host if host == address else f"{host} ({address})"
        super().__init__(
            f"webhooks may not be sent to {shown}: a {kind} address (an operator can allow internal "
            "receivers with CIVICSHIELD_WEBHOOK_ALLOWED_NETWORKS)",
            detail={"reason": "address_not_allowed", "host": host, "address": address, "kind": kind},
        )


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to for a TCP connection, in the resolver's order, without repeats."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except UnicodeError as exc:  # a label IDNA cannot encode: no DNS name at all
        raise OSError(f"{host!r} is not a resolvable name") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal(address: IPAddress) -> str | None:
    """Why webhooks may not go to ``address`` (``"loopback"``, ``"private"``, ...), or None when it is public.

    >>> refusal(ipaddress.ip_address("169.254.169.254")), refusal(ipaddress.ip_address("::ffff:10.0.0.1"))
    ('link-local', 'private')
    >>> refusal(ipaddress.ip_address("93.184.215.14")) is None
    True
    """
    if isinstance(address, ipaddress.IPv6Address):
        inner = _embedded_ipv4(address)
        if inner is not None:
            return refusal(inner)
        if address.is_site_local:
            return "site-local"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("non-public", not address.is_global),
    )
    return next((kind for kind, hit in checks if hit), None)


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True)
class EgressPolicy:
    """Which addresses webhooks may reach: public ones, plus those in ``allowed``. ``resolver`` is the DNS
    lookup (a seam: tests give a name one address at subscription and another at delivery)."""

    allowed: tuple[Network, ...] = ()
    resolver: Resolver = resolve

    @classmethod
    def parse(cls, networks: Iterable[str], resolver: Resolver = resolve) -> EgressPolicy:
        """From CIDR strings (``"10.20.0.0/16"``, ``"::1/128"``, a bare address); a bad one fails loudly."""
        out = []
        for text in networks:
            try:
                out.append(ipaddress.ip_network(text.strip(), strict=False))
            except ValueError as exc:
                raise ConfigurationError(
                    f"CIVICSHIELD_WEBHOOK_ALLOWED_NETWORKS: {text!r} is not a network (e.g. 10.20.0.0/16)"
                ) from exc
        return cls(tuple(out), resolver)

    def refused(self, address: IPAddress) -> str | None:
        """Why ``address`` is refused under this policy, or None."""
        forms: list[IPAddress] = [address]
        if isinstance(address, ipaddress.IPv6Address) and (inner := _embedded_ipv4(address)) is not None:
            forms.append(inner)
        if any(form in net for form in forms for net in self.allowed):
            return None
        return refusal(address)

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for ``host``, all of them allowed; ``AddressNotAllowed`` when any is
        not (a name that resolves to a mix is refused whole). DNS failures raise ``OSError``."""
        literal = _literal(host)
        found = [str(literal)] if literal is not None else list(self.resolver(host, port))
        if not found:
            raise OSError(f"{host} has no address")
        for text in found:
            kind = self.refused(ipaddress.ip_address(text))
            if kind is not None:
                raise AddressNotAllowed(host, text, kind)
        return found

    def check_url(self, url: str) -> None:
        """The check at subscription: an IP literal, or the addresses the name resolves to now."""
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii")  # the IDNA form, which is what gets resolved
        try:
            self.addresses(host, parsed.port or (443 if parsed.scheme == "https" else 80))
        except OSError:  # does not resolve (yet): every delivery checks again
            return


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend that connects only to addresses the policy allows, and to exactly those."""

    def __init__(self, policy: EgressPolicy) -> None:
        self.policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self.policy.addresses(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"{host}: {exc}") from exc
        failure: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        raise failure or httpcore.ConnectError(f"{host}: no address")


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over `GuardedBackend`. httpx has no public hook for httpcore's network backend, so
    the connection pool is rebuilt with it (same limits as httpx's defaults; no proxy, no environment)."""

    def __init__(self, policy: EgressPolicy) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(policy),
        )


class GuardedClient:
    """Bounded requests through the guard, for the library's own outgoing calls (tipline platforms, partners'
    TAXII collections): no redirects, no proxy or ``.netrc`` from the environment, at most ``max_bytes`` read,
    and every failure a ``RemoteFetchFailed`` saying what was being fetched."""

    def __init__(
        self,
        networks: Iterable[str] = (),
        *,
        headers: Mapping[str, str] | None = None,
        timeout_s: float = 20.0,
        max_bytes: int = 25 * 1024 * 1024,
    ) -> None:
        self.policy = EgressPolicy.parse(networks)
        self.headers = dict(headers or {})
        self.timeout_s, self.max_bytes = timeout_s, max_bytes

    def fetch(self, method: str, url: str, *, what: str, **kwargs: Any) -> tuple[bytes, str]:
        """The body and ``Content-Type`` of a 2xx answer."""
        try:
            with (
                httpx.Client(
                    transport=GuardedTransport(self.policy),
                    timeout=self.timeout_s,
                    follow_redirects=False,
                    trust_env=False,
                    headers=self.headers,
                ) as client,
                client.stream(method, url, **kwargs) as response,
            ):
                if response.status_code >= 300:
                    raise RemoteFetchFailed(f"{what}: HTTP {response.status_code}")
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise RemoteFetchFailed(f"{what}: larger than {self.max_bytes} bytes")
                return bytes(body), response.headers.get("content-type", "").lower()
        except AddressNotAllowed as exc:
            raise RemoteFetchFailed(f"{what}: {exc.message}") from exc
        except httpx.HTTPError as exc:
            raise RemoteFetchFailed(f"{what}: {type(exc).__name__}") from exc

    def json(self, method: str, url: str, *, what: str, **kwargs: Any) -> dict[str, Any]:
        """A 2xx answer that must be a JSON object."""
        try:
            value = json.loads(self.fetch(method, url, what=what, **kwargs)[0])
        except ValueError as exc:
            raise RemoteFetchFailed(f"{what}: the answer is not JSON") from exc
        if not isinstance(value, dict):
            raise RemoteFetchFailed(f"{what}: the answer is not a JSON object")
        return value
