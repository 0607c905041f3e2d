"""The catalogue's writes: the matrix (a county reuses the city's services, overrides and
withdraws them), each validation refusal, keywords, permissions and the audit."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from govwx.accounts.models import Account, AuditEvent, Department, Membership, Organisation
from govwx.accounts.services import add_member
from govwx.services import catalogue, catalogue_writes
from govwx.services.catalogue_writes import (
    OfficeInput,
    ServiceInput,
    clean_service,
    create_office,
    create_service,
    delete_service,
    override_service,
    update_office,
    update_service,
    withdraw_office,
    withdraw_service,
    write_office_row,
    write_service_row,
)
from govwx.services.models import Office, Service

pytestmark = pytest.mark.django_db

SOCIAL = ServiceInput(
    code="SB001",
    name="城乡居民养老保险参保登记",
    category="social_security",
    summary="未参加职工养老保险的城乡居民参保",
    materials=["居民身份证", "户口簿"],
    steps=["提交申请", "窗口受理", "办结"],
    online_url="https://zwfw.example.gov.cn/sb001",
    keywords=["养老保险", "参保"],
)
HOUSING = ServiceInput(
    code="GJJ01",
    name="住房公积金提取",
    category="housing",
    keywords=["公积金"],
)


def codes(account: Account) -> list[str]:
    return [s.code for s in catalogue.services_for(account)]


def state() -> tuple[Any, ...]:
    """What a refused write must leave as it was."""
    return (
        list(Service.objects.order_by("pk").values_list("pk", "code", "name", "keywords")),
        list(Office.objects.order_by("pk").values_list("pk", "code", "latitude")),
        AuditEvent.objects.count(),
        list(Account.objects.order_by("pk").values_list("rules_version", flat=True)),
    )


# ------------------------------------------------------------------ the matrix


def test_a_county_sees_the_citys_and_the_provinces_services(
    province: Organisation, city: Organisation, county_account: Account
) -> None:
    create_service(SOCIAL, organisation=city)
    create_service(replace(HOUSING, code="P01", keywords=["省级"]), organisation=province)
    assert sorted(codes(county_account)) == ["P01", "SB001"]


def test_the_countys_override_wins_and_the_citys_change_shows_through_elsewhere(
    city: Organisation, county: Organisation, city_account: Account, county_account: Account
) -> None:
    sb = create_service(SOCIAL, organisation=city)
    gjj = create_service(HOUSING, organisation=city)
    inherited = catalogue.service_for(county_account, "SB001")
    assert inherited is not None and inherited.pk == sb.pk
    override_service(sb, replace(SOCIAL, name="县居民养老保险参保"), organisation=county)
    update_service(sb, replace(SOCIAL, name="市居民养老保险参保（新）"))
    update_service(gjj, replace(HOUSING, name="住房公积金提取（新）"))
    county_view = {s.code: s.name for s in catalogue.services_for(county_account)}
    assert county_view == {"SB001": "县居民养老保险参保", "GJJ01": "住房公积金提取（新）"}
    city_view = {s.code: s.name for s in catalogue.services_for(city_account)}
    assert city_view == {"SB001": "市居民养老保险参保（新）", "GJJ01": "住房公积金提取（新）"}


def test_a_withdrawn_service_is_hidden_in_the_county_only_and_comes_back_when_deleted(
    city: Organisation, county: Organisation, city_account: Account, county_account: Account
) -> None:
    sb = create_service(SOCIAL, organisation=city)
    create_service(HOUSING, organisation=city)
    row = withdraw_service(sb, organisation=county)
    assert (row.organisation_id, row.code, row.withdrawn, row.name) == (
        county.pk,
        "SB001",
        True,
        SOCIAL.name,
    )
    assert codes(county_account) == ["GJJ01"]
    assert sorted(codes(city_account)) == ["GJJ01", "SB001"]
    delete_service(row)
    assert sorted(codes(county_account)) == ["GJJ01", "SB001"]


def test_withdrawing_an_overridden_service_marks_the_own_row(
    city: Organisation, county: Organisation, county_account: Account
) -> None:
    sb = create_service(SOCIAL, organisation=city)
    own = override_service(sb, replace(SOCIAL, name="县版本"), organisation=county)
    again = withdraw_service(sb, organisation=county)
    assert again.pk == own.pk and again.withdrawn is True
    assert codes(county_account) == []


def test_only_an_inherited_service_can_be_withdrawn_or_overridden(
    city: Organisation, county: Organisation
) -> None:
    own = create_service(HOUSING, organisation=county)
    before = state()
    with pytest.raises(ValidationError) as exc:
        withdraw_service(own, organisation=county)
    assert exc.value.messages == ["这不是上级组织的服务事项 / not a service inherited from above"]
    with pytest.raises(ValidationError):
        override_service(own, HOUSING, organisation=county)
    assert state() == before


def test_each_write_is_audited_and_bumps_every_account_that_sees_it(
    city: Organisation, city_account: Account, county_account: Account, other_account: Account
) -> None:
    versions = (city_account.rules_version, county_account.rules_version)
    s = create_service(SOCIAL, organisation=city)
    update_service(s, replace(SOCIAL, name="新名称"))
    delete_service(s)
    for a in (city_account, county_account, other_account):
        a.refresh_from_db()
    assert (city_account.rules_version, county_account.rules_version) == (
        versions[0] + 3,
        versions[1] + 3,
    )
    assert other_account.rules_version == 1  # not in the matrix
    events = list(AuditEvent.objects.order_by("id").values_list("name", "data"))
    assert events[-3:] == [
        ("service.created", {"organisation": city.pk, "code": "SB001", "overrides": False}),
        ("service.updated", {"organisation": city.pk, "code": "SB001", "was": "SB001"}),
        ("service.deleted", {"organisation": city.pk, "code": "SB001"}),
    ]


def test_the_guide_is_stored_as_given_trimmed(city: Organisation, hrss: Department) -> None:
    o = create_office(
        OfficeInput(
            "HALL",
            "市民中心",
            "示例市人民路 1 号",
            "工作日 9:00-17:00",
            "0571-12345",
            30.27,
            120.15,
        ),
        organisation=city,
    )
    s = create_service(
        replace(
            SOCIAL,
            name="  城乡居民养老保险参保登记 ",
            department_id=hrss.pk,
            keywords=[" 养老保险", "参保", "养老保险", "", "参保 "],
            office_codes=["HALL"],
            miniprogram_appid="wx0123456789abcdef",
            miniprogram_path="pages/sb/index?code=SB001",
        ),
        organisation=city,
    )
    s.refresh_from_db()
    assert (s.name, s.department_id, s.keywords) == (SOCIAL.name, hrss.pk, ["养老保险", "参保"])
    assert (s.materials, s.steps) == ("居民身份证\n户口簿", "提交申请\n窗口受理\n办结")
    assert [x.pk for x in s.offices.all()] == [o.pk]
    assert (s.miniprogram_appid, s.miniprogram_path) == (
        "wx0123456789abcdef",
        "pages/sb/index?code=SB001",
    )


def test_a_county_service_may_name_the_citys_department(
    county: Organisation, hrss: Department
) -> None:
    s = create_service(replace(HOUSING, department_id=hrss.pk), organisation=county)
    assert s.department_id == hrss.pk


# ------------------------------------------------------------------ refusals

LONG_URL = "https://example.gov.cn/" + "a" * 1002  # 1025 bytes


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"online_url": "ftp://example.gov.cn/x"},
            "online_url",
            "网址须以 http:// 或 https:// 开头并含有域名：ftp://example.gov.cn/x / "
            "URL must be http or https with a host: 'ftp://example.gov.cn/x'",
        ),
        (
            {"online_url": "https://"},
            "online_url",
            "网址须以 http:// 或 https:// 开头并含有域名：https:// / "
            "URL must be http or https with a host: 'https://'",
        ),
        (
            {"online_url": "javascript:alert(1)"},
            "online_url",
            "网址须以 http:// 或 https:// 开头并含有域名：javascript:alert(1) / "
            "URL must be http or https with a host: 'javascript:alert(1)'",
        ),
        (
            {"online_url": "https://exa mple.gov.cn/"},
            "online_url",
            "网址不能含空格或控制字符：https://exa mple.gov.cn/ / "
            "URL must not contain spaces: 'https://exa mple.gov.cn/'",
        ),
        (
            {"online_url": "https://example.gov.cn:99999/"},
            "online_url",
            "网址格式不正确：https://example.gov.cn:99999/ / "
            "malformed URL: 'https://example.gov.cn:99999/'",
        ),
        (
            {"online_url": LONG_URL},
            "online_url",
            "网址超过 1024 字节 / URL longer than 1024 bytes",
        ),
        (
            {"miniprogram_appid": "wx123", "miniprogram_path": "pages/index"},
            "miniprogram_appid",
            "小程序 AppID 应为 wx 加 16 位小写十六进制字符：wx123 / "
            "mini program AppID must be 'wx' and 16 hex digits: 'wx123'",
        ),
        (
            {"miniprogram_appid": "wx0123456789abcdef"},
            "miniprogram_path",
            "填写了小程序 AppID，还需填写小程序页面路径 / a mini program needs a page path",
        ),
        (
            {"miniprogram_path": "pages/index"},
            "miniprogram_appid",
            "填写了小程序页面路径，还需填写小程序 AppID / a mini program path needs an AppID",
        ),
        (
            {
                "miniprogram_appid": "wx0123456789abcdef",
                "miniprogram_path": "pages/index",
                "online_url": "",
            },
            "online_url",
            "小程序还需填写在线办理网址，作为不支持小程序时打开的备用网页 / "
            "a mini program needs the online URL as its fallback page",
        ),
        (
            {"keywords": ["社保", "一" * 31]},
            "keywords",
            "关键词“一一一一一一一一一一…”超过 30 个字 / "
            "keyword longer than 30 characters: 一一一一一一一一一一…",
        ),
        (
            {"keywords": ["社保", 5]},
            "keywords",
            "关键词必须是文字：5 / a keyword must be a string: 5",
        ),
        ({"name": "  "}, "name", "事项名称不能为空 / name is required"),
        (
            {"category": "weather"},
            "category",
            "未知的类别：weather / unknown category: 'weather'",
        ),
        (
            {"code": "SB 001"},
            "code",
            "事项编码只能包含字母、数字、点、下划线和连字符：SB 001 / "
            "code may contain only letters, digits, '.', '_' and '-': 'SB 001'",
        ),
        (
            {"office_codes": ["NOPE"]},
            "offices",
            "未知的办理地点（网点编码）：NOPE / unknown offices: NOPE",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 20 else None,
)
def test_a_bad_guide_is_refused_with_a_clear_message_and_changes_nothing(
    city: Organisation, change: dict[str, Any], field: str, message: str
) -> None:
    existing = create_service(HOUSING, organisation=city)
    before = state()
    with pytest.raises(ValidationError) as exc:
        create_service(replace(SOCIAL, **change), organisation=city)
    assert exc.value.message_dict == {field: [message]}
    with pytest.raises(ValidationError) as exc:
        update_service(existing, replace(SOCIAL, **change))
    assert exc.value.message_dict == {field: [message]}
    assert state() == before


def test_a_department_of_another_organisation_is_refused(
    city: Organisation, county: Organisation
) -> None:
    below = Department.objects.create(organisation=county, name="县医保局")
    before = state()
    with pytest.raises(ValidationError) as exc:
        create_service(replace(SOCIAL, department_id=below.pk), organisation=city)
    assert exc.value.message_dict == {
        "department": [
            "责任部门须属于本级或上级组织 / the department must belong to the organisation "
            "or one above it"
        ]
    }
    assert state() == before


def test_a_code_used_twice_in_one_catalogue_is_refused(city: Organisation) -> None:
    create_service(SOCIAL, organisation=city)
    before = state()
    with pytest.raises(ValidationError) as exc:
        create_service(replace(HOUSING, code="SB001"), organisation=city)
    assert exc.value.message_dict == {
        "code": ["事项编码 SB001 已存在 / service code SB001 already exists"]
    }
    assert state() == before


# ------------------------------------------------------------------ keywords


def test_a_keyword_another_service_uses_is_refused_naming_it(city: Organisation) -> None:
    create_service(SOCIAL, organisation=city)
    before = state()
    with pytest.raises(ValidationError) as exc:
        create_service(replace(HOUSING, keywords=["公积金", "参保"]), organisation=city)
    assert exc.value.message_dict == {
        "keywords": [
            "关键词“参保”已被事项“城乡居民养老保险参保登记”（SB001）使用 / "
            "keyword '参保' is already used by service SB001"
        ]
    }
    assert state() == before


def test_keywords_clash_ignoring_case_across_the_matrix(
    city: Organisation, county: Organisation
) -> None:
    create_service(replace(SOCIAL, keywords=["ETC"]), organisation=city)
    with pytest.raises(ValidationError):
        create_service(replace(HOUSING, keywords=["etc"]), organisation=county)
    own = create_service(replace(HOUSING, keywords=["县公积金"]), organisation=county)
    with pytest.raises(ValidationError) as exc:  # the city would clash with the county
        create_service(replace(HOUSING, code="GJJ02", keywords=["县公积金"]), organisation=city)
    assert exc.value.messages == [
        f"关键词“县公积金”已被事项“{own.name}”（GJJ01）使用 / "
        "keyword '县公积金' is already used by service GJJ01"
    ]


def test_an_override_keeps_its_services_keywords_and_a_withdrawn_one_frees_them(
    city: Organisation, county: Organisation
) -> None:
    sb = create_service(SOCIAL, organisation=city)
    override_service(sb, replace(SOCIAL, name="县版本"), organisation=county)  # same keywords
    with pytest.raises(ValidationError):
        create_service(replace(HOUSING, keywords=["参保"]), organisation=county)
    withdraw_service(sb, organisation=county)
    s = create_service(replace(HOUSING, keywords=["参保"]), organisation=county)
    assert s.keywords == ["参保"]


def test_renaming_a_code_does_not_clash_with_its_own_keywords(city: Organisation) -> None:
    s = create_service(SOCIAL, organisation=city)
    update_service(s, replace(SOCIAL, code="SB002"))
    s.refresh_from_db()
    assert (s.code, s.keywords) == ("SB002", ["养老保险", "参保"])


# ------------------------------------------------------------------ offices


@pytest.mark.parametrize(
    ("lat", "lon", "field", "message"),
    [
        (91.0, 120.0, "latitude", "纬度须在 -90 到 90 之间：91.0 / latitude must be within -90..90: 91.0"),
        (30.0, -181.0, "longitude", "经度须在 -180 到 180 之间：-181.0 / longitude must be within -180..180: -181.0"),
        (30.0, None, "latitude", "纬度和经度须同时填写 / latitude and longitude go together"),
    ],
)  # fmt: skip
def test_coordinates_out_of_range_are_refused(
    city: Organisation, lat: float, lon: float | None, field: str, message: str
) -> None:
    hall = create_office(OfficeInput("HALL", "市民中心", "人民路 1 号"), organisation=city)
    before = state()
    with pytest.raises(ValidationError) as exc:
        create_office(OfficeInput("H2", "分中心", "解放路 2 号", latitude=lat, longitude=lon), organisation=city)  # fmt: skip
    assert exc.value.message_dict == {field: [message]}
    with pytest.raises(ValidationError):
        update_office(hall, OfficeInput("HALL", "市民中心", "人民路 1 号", latitude=lat, longitude=lon))  # fmt: skip
    assert state() == before


def test_a_withdrawn_office_disappears_from_the_countys_offices(
    city: Organisation, county: Organisation, county_account: Account
) -> None:
    hall = create_office(OfficeInput("HALL", "市民中心", "人民路 1 号"), organisation=city)
    create_office(OfficeInput("H2", "分中心", "解放路 2 号"), organisation=city)
    withdraw_office(hall, organisation=county)
    assert [o.code for o in catalogue.offices_for(county_account)] == ["H2"]


# ------------------------------------------------------------------ who may write


def test_a_role_without_services_edit_is_refused_and_nothing_changes(
    city_account: Account, django_user_model: Any
) -> None:
    reviewer = django_user_model.objects.create_user("reviewer")
    add_member(city_account, reviewer, Membership.Role.REVIEWER)
    before = state()
    with pytest.raises(PermissionDenied):
        create_service(SOCIAL, account=city_account, actor=reviewer)
    assert state() == before


def test_an_account_writes_only_its_own_organisations_catalogue(
    city: Organisation, county_account: Account, django_user_model: Any
) -> None:
    editor = django_user_model.objects.create_user("county-editor")
    add_member(county_account, editor, Membership.Role.EDITOR)
    s = create_service(SOCIAL, organisation=city)
    before = state()
    with pytest.raises(PermissionDenied):
        update_service(s, replace(SOCIAL, name="县改市的"), account=county_account, actor=editor)
    with pytest.raises(PermissionDenied):
        create_service(SOCIAL, organisation=city, account=county_account, actor=editor)
    assert state() == before
    own = create_service(replace(HOUSING), account=county_account, actor=editor)
    event = AuditEvent.objects.get(name="service.created", data__code="GJJ01")
    assert (own.organisation_id, event.account_id, event.actor_id) == (
        county_account.organisation_id,
        county_account.pk,
        editor.pk,
    )


def test_an_account_without_an_organisation_has_no_catalogue_to_write(
    account: Account, account_admin: Any
) -> None:
    with pytest.raises(ValidationError) as exc:
        create_service(SOCIAL, account=account, actor=account_admin)
    assert exc.value.messages == [
        "本公众号未设置主办组织，无法维护服务事项 / the account has no organisation, "
        "so it has no catalogue to edit"
    ]


# ------------------------------------------------------------------ concurrent writers


def test_a_row_of_the_same_code_written_between_the_check_and_the_insert_is_refused_by_name(
    city: Organisation, city_account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two creates of one code at once: the second's INSERT meets the unique constraint
    and gets the check's ValidationError (a form error), not an IntegrityError (a 500)."""
    check = catalogue_writes.check_service_code

    def check_then_the_other_writer_commits(org: Organisation, code: str, **kw: Any) -> None:
        check(org, code, **kw)
        Service.objects.create(organisation=org, code=code, name="并发写入", category="other")

    monkeypatch.setattr(catalogue_writes, "check_service_code", check_then_the_other_writer_commits)
    before = state()
    with pytest.raises(ValidationError) as exc:
        create_service(SOCIAL, organisation=city)
    assert exc.value.message_dict == {
        "code": ["事项编码 SB001 已存在 / service code SB001 already exists"]
    }
    assert state() == before  # the stand-in row went in the same transaction


