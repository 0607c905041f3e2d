"""The protocol module against the official vector and against wechatpy as a peer."""

from __future__ import annotations

import base64

import pytest
from wechatpy.crypto import WeChatCrypto

from govwx.wechat import protocol as wx

TOKEN = "pamtest"
KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APPID = "wxb11529c136998cb6"
A1 = "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="


def test_it_reproduces_official_vector_a1() -> None:
    cipher = wx.AESCipher(KEY, APPID)
    assert cipher.encrypt("我是中文abcd123".encode(), random16=b"aaaabbbbccccdddd") == A1
    assert cipher.decrypt(A1) == "我是中文abcd123".encode()


def test_it_derives_the_official_key() -> None:
    key = base64.b64decode(KEY + "=")
    assert key.hex() == "69b71d79f8218a39259a7a29aabb2dbafc31cb3d35db7e39ebbf3d0010831051"


def test_it_signs_like_the_reference() -> None:
    assert wx.sign(TOKEN, "1409304348", "xxxxxx", A1) == "82c962d39941aa48552f90ef55aa323dc620cc10"
    assert wx.sign(TOKEN, "1409304348", "xxxxxx") == "76480565cbe296026c53aaacd1ad523a1ddba24f"


def test_check_signature_rejects_bad_and_missing() -> None:
    wx.check_signature((TOKEN, "1409304348", "xxxxxx"), "76480565cbe296026c53aaacd1ad523a1ddba24f")
    with pytest.raises(wx.SignatureError):
        wx.check_signature((TOKEN, "1409304348", "xxxxxx"), "0" * 40)
    with pytest.raises(wx.SignatureError):
        wx.check_signature((TOKEN, "1409304348", "xxxxxx"), None)


def test_it_decrypts_what_wechatpy_encrypts() -> None:
    peer = WeChatCrypto(TOKEN, KEY, APPID)
    xml = "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><Content><![CDATA[社保]]></Content></xml>"
    envelope = peer.encrypt_message(xml, "n0nce", "1409304348")
    doc = wx.parse_xml(envelope.encode())
    assert wx.sign(TOKEN, "1409304348", "n0nce", doc["Encrypt"]) == doc["MsgSignature"]
    assert wx.AESCipher(KEY, APPID).decrypt(doc["Encrypt"]).decode() == xml


def test_wechatpy_decrypts_what_it_encrypts() -> None:
    reply = wx.render_reply(
        wx.Reply("text", {"content": "您好，社保查询请点菜单"}),
        to_user="oUser",
        from_user="gh_1",
        create_time=1409304348,
    )
    env = wx.encrypted_envelope(wx.AESCipher(KEY, APPID), TOKEN, reply, "1409304348", "n0nce")
    doc = wx.parse_xml(env.encode())
    plain = WeChatCrypto(TOKEN, KEY, APPID).decrypt_message(
        env, doc["MsgSignature"], "1409304348", "n0nce"
    )
    assert "您好，社保查询请点菜单" in plain
    assert wx.parse_xml(plain.encode())["ToUserName"] == "oUser"


def test_decrypt_rejects_other_appid_and_tampering() -> None:
    enc = wx.AESCipher(KEY, "wx0000000000000000").encrypt(b"<xml/>")
    with pytest.raises(wx.AppIdMismatch):
        wx.AESCipher(KEY, APPID).decrypt(enc)
    raw = bytearray(base64.b64decode(A1))
    raw[-1] ^= 0x55
    with pytest.raises(wx.DecryptError):
        wx.AESCipher(KEY, APPID).decrypt(base64.b64encode(bytes(raw)).decode())
    with pytest.raises(wx.DecryptError):
        wx.AESCipher(KEY, APPID).decrypt("not base64!!")
    with pytest.raises(wx.DecryptError):
        wx.AESCipher(KEY, APPID).decrypt(base64.b64encode(b"short").decode())


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><A>&a;</A></xml>',
        b'<!DOCTYPE xml SYSTEM "file:///etc/passwd"><xml><A>1</A></xml>',
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
        b'"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><xml><A>&lol2;</A></xml>',
        b"<xml><A>unclosed</xml>",
        b"<xml><A>\xff\xfe</A></xml>",
        b"",
        b"plain text",
    ],
)
def test_parse_xml_refuses_dtds_entities_and_garbage(body: bytes) -> None:
    with pytest.raises(wx.XMLError):
        wx.parse_xml(body)


