"""TLS for a search whose chief listens beyond loopback (``search(..., listen=...)``).

The chief makes a fresh key and a self-signed certificate for each search
(:func:`make_certificate`, with the ``cryptography`` package) and serves gRPC over TLS with
it. The join command carries the certificate's SHA-256 fingerprint, not the certificate: a
worker first reads the certificate the chief presents (:func:`fetch_certificate`), refuses the
chief if its fingerprint is not the one it was given, and only then opens a TLS channel that
trusts that certificate alone, so the token and every trial travel only inside TLS, to the
chief the join command named. A search on loopback only (no ``listen``) stays plain.

This module imports ``cryptography`` and ``grpc`` only when called.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ssl
from typing import Any

#: The name the certificate is made out to; a worker checks the chief's certificate against
#: it (the fingerprint, not a host name, is what identifies the chief).
SERVER_NAME = "automl-nb-chief"
FINGERPRINT_PREFIX = "SHA256:"
VALID_DAYS = 30


def make_certificate() -> tuple[bytes, bytes]:
    """A new EC P-256 key and a self-signed certificate for :data:`SERVER_NAME`, as PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def fingerprint(cert_pem: bytes | str) -> str:
    """``SHA256:`` and the hex digest of the certificate's DER bytes."""
    text = cert_pem.decode() if isinstance(cert_pem, bytes) else cert_pem
    return FINGERPRINT_PREFIX + hashlib.sha256(ssl.PEM_cert_to_DER_cert(text)).hexdigest()


def same_fingerprint(a: str, b: str) -> bool:
    def norm(f: str) -> str:
        f = f.strip()
        if f.upper().startswith(FINGERPRINT_PREFIX):
            f = f[len(FINGERPRINT_PREFIX):]
        return f.replace(":", "").lower()

    return hmac.compare_digest(norm(a), norm(b))


def fetch_certificate(host: str, port: int, timeout: float = 10.0) -> bytes:
    """The certificate the server at ``host:port`` presents (not verified: the caller
    compares its fingerprint). Raises OSError when nothing answers in TLS there."""
    pem = ssl.get_server_certificate((host, port), timeout=timeout)
    return pem.encode()


def server_credentials(key_pem: bytes, cert_pem: bytes) -> Any:
    import grpc

    return grpc.ssl_server_credentials([(key_pem, cert_pem)])


def secure_channel(address: str, cert_pem: bytes) -> Any:
    """A gRPC channel to ``address`` that trusts ``cert_pem`` alone."""
    import grpc

    credentials = grpc.ssl_channel_credentials(root_certificates=cert_pem)
    return grpc.secure_channel(address, credentials,
                               options=[("grpc.ssl_target_name_override", SERVER_NAME)])
