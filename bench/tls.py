"""A throwaway CA and a loopback server certificate, so the bench measures real TLS.

Clients trust the CA through `SSL_CERT_FILE` (httpx, the standard library) and
`REQUESTS_CA_BUNDLE` (requests, which ignores the former). The bundle that names is certifi's
public bundle *plus* the throwaway CA, so every client pays the CA-bundle load users pay.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = ("127.0.0.1", "::1")


@dataclass(frozen=True)
class Certs:
    ca: Path  # the throwaway CA certificate alone
    cert: Path  # server certificate for 127.0.0.1, ::1 and localhost
    key: Path  # its private key
    bundle: Path  # public CA bundle + the throwaway CA: what clients are told to trust


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_certs(directory: Path, public_bundle: Path | None) -> Certs:
    """Write a CA (ECDSA P-256, one day) and a server certificate it signed into `directory`."""
    now = datetime.datetime.now(datetime.timezone.utc)
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=1)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("predev-bench throwaway CA"))
        .issuer_name(_name("predev-bench throwaway CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in LOOPBACK]
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = ca_cert.public_bytes(serialization.Encoding.PEM)
    certs = Certs(
        directory / "ca.pem", directory / "server.pem", directory / "server-key.pem",
        directory / "bundle.pem",
    )  # fmt: skip
    certs.ca.write_bytes(ca_pem)
    certs.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    certs.key.write_bytes(_pem_key(key))
    certs.key.chmod(0o600)
    public = public_bundle.read_bytes() if public_bundle is not None else b""
    certs.bundle.write_bytes(public.rstrip(b"\n") + b"\n" + ca_pem if public else ca_pem)
    return certs
