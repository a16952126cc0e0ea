"""A verifiable public log of what the coalition banked and published (issue 15): an append-only Merkle log
in the style of Certificate Transparency (RFC 9162), signed tree heads, and a verifier that checks a copy of
the log without trusting the server that served it."""

from civicshield.transparency.log import LogEntry, SignedHead, entry_bytes, head_message
from civicshield.transparency.verify import Verification, verify_copy

__all__ = ["LogEntry", "SignedHead", "Verification", "entry_bytes", "head_message", "verify_copy"]