def test_parse_xml_nests_and_lists() -> None:
    doc = wx.parse_xml(
        b"<xml><Event><![CDATA[pic_weixin]]></Event><SendPicsInfo><Count>2</Count><PicList>"
        b"<item><PicMd5Sum><![CDATA[a]]></PicMd5Sum></item>"
        b"<item><PicMd5Sum><![CDATA[b]]></PicMd5Sum></item></PicList></SendPicsInfo></xml>"
    )
    assert doc["SendPicsInfo"]["PicList"]["item"] == [{"PicMd5Sum": "a"}, {"PicMd5Sum": "b"}]


def _msg(inner: str, msg_type: str = "event") -> wx.Message:
    xml = (
        "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oU]]>"
        f"</FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[{msg_type}]]>"
        f"</MsgType>{inner}</xml>"
    )
    return wx.to_message(wx.parse_xml(xml.encode()))


def test_it_types_every_ordinary_message() -> None:
    m = _msg("<Content>社保</Content><MsgId>1234567890123456</MsgId>", "text")
    assert isinstance(m, wx.TextMessage) and m.content == "社保" and m.msg_id == 1234567890123456
    m = _msg("<PicUrl>http://p/1.jpg</PicUrl><MediaId>m1</MediaId><MsgId>1</MsgId>", "image")
    assert isinstance(m, wx.ImageMessage) and (m.pic_url, m.media_id) == ("http://p/1.jpg", "m1")
    m = _msg("<MediaId>v</MediaId><Format>amr</Format><Recognition>你好</Recognition>", "voice")
    assert isinstance(m, wx.VoiceMessage) and (m.format, m.recognition) == ("amr", "你好")
    for t in ("video", "shortvideo"):
        m = _msg("<MediaId>v</MediaId><ThumbMediaId>t</ThumbMediaId>", t)
        assert isinstance(m, wx.VideoMessage) and m.thumb_media_id == "t"
    m = _msg(
        "<Location_X>34.26</Location_X><Location_Y>108.94</Location_Y><Scale>15</Scale>"
        "<Label>西安市</Label>",
        "location",
    )
    assert isinstance(m, wx.LocationMessage)
    assert (m.latitude, m.longitude, m.scale, m.label) == (34.26, 108.94, 15, "西安市")
    m = _msg("<Title>t</Title><Description>d</Description><Url>http://u</Url>", "link")
    assert isinstance(m, wx.LinkMessage) and m.url == "http://u"
    m = _msg("<Foo>1</Foo>", "file")
    assert isinstance(m, wx.UnknownMessage) and m.msg_type == "file"


