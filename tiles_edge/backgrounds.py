"""Tile backgrounds per user: an uploaded image or a color for each device tile, plus a default.

A background is keyed by a device uid (``main:12``) or by ``default``. Its metadata lives in
the user's preferences under the reserved category ``backgrounds``; image files live in
``<state_dir>/uploads/<user_id>/`` under random names that the server generates. Nothing the
client sends names a file: not the uid, not a file name, not a Content-Type. The image type is
taken from the file's magic bytes (PNG, JPEG, WebP and GIF only), and the file is served back
with that type.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import shutil
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tiles_edge.errors import ApiError
from tiles_edge.preferences import EventPublisher, PreferenceStorage, publish_preference_change

logger = logging.getLogger(__name__)

CATEGORY = "backgrounds"
DEFAULT_UID = "default"

MAX_IMAGE_BYTES = 2 * 1024 * 1024
"""Default largest image; the ``max_upload_bytes`` setting overrides it."""
MAX_USER_IMAGE_BYTES = 64 * 1024 * 1024
"""Largest total of one user's stored images."""
MAX_IMAGE_SIDE = 16384
MAX_IMAGE_PIXELS = 40_000_000
"""A browser decodes an image to 4 bytes per pixel, so 40 million pixels take 160 MB of a
wall tablet's memory for one tile."""

# "default", or a device uid "<hubId>:<deviceId>".
UID_PATTERN = re.compile(r"default|[A-Za-z0-9][A-Za-z0-9_-]{0,63}:[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
COLOR_PATTERN = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
# Names this module generates: 32 hex digits and the extension of the sniffed type.
FILE_NAME_PATTERN = re.compile(r"[0-9a-f]{32}\.(?:png|jpg|webp|gif)")
# The served type follows from the generated extension, never from stored metadata.
MIME_BY_EXTENSION = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
}


@dataclass(frozen=True, slots=True)
class ImageInfo:
    mime: str
    extension: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class StoredImage:
    path: Path
    mime: str
    file_id: str
    """The random part of the file name: a new value for every upload, usable as an ETag."""
    size: int


def sniff_image(data: bytes) -> ImageInfo | None:
    """Identify a PNG, JPEG, WebP or GIF image from its header and read its dimensions.

    Returns None for anything else, including a supported type whose header is cut short.
    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _sniff_png(data)
    if data.startswith(b"\xff\xd8\xff"):
        return _sniff_jpeg(data)
    if data.startswith((b"GIF87a", b"GIF89a")):
        return _sniff_gif(data)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return _sniff_webp(data)
    return None


def _sniff_png(data: bytes) -> ImageInfo | None:
    # The IHDR chunk always comes first: length (4), type (4), width (4), height (4).
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return ImageInfo("image/png", "png", width, height)


def _sniff_gif(data: bytes) -> ImageInfo | None:
    if len(data) < 10:
        return None
    width, height = struct.unpack("<HH", data[6:10])
    return ImageInfo("image/gif", "gif", width, height)


def _sniff_webp(data: bytes) -> ImageInfo | None:
    # RIFF container, then the first chunk's type at offset 12 and its payload at 20.
    # Layouts from the WebP container specification (developers.google.com/speed/webp).
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return ImageInfo("image/webp", "webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        width = (bits & 0x3FFF) + 1
        height = ((bits >> 14) & 0x3FFF) + 1
        return ImageInfo("image/webp", "webp", width, height)
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return ImageInfo("image/webp", "webp", width, height)
    return None


# Start-of-frame markers carry the dimensions; C4 (DHT), C8 (JPG) and CC (DAC) do not.
_JPEG_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length field: TEM, RST0-7, SOI and EOI.
_JPEG_STANDALONE_MARKERS = frozenset({0x01, *range(0xD0, 0xDA)})


def _sniff_jpeg(data: bytes) -> ImageInfo | None:
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
            continue
        if marker in _JPEG_STANDALONE_MARKERS:
            position += 2
            continue
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        if marker in _JPEG_SOF_MARKERS:
            # Segment: length (2), sample precision (1), height (2), width (2).
            if position + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[position + 5 : position + 9])
            return ImageInfo("image/jpeg", "jpg", width, height)
        if marker == 0xDA or length < 2:  # scan data before any frame header
            return None
        position += 2 + length
    return None


def validate_background_uid(uid: object) -> str:
    """Return ``uid`` when it is ``default`` or a device uid, else raise ApiError 400."""
    if not isinstance(uid, str) or not UID_PATTERN.fullmatch(uid):
        raise ApiError(
            400,
            "invalid_uid",
            "uid must be 'default' or a device uid '<hubId>:<deviceId>' made of letters, "
            "digits, '_' and '-'",
        )
    return uid


def normalize_color(color: object) -> str:
    """Return ``#rgb`` or ``#rrggbb`` as lower-case ``#rrggbb``, else raise ApiError 400."""
    if not isinstance(color, str) or not COLOR_PATTERN.fullmatch(color):
        raise ApiError(400, "invalid_color", "color must be a hex color '#rrggbb' or '#rgb'")
    digits = color[1:].lower()
    if len(digits) == 3:
        digits = "".join(digit * 2 for digit in digits)
    return "#" + digits


