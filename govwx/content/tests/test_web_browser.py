"""The article's H5 page on a phone (375 px wide) in Chromium: readable, its picture
served, nothing wider than the screen, no script allowed; and the embeddable list inside
an <iframe> of another site."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from govwx.accounts.models import Account
from govwx.content.models import Article, Material

from .test_web import publish, write

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("GOVWX_SCREENSHOTS", "test-results/screenshots"))

LONG = (
    "<p>为保障东湖区供水管网改造工程顺利实施，市水务局定于 3 月 3 日 9:00 至 17:00 对东湖区"
    "人民路、解放路沿线部分小区暂停供水。请沿线居民提前做好储水准备，给您带来不便，敬请谅解。</p>"
    "<h2>停水范围</h2><ul><li>人民路 1—99 号</li><li>解放路 2—120 号</li></ul>"
    "<p>咨询电话：<strong>12345</strong>。一条很长的链接也不会撑破屏幕："
    '<a href="https://www.example.gov.cn/a/very/long/path/that/keeps/going/and/going/'
    'without/any/break/at/all/0123456789">https://www.example.gov.cn/a/very/long/path/that/'
    "keeps/going/and/going/without/any/break/at/all/0123456789</a></p>"
)


def test_the_h5_page_reads_well_on_a_phone(
    live_server: Any, settings: Any, page: Page, account: Account, editor: Any, picture: Material
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    settings.GOVWX_PUBLIC_URL = live_server.url
    Account.objects.filter(pk=account.pk).update(positioning="本市政务信息和办事服务")
    Material.objects.filter(pk=picture.pk).update(width=64, height=48)
    a = write(
        account, editor, "东湖区部分小区明日停水，请提前储水",
        body=[{"type": "text", "html": LONG}, {"type": "image", "material": picture.pk}],
        author="市水务局", cover=picture,
    )  # fmt: skip
    a = publish(a)
    scripts: list[str] = []
    page.on("console", lambda m: scripts.append(m.text))
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}/a/{a.token}/")

    expect(page.locator("#title")).to_have_text("东湖区部分小区明日停水，请提前储水")
    expect(page.locator("#author")).to_have_text("市水务局")
    expect(page.locator("#published")).to_have_text("2026年3月2日 00:30")
    expect(page.locator(".w-account-name")).to_have_text("示例市发布")
    body = page.locator("#body")
    assert body.evaluate("e => getComputedStyle(e).fontSize") == "17px"
    assert body.evaluate("e => getComputedStyle(e).lineHeight") == "29.75px"  # 1.75
    # the picture is served by this site and shown
    img = body.locator("img")
    expect(img).to_have_attribute("src", f"/a/{a.token}/m/{picture.pk}")
    assert img.evaluate("e => e.complete && e.naturalWidth") == 64
    # nothing wider than the phone
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
    width = page.locator(".w-page").evaluate("e => e.getBoundingClientRect().width")
    assert width == page.evaluate("document.documentElement.clientWidth") > 350
    page.screenshot(path=str(SHOTS / "content-h5-375.png"), full_page=True)

    # a script written into the stored HTML never runs: sanitised, and refused by the CSP
    Article.objects.filter(pk=a.pk).update(
        body=[], html='<p>正文</p><img src="/x" onerror="document.title=\'pwned\'">'
    )
    page.goto(f"{live_server.url}/a/{a.token}/")
    expect(page.locator("#body")).to_have_text("正文")
    assert page.title() != "pwned"
    assert Article.objects.get(pk=a.pk).reads == 2

    # on a desktop the text keeps its measure
    page.set_viewport_size({"width": 1280, "height": 800})
    assert page.locator(".w-page").evaluate("e => e.getBoundingClientRect().width") == 680


@contextmanager
def website(pages: dict[str, str]) -> Iterator[str]:
    """Another site (the government website) on a port of its own: another origin."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_embed_list_shows_inside_another_sites_frame(
    live_server: Any, settings: Any, page: Page, account: Account, editor: Any
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    settings.GOVWX_PUBLIC_URL = live_server.url
    for title in ("市政府召开常务会议", "东湖区部分小区明日停水，请提前储水"):
        publish(write(account, editor, title))
    a = Article.objects.get(title="市政府召开常务会议")
    pages = {
        "/portal.html": '<html><body><h1>政府网站</h1><iframe id="f" width="360" height="300" '
        f'style="border:0" src="{live_server.url}/embed/{account.appid}/?n=5"></iframe>'
        "</body></html>",
        "/steal.html": f'<iframe id="g" src="{live_server.url}/a/{a.token}/"></iframe>',
    }
    with website(pages) as other:
        page.set_viewport_size({"width": 800, "height": 600})
        page.goto(f"{other}/portal.html")
        frame = page.frame_locator("#f")
        expect(frame.locator("#articles li a")).to_have_count(2)
        expect(frame.locator("#articles li a").first).to_have_text(
            "东湖区部分小区明日停水，请提前储水"
        )
        page.screenshot(path=str(SHOTS / "content-embed.png"))
        # the article page itself refuses to be framed by another site
        page.goto(f"{other}/steal.html")  # returns once the frame has loaded or been refused
        expect(page.frame_locator("#g").locator("#title")).to_have_count(0)
        assert any(f.url.startswith("chrome-error://") for f in page.frames)
