"""Link health and internal addresses: with `GOVWX_LINK_CHECK_PRIVATE` off a link to an
internal or local address is broken and never requested, at the first host and at every
redirect; each host is resolved once and the connection goes to the address checked.

The servers are real, on 127.0.0.1. Names under `.test` are answered by a stand-in for
`links.resolve` (our own seam: no DNS query leaves the machine), and where the local
server must play a public site, `is_internal` is told that 127.0.0.1 is public — the
classifier itself is tested on its own table of addresses.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from govwx.services import links
from govwx.services.links import is_internal, probe


def internal(address: str) -> str:
    return (
        f"指向内网或本机地址（{address}），群众无法访问，未检查 / "
        f"points to an internal address ({address}) that citizens cannot reach: not checked"
    )


class Recorder(BaseHTTPRequestHandler):
    """/ok 200, /nohead (HEAD 405, GET 200), /to/<url> a 302 to <url>; every request is
    recorded as (method, path, Host header)."""

    seen: list[tuple[str, str, str]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _answer(self, method: str) -> None:
        Recorder.seen.append((method, self.path, self.headers.get("Host", "")))
        status, location = 200, ""
        if self.path == "/nohead" and method == "HEAD":
            status = 405
        elif self.path.startswith("/to/"):
            status, location = 302, self.path[4:]
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer("HEAD")

    def do_GET(self) -> None:  # noqa: N802
        self._answer("GET")


def serve(tls: ssl.SSLContext | None = None) -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    Recorder.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def port(settings: Any) -> Iterator[int]:
    settings.GOVWX_LINK_TIMEOUT = 2
    yield from serve()


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`links.resolve` answering for .test names; literal addresses are themselves and
    any other name fails (no DNS query in the tests). Returns the hosts looked up."""
    names = {
        "site.test": ["127.0.0.1"],
        "twofaced.test": ["127.0.0.1", "10.0.0.5"],
        "internal.test": ["10.0.0.5"],
        "other.test": ["127.0.0.1"],
    }
    calls: list[str] = []

    def resolve(host: str) -> list[str]:
        calls.append(host)
        if host in names:
            return names[host]
        try:
            return [str(ipaddress.ip_address(host))]
        except ValueError:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None

    monkeypatch.setattr(links, "resolve", resolve)
    return calls


