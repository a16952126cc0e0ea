"""Phishing e-mail aimed at protected people and bodies: read an ``.eml`` safely, and say what in it
impersonates them.

Reading (``read_email``, the standard library's parser with its modern policy) is bounded: the message size,
the total size of the headers, the number of parts and the depth of nested multiparts all have limits, and a
message over one is refused with ``UsageError`` naming it (a MIME bomb never reaches the parser's recursion).

What is checked (``assess``), against a ``Watchlist``:

* the sender's domains (``From``, ``Reply-To``, ``Return-Path``, ``Sender``) and every link in the text and
  HTML parts, for lookalikes of protected domains (``protection.domains``);
* the ``From`` display name, for a protected person's name on mail that does not come from a protected
  domain (display-name impersonation);
* the receiving server's verdicts in ``Authentication-Results`` (``dkim=``, ``spf=``, ``dmarc=``), reported
  as they are: a header anyone on the path could have added, so a failure supports but never makes a finding;
* the DKIM signature itself, verified with ``dkimpy`` when the caller supplies the signer's public keys (no
  DNS is queried: ``keys`` maps ``selector._domainkey.domain`` to the TXT record's text);
* attachments, listed with their type and size so the caller can analyze the media among them.

A message is ``phishing_suspected`` when a sender domain or a link is a lookalike, or a protected person's
name is displayed on mail from elsewhere. Nothing else accuses: a failed DKIM check alone is common on
forwarded mail.
"""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr

from civicshield.errors import UsageError
from civicshield.protection.domains import DomainCheck, Lookalikes
from civicshield.protection.links import hosts_in
from civicshield.protection.names import find_names
from civicshield.protection.watchlist import Watchlist
from civicshield.signals import Finding

__all__ = ["Attachment", "EmailFacts", "EmailLimits", "EmailVerdict", "assess", "read_email"]