def check_image(data: bytes, max_bytes: int) -> ImageInfo:
    """Validate an upload: size, type by magic bytes, and dimensions. Raise ApiError if bad."""
    if len(data) > max_bytes:
        raise ApiError(
            413,
            "image_too_large",
            f"the image is {len(data)} bytes; the maximum is {max_bytes} bytes",
        )
    if not data:
        raise ApiError(400, "empty_image", "the request body is empty: send the image bytes")
    info = sniff_image(data)
    if info is None:
        raise ApiError(
            415,
            "unsupported_image_type",
            "the body is not a PNG, JPEG, WebP or GIF image (judged by its content, "
            "not by its name or Content-Type)",
        )
    if (
        info.width < 1
        or info.height < 1
        or max(info.width, info.height) > MAX_IMAGE_SIDE
        or info.width * info.height > MAX_IMAGE_PIXELS
    ):
        raise ApiError(
            413,
            "image_dimensions_too_large",
            f"the image is {info.width}x{info.height} pixels; the maximum is "
            f"{MAX_IMAGE_SIDE} pixels a side and {MAX_IMAGE_PIXELS} pixels in total",
        )
    return info


def image_url(uid: str, file_id: str) -> str:
    """Return the URL of a stored image; ``v`` changes with every upload, so it caches well."""
    return f"/api/user/backgrounds/{uid}/image?v={file_id}"


def public_background(uid: str, meta: dict[str, Any]) -> dict[str, Any] | None:
    """Return the API shape of stored metadata, or None when the metadata is unusable."""
    if meta.get("type") == "color" and isinstance(meta.get("color"), str):
        return {"type": "color", "color": meta["color"], "updatedAt": meta.get("updatedAt")}
    file_name = _stored_file_name(meta)
    if file_name is not None:
        return {
            "type": "image",
            "url": image_url(uid, file_name.split(".", 1)[0]),
            "mime": _mime_of(file_name),
            "width": meta.get("width"),
            "height": meta.get("height"),
            "bytes": meta.get("bytes"),
            "updatedAt": meta.get("updatedAt"),
        }
    return None


def _stored_file_name(meta: dict[str, Any]) -> str | None:
    # Metadata is written only by this module, but it is read back from the database, so the
    # file name is checked again before it becomes part of a path.
    file_name = meta.get("file")
    if meta.get("type") != "image" or not isinstance(file_name, str):
        return None
    if not FILE_NAME_PATTERN.fullmatch(file_name):
        return None
    return file_name


