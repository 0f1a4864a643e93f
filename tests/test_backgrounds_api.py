"""The tile backgrounds API against the real app under Hypercorn with a real SQLite file."""

from __future__ import annotations

import base64
import os

import httpx
import pytest
import pytest_asyncio
from apphelpers import running_demo
from test_backgrounds_images import JPEG_6X5, WEBP_LOSSY_5X4, make_gif, make_png
from test_preferences_api import admin_id, assert_error, open_stream

from tiles_edge.backgrounds import BackgroundStore
from tiles_edge.errors import ApiError

pytestmark = pytest.mark.asyncio(loop_scope="module")

BASE = "/api/user/backgrounds"
# Small enough that an oversize image is quick to build, large enough for the test images.
MAX_UPLOAD_BYTES = 4096


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def demo(tmp_path_factory):
    async with running_demo(
        tmp_path_factory.mktemp("backgrounds"), hubs=(), max_upload_bytes=MAX_UPLOAD_BYTES
    ) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def user_id(demo) -> int:
    user_id = await admin_id(demo)
    # Each test starts without backgrounds.
    store = BackgroundStore(demo.services.storage, demo.settings.state_dir)
    await store.remove_user(user_id)
    return user_id


def upload_dir(demo, user_id: int):
    return demo.settings.state_dir / "uploads" / str(user_id)


def stored_files(demo, user_id: int) -> list[str]:
    directory = upload_dir(demo, user_id)
    return sorted(os.listdir(directory)) if directory.exists() else []


async def upload(demo, uid: str, data: bytes, content_type: str = "image/png") -> httpx.Response:
    return await demo.client.post(
        f"{BASE}/{uid}", content=data, headers={"content-type": content_type}
    )


# Images


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (make_png(3, 2), "image/png"),
        (JPEG_6X5, "image/jpeg"),
        (make_gif(2, 2), "image/gif"),
        (WEBP_LOSSY_5X4, "image/webp"),
    ],
)
async def test_upload_then_fetch_image(demo, user_id, data, mime):
    reply = await upload(demo, "main:12", data, mime)
    assert reply.status_code == 200, reply.text
    background = reply.json()
    assert background["type"] == "image"
    assert background["mime"] == mime
    assert background["bytes"] == len(data)
    assert background["url"].startswith(f"{BASE}/main:12/image?v=")

    image = await demo.client.get(background["url"])
    assert image.status_code == 200
    assert image.content == data
    assert image.headers["content-type"] == mime
    assert image.headers["x-content-type-options"] == "nosniff"

    listing = await demo.client.get(BASE)
    assert listing.status_code == 200
    assert listing.json() == {"main:12": background}


async def test_png_declared_as_jpeg_served_as_png(demo, user_id):
    png = make_png(4, 4)
    reply = await upload(demo, "main:5", png, "image/jpeg")
    assert reply.status_code == 200, reply.text
    assert reply.json()["mime"] == "image/png"

    image = await demo.client.get(f"{BASE}/main:5/image")
    assert image.headers["content-type"] == "image/png"
    assert [name.rsplit(".", 1)[1] for name in stored_files(demo, user_id)] == ["png"]


async def test_octet_stream_upload_sniffed(demo, user_id):
    reply = await upload(demo, "main:6", make_gif(1, 1), "application/octet-stream")
    assert reply.status_code == 200, reply.text
    assert reply.json()["mime"] == "image/gif"


async def test_text_claiming_png_is_415(demo, user_id):
    reply = await upload(demo, "main:12", b"<script>alert(1)</script>", "image/png")
    error = assert_error(reply, 415)
    assert error["code"] == "unsupported_image_type"
    assert (await demo.client.get(BASE)).json() == {}
    assert stored_files(demo, user_id) == []


@pytest.mark.parametrize(
    "content_type", ["image/svg+xml", "text/plain", "multipart/form-data; boundary=x", ""]
)
async def test_other_content_types_are_415(demo, user_id, content_type):
    reply = await upload(demo, "main:12", make_png(1, 1), content_type)
    error = assert_error(reply, 415)
    assert error["code"] == "unsupported_media_type"
    assert stored_files(demo, user_id) == []


async def test_oversize_image_is_413(demo, user_id):
    data = make_png(1, 1) + b"\x00" * MAX_UPLOAD_BYTES
    error = assert_error(await upload(demo, "main:12", data), 413)
    assert str(MAX_UPLOAD_BYTES) in error["message"]
    assert stored_files(demo, user_id) == []


async def test_oversize_image_without_length_is_413(demo, user_id):
    # A chunked body has no Content-Length, so the limit applies while reading.
    data = make_png(1, 1) + b"\x00" * MAX_UPLOAD_BYTES

    async def chunks():
        for start in range(0, len(data), 1000):
            yield data[start : start + 1000]

    reply = await demo.client.post(
        f"{BASE}/main:12", content=chunks(), headers={"content-type": "image/png"}
    )
    assert_error(reply, 413)
    assert stored_files(demo, user_id) == []


