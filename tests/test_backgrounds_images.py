"""Image sniffing and the validation rules of tile backgrounds, without the app."""

from __future__ import annotations

import base64
import struct
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tiles_edge.api.backgrounds import decode_data_url
from tiles_edge.backgrounds import (
    MAX_IMAGE_PIXELS,
    MAX_IMAGE_SIDE,
    check_image,
    normalize_color,
    sniff_image,
    validate_background_uid,
)
from tiles_edge.errors import ApiError

# Encoded for these tests from a 6x5 and a 5x4 RGB picture and a 3x2 RGBA picture with
# libjpeg-turbo's cjpeg and libwebp's cwebp (lossy, -lossless, and lossy with alpha).
JPEG_6X5 = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAoHBwgHBgoICAgLCgoLDhgQDg0NDh0VFhEYIx8lJCIfIiEmKzcvJik0KSEi"
    "MEExNDk7Pj4+JS5ESUM8SDc9Pjv/2wBDAQoLCw4NDhwQEBw7KCIoOzs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7"
    "Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozv/wAARCAAFAAYDASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcI"
    "CQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRol"
    "JicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ip"
    "qrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAA"
    "AAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLR"
    "ChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaX"
    "mJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEA"
    "PwDU+Funw/2Uf9wdqKKKAP/Z"
)
WEBP_LOSSY_5X4 = base64.b64decode(
    "UklGRlwAAABXRUJQVlA4IFAAAAAwAgCdASoFAAQAAgA0JbACdLoA1AADq1uEuAD2v1dQ/AsWZ+DuUX/4jGWV/hTXuKnk"
    "26k88/wb5j/4H4k33//jQ32ZKYkf9JWZ9//xf/gAAA=="
)
WEBP_LOSSLESS_5X4 = base64.b64decode(
    "UklGRiwAAABXRUJQVlA4TCAAAAAvBMAAAJkyRPQ/NhHR/zCQSdtU9vwf0xAGapAjsjACDw=="
)
WEBP_EXTENDED_3X2 = base64.b64decode(
    "UklGRnAAAABXRUJQVlA4WAoAAAAQAAAAAgAAAQAAQUxQSAcAAAAAgICAgICAAFZQOCBCAAAA8AEAnQEqAwACAAIANCWo"
    "AnS6AAMJBvuAAP7Ch04mCnzL/9DFOD5+SP7dTMe68PvC/l+f/yb+3d+ZgHz/+TfowAAA"
)


