"""The production environment of docs/deploy.md, read from the document itself so that the
two stay equal: `govwx check --deploy` reports nothing with it, and `govwx serve` started
with it behind a (simulated) TLS-ending proxy treats a request that comes with the proxy
header as HTTPS — secure cookies, HSTS, CSRF accepted from the trusted origin and refused
from another — and redirects one that does not."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest

from govwx.lib import keyfile

DEPLOY_MD = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"
MARKER = "<!-- production environment: read by govwx/tests/test_deploy.py -->"


def documented_environment() -> dict[str, str]:
    """The env block that follows the marker in docs/deploy.md."""
    text = DEPLOY_MD.read_text()
    after = text.split(MARKER, 1)[1]
    block = re.search(r"```sh\n(.*?)```", after, re.S)
    assert block is not None, "docs/deploy.md: no ```sh block after the marker"
    env = {}
    for line in block.group(1).splitlines():
        if line.strip() and not line.startswith("#"):
            name, value = line.split("=", 1)
            env[name] = value
    return env


def govwx(
    env: dict[str, str], *args: str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "govwx", *args],
        env={"PATH": os.environ["PATH"], **env},
        cwd=env["GOVWX_DATA_DIR"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def production_env(tmp_path: Path) -> dict[str, str]:
    env = documented_environment()
    assert env["GOVWX_PROXY_SSL_HEADER"] == "X-Forwarded-Proto"
    assert "GOVWX_SECRET_KEY" not in env  # the key file, made on the first start
    env["GOVWX_DATA_DIR"] = str(tmp_path)  # instead of /var/lib/govwx
    keyfile.load_or_create(tmp_path)
    return env


def test_the_documented_environment_passes_the_deployment_checks(
    production_env: dict[str, str],
) -> None:
    r = govwx(production_env, "check", "--deploy")
    assert (r.returncode, r.stdout, r.stderr) == (
        0,
        "System check identified no issues (0 silenced).\n",
        "",
    )


def test_without_it_the_deployment_checks_say_what_is_missing(tmp_path: Path) -> None:
    r = govwx({"GOVWX_DATA_DIR": str(tmp_path)}, "check", "--deploy")
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in r.stderr  # HSTS, the redirect, the two cookies


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(production_env: dict[str, str], tmp_path: Path) -> Iterator[int]:
    """`govwx serve` with the documented environment, on a SQLite file instead of the
    documented PostgreSQL (the HTTPS handling is the same), with a user to log in."""
    env = {**production_env, "GOVWX_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env.pop("GOVWX_REDIS_URL")
    assert govwx(env, "migrate", "--noinput").returncode == 0
    made = govwx(
        {**env, "DJANGO_SUPERUSER_PASSWORD": "a-long-password-1"},
        "createsuperuser", "--noinput", "--username", "boss", "--email", "boss@example.gov.cn",
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "govwx", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--no-task-worker"],
        env={"PATH": os.environ["PATH"], **env},
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


HOST = "wx.example.gov.cn"
ORIGIN = f"https://{HOST}"


def request(
    port: int, method: str, path: str, headers: dict[str, str], body: str = ""
) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=body or None, headers={"Host": HOST, **headers})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def cookies(response: http.client.HTTPResponse) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return jar


def test_a_request_through_the_proxy_header_is_https(served: int) -> None:
    port = served
    # no proxy header: plain HTTP, sent to HTTPS
    r = request(port, "GET", "/login/", {})
    assert (r.status, r.headers["Location"]) == (301, f"{ORIGIN}/login/")

    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"}
    r = request(port, "GET", "/login/", proxied)
    assert r.status == 200
    assert r.headers["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )
    csrf = cookies(r)["csrftoken"]
    assert csrf["secure"] is True
    token = csrf.value
    form = urlencode({"username": "boss", "password": "a-long-password-1",
                      "csrfmiddlewaretoken": token})  # fmt: skip
    posted = {**proxied, "Cookie": f"csrftoken={token}",
              "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip

    # from another origin (or a page of another site): refused by CSRF, no session
    for other in ({"Origin": "https://evil.example"}, {"Referer": "https://evil.example/x"}):
        r = request(port, "POST", "/login/", {**posted, **other}, form)
        assert r.status == 403 and "sessionid" not in cookies(r)
    # over plain HTTP, even from the right origin, nothing is posted
    r = request(port, "POST", "/login/", {**posted, "X-Forwarded-Proto": "http",
                                         "Origin": ORIGIN}, form)  # fmt: skip
    assert r.status == 301 and "sessionid" not in cookies(r)

    # from the trusted origin, by Origin or (without it) by Referer: logged in, Secure session
    for same in ({"Origin": ORIGIN}, {"Referer": f"{ORIGIN}/login/"}):
        r = request(port, "POST", "/login/", {**posted, **same}, form)
        assert (r.status, r.headers["Location"]) == (302, "/")
        session = cookies(r)["sessionid"]
        assert session["secure"] is True and session["httponly"] is True
