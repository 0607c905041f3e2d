"""What citizens send, in Chromium: a follower on the sandbox's phone sends a photo and a
location → the liaison sees the photo (thumbnail, then full size) and the place with the
nearest office in the case → replies with a picture → it shows on the phone."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from govwx.console.management.commands import demo
from govwx.desk.services import take_in_pending
from govwx.wechat import media
from govwx.wechat.models import MessageMedia
from govwx.wechat.tests.mediafiles import picture

from .test_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = "test-results/screenshots"


def test_a_photo_and_a_place_reach_the_case_and_a_picture_goes_back(
    demo_site: str, page: Page, new_context: Callable[..., BrowserContext], tmp_path: Any
) -> None:
    photo = tmp_path / "road.jpg"
    photo.write_bytes(picture(size=(1280, 960), color="#6b7b8c"))
    answer = tmp_path / "fixed.png"
    answer.write_bytes(picture("PNG", size=(900, 600), color="#2a9d5c"))

    phone = page
    phone.goto(demo_site + "/sandbox/")
    phone.click("#new-follower")
    phone.click("#follow")
    expect(phone.locator("#messages .bubble.out").last).to_contain_text("感谢关注")
    phone.set_input_files("#media-file", str(photo))
    sent = phone.locator("#messages .bubble.in[data-msg-type=image] img")
    expect(sent).to_be_visible()
    phone.click("#send-location")
    phone.fill("#location-x", "34.2650")
    phone.fill("#location-y", "108.9470")
    phone.fill("#location-label", "南关正街地下通道积水")
    phone.click("#location-send")
    expect(phone.locator("#messages .bubble.in[data-msg-type=location]")).to_contain_text(
        "南关正街地下通道积水"
    )
    # the place is also answered with the nearest offices, as any location is
    expect(phone.locator("#messages .bubble.out").last).to_contain_text("住房公积金管理中心")

    # what `govwx desk run` does: the batch, then (its fetcher thread) the files
    assert take_in_pending() == (2, 0)
    assert media.fetch_due() == 1
    assert MessageMedia.objects.get().status == "stored"

    office = new_context().new_page()
    login(office, demo_site, *demo.OPERATOR)
    office.goto(demo_site + "/desk/cases/")
    office.get_by_role("link", name=re.compile(r"\[图片\]")).first.click()
    office.select_option("#assign-department", label="市城市管理局")
    office.click("#do-assign")
    expect(office.locator("#case-department")).to_have_text("市城市管理局")

    dept = new_context().new_page()
    login(dept, demo_site, *demo.LIAISON)
    dept.goto(office.url)
    dept.click("#do-accept")
    expect(dept.locator("#case-status")).to_have_text("办理中")
    thumb = dept.locator("[data-media-kind=image] img.media-thumb")
    expect(thumb).to_be_visible()
    assert dept.evaluate("img => img.naturalWidth", thumb.element_handle()) == 320
    place = dept.locator("[data-media-kind=location]")
    expect(place).to_contain_text("南关正街地下通道积水")
    expect(place).to_contain_text("纬度 34.265，经度 108.947")
    expect(place).to_contain_text("最近的办事网点：示例市住房公积金管理中心营业部")
    dept.screenshot(path=f"{SHOTS}/media-case.png", full_page=True)
    with dept.context.expect_page() as opened:
        thumb.click()
    full = opened.value
    full.wait_for_load_state()
    assert full.evaluate("document.images[0].naturalWidth") == 1280

    dept.set_input_files("#reply-picture", str(answer))
    dept.click("#do-reply-picture")
    expect(dept.locator(".messages, body")).to_contain_text("图片已发送给群众")
    expect(dept.locator("[data-delivery]").last).to_have_attribute("data-delivery", "sent")
    # the picture sent shows in the case too, from govwx's own copy
    expect(dept.locator(".bubble-out img.media-thumb")).to_be_visible()
    dept.wait_for_function(
        "() => document.querySelector('.bubble-out img.media-thumb').naturalWidth === 320"
    )
    dept.screenshot(path=f"{SHOTS}/media-case-replied.png", full_page=True)

    got = phone.locator("#messages .bubble.out[data-kind=custom][data-msg-type=image] img")
    expect(got).to_be_visible(timeout=10000)  # the phone page polls every 2 s
    phone.wait_for_function(
        "() => [...document.querySelectorAll('#messages .bubble.out img')].some(i => i.naturalWidth === 900)"
    )
    got.scroll_into_view_if_needed()
    phone.screenshot(path=f"{SHOTS}/media-phone.png")
