"""Citizens' media in an S3-compatible store (GOVWX_MEDIA_STORAGE=s3, django-storages):
the same fetch as on the file system, against moto's S3 server over HTTP."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import server as moto_server
from PIL import Image

from govwx.accounts.models import Account
from govwx.wechat import media
from govwx.wechat.models import media_storage

from .mediafiles import picture
from .test_client import Sandbox
from .test_media import follower_sends, waiting

BUCKET = "govwx-media-test"


@pytest.fixture
def s3(settings: Any) -> Iterator[Any]:
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    keys = {"aws_access_key_id": "govwx", "aws_secret_access_key": "govwx-secret"}
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **keys)
    client.create_bucket(Bucket=BUCKET)
    # the options govwx/settings.py builds from GOVWX_S3_* when GOVWX_MEDIA_STORAGE=s3
    storages = dict(settings.STORAGES)
    storages["media"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": BUCKET,
            "endpoint_url": endpoint,
            "region_name": "us-east-1",
            "access_key": keys["aws_access_key_id"],
            "secret_key": keys["aws_secret_access_key"],
            "location": "govwx-media",
            "default_acl": "private",
            "file_overwrite": False,
        },
    }
    settings.STORAGES = storages
    try:
        yield client
    finally:
        server.stop()


def test_a_followers_picture_goes_to_the_bucket_privately(
    s3: Any, sandbox: Sandbox, account: Account
) -> None:
    jpeg = picture(size=(1200, 900))
    sent = follower_sends(sandbox, account, jpeg, "road.jpg")
    row = waiting(account, sent["media_id"])
    assert media.fetch_due() == 1
    row.refresh_from_db()
    assert row.status == "stored" and row.size == len(jpeg)
    # in the bucket, under the prefix, readable with the keys and by nobody else
    key = f"govwx-media/{row.file.name}"
    assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == jpeg
    grants = s3.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    assert not any(g["Grantee"].get("URI", "").endswith("AllUsers") for g in grants)
    # and read back through Django's storage, as the case page's media view does
    with media_storage().open(row.file.name) as f:
        assert f.read() == jpeg
    with media_storage().open(row.thumbnail.name) as f:
        assert Image.open(io.BytesIO(f.read())).size == (320, 240)