async def test_image_at_limit_is_accepted(demo, user_id):
    png = make_png(1, 1)
    # Bytes after IEND are ignored by decoders but count against the limit.
    data = png + b"\x00" * (MAX_UPLOAD_BYTES - len(png))
    assert (await upload(demo, "main:12", data)).status_code == 200


async def test_empty_body_is_400(demo, user_id):
    error = assert_error(await upload(demo, "main:12", b""), 400)
    assert error["code"] == "empty_image"


async def test_replace_removes_old_file(demo, user_id):
    first = (await upload(demo, "main:12", make_png(2, 2))).json()
    files_after_first = stored_files(demo, user_id)
    second = (await upload(demo, "main:12", make_gif(2, 2), "image/gif")).json()

    assert first["url"] != second["url"]
    assert len(files_after_first) == 1
    files = stored_files(demo, user_id)
    assert len(files) == 1
    assert files != files_after_first
    assert (await demo.client.get(first["url"])).content == make_gif(2, 2)


async def test_color_replaces_image_file(demo, user_id):
    await upload(demo, "main:12", make_png(2, 2))
    reply = await demo.client.post(f"{BASE}/main:12", json={"color": "#AbC"})
    assert reply.status_code == 200, reply.text
    assert reply.json()["type"] == "color"
    assert reply.json()["color"] == "#aabbcc"
    assert stored_files(demo, user_id) == []
    assert_error(await demo.client.get(f"{BASE}/main:12/image"), 404)


async def test_data_url_upload(demo, user_id):
    png = make_png(3, 3)
    data_url = "data:image/png;base64," + base64.b64encode(png).decode()
    reply = await demo.client.post(f"{BASE}/default", json={"dataUrl": data_url})
    assert reply.status_code == 200, reply.text
    assert (await demo.client.get(f"{BASE}/default/image")).content == png


async def test_data_url_of_text_is_415(demo, user_id):
    data_url = "data:image/png;base64," + base64.b64encode(b"just text").decode()
    reply = await demo.client.post(f"{BASE}/default", json={"dataUrl": data_url})
    assert_error(reply, 415)


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"color": "red"}, "invalid_color", "color"),
        ({"color": None}, "invalid_color", "color"),
        ({"dataUrl": "http://example.invalid/a.png"}, "invalid_data_url", "dataUrl"),
        ({"image": "x"}, "missing_background", "color"),
    ],
)
async def test_bad_json_body_is_400(demo, user_id, body, code, field):
    error = assert_error(await demo.client.post(f"{BASE}/main:12", json=body), 400)
    assert error["code"] == code
    assert field in error["message"]


async def test_malformed_json_is_400(demo, user_id):
    reply = await upload(demo, "main:12", b"{oops", "application/json")
    assert_error(reply, 400)


async def test_default_and_device_listed(demo, user_id):
    await demo.client.post(f"{BASE}/default", json={"color": "#101010"})
    await upload(demo, "garage:3", make_png(1, 1))
    listing = (await demo.client.get(BASE)).json()
    assert set(listing) == {"default", "garage:3"}
    assert listing["default"]["color"] == "#101010"
    assert listing["garage:3"]["type"] == "image"


async def test_delete_removes_file(demo, user_id):
    await upload(demo, "main:12", make_png(2, 2))

    reply = await demo.client.delete(f"{BASE}/main:12")
    assert reply.status_code == 200
    assert reply.json() == {"deleted": True}
    assert stored_files(demo, user_id) == []
    assert_error(await demo.client.get(f"{BASE}/main:12/image"), 404)

    reply = await demo.client.delete(f"{BASE}/main:12")
    assert reply.json() == {"deleted": False}


async def test_unreferenced_files_swept(demo, user_id):
    directory = upload_dir(demo, user_id)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / ".0123.png.tmp").write_bytes(b"left by a crash")
    (directory / ("ab" * 16 + ".png")).write_bytes(b"orphan")
    await upload(demo, "main:12", make_png(1, 1))
    assert len(stored_files(demo, user_id)) == 1