class BackgroundStore:
    """Store, list, serve and delete one user's tile backgrounds.

    Changes for one user are serialised by a per-user lock. After each change, files in the
    user's folder that no metadata names (left by a crash or an interrupted upload) are
    removed.
    """

    def __init__(
        self,
        storage: PreferenceStorage,
        state_dir: Path,
        bus: EventPublisher | None = None,
        *,
        max_bytes: int = MAX_IMAGE_BYTES,
        max_user_bytes: int = MAX_USER_IMAGE_BYTES,
    ) -> None:
        self._storage = storage
        self._uploads = Path(state_dir) / "uploads"
        self._bus = bus
        self.max_bytes = max_bytes
        self.max_user_bytes = max_user_bytes
        self._locks: dict[int, asyncio.Lock] = {}

    def user_dir(self, user_id: int) -> Path:
        # user_id is an int from the storage, never client text, so it cannot leave _uploads.
        return self._uploads / str(int(user_id))

    async def list(self, user_id: int) -> dict[str, dict[str, Any]]:
        stored = await self._all_meta(user_id)
        result: dict[str, dict[str, Any]] = {}
        for uid, meta in stored.items():
            shaped = public_background(uid, meta)
            if shaped is not None:
                result[uid] = shaped
        return result

    async def set_image(
        self, user_id: int, uid: str, data: bytes, client_id: str | None = None
    ) -> dict[str, Any]:
        validate_background_uid(uid)
        info = check_image(data, self.max_bytes)
        async with self._lock(user_id):
            stored = await self._all_meta(user_id)
            others = sum(_image_bytes(meta) for key, meta in stored.items() if key != uid)
            if others + len(data) > self.max_user_bytes:
                raise ApiError(
                    413,
                    "backgrounds_quota_exceeded",
                    f"this image would bring the stored backgrounds to {others + len(data)} "
                    f"bytes; the maximum is {self.max_user_bytes} bytes: delete unused "
                    "backgrounds first",
                )
            file_name = f"{secrets.token_hex(16)}.{info.extension}"
            directory = self.user_dir(user_id)
            await asyncio.to_thread(_write_file_durably, directory, file_name, data)
            meta = {
                "type": "image",
                "file": file_name,
                "mime": info.mime,
                "bytes": len(data),
                "width": info.width,
                "height": info.height,
                "updatedAt": _utc_now(),
            }
            try:
                await self._storage.set_preference(user_id, CATEGORY, uid, meta)
            except BaseException:
                await asyncio.to_thread(_unlink_quietly, directory / file_name)
                raise
            stored[uid] = meta
            await self._remove_unreferenced(user_id, stored)
        logger.info(
            "stored a %s background (%d bytes) for %s of user %d",
            info.mime,
            len(data),
            uid,
            user_id,
        )
        return self._changed(user_id, uid, meta, client_id)

    async def set_color(
        self, user_id: int, uid: str, color: object, client_id: str | None = None
    ) -> dict[str, Any]:
        validate_background_uid(uid)
        meta = {"type": "color", "color": normalize_color(color), "updatedAt": _utc_now()}
        async with self._lock(user_id):
            await self._storage.set_preference(user_id, CATEGORY, uid, meta)
            stored = await self._all_meta(user_id)
            await self._remove_unreferenced(user_id, stored)
        return self._changed(user_id, uid, meta, client_id)

    async def image(self, user_id: int, uid: str) -> StoredImage:
        """Return the stored image of ``uid``, or raise ApiError 404."""
        validate_background_uid(uid)
        found, meta = await self._storage.get_preference(user_id, CATEGORY, uid)
        file_name = _stored_file_name(meta) if found and isinstance(meta, dict) else None
        if file_name is None:
            raise ApiError(404, "background_not_found", f"no background image for '{uid}'")
        path = self.user_dir(user_id) / file_name
        try:
            size = (await asyncio.to_thread(path.stat)).st_size
        except FileNotFoundError as err:
            logger.warning("background file of %s for user %d is missing", uid, user_id)
            raise ApiError(
                404, "background_not_found", f"the background image of '{uid}' is missing"
            ) from err
        return StoredImage(
            path=path,
            mime=_mime_of(file_name),
            file_id=file_name.split(".", 1)[0],
            size=size,
        )

    async def delete(self, user_id: int, uid: str, client_id: str | None = None) -> bool:
        validate_background_uid(uid)
        async with self._lock(user_id):
            deleted = await self._storage.delete_preference(user_id, CATEGORY, uid)
            stored = await self._all_meta(user_id)
            await self._remove_unreferenced(user_id, stored)
        if deleted:
            data = {"category": CATEGORY, "key": uid, "value": None, "deleted": True}
            self._publish(user_id, data, client_id)
        return deleted

    async def remove_user(self, user_id: int) -> None:
        """Delete every background of a user, with the user's upload folder."""
        async with self._lock(user_id):
            stored = await self._all_meta(user_id)
            for uid in stored:
                await self._storage.delete_preference(user_id, CATEGORY, uid)
            await asyncio.to_thread(shutil.rmtree, self.user_dir(user_id), True)

    async def _all_meta(self, user_id: int) -> dict[str, dict[str, Any]]:
        preferences = await self._storage.get_preferences(user_id, CATEGORY)
        return {
            uid: meta
            for uid, meta in preferences.get(CATEGORY, {}).items()
            if isinstance(meta, dict)
        }

    async def _remove_unreferenced(self, user_id: int, stored: dict[str, dict[str, Any]]) -> None:
        keep = {name for meta in stored.values() if (name := _stored_file_name(meta))}
        await asyncio.to_thread(_remove_files_except, self.user_dir(user_id), keep)

    def _changed(
        self, user_id: int, uid: str, meta: dict[str, Any], client_id: str | None
    ) -> dict[str, Any]:
        shaped = public_background(uid, meta)
        assert shaped is not None  # built above from validated values
        self._publish(user_id, {"category": CATEGORY, "key": uid, "value": shaped}, client_id)
        return shaped

    def _publish(self, user_id: int, data: dict[str, Any], client_id: str | None) -> None:
        publish_preference_change(self._bus, user_id, data, client_id)

    def _lock(self, user_id: int) -> asyncio.Lock:
        lock = self._locks.get(user_id)
        if lock is None:
            lock = self._locks[user_id] = asyncio.Lock()
        return lock


def _mime_of(file_name: str) -> str:
    return MIME_BY_EXTENSION[file_name.rsplit(".", 1)[1]]


def _image_bytes(meta: dict[str, Any]) -> int:
    size = meta.get("bytes")
    if _stored_file_name(meta) is None or not isinstance(size, int):
        return 0
    return size


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _write_file_durably(directory: Path, file_name: str, data: bytes) -> None:
    """Write ``data`` to ``directory/file_name`` through a temporary file, fsynced, mode 0600."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = directory / f".{file_name}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, directory / file_name)
    except BaseException:
        _unlink_quietly(temporary)
        raise
    directory_descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(directory_descriptor)
    finally:
        os.close(directory_descriptor)


def _remove_files_except(directory: Path, keep: set[str]) -> None:
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.name not in keep and entry.is_file(follow_symlinks=False):
            _unlink_quietly(Path(entry.path))


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as err:
        logger.warning("could not remove background file %s: %s", path.name, err)
