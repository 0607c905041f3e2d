"""What the checker knows of an account (`context_for`): the names of its organisation,
departments, catalogue and matrix, the places of its organisation tree and word lists,
the national places outside, and the word list entries by kind; kept per process for a
minute, rebuilt at once when a word list changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db.models import F
from django.utils import timezone

from govwx.accounts.models import Account, Department, Organisation
from govwx.conftest import make_account
from govwx.content.models import ProofEntry
from govwx.content.proofread import AvoidWord, Context, Formulation, Leader
from govwx.content.proofread import context as ctx
from govwx.content.proofread.context import context_for, national_places, place_names
from govwx.content.proofread.services import EntryInput, add_entry, retire_entry
from govwx.services.models import Office, Service

pytestmark = pytest.mark.django_db
Kind = ProofEntry.Kind


@pytest.fixture(autouse=True)
def _fresh_contexts() -> Any:
    ctx.forget()
    yield
    ctx.forget()


@pytest.fixture
def matrix(account: Account) -> dict[str, Any]:
    """浙江省 › 杭州市 (the account's) › 西湖区 and 余杭区, each county with an account;
    an unrelated city with one of its own."""
    province = Organisation.objects.create(name="浙江省人民政府", level="province")
    city = Organisation.objects.create(name="杭州市人民政府", level="city", parent=province)
    west = Organisation.objects.create(name="杭州市西湖区人民政府", level="county", parent=city)
    yuhang = Organisation.objects.create(name="余杭区人民政府", level="county", parent=city)
    elsewhere = Organisation.objects.create(name="南京市人民政府", level="city")
    Account.objects.filter(pk=account.pk).update(organisation=city, name="杭州发布")
    account.refresh_from_db()
    for appid, name, org in [("wx00000000000000a1", "西湖发布", west),
                             ("wx00000000000000a2", "余杭发布", yuhang),
                             ("wx00000000000000a3", "南京发布", elsewhere)]:  # fmt: skip
        other = make_account(appid, name=name)
        Account.objects.filter(pk=other.pk).update(organisation=org)
    Department.objects.create(organisation=city, name="杭州市城市管理局", short_name="市城管局")
    Department.objects.create(organisation=city, name="杭州市水务集团")
    Department.objects.create(organisation=city, name="杭州市老干部局", retired_at=timezone.now())
    Department.objects.create(organisation=elsewhere, name="南京市城管局")
    Office.objects.create(organisation=province, code="P1", name="浙江政务服务中心", address="-")
    Office.objects.create(organisation=city, code="C1", name="杭州市民中心", address="-")
    Service.objects.create(organisation=province, code="S1", name="社保卡申领", category="other")
    Service.objects.create(organisation=city, code="S1", name="市民卡申领", category="other")
    Service.objects.create(organisation=city, code="S2", name="已撤事项", category="other",
                           withdrawn=True)  # fmt: skip
    return {"province": province, "city": city, "west": west}


def entry(account: Account | None, kind: str, text: str, extra: str = "", note: str = "",
          retired: bool = False) -> ProofEntry:  # fmt: skip
    return ProofEntry.objects.create(
        account=account, kind=kind, text=text, extra=extra, note=note,
        retired_at=timezone.now() if retired else None,
    )  # fmt: skip


def test_the_names_of_the_organisation_departments_catalogue_and_matrix(
    account: Account, matrix: dict[str, Any]
) -> None:
    assert context_for(account).names == (
        "杭州发布", "杭州市人民政府",
        "杭州市城市管理局", "市城管局", "杭州市水务集团",
        "杭州市民中心", "浙江政务服务中心", "市民卡申领",
        "西湖发布", "余杭发布",
    )  # fmt: skip


def test_the_places_of_the_organisation_tree_and_the_national_places_outside(
    account: Account, matrix: dict[str, Any]
) -> None:
    entry(account, Kind.PLACE, "龙井村")
    entry(None, Kind.PLACE, "钱塘江")
    context = context_for(account)
    assert context.places == (
        "浙江省",
        "浙江",
        "杭州市",
        "杭州",
        "西湖区",
        "西湖",
        "余杭区",
        "余杭",
        "钱塘江",
        "龙井村",
    )
    national = context.national_places
    assert {"浙江省", "浙江", "杭州市", "杭州"}.isdisjoint(national)
    assert {"江苏省", "江苏", "南京市", "南京", "广西", "乌鲁木齐"} <= set(national)
    assert len(national) == len(national_places()) - 4


def test_the_shipped_places_are_the_34_divisions_and_their_capitals() -> None:
    rows = ctx._shipped()
    assert len(rows) == 34
    assert len({r[0] for r in rows}) == 34
    capitals = {r[2] for r in rows if r[2] not in ("-", r[0])}
    assert len(capitals) == 28  # four municipalities are their own, two regions have none
    assert ("广西壮族自治区", "广西", "南宁市", "南宁") in rows
    assert ("黑龙江省", "黑龙江", "哈尔滨市", "哈尔滨") in rows
    assert len(national_places()) == 34 * 2 + 28 * 2


@pytest.mark.parametrize(
    ("name", "places"),
    [
        ("示例市人民政府", ["示例市", "示例"]),
        ("浙江省杭州市人民政府", ["浙江省", "浙江", "杭州市", "杭州"]),
        ("杭州市西湖区人民政府", ["杭州市", "杭州", "西湖区", "西湖"]),
        ("广西壮族自治区人民政府", ["广西壮族自治区", "广西"]),
        ("内蒙古自治区", ["内蒙古自治区", "内蒙古"]),
        ("呼和浩特市人民政府", ["呼和浩特市", "呼和浩特"]),
        ("示例市城市管理局", ["示例市", "示例"]),
        ("中共示例县委宣传部", ["示例县", "示例"]),
        ("泾县人民政府", ["泾县"]),
        ("城区人民政府", ["城区"]),
        ("浦东新区人民政府", ["浦东新区", "浦东"]),
        ("阿里地区行政公署", ["阿里地区", "阿里"]),
        ("恩施土家族苗族自治州人民政府", ["恩施土家族苗族自治州"]),
        ("新疆生产建设兵团", []),
    ],
)
def test_the_places_an_organisations_name_names(name: str, places: list[str]) -> None:
    assert place_names(name) == places


def test_the_entries_by_kind_the_installations_and_the_accounts_own(
    account: Account, other_account: Account
) -> None:
    entry(None, Kind.FORMULATION, "人民代表大会制度", note="根本政治制度")
    entry(None, Kind.AVOID, "拍脑袋", "科学决策", "口语")
    entry(account, Kind.AVOID, "拍脑袋", "民主决策", "本号的理由")  # the account's wins
    entry(account, Kind.AVOID, "走过场", note="形式主义")
    entry(account, Kind.MISUSED, "既使", "即使", "连词")
    entry(account, Kind.LEADER, "张三", "市长")
    entry(account, Kind.PUBLIC_NUMBER, "12345", "市民热线")
    entry(account, Kind.PUBLIC_NUMBER, "0571-87654321")
    entry(account, Kind.LEADER, "李四", "副市长", retired=True)
    entry(other_account, Kind.LEADER, "王五", "县长")
    context = context_for(account)
    assert context.formulations == (Formulation("人民代表大会制度", "根本政治制度"),)
    assert context.avoid == (
        AvoidWord("拍脑袋", "本号的理由", "民主决策"), AvoidWord("走过场", "形式主义", ""))  # fmt: skip
    assert context.misused == (("既使", "即使", "连词"),)
    assert context.leaders == (Leader("张三", "市长"),)
    assert context.public_numbers == ("0571-87654321", "12345")
    assert context.names == ("示例市发布",)  # no organisation: its own name only
    assert context.places == ()


def test_without_an_account_the_installations_lists_only(account: Account) -> None:
    entry(None, Kind.LEADER, "赵六", "省长")
    entry(account, Kind.LEADER, "张三", "市长")
    context = context_for(None)
    assert context.leaders == (Leader("赵六", "省长"),)
    assert context.names == () and context.places == ()
    assert context.national_places == national_places()


def test_an_entry_written_is_seen_at_once_a_department_within_a_minute(
    account: Account, matrix: dict[str, Any], account_admin: Any
) -> None:
    with time_machine.travel("2026-05-04 10:00 +0800", tick=False) as clock:
        first = context_for(account)
        assert context_for(account) is first
        leader = add_entry(account, EntryInput(Kind.LEADER, "张三", "市长"), actor=account_admin)
        second = context_for(account)
        assert second.leaders == (Leader("张三", "市长"),)
        retire_entry(leader, actor=account_admin)
        assert context_for(account).leaders == ()

        Department.objects.create(organisation=matrix["city"], name="杭州市数据资源管理局")
        clock.shift(timedelta(seconds=59))
        assert "杭州市数据资源管理局" not in context_for(account).names
        clock.shift(timedelta(seconds=2))
        assert "杭州市数据资源管理局" in context_for(account).names


def test_a_catalogue_change_is_seen_at_once(account: Account, matrix: dict[str, Any]) -> None:
    assert "公积金提取" not in context_for(account).names
    Service.objects.create(organisation=matrix["city"], code="S3", name="公积金提取",
                           category="housing")  # fmt: skip
    # what a catalogue write does (services.catalogue.bump)
    Account.objects.filter(pk=account.pk).update(rules_version=F("rules_version") + 1)
    account.refresh_from_db()
    assert "公积金提取" in context_for(account).names


def test_a_cached_call_is_one_query(
    account: Account, matrix: dict[str, Any], django_assert_max_num_queries: Any,
    django_assert_num_queries: Any,
) -> None:  # fmt: skip
    entry(account, Kind.LEADER, "张三", "市长")
    with django_assert_max_num_queries(30) as built:
        context_for(account)
    assert len(built.captured_queries) >= 8  # the organisation tree, departments, catalogue …
    with django_assert_num_queries(1):  # the word lists' version, in the shared cache
        context_for(account)


def test_a_context_is_the_families_input(account: Account) -> None:
    assert isinstance(context_for(account), Context)


def test_the_catalogues_office_phones_are_public_numbers(
    account: Account, matrix: dict[str, Any]
) -> None:
    """A guide that gives an office's phone publishes it on purpose: not personal data."""
    from govwx.content.proofread import check

    Office.objects.filter(code="C1").update(phone="0571-85251234、0571-85255678 / 12345")
    Account.objects.filter(pk=account.pk).update(rules_version=F("rules_version") + 1)
    account.refresh_from_db()
    numbers = context_for(account).public_numbers
    assert numbers == ("0571-85251234", "0571-85255678", "12345")
    guide = "咨询电话：0571-85255678；如有疑问请拨打 0571-85259999。"
    vetoes = [f.text for f in check(guide, context_for(account)) if f.severity == "veto"]
    assert vetoes == ["0571-85259999"]  # the office's number passes, another does not
