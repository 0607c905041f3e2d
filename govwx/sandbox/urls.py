from django.urls import path

from . import views, web

app_name = "sandbox"

urlpatterns = [
    path("", views.phone, name="phone"),
    path("cgi-bin/token", views.token, name="token"),
    path("cgi-bin/stable_token", views.stable_token, name="stable_token"),
    path("cgi-bin/menu/create", views.menu_create, name="menu_create"),
    path("cgi-bin/menu/get", views.menu_get, name="menu_get"),
    path("cgi-bin/menu/delete", views.menu_delete, name="menu_delete"),
    path("cgi-bin/menu/addconditional", views.menu_addconditional, name="menu_addconditional"),
    path("cgi-bin/menu/delconditional", views.menu_delconditional, name="menu_delconditional"),
    path("cgi-bin/menu/trymatch", views.menu_trymatch, name="menu_trymatch"),
    path("cgi-bin/tags/create", views.tags_create, name="tags_create"),
    path("cgi-bin/tags/get", views.tags_get, name="tags_get"),
    path("cgi-bin/tags/members/batchtagging", views.tags_batchtagging, name="tags_batchtagging"),
    path("cgi-bin/tags/getidlist", views.tags_getidlist, name="tags_getidlist"),
    path("cgi-bin/message/custom/send", views.custom_send, name="custom_send"),
    path("cgi-bin/message/template/send", views.template_send, name="template_send"),
    path("cgi-bin/media/upload", views.media_upload, name="media_upload"),
    path("cgi-bin/media/get", views.media_get, name="media_get"),
    path("media/<str:media_id>", views.media_file, name="media_file"),
    path("cgi-bin/user/info", views.user_info, name="user_info"),
    path("cgi-bin/user/get", views.user_get, name="user_get"),
    path("cgi-bin/webhook/send", views.robot_send, name="robot_send"),
    path("wecom/", views.wecom_group, name="wecom"),
    path("web/", web.page, name="web"),
    path("web/<path:path>", web.page, name="web_page"),
    path("api/robots", views.api_robots, name="api_robots"),
    path("api/robots/<str:key>", views.api_robot, name="api_robot"),
    path("api/robots/<str:key>/messages", views.api_robot_messages, name="api_robot_messages"),
    path("api/accounts", views.api_accounts, name="api_accounts"),
    path("api/accounts/<str:appid>", views.api_account, name="api_account"),
    path("api/accounts/<str:appid>/menu", views.api_menu, name="api_menu"),
    path("api/accounts/<str:appid>/tags", views.api_tags, name="api_tags"),
    path("api/accounts/<str:appid>/followers", views.api_followers, name="api_followers"),
    path(
        "api/accounts/<str:appid>/followers/<str:openid>/tags",
        views.api_follower_tags,
        name="api_follower_tags",
    ),
    path(
        "api/accounts/<str:appid>/followers/<str:openid>", views.api_follower, name="api_follower"
    ),
    path(
        "api/accounts/<str:appid>/followers/<str:openid>/follow",
        views.api_follow,
        name="api_follow",
    ),
    path(
        "api/accounts/<str:appid>/followers/<str:openid>/unfollow",
        views.api_unfollow,
        name="api_unfollow",
    ),
    path(
        "api/accounts/<str:appid>/followers/<str:openid>/messages",
        views.api_messages,
        name="api_messages",
    ),
    path(
        "api/accounts/<str:appid>/followers/<str:openid>/media",
        views.api_follower_media,
        name="api_follower_media",
    ),
    path(
        "api/accounts/<str:appid>/followers/<str:openid>/conversation",
        views.api_conversation,
        name="api_conversation",
    ),
]