def make_png(width: int, height: int) -> bytes:
    """Encode a real RGB PNG of the given size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    row = b"\x00" + bytes([40, 120, 200]) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def make_gif(width: int, height: int) -> bytes:
    """Encode a real GIF89a of one color, its LZW codes written without compression."""
    clear, end = 4, 5  # with a minimum code size of 2
    codes: list[int] = [clear]
    for index in range(width * height):
        codes.append(0)
        # A clear code every two pixels keeps the decoder's code width at 3 bits.
        if index % 2 == 1:
            codes.append(clear)
    codes.append(end)

    bits = 0
    bit_count = 0
    packed = bytearray()
    for code in codes:
        bits |= code << bit_count
        bit_count += 3
        while bit_count >= 8:
            packed.append(bits & 0xFF)
            bits >>= 8
            bit_count -= 8
    if bit_count:
        packed.append(bits & 0xFF)

    blocks = b"".join(
        bytes([len(packed[i : i + 255])]) + bytes(packed[i : i + 255])
        for i in range(0, len(packed), 255)
    )
    return (
        b"GIF89a"
        + struct.pack("<HHBBB", width, height, 0x80, 0, 0)
        + b"\x20\x60\xa0\xff\xff\xff"
        + b"\x2c"
        + struct.pack("<HHHHB", 0, 0, width, height, 0)
        + b"\x02"
        + blocks
        + b"\x00\x3b"
    )


@pytest.mark.parametrize(
    ("data", "mime", "extension", "size"),
    [
        (make_png(7, 3), "image/png", "png", (7, 3)),
        (JPEG_6X5, "image/jpeg", "jpg", (6, 5)),
        (make_gif(4, 2), "image/gif", "gif", (4, 2)),
        (WEBP_LOSSY_5X4, "image/webp", "webp", (5, 4)),
        (WEBP_LOSSLESS_5X4, "image/webp", "webp", (5, 4)),
        (WEBP_EXTENDED_3X2, "image/webp", "webp", (3, 2)),
    ],
)
def test_sniff_supported_types(data: bytes, mime: str, extension: str, size: tuple[int, int]):
    info = sniff_image(data)
    assert info is not None
    assert info.mime == mime
    assert info.extension == extension
    assert (info.width, info.height) == size


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello, this is text",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        b"<html><body>not an image</body></html>",
        b"BM" + b"\x00" * 60,  # BMP
        b"II*\x00" + b"\x00" * 60,  # TIFF
        b"\x89PNG\r\n\x1a\n",  # signature only
        make_png(2, 2)[:20],  # IHDR cut short
        b"\xff\xd8\xff",  # JPEG start only
        JPEG_6X5[:150],  # JPEG cut before its frame header
        b"GIF89a\x01",
        b"RIFF\x10\x00\x00\x00WEBPVP8 ",  # WebP without its frame header
        b"RIFF\x10\x00\x00\x00WAVEfmt ",  # RIFF of another kind
    ],
)
def test_sniff_rejects_other_content(data: bytes):
    assert sniff_image(data) is None


SIGNATURES = [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR",
    b"\xff\xd8\xff",
    b"GIF89a",
    b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    b"RIFF\x00\x00\x00\x00WEBPVP8L",
    b"RIFF\x00\x00\x00\x00WEBPVP8X",
]


@given(st.sampled_from(SIGNATURES), st.binary(max_size=300))
def test_sniff_never_raises(signature: bytes, tail: bytes):
    info = sniff_image(signature + tail)
    if info is not None:
        assert info.width >= 0
        assert info.height >= 0


@given(st.binary(max_size=300))
def test_check_image_raises_only_api_errors(data: bytes):
    error: ApiError | None = None
    try:
        check_image(data, max_bytes=200)
    except ApiError as err:
        error = err
    if error is not None:
        assert error.status in (400, 413, 415)


def test_sniff_jpeg_walks_past_fill_bytes():
    # Any marker may be preceded by extra 0xFF fill bytes.
    padded = JPEG_6X5[:2] + b"\xff\xff" + JPEG_6X5[2:]
    info = sniff_image(padded)
    assert info is not None
    assert (info.width, info.height) == (6, 5)


def test_check_image_accepts_small_png():
    info = check_image(make_png(3, 3), max_bytes=1024)
    assert info.mime == "image/png"


def test_check_image_rejects_oversize_body():
    data = make_png(3, 3)
    with pytest.raises(ApiError) as caught:
        check_image(data, max_bytes=len(data) - 1)
    assert caught.value.status == 413
    assert caught.value.code == "image_too_large"


def test_check_image_accepts_exact_limit():
    data = make_png(3, 3)
    assert check_image(data, max_bytes=len(data)).width == 3


def test_check_image_rejects_empty_body():
    with pytest.raises(ApiError) as caught:
        check_image(b"", max_bytes=1024)
    assert caught.value.status == 400


def test_check_image_rejects_text():
    with pytest.raises(ApiError) as caught:
        check_image(b"plain text claiming to be a PNG", max_bytes=1024)
    assert caught.value.status == 415
    assert caught.value.code == "unsupported_image_type"


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (MAX_IMAGE_SIDE + 1, 1),
        (1, MAX_IMAGE_SIDE + 1),
        (MAX_IMAGE_SIDE, MAX_IMAGE_PIXELS // MAX_IMAGE_SIDE + 1),
        (0, 10),
    ],
)
def test_check_image_rejects_dimensions(width: int, height: int):
    # Only the header is needed: the check reads the dimensions without decoding.
    header = make_png(1, 1)
    data = header[:16] + struct.pack(">II", width, height) + header[24:]
    with pytest.raises(ApiError) as caught:
        check_image(data, max_bytes=1024)
    assert caught.value.status == 413
    assert caught.value.code == "image_dimensions_too_large"


@pytest.mark.parametrize("uid", ["default", "main:12", "garage:7", "hub-2:abc_DEF-9"])
def test_background_uid_accepts(uid: str):
    assert validate_background_uid(uid) == uid


@pytest.mark.parametrize(
    "uid",
    [
        "",
        ".",
        "..",
        "../etc",
        "main",
        "main:",
        ":12",
        "main:12:3",
        "main:..",
        "..:12",
        "main/12",
        "main:12/../../secret.key",
        "main:%2e%2e",
        "main:12\x00",
        "main:1 2",
        "main:12\n",
        "Default",
        "default/",
        "main:" + "1" * 65,
        None,
        12,
    ],
)
def test_background_uid_rejects(uid: object):
    with pytest.raises(ApiError) as caught:
        validate_background_uid(uid)
    assert caught.value.status == 400
    assert caught.value.code == "invalid_uid"


@pytest.mark.parametrize(
    ("color", "normalized"),
    [("#112233", "#112233"), ("#AbCdEf", "#abcdef"), ("#fa0", "#ffaa00")],
)
def test_color_normalized(color: str, normalized: str):
    assert normalize_color(color) == normalized


@pytest.mark.parametrize(
    "color",
    ["112233", "#12345", "#1234567", "#ggg", "red", "#112233 ", "", None, 0x112233, ["#112233"]],
)
def test_color_rejects(color: object):
    with pytest.raises(ApiError) as caught:
        normalize_color(color)
    assert caught.value.status == 400
    assert caught.value.code == "invalid_color"


def test_data_url_decodes_and_ignores_declared_type():
    png = make_png(2, 2)
    url = "data:image/gif;base64," + base64.b64encode(png).decode()
    assert decode_data_url(url, max_bytes=1024) == png


@pytest.mark.parametrize(
    "url",
    [
        "data:image/png,rawtext",
        "http://example.invalid/a.png",
        "data:image/png;base64,@@@@",
        "data:image/png;base64,abc",
        12,
    ],
)
def test_data_url_rejects(url: object):
    with pytest.raises(ApiError) as caught:
        decode_data_url(url, max_bytes=1024)
    assert caught.value.status == 400
    assert caught.value.code == "invalid_data_url"


def test_data_url_too_large():
    url = "data:image/png;base64," + base64.b64encode(b"\x00" * 3000).decode()
    with pytest.raises(ApiError) as caught:
        decode_data_url(url, max_bytes=1024)
    assert caught.value.status == 413