SENDER_HEADERS = ("From", "Reply-To", "Return-Path", "Sender")
_AUTH = re.compile(r"\b(dkim|spf|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)


@dataclass(frozen=True)
class EmailLimits:
    max_bytes: int = 25 * 1024 * 1024
    max_header_bytes: int = 256 * 1024
    max_parts: int = 200
    max_depth: int = 8
    max_text_chars: int = 2_000_000


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class EmailFacts:
    subject: str
    display_name: str
    senders: tuple[tuple[str, str], ...]  # (header, domain)
    hosts: tuple[str, ...]  # of every link in the text and HTML parts
    authentication: tuple[tuple[str, str], ...]  # ("dkim", "fail") as the receiving server wrote them
    attachments: tuple[Attachment, ...]
    raw: bytes = field(repr=False)
    sender_address: str = ""  # From, lower-cased (where a reply goes)
    message_id: str = ""
    language: str = ""  # Content-Language, when the sender's program set it
    text: str = ""  # the first text part, bounded


@dataclass(frozen=True)
class EmailVerdict:
    label: str  # phishing_suspected | no_sign_found
    findings: tuple[Finding, ...]
    facts: EmailFacts

    @property
    def suspected(self) -> bool:
        return self.label == "phishing_suspected"


def read_email(data: bytes, limits: EmailLimits = EmailLimits()) -> EmailFacts:
    """The facts of one message; ``UsageError`` for anything that is not a message within ``limits``."""
    if len(data) > limits.max_bytes:
        raise UsageError(f"the message is larger than {limits.max_bytes // (1024 * 1024)} MB")
    head = data.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in data[: limits.max_header_bytes + 4] else None
    if head is None:
        head = data.split(b"\n\n", 1)[0]
    if len(head) > limits.max_header_bytes:
        raise UsageError(f"the message headers are larger than {limits.max_header_bytes // 1024} KB")
    _check_structure(data, limits)
    message = email.message_from_bytes(data, policy=email.policy.default)
    if not isinstance(message, EmailMessage) or not (message.keys()):
        raise UsageError("this is not an e-mail message (no headers)")
    display, _ = parseaddr(str(message.get("From", "")))
    senders = []
    for name in SENDER_HEADERS:
        for value in message.get_all(name, []) or []:
            for _, address in getaddresses([str(value)]):
                if "@" in address:
                    senders.append((name, address.rsplit("@", 1)[1].strip(" >").lower()))
    texts, attachments = _parts(message, limits)
    auth = [
        (method.lower(), result.lower())
        for value in message.get_all("Authentication-Results", []) or []
        for method, result in _AUTH.findall(str(value))
    ]
    return EmailFacts(
        subject=str(message.get("Subject", ""))[:500],
        display_name=display[:300],
        senders=tuple(dict.fromkeys(senders)),
        hosts=tuple(hosts_in(texts)),
        authentication=tuple(dict.fromkeys(auth)),
        attachments=tuple(attachments),
        raw=data,
        sender_address=parseaddr(str(message.get("From", "")))[1].strip().lower()[:300],
        message_id=str(message.get("Message-ID", "")).strip()[:300],
        language=_language(message),
        text=(texts[0] if texts else "")[:4000],
    )


def _language(message: EmailMessage) -> str:
    """``Content-Language`` of the message or of its first part that has one (a mail program that turns a
    message into ``multipart/mixed`` moves the header onto the text part)."""
    for part in (message, *message.iter_parts()) if message.is_multipart() else (message,):
        found = str(part.get("Content-Language", "")).split(",")[0].strip()
        if found:
            return found[:8]
    return ""


def _check_structure(data: bytes, limits: EmailLimits) -> None:
    """Count parts and nesting from the boundaries before parsing (the parser recurses without a bound)."""
    boundaries = re.findall(rb'(?i)boundary\s*=\s*"?([^";\r\n]{1,200})', data[: limits.max_bytes])
    if len(boundaries) > limits.max_depth * 4:
        raise UsageError(f"the message nests more than {limits.max_depth} multipart levels")
    parts = sum(data.count(b"\n--" + b) for b in set(boundaries))
    if parts > limits.max_parts * 2:
        raise UsageError(f"the message has more than {limits.max_parts} parts")


def _parts(message: Message, limits: EmailLimits, depth: int = 0) -> tuple[list[str], list[Attachment]]:
    if depth > limits.max_depth:
        raise UsageError(f"the message nests more than {limits.max_depth} multipart levels")
    texts: list[str] = []
    attachments: list[Attachment] = []
    if message.is_multipart():
        payload = message.get_payload()
        subparts = payload if isinstance(payload, list) else []
        if len(subparts) > limits.max_parts:
            raise UsageError(f"the message has more than {limits.max_parts} parts")
        for part in subparts:
            if not isinstance(part, Message):
                continue
            more_texts, more_attachments = _parts(part, limits, depth + 1)
            texts += more_texts
            attachments += more_attachments
            if len(attachments) > limits.max_parts:
                raise UsageError(f"the message has more than {limits.max_parts} parts")
        return texts, attachments
    content_type = message.get_content_type()
    filename = message.get_filename()
    data = message.get_payload(decode=True)
    body = data if isinstance(data, bytes) else b""
    if filename or not content_type.startswith("text/"):
        attachments.append(Attachment(str(filename or "attachment"), content_type, body))
    else:
        charset = message.get_content_charset() or "utf-8"
        try:
            text = body.decode(charset, errors="replace")
        except LookupError:
            text = body.decode("utf-8", errors="replace")
        texts.append(text[: limits.max_text_chars])
    return texts, attachments


def dkim_result(facts: EmailFacts, keys: Mapping[str, str]) -> str | None:
    """``pass`` or ``fail`` for the message's DKIM signature with the supplied public keys (TXT texts by
    ``selector._domainkey.domain``); ``None`` when it is unsigned or its signer's key was not supplied."""
    import dkim

    if b"dkim-signature" not in facts.raw[:262_144].lower():
        return None
    wanted: list[str] = []

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        key = name.decode("ascii", "replace").rstrip(".").lower()
        wanted.append(key)
        text = keys.get(key)
        return text.encode() if text is not None else None

    try:
        ok = dkim.verify(facts.raw, dnsfunc=lookup)
    except dkim.DKIMException:
        ok = False
    if not ok and wanted and not any(k in keys for k in wanted):
        return None
    return "pass" if ok else "fail"


def assess(
    facts: EmailFacts, watchlist: Watchlist, lookalikes: Lookalikes | None = None, dkim: str | None = None
) -> EmailVerdict:
    """What in the message impersonates the watchlist's people and domains (see the module's rules)."""
    lookalikes = lookalikes or Lookalikes(watchlist.domains)
    findings: list[Finding] = []
    official_sender = False
    for header, domain in facts.senders:
        check = lookalikes.check(domain)
        if check is None:
            continue
        if check.kind == "official":
            official_sender = official_sender or header == "From"
        else:
            findings.append(Finding("phishing.lookalike_sender", f"{header} is {domain}, {_imitates(check)}"))
    for host in facts.hosts:
        check = lookalikes.check(host)
        if check is not None and check.kind == "lookalike":
            findings.append(Finding("phishing.lookalike_link", f"a link goes to {host}, {_imitates(check)}"))
    named = find_names(watchlist.people, [("From display name", facts.display_name)])
    from_domains = [d for h, d in facts.senders if h == "From"]
    if named and not official_sender:
        sender = from_domains[0] if from_domains else "an unknown domain"
        for hit in named:
            findings.append(
                Finding(
                    "phishing.display_name",
                    f"the sender calls itself {facts.display_name!r}, naming protected person "
                    f"{hit.person.name}, but writes from {sender}",
                )
            )
    failed = sorted({method for method, result in facts.authentication if result in {"fail", "softfail"}})
    if failed:
        findings.append(
            Finding(
                "phishing.authentication_failed",
                f"the receiving server recorded failed {', '.join(failed)} checks (Authentication-Results)",
            )
        )
    if dkim == "fail":
        findings.append(
            Finding("phishing.dkim_invalid", "the DKIM signature does not verify with the given key")
        )
    decisive = {"phishing.lookalike_sender", "phishing.lookalike_link", "phishing.display_name"}
    label = "phishing_suspected" if any(f.code in decisive for f in findings) else "no_sign_found"
    return EmailVerdict(label, tuple(findings), facts)


def _imitates(check: DomainCheck) -> str:
    owner = f" ({check.protected.organization})" if check.protected.organization else ""
    return f"a lookalike of the protected domain {check.protected.name}{owner}: {check.how.replace('-', ' ')}"
