"""A throwaway certificate authority and signer for demos and tests of Content Credentials.

c2pa only accepts a signer certificate with a proper chain: an end-entity certificate (not self-signed, not a
CA) with the ``digitalSignature`` key usage and an extended key usage it allows (``emailProtection`` here),
issued by a CA certificate. This module makes such a pair with ``cryptography``. It is trusted by nobody:
signatures made with it read as ``Valid`` with ``signingCredential.untrusted`` unless the CA file it writes is
passed as ``Settings.extra_trust_anchors``. Never use it to publish.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["DEMO_CA_FILE", "make_demo_signer"]

DEMO_CA_FILE = "demo-ca.pem"


def make_demo_signer(
    directory: Path, *, organization: str = "CivicShield Demo", common_name: str = "CivicShield demo signer"
) -> tuple[Path, Path]:
    """A throwaway CA and an EC P-256 signer certificate that c2pa accepts, written into ``directory``.

    Returns ``(chain_pem_path, key_pem_path)``; the CA certificate is ``directory / DEMO_CA_FILE`` (pass it
    as extra trust anchors to see ``Trusted``). NOT trusted by anyone else and not for real publishing.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    signer_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(f"{organization} demo root CA (untrusted)", organization)
    ca = _certificate(ca_name, ca_name, ca_key.public_key(), ca_key, now, days=3650, ca=True)
    leaf = _certificate(
        _name(common_name, organization), ca_name, signer_key.public_key(), ca_key, now, days=365, ca=False
    )
    pem = serialization.Encoding.PEM
    chain_path, key_path = directory / "demo-chain.pem", directory / "demo-key.pem"
    chain_path.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    (directory / DEMO_CA_FILE).write_bytes(ca.public_bytes(pem))
    key_path.write_bytes(
        signer_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return chain_path, key_path


def _name(common_name: str, organization: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
        ]
    )


def _certificate(
    subject: x509.Name,
    issuer: x509.Name,
    public: ec.EllipticCurvePublicKey,
    issuer_key: ec.EllipticCurvePrivateKey,
    now: dt.datetime,
    *,
    days: int,
    ca: bool,
) -> x509.Certificate:
    """C2PA wants: digitalSignature for signers (keyCertSign for CAs), an accepted EKU, a proper chain."""
    usage = dict.fromkeys(
        (
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(
            x509.KeyUsage(digital_signature=not ca, key_cert_sign=ca, crl_sign=ca, **usage), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False
        )
    )
    if not ca:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())
