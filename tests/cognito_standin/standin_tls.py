"""Test certificates and the TLS server contexts the stand-in can present.

Everything is generated afresh on every start, so nothing secret is ever committed and a restarted stand-in
never presents a certificate from an earlier run. Clients are expected to trust only ca.pem.
"""

import datetime
import ipaddress
import os
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TLS_MODES = ("ok", "untrusted", "wrong_host", "expired")

# File stems (.pem certificate, .key private key) in the state directory, per TLS mode.
_MODE_FILES = {
    "ok": "server",
    "untrusted": "untrusted",
    "wrong_host": "wrong-host",
    "expired": "expired",
}


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "pam_passwordless tests"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


class _Authority:
    def __init__(self, common_name: str, now: datetime.datetime):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.name = _name(common_name)
        public = self.key.public_key()
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(self.name)
            .issuer_name(self.name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self.key, hashes.SHA256())
        )

    def issue(self, common_name: str, alt_names: list, not_before, not_after):
        key = ec.generate_private_key(ec.SECP256R1())
        public = key.public_key()
        # The extensions a strict verifier (OpenSSL's X509_STRICT) insists on for a server certificate.
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(self.name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                           critical=False)
            .sign(self.key, hashes.SHA256())
        )
        return cert, key


def _write(path: str, data: bytes, mode: int):
    # Created with the final mode (never briefly world-readable) and replaced atomically.
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _pem(cert) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def generate_certificates(state_dir: str) -> dict:
    """Writes ca.pem and one certificate + key per TLS mode; returns {mode: (cert_path, key_path)}."""
    now = datetime.datetime.now(datetime.timezone.utc)
    test_ca = _Authority("cognito stand-in test CA", now)
    other_ca = _Authority("cognito stand-in UNTRUSTED CA", now)
    loopback = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    valid_from, valid_to = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=7)

    issued = {
        "ok": test_ca.issue("127.0.0.1", loopback, valid_from, valid_to),
        "untrusted": other_ca.issue("127.0.0.1", loopback, valid_from, valid_to),
        "wrong_host": test_ca.issue("wrong-host.invalid", [x509.DNSName("wrong-host.invalid")],
                                    valid_from, valid_to),
        "expired": test_ca.issue("127.0.0.1", loopback, now - datetime.timedelta(days=10),
                                 now - datetime.timedelta(days=1)),
    }

    _write(os.path.join(state_dir, "ca.pem"), _pem(test_ca.cert), 0o644)
    paths = {}
    for mode, (cert, key) in issued.items():
        stem = os.path.join(state_dir, _MODE_FILES[mode])
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        _write(stem + ".key", key_pem, 0o600)
        _write(stem + ".pem", _pem(cert), 0o644)
        paths[mode] = (stem + ".pem", stem + ".key")
    return paths


def server_contexts(paths: dict) -> dict:
    """One server-side SSLContext per TLS mode, built once so that switching modes costs nothing."""
    contexts = {}
    for mode, (cert_path, key_path) in paths.items():
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert_path, key_path)
        contexts[mode] = context
    return contexts