def test_it_types_every_event() -> None:
    m = _msg("<Event>subscribe</Event><EventKey>qrscene_123</EventKey><Ticket>T</Ticket>")
    assert isinstance(m, wx.SubscribeEvent) and (m.scene, m.ticket) == ("123", "T")
    assert isinstance(_msg("<Event>unsubscribe</Event>"), wx.UnsubscribeEvent)
    m = _msg("<Event>SCAN</Event><EventKey>123</EventKey><Ticket>T</Ticket>")
    assert isinstance(m, wx.ScanEvent) and m.event_key == "123"
    m = _msg(
        "<Event>LOCATION</Event><Latitude>23.1</Latitude><Longitude>113.3</Longitude>"
        "<Precision>119.3</Precision>"
    )
    assert isinstance(m, wx.LocationEvent) and m.precision == 119.3
    m = _msg("<Event>CLICK</Event><EventKey>MENU_GUIDE</EventKey>")
    assert isinstance(m, wx.ClickEvent) and m.event_key == "MENU_GUIDE"
    m = _msg("<Event>VIEW</Event><EventKey>http://x</EventKey><MenuId>7</MenuId>")
    assert isinstance(m, wx.ViewEvent) and m.menu_id == "7"
    m = _msg("<Event>view_miniprogram</Event><EventKey>pages/a</EventKey><MenuId>7</MenuId>")
    assert isinstance(m, wx.ViewEvent) and m.event_key == "pages/a"
    m = _msg(
        "<Event>scancode_waitmsg</Event><EventKey>k</EventKey><ScanCodeInfo><ScanType>"
        "qrcode</ScanType><ScanResult>r</ScanResult></ScanCodeInfo>"
    )
    assert isinstance(m, wx.ScanCodeEvent) and (m.scan_type, m.scan_result) == ("qrcode", "r")
    m = _msg(
        "<Event>pic_sysphoto</Event><EventKey>k</EventKey><SendPicsInfo><Count>1</Count>"
        "<PicList><item><PicMd5Sum>abc</PicMd5Sum></item></PicList></SendPicsInfo>"
    )
    assert isinstance(m, wx.PicEvent) and (m.count, m.pic_md5s) == (1, ["abc"])
    m = _msg(
        "<Event>location_select</Event><EventKey>k</EventKey><SendLocationInfo>"
        "<Location_X>23</Location_X><Location_Y>113</Location_Y><Scale>15</Scale>"
        "<Label>L</Label><Poiname>P</Poiname></SendLocationInfo>"
    )
    assert isinstance(m, wx.LocationSelectEvent) and (m.label, m.poiname) == ("L", "P")
    m = _msg("<Event>TEMPLATESENDJOBFINISH</Event><MsgID>200163836</MsgID><Status>success</Status>")
    assert isinstance(m, wx.TemplateSendJobFinishEvent) and m.job_msg_id == 200163836
    m = _msg(
        "<Event>MASSSENDJOBFINISH</Event><MsgID>1988</MsgID><Status>send success</Status>"
        "<TotalCount>100</TotalCount><FilterCount>80</FilterCount><SentCount>75</SentCount>"
        "<ErrorCount>5</ErrorCount>"
    )
    assert isinstance(m, wx.MassSendJobFinishEvent) and (m.sent_count, m.error_count) == (75, 5)
    m = _msg(
        "<Event>PUBLISHJOBFINISH</Event><PublishEventInfo><publish_id>2247</publish_id>"
        "<publish_status>0</publish_status><article_id>A</article_id><article_detail>"
        "<count>1</count><item><idx>1</idx><article_url>http://a</article_url></item>"
        "</article_detail></PublishEventInfo>"
    )
    assert isinstance(m, wx.PublishJobFinishEvent)
    assert (m.publish_id, m.publish_status, m.article_urls) == ("2247", 0, ["http://a"])
    m = _msg(
        "<Event>kf_switch_session</Event><FromKfAccount>a@x</FromKfAccount>"
        "<ToKfAccount>b@x</ToKfAccount>"
    )
    assert isinstance(m, wx.KfSessionEvent) and m.to_kf_account == "b@x"
    m = _msg(
        "<Event>subscribe_msg_popup_event</Event><SubscribeMsgPopupEvent><List>"
        "<TemplateId>t</TemplateId><SubscribeStatusString>accept</SubscribeStatusString>"
        "</List></SubscribeMsgPopupEvent>"
    )
    assert isinstance(m, wx.SubscribeMsgEvent) and m.items[0]["TemplateId"] == "t"
    m = _msg("<Event>annual_renew</Event><ExpiredTime>1</ExpiredTime>")
    assert type(m) is wx.Event and m.event == "annual_renew"


def test_dedup_keys() -> None:
    a = _msg("<Content>x</Content><MsgId>42</MsgId>", "text")
    assert a.dedup_key == "m:42:oU:1700000000"
    e = _msg("<Event>CLICK</Event><EventKey>K</EventKey>")
    assert e.dedup_key == "e:oU:1700000000:CLICK:K"
    loc = _msg("<Event>LOCATION</Event><Latitude>1</Latitude>")
    sub = _msg("<Event>subscribe</Event>")
    assert loc.dedup_key != sub.dedup_key


def test_it_renders_every_reply_kind() -> None:
    def render(kind: str, data: dict, limit: int = 8) -> dict:
        xml = wx.render_reply(
            wx.Reply(kind, data), to_user="oU", from_user="gh_1", create_time=1, news_limit=limit
        )
        return wx.parse_xml(xml.encode())

    assert render("text", {"content": "a]]>b"})["Content"] == "a]]>b"
    assert render("image", {"media_id": "m"})["Image"] == {"MediaId": "m"}
    assert render("voice", {"media_id": "m"})["Voice"] == {"MediaId": "m"}
    assert render("video", {"media_id": "m", "title": "t"})["Video"]["Title"] == "t"
    assert render("music", {"title": "t", "thumb_media_id": "th"})["Music"]["ThumbMediaId"] == "th"
    arts = [{"title": f"t{i}", "url": "http://u"} for i in range(10)]
    doc = render("news", {"articles": arts})
    assert doc["ArticleCount"] == "8" and len(doc["Articles"]["item"]) == 8
    doc = render("news", {"articles": arts}, limit=1)
    assert doc["ArticleCount"] == "1" and doc["Articles"]["item"]["Title"] == "t0"
    doc = render("transfer_customer_service", {"kf_account": "a@b"})
    assert doc["TransInfo"]["KfAccount"] == "a@b"
    with pytest.raises(ValueError):
        render("bogus", {})