def test_renaming_to_a_code_written_meanwhile_is_refused_by_name(
    city: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = create_service(SOCIAL, organisation=city)
    check = catalogue_writes.check_service_code

    def check_then_the_other_writer_commits(org: Organisation, code: str, **kw: Any) -> None:
        check(org, code, **kw)
        Service.objects.create(organisation=org, code=code, name="并发写入", category="other")

    monkeypatch.setattr(catalogue_writes, "check_service_code", check_then_the_other_writer_commits)
    with pytest.raises(ValidationError) as exc:
        update_service(s, replace(SOCIAL, code="SB002"))
    assert exc.value.message_dict == {
        "code": ["事项编码 SB002 已存在 / service code SB002 already exists"]
    }
    s.refresh_from_db()
    assert s.code == "SB001"


def test_an_office_of_a_code_written_meanwhile_is_refused_by_name(
    city: Organisation, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = catalogue_writes.check_office_code

    def check_then_the_other_writer_commits(org: Organisation, code: str, **kw: Any) -> None:
        check(org, code, **kw)
        Office.objects.create(organisation=org, code=code, name="并发", address="某路")

    monkeypatch.setattr(catalogue_writes, "check_office_code", check_then_the_other_writer_commits)
    before = state()
    with pytest.raises(ValidationError) as exc:
        create_office(OfficeInput("HALL", "市民中心", "人民路 1 号"), organisation=city)
    assert exc.value.message_dict == {
        "code": ["网点编码 HALL 已存在 / office code HALL already exists"]
    }
    assert state() == before


def test_the_row_writers_turn_the_constraint_into_the_named_error_and_leave_the_transaction_usable(
    city: Organisation,
) -> None:
    Service.objects.create(organisation=city, code="SB001", name="已有", category="other")
    Office.objects.create(organisation=city, code="HALL", name="已有", address="某路")
    data = clean_service(city, SOCIAL)
    with transaction.atomic():
        with pytest.raises(ValidationError) as exc:
            write_service_row(Service(organisation=city), data, {})
        assert exc.value.messages == ["事项编码 SB001 已存在 / service code SB001 already exists"]
        with pytest.raises(ValidationError) as exc:
            write_office_row(Office(organisation=city), OfficeInput("HALL", "新", "新路"))
        assert exc.value.messages == ["网点编码 HALL 已存在 / office code HALL already exists"]
        # the savepoint was rolled back: the transaction goes on (PostgreSQL would refuse
        # every statement of an aborted one)
        assert list(Service.objects.values_list("name", flat=True)) == ["已有"]


def test_every_catalogue_write_locks_the_organisation_and_its_ancestors_on_postgresql(
    province: Organisation, city: Organisation, county: Organisation
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: BEGIN IMMEDIATE, no row locks")
    office = create_office(OfficeInput("HALL", "市民中心", "人民路 1 号"), organisation=county)
    writes = [
        lambda: create_service(HOUSING, organisation=county),
        lambda: update_service(Service.objects.get(code="GJJ01"), replace(HOUSING, name="新")),
        lambda: delete_service(Service.objects.get(code="GJJ01")),
        lambda: update_office(office, OfficeInput("HALL", "市民中心", "人民路 2 号")),
        lambda: create_office(OfficeInput("H2", "分中心", "解放路 2 号"), organisation=county),
    ]
    chain = ", ".join(str(o.pk) for o in (county, city, province))
    for write in writes:
        with CaptureQueriesContext(connection) as ctx:
            write()
        locks = [q["sql"] for q in ctx if "FOR" in q["sql"] and "UPDATE" in q["sql"]]
        assert locks == [
            'SELECT "accounts_organisation"."id" AS "pk" FROM "accounts_organisation" WHERE '
            f'"accounts_organisation"."id" IN ({chain}) ORDER BY 1 ASC FOR NO KEY UPDATE'
        ]