async def test_image_cached_by_version(demo, user_id):
    url = (await upload(demo, "main:12", make_png(2, 2))).json()["url"]

    image = await demo.client.get(url)
    assert "immutable" in image.headers["cache-control"]
    etag = image.headers["etag"]

    unversioned = await demo.client.get(f"{BASE}/main:12/image")
    assert unversioned.headers["cache-control"] == "private, no-cache"

    again = await demo.client.get(f"{BASE}/main:12/image", headers={"if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""


async def test_missing_image_is_404(demo, user_id):
    error = assert_error(await demo.client.get(f"{BASE}/main:99/image"), 404)
    assert error["code"] == "background_not_found"


async def test_get_on_set_path_is_405(demo, user_id):
    assert_error(await demo.client.get(f"{BASE}/main:12"), 405)


# Path traversal: every attempt is rejected and nothing outside the uploads folder is read.


@pytest.mark.parametrize(
    "uid",
    [
        "..",
        "%2e%2e",
        "main:..",
        "..%2f..%2fsecret.key",
        "main:12%2f..%2f..",
        "..%5c..%5csecret.key",
        "main%3a12%00",
        "main:12:3",
    ],
)
async def test_traversal_uid_rejected(demo, user_id, uid):
    upload_reply = await upload(demo, uid, make_png(1, 1))
    # httpx resolves a bare "..", and a path outside the upload route may meet the
    # Content-Type check first, so any client error will do as long as nothing is stored.
    assert 400 <= upload_reply.status_code < 500, upload_reply.text
    assert_error(upload_reply, upload_reply.status_code)
    image_reply = await demo.client.get(f"{BASE}/{uid}/image")
    assert image_reply.status_code in (400, 404), image_reply.text
    assert_error(image_reply, image_reply.status_code)
    delete_reply = await demo.client.delete(f"{BASE}/{uid}")
    assert delete_reply.status_code in (400, 404)
    assert stored_files(demo, user_id) == []


async def test_traversal_raw_path_rejected(demo, user_id):
    # httpx normalises "..", so the raw request line is sent through a transport-level URL.
    for raw_path in (
        b"/api/user/backgrounds/../../secret.key/image",
        b"/api/user/backgrounds/main:12/../../../secret.key",
    ):
        url = httpx.URL(demo.url).copy_with(raw_path=raw_path)
        reply = await demo.client.get(url)
        assert reply.status_code in (400, 404, 405), raw_path
        secret = demo.settings.state_dir / "secret.key"
        if secret.exists():
            assert secret.read_bytes() not in reply.content


async def test_tampered_mime_not_served(demo, user_id):
    await upload(demo, "main:12", make_png(2, 2))
    found, meta = await demo.services.storage.get_preference(user_id, "backgrounds", "main:12")
    assert found
    await demo.services.storage.set_preference(
        user_id, "backgrounds", "main:12", {**meta, "mime": "text/html"}
    )
    image = await demo.client.get(f"{BASE}/main:12/image")
    assert image.headers["content-type"] == "image/png"


async def test_tampered_metadata_not_followed(demo, user_id):
    # Metadata is read back from the database, so a path in it is never trusted.
    await demo.services.storage.set_preference(
        user_id,
        "backgrounds",
        "main:12",
        {"type": "image", "file": "../../secret.key", "mime": "image/png"},
    )
    assert_error(await demo.client.get(f"{BASE}/main:12/image"), 404)
    assert (await demo.client.get(BASE)).json() == {}


# Events and users


async def test_change_event_reaches_stream(demo, user_id):
    async with open_stream(demo) as stream:
        reply = await demo.client.post(
            f"{BASE}/main:12", json={"color": "#123456"}, headers={"X-Client-Id": "tab-2"}
        )
        assert reply.status_code == 200
        data = await stream.next("preferences", lambda data: data.get("key") == "main:12")
        assert data["category"] == "backgrounds"
        assert data["value"]["color"] == "#123456"
        assert data["userId"] == user_id
        assert data["clientId"] == "tab-2"

        await demo.client.delete(f"{BASE}/main:12")
        data = await stream.next("preferences", lambda data: data.get("deleted") is True)
        assert data["key"] == "main:12"


async def test_other_user_image_invisible(demo, user_id):
    storage = demo.services.storage
    other = await storage.create_user(username="other-backgrounds", password_hash=None)
    store = BackgroundStore(storage, demo.settings.state_dir, max_bytes=MAX_UPLOAD_BYTES)
    try:
        theirs = await store.set_image(other.id, "main:12", make_png(5, 5))
        await store.set_color(other.id, "default", "#ff0000")

        assert (await demo.client.get(BASE)).json() == {}
        assert_error(await demo.client.get(theirs["url"]), 404)
        assert_error(await demo.client.get(f"{BASE}/main:12/image"), 404)
        assert (await demo.client.delete(f"{BASE}/main:12")).json() == {"deleted": False}

        assert stored_files(demo, user_id) == []
        assert len(stored_files(demo, other.id)) == 1
        assert set(await store.list(other.id)) == {"main:12", "default"}
    finally:
        await store.remove_user(other.id)
        await storage.delete_user(other.id)
    assert not upload_dir(demo, other.id).exists()


async def test_user_image_quota(demo, user_id):
    store = BackgroundStore(
        demo.services.storage, demo.settings.state_dir, max_bytes=4096, max_user_bytes=3000
    )
    png = make_png(1, 1)
    padded = png + b"\x00" * (1400 - len(png))
    await store.set_image(user_id, "main:1", padded)
    await store.set_image(user_id, "main:2", padded)
    with pytest.raises(ApiError) as caught:
        await store.set_image(user_id, "main:3", padded)
    assert caught.value.status == 413
    # Replacing an image counts only the new one.
    await store.set_image(user_id, "main:2", padded)
    assert len(stored_files(demo, user_id)) == 2