@pytest.fixture
def public_stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local server plays a public site: 127.0.0.1 counts as public, nothing else
    changes."""
    real: Callable[[str], bool] = links.is_internal
    monkeypatch.setattr(links, "is_internal", lambda a: a != "127.0.0.1" and real(a))


# ------------------------------------------------------------------ the classifier


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.5",
        "172.16.0.1",
        "172.31.255.254",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "127.0.0.1",
        "127.8.9.10",
        "100.64.0.1",  # shared address space (carrier NAT)
        "0.0.0.0",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fe80::1%eth0",
        "fc00::1",
        "fd12:3456::1",
        "fec0::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.5",
        "::ffff:8.8.8.8",  # an IPv4-mapped address is never a public host's AAAA
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "64:ff9b::a00:5",  # NAT64 of 10.0.0.5
    ],
)
def test_internal_and_local_addresses_are_refused(address: str) -> None:
    assert is_internal(address) is True


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "223.5.5.5", "2001:4860:4860::8888", "2400:3200::1"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_internal(address) is False


# ------------------------------------------------------------------ setting off


@pytest.mark.parametrize("host", ["127.0.0.1", "[::ffff:127.0.0.1]"])
def test_with_the_setting_off_a_link_to_this_host_is_broken_and_never_requested(
    port: int, settings: Any, host: str
) -> None:
    settings.GOVWX_LINK_CHECK_PRIVATE = False
    result = probe(f"http://{host}:{port}/ok")
    assert (result.ok, result.status, result.error) == (False, None, internal(host.strip("[]")))
    assert len(Recorder.seen) == 0


def test_a_name_with_any_internal_address_is_refused_without_a_request(
    port: int, settings: Any, lookups: list[str], public_stand_in: None
) -> None:
    settings.GOVWX_LINK_CHECK_PRIVATE = False
    result = probe(f"http://twofaced.test:{port}/ok")
    assert (result.ok, result.status, result.error) == (False, None, internal("10.0.0.5"))
    assert Recorder.seen == []


def test_the_public_stand_in_is_checked_with_the_setting_off(
    port: int, settings: Any, lookups: list[str], public_stand_in: None
) -> None:
    settings.GOVWX_LINK_CHECK_PRIVATE = False
    result = probe(f"http://site.test:{port}/ok")
    assert (result.ok, result.status, result.error) == (True, 200, "")
    assert Recorder.seen == [("HEAD", "/ok", f"site.test:{port}")]


@pytest.mark.parametrize(
    ("location", "address"),
    [
        ("http://internal.test/admin", "10.0.0.5"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("https://[::1]/", "::1"),
    ],
)
def test_a_redirect_to_an_internal_address_is_refused_at_the_hop(
    port: int,
    settings: Any,
    lookups: list[str],
    public_stand_in: None,
    location: str,
    address: str,
) -> None:
    settings.GOVWX_LINK_CHECK_PRIVATE = False
    result = probe(f"http://site.test:{port}/to/{location}")
    assert (result.ok, result.status, result.error) == (False, 302, internal(address))
    assert Recorder.seen == [("HEAD", f"/to/{location}", f"site.test:{port}")]
    host = location.split("/")[2].strip("[]")
    assert lookups == ["site.test", host]


# ------------------------------------------------------------------ setting on, pinning


def test_with_the_setting_on_internal_addresses_are_checked(port: int, settings: Any) -> None:
    settings.GOVWX_LINK_CHECK_PRIVATE = True
    result = probe(f"http://127.0.0.1:{port}/ok")
    assert (result.ok, result.status, result.error) == (True, 200, "")
    assert Recorder.seen == [("HEAD", "/ok", f"127.0.0.1:{port}")]


def test_the_request_goes_to_the_address_looked_up_once_with_the_urls_host(
    port: int, settings: Any, lookups: list[str]
) -> None:
    settings.GOVWX_LINK_CHECK_PRIVATE = True
    result = probe(f"http://site.test:{port}/nohead")
    assert (result.ok, result.status, result.error) == (True, 200, "")
    host = f"site.test:{port}"
    assert Recorder.seen == [("HEAD", "/nohead", host), ("GET", "/nohead", host)]
    assert lookups == ["site.test"]  # HEAD and GET went to the one answer


def test_each_redirect_hop_is_looked_up_once(port: int, settings: Any, lookups: list[str]) -> None:
    settings.GOVWX_LINK_CHECK_PRIVATE = True
    result = probe(f"http://site.test:{port}/to/http://other.test:{port}/ok")
    assert (result.ok, result.status, result.error) == (True, 200, "")
    assert Recorder.seen == [
        ("HEAD", f"/to/http://other.test:{port}/ok", f"site.test:{port}"),
        ("HEAD", "/ok", f"other.test:{port}"),
    ]
    assert lookups == ["site.test", "other.test"]


def test_a_path_outside_ascii_is_sent_percent_encoded(port: int, settings: Any) -> None:
    settings.GOVWX_LINK_CHECK_PRIVATE = True
    result = probe(f"http://127.0.0.1:{port}/办事指南?项目=公积金&x=%20")
    assert (result.ok, result.status) == (True, 200)
    assert Recorder.seen == [
        (
            "HEAD",
            "/%E5%8A%9E%E4%BA%8B%E6%8C%87%E5%8D%97?%E9%A1%B9%E7%9B%AE=%E5%85%AC%E7%A7%AF%E9%87%91&x=%20",
            f"127.0.0.1:{port}",
        )
    ]


def test_an_unknown_name_is_a_dns_failure(settings: Any, lookups: list[str]) -> None:
    result = probe("http://nowhere.invalid/")
    assert (result.ok, result.status, result.error) == (
        False,
        None,
        "域名解析失败 / DNS lookup failed: Name or service not known",
    )


# ------------------------------------------------------------------ TLS to the pinned address


def _certificates(tmp: Path) -> tuple[Path, Path, Path]:
    """A CA (its PEM is the trust store) and a certificate for site.test it signed."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "govwx test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "site.test")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("site.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem, cert_pem, key_pem = tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_pem, cert_pem, key_pem


@pytest.fixture
def tls_port(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    settings.GOVWX_LINK_TIMEOUT = 2
    settings.GOVWX_LINK_CHECK_PRIVATE = True
    ca, cert, key = _certificates(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))  # the default context trusts the test CA
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    yield from serve(context)


def test_https_reaches_the_pinned_address_with_the_certificate_checked_for_the_name(
    tls_port: int, lookups: list[str]
) -> None:
    result = probe(f"https://site.test:{tls_port}/ok")
    assert (result.ok, result.status, result.error) == (True, 200, "")
    assert Recorder.seen == [("HEAD", "/ok", f"site.test:{tls_port}")]


def test_https_to_a_name_the_certificate_is_not_for_is_refused(
    tls_port: int, lookups: list[str]
) -> None:
    result = probe(f"https://other.test:{tls_port}/ok")  # the same server, another name
    assert (result.ok, result.status, result.error) == (
        False,
        None,
        "TLS 证书无效 / TLS certificate invalid: "
        "Hostname mismatch, certificate is not valid for 'other.test'.",
    )
    assert Recorder.seen == []
