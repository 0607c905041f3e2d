"""An office setting up from nothing, in Chromium, end to end (issue 13's Tests).

The installation's superuser creates the account in the console (no Django admin) and
points the sandbox's WeChat at the server configuration the page shows; as the account's
admin, imports the departments from an Excel file, adds a routing rule and tries it in
the test box, changes a time limit and sees the preview, and invites a colleague as the
liaison of one department; the colleague opens the e-mailed link, sets a password and
signs in as that liaison. Then a follower on the sandbox's phone writes about a flooded
underpass (the new rule routes it to the liaison's department), sends a photo and the
place; the liaison sees the photo and the place in the case and replies with a picture
that arrives on the phone."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from playwright.sync_api import BrowserContext, Page, expect

from govwx.accounts.models import Account, Membership
from govwx.accounts.tests.orgdata import xlsx
from govwx.desk.models import Case
from govwx.desk.services import Limits, take_in_pending
from govwx.desk.settings_services import preview
from govwx.desk.tests.test_browser import login
from govwx.desk.tests.test_settings_browser import shown
from govwx.wechat import media
from govwx.wechat.models import MessageMedia
from govwx.wechat.tests.mediafiles import picture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path(os.environ.get("GOVWX_SCREENSHOTS", "test-results/screenshots")) / "setup"

APPID = "wx5e7a0c1d2b3f4a59"
SECRET = "9f3c2a7b5d1e4f608a1b2c3d4e5f6a7b"


@pytest.fixture
def bare_site(live_server: Any, settings: Any) -> str:
    """A live govwx with the sandbox as its WeChat and the holiday calendar — and no
    account, department, rule or person but the installation's superuser."""
    from govwx.workcalendar.services import forget, seed_from_package

    settings.GOVWX_WECHAT_API_BASE = live_server.url + "/sandbox"
    settings.GOVWX_PUBLIC_URL = live_server.url
    settings.GOVWX_RULES_TTL = 0
    seed_from_package()
    forget()
    return str(live_server.url)


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_an_office_sets_up_from_nothing_and_a_case_goes_round(
    bare_site: str,
    page: Page,
    new_context: Callable[..., BrowserContext],
    django_user_model: Any,
    tmp_path: Path,
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    base = bare_site
    django_user_model.objects.create_superuser("root", "root@example.gov.cn", "Root-pass-2026")

    # -------------------------------------------------- the account, in the console
    admin = page
    login(admin, base, "root", "Root-pass-2026")
    expect(admin.locator("h1")).to_have_text("还没有可以管理的公众号")
    shot(admin, "0-no-account")
    admin.click("#new-account")
    expect(admin.locator("h1")).to_have_text("新建公众号")
    admin.fill("#id_organisation_name", "示例县人民政府")
    admin.select_option("#id_organisation_level", "county")
    admin.fill("#id_name", "示例县发布")
    admin.select_option("#id_kind", "service")
    admin.fill("#id_positioning", "示例县政府信息发布和群众诉求")
    admin.fill("#id_appid", "wx-12345")  # mistyped first: refused, nothing made
    admin.fill("#id_app_secret", SECRET)
    admin.fill("#id_original_id", "gh_5e7a0c1d2b3f")
    admin.click("#generate-token")
    admin.click("#generate-aes-key")
    token = admin.input_value("#id_token")
    aes_key = admin.input_value("#id_aes_key")
    assert re.fullmatch(r"[A-Za-z0-9]{32}", token) and re.fullmatch(r"[A-Za-z0-9]{43}", aes_key)
    admin.click("#create-account")
    expect(admin.locator("#account-form")).to_contain_text("AppID 格式不正确")
    shot(admin, "0-new-account-refused")
    assert not Account.objects.exists()
    admin.fill("#id_appid", APPID)
    admin.fill("#id_app_secret", SECRET)  # a password field is not sent back
    admin.click("#create-account")
    expect(admin.locator(".flash")).to_contain_text("已新建公众号「示例县发布」，您是它的管理员")
    expect(admin).to_have_url(base + "/settings/account/")
    callback = base + f"/wx/{APPID}/callback"
    expect(admin.locator("#server-url")).to_have_text(callback)
    expect(admin.locator("#server-token")).to_have_text(token)
    expect(admin.locator("#server-aes-key")).to_have_text(aes_key)
    expect(admin.locator("#server-mode")).to_have_text("安全模式")
    expect(admin.locator("#id_app_secret")).to_have_value("")  # write-only
    shot(admin, "1-account")
    account = Account.objects.get(appid=APPID)
    assert account.app_secret == SECRET
    assert Membership.objects.get(account=account, user__username="root").role == "admin"

    # The MP backend's 服务器配置, in the sandbox: what the page says, checked by WeChat's
    # GET echo against the running server before it is saved.
    call_command(
        "sandbox", "register", "--name", "示例县发布", "--appid", APPID, "--secret", SECRET,
        "--token", admin.inner_text("#server-token"),
        "--aes-key", admin.inner_text("#server-aes-key"), "--mode", "safe",
        "--callback-url", admin.inner_text("#server-url"),
        "--original-id", "gh_5e7a0c1d2b3f", "--verify",
    )  # fmt: skip

    # -------------------------------------------------- departments, from Excel
    sheet = tmp_path / "部门.xlsx"
    sheet.write_bytes(xlsx([
        ["名称", "简称", "上级部门", "办公时间说明"],
        ["县城市管理局", "城管", "", "工作日 8:30–17:30"],
        ["市政设施科", "市政", "县城市管理局", "24 小时"],
        ["县人力资源和社会保障局", "人社", "", "工作日 9:00–17:00"],
    ]))  # fmt: skip
    admin.get_by_role("link", name="部门").first.click()
    expect(admin.locator("#departments .empty-row")).to_be_visible()
    admin.click("#import-departments")
    admin.set_input_files("#id_file", str(sheet))
    admin.click("#import-submit")
    expect(admin.locator(".flash")).to_contain_text("导入完成：新增 3 个部门")
    expect(admin.locator("#departments tbody tr")).to_have_count(3)
    shot(admin, "2-departments")

    # -------------------------------------------------- a routing rule, tried
    admin.get_by_role("link", name="分办规则").first.click()
    admin.fill("#id_keyword", "积水")
    admin.select_option("#id_case_type", label="求助")
    admin.select_option("#id_department", label="县城市管理局")
    admin.click("#save-rule")
    expect(admin.locator(".flash")).to_contain_text("已添加分办规则「积水」")
    admin.fill("#try-text", "南关路地下通道积水很深，车开不过去了")
    admin.click("#try-submit")
    expect(admin.locator("#try-outcome")).to_have_attribute("data-outcome", "rule")
    expect(admin.locator("#try-rule")).to_have_text("积水")
    expect(admin.locator("#try-department")).to_have_text("县城市管理局")
    expect(admin.locator("#try-type")).to_have_text("求助")
    shot(admin, "3-routing")

    # -------------------------------------------------- a time limit, previewed
    admin.get_by_role("link", name="办理时限").first.click()
    help_row = admin.locator("#limit-help")
    help_row.get_by_label("求助：办结时限").fill("2")
    admin.click("#save-help")
    expect(admin.locator(".flash")).to_contain_text("已保存「求助」的办理时限")
    expect(admin.locator("#preview-help")).to_contain_text("今天 16:00 收到的求助")
    changed = preview(Limits(4, "hours", 2, "working_days"))
    expect(admin.locator("#preview-help .due-resolve")).to_have_text(shown(changed.resolve.at))
    shot(admin, "4-time-limits")

    # -------------------------------------------------- a colleague, invited
    admin.get_by_role("link", name="成员与角色").first.click()
    admin.fill("#id_invite-email", "li.na@example.gov.cn")
    admin.select_option("#id_invite-role", "liaison")
    admin.select_option("#id_invite-department", label="县城市管理局")
    admin.click("#invite-submit")
    expect(admin.locator(".flash")).to_contain_text("已向 li.na@example.gov.cn 发送邀请邮件")
    (message,) = mail.outbox
    link = re.search(r"http://\S+/settings/join/\S+/", str(message.body))
    assert link is not None and link.group(0).startswith(base)

    liaison = new_context().new_page()
    liaison.goto(link.group(0))
    expect(liaison.locator("#join")).to_contain_text("部门联络员（县城市管理局）")
    liaison.fill("#id_username", "lina")
    liaison.fill("#id_full_name", "李娜")
    liaison.fill("#id_password", "Shizheng-2026")
    liaison.fill("#id_password2", "Shizheng-2026")
    liaison.click("#join-submit")
    expect(liaison.locator(".flash")).to_contain_text("欢迎加入「示例县发布」")
    liaison.click("#logout")
    login(liaison, base, "lina", "Shizheng-2026")
    expect(liaison.locator("#role-here")).to_have_text("· 部门联络员（县城市管理局）")
    shot(liaison, "5-liaison-home")

    # -------------------------------------------------- a follower writes, in the sandbox
    photo = tmp_path / "underpass.jpg"
    photo.write_bytes(picture(size=(1280, 960), color="#5a6b7c"))
    phone = new_context().new_page()
    phone.goto(base + "/sandbox/")
    expect(phone.locator("#account-name")).to_have_text("示例县发布")
    phone.click("#new-follower")
    phone.click("#follow")
    # no welcome reply on a new account: wait for the follow itself
    expect(phone.locator("#follow")).to_be_disabled()
    expect(phone.locator("#unfollow")).to_be_enabled()
    phone.fill("#text", "南关路地下通道积水很深，车开不过去了，请尽快处理")
    phone.click("#send")
    expect(phone.locator("#messages .bubble.in[data-msg-type=text]")).to_contain_text("积水很深")
    phone.set_input_files("#media-file", str(photo))
    expect(phone.locator("#messages .bubble.in[data-msg-type=image] img")).to_be_visible()
    phone.click("#send-location")
    phone.fill("#location-x", "34.2650")
    phone.fill("#location-y", "108.9470")
    phone.fill("#location-label", "南关路地下通道")
    phone.click("#location-send")
    expect(phone.locator("#messages .bubble.in[data-msg-type=location]")).to_contain_text(
        "南关路地下通道"
    )
    shot(phone, "6-phone-sent")

    # what `govwx desk run` does: the batch, then (its fetcher thread) the files
    assert take_in_pending() == (3, 0)
    assert media.fetch_due() == 1
    assert MessageMedia.objects.get().status == "stored"
    case = Case.objects.get()
    assert case.department is not None and case.department.name == "县城市管理局"

    # -------------------------------------------------- the liaison answers with a picture
    liaison.goto(base + "/desk/cases/")
    liaison.get_by_role("link", name=re.compile("积水")).first.click()
    expect(liaison.locator("#case-department")).to_have_text("县城市管理局")
    liaison.click("#do-accept")
    expect(liaison.locator("#case-status")).to_have_text("办理中")
    thumb = liaison.locator("[data-media-kind=image] img.media-thumb")
    expect(thumb).to_be_visible()
    place = liaison.locator("[data-media-kind=location]")
    expect(place).to_contain_text("南关路地下通道")
    expect(place).to_contain_text("纬度 34.265，经度 108.947")
    shot(liaison, "7-case")

    answer = tmp_path / "pumped.png"
    answer.write_bytes(picture("PNG", size=(900, 600), color="#2a9d5c"))
    liaison.set_input_files("#reply-picture", str(answer))
    liaison.click("#do-reply-picture")
    expect(liaison.locator("body")).to_contain_text("图片已发送给群众")
    expect(liaison.locator("[data-delivery]").last).to_have_attribute("data-delivery", "sent")
    shot(liaison, "8-case-replied")

    got = phone.locator("#messages .bubble.out[data-kind=custom][data-msg-type=image] img")
    expect(got).to_be_visible(timeout=10000)  # the phone page polls every 2 s
    phone.wait_for_function(
        "() => [...document.querySelectorAll('#messages .bubble.out img')].some(i => i.naturalWidth === 900)"
    )
    got.scroll_into_view_if_needed()
    shot(phone, "9-phone-got-picture")
