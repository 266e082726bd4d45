"""Media attachments, and the mascot that is one."""

from __future__ import annotations

from models import Media
from serializers.common import base_url
from serializers.common import media_url


def _media_type(mime: str) -> str:
    kind = mime.split("/", 1)[0]
    return kind if kind in ("image", "video", "audio") else "unknown"


def attachment_json(media: Media) -> dict:
    url = media.remote_url or media_url(media.path)  # a remote attachment stays on its server
    meta = dict(media.meta or {})
    if media.focus:
        x, _, y = media.focus.partition(",")
        meta["focus"] = {"x": float(x), "y": float(y)}
    return {
        "id": media.id,
        "type": _media_type(media.mime_type),
        "url": url,
        "remote_url": url,
        "preview_url": url,
        "text_url": url,
        "description": media.description or "",
        "blurhash": None,
        "meta": meta,
        "pleroma": {"mime_type": media.mime_type},
    }


def mascot_json(media: Media | None) -> dict:
    """The chosen mascot as an attachment, or Kenoma's own default image (SPEC 18.1)."""
    if media is not None:
        return attachment_json(media)
    url = f"{base_url()}/images/mascot.png"
    return {"id": "default-mascot", "url": url, "preview_url": url, "pleroma": {"mime_type": "image/png"}}
