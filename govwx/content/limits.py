"""WeChat's limits on what an article and its material may be (docs/wechat-publishing.md
names the sources). Checked here before any call, so that the editor says what is wrong
instead of WeChat refusing it later."""

from __future__ import annotations

TITLE_MAX = 32  # characters (draft/add: 45003 beyond)
AUTHOR_MAX = 16
DIGEST_MAX = 128
CONTENT_MAX_CHARS = 20_000  # the article's HTML: fewer than 20,000 characters …
CONTENT_MAX_BYTES = 1024 * 1024  # … and under 1 MB

# permanent material (material/add_material) and in-article pictures (media/uploadimg)
IMAGE_MAX_BYTES = 10 * 1024 * 1024
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "BMP": "image/bmp"}
ARTICLE_IMAGE_MAX_BYTES = 1024 * 1024
ARTICLE_IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}
VOICE_MAX_BYTES = 2 * 1024 * 1024
VOICE_FORMATS = {
    "mp3": "audio/mpeg",
    "wma": "audio/x-ms-wma",
    "wav": "audio/wav",
    "amr": "audio/amr",
}
VIDEO_MAX_BYTES = 10 * 1024 * 1024
VIDEO_FORMATS = {"mp4": "video/mp4"}
# the longest side a picture is resized to when it is over the size limit
RESIZE_LONG_SIDE = 1920

# hosts whose videos a WeChat article can embed (腾讯视频)
VIDEO_HOSTS = ("v.qq.com",)
# a voice material plays at most this long (material/add_material: 播放长度不超过 60s)
VOICE_MAX_SECONDS = 60
