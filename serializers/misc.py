"""Small entities only their owner reads: bookmark folders, backups, push subscriptions."""

from __future__ import annotations

from flask import current_app

from models import Backup
from models import BookmarkFolder
from models import PushSubscription
from serializers.common import iso
from serializers.common import media_url


def bookmark_folder_json(folder: BookmarkFolder) -> dict:
    return {"id": folder.id, "name": folder.name, "emoji": folder.emoji, "emoji_url": folder.emoji_url}


def backup_json(backup: Backup) -> dict:
    return {
        "id": backup.id,
        "content_type": backup.content_type,
        "file_size": backup.file_size,
        "processed": backup.is_processed,
        "inserted_at": iso(backup.created_at),
        "url": media_url(f"backups/{backup.file_name}"),
    }


def push_subscription_json(subscription: PushSubscription) -> dict:
    return {
        "id": str(subscription.id),
        "endpoint": subscription.endpoint,
        "alerts": dict(subscription.alerts or {}),
        "policy": subscription.policy,
        "standard": subscription.is_standard,
        "server_key": current_app.config["VAPID_PUBLIC_KEY"],
    }
