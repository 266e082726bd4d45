"""Emoji packs on disk (SPEC 17, 20.7, 20.8): the one package that touches KENOMA_EMOJI_DIR.

Layout: `<EMOJI_DIR>/<pack>/pack.json` plus the image files it lists. Modules, each importing
only the ones above it:

    errors     the refusals (PackError and its subclasses)
    names      safe pack and file names, paths that stay inside the emoji folder
    store      Pack: pack.json read and written, listing, metadata
    state      the per-app caches (app.extensions["kenoma_emoji"]) and the records they hold
    loaded     the loaded emoji set, re-read when a pack.json changes, and its API forms
    archives   each pack's zip (built once, cached, rechecked) and the checks on incoming zips
    staging    hidden scratch folders, moved into place when complete, cleaned at start-up
    remote     other servers: their pack lists, downloads
    files      add, rename or move, delete one emoji
    mutations  create, delete, update metadata, import folders put there by hand

Callers use the names below (`emoji_packs.load_pack(...)`). A test that patches a name patches
the module that looks it up (`emoji_packs.loaded._load_emoji`), not this package.
"""

from __future__ import annotations

from emoji_packs.archives import archive
from emoji_packs.archives import checked_members
from emoji_packs.archives import extract_members
from emoji_packs.archives import open_downloadable_archive
from emoji_packs.archives import pack_json
from emoji_packs.errors import ArchiveTooLarge
from emoji_packs.errors import BadArchive
from emoji_packs.errors import BadFileParam
from emoji_packs.errors import BadSource
from emoji_packs.errors import ChecksumMismatch
from emoji_packs.errors import EmojiNotFound
from emoji_packs.errors import EmptyName
from emoji_packs.errors import EmptyValue
from emoji_packs.errors import FallbackIncomplete
from emoji_packs.errors import FileTaken
from emoji_packs.errors import InvalidFileName
from emoji_packs.errors import InvalidName
from emoji_packs.errors import InvalidShortcode
from emoji_packs.errors import NewShortcodeTaken
from emoji_packs.errors import NoDownloadSource
from emoji_packs.errors import NotAnImage
from emoji_packs.errors import NotDownloadable
from emoji_packs.errors import NotShareable
from emoji_packs.errors import NotWritable
from emoji_packs.errors import PackError
from emoji_packs.errors import PackExists
from emoji_packs.errors import PackNotFound
from emoji_packs.errors import PackUnreadable
from emoji_packs.errors import RemoteError
from emoji_packs.errors import ShortcodeTaken
from emoji_packs.errors import UnsafeArchive
from emoji_packs.errors import ValueTooLong
from emoji_packs.files import add_file
from emoji_packs.files import delete_file
from emoji_packs.files import update_file
from emoji_packs.loaded import custom_emojis
from emoji_packs.loaded import emoji_by_shortcode
from emoji_packs.loaded import has_shortcode
from emoji_packs.loaded import loaded_emoji
from emoji_packs.loaded import pleroma_emoji_answer
from emoji_packs.loaded import reload
from emoji_packs.loaded import version
from emoji_packs.mutations import create_pack
from emoji_packs.mutations import delete_pack
from emoji_packs.mutations import import_from_filesystem
from emoji_packs.mutations import update_metadata
from emoji_packs.names import check_pack_name
from emoji_packs.names import emoji_dir
from emoji_packs.names import emoji_file
from emoji_packs.names import is_safe_relative
from emoji_packs.remote import download_pack
from emoji_packs.remote import list_remote
from emoji_packs.staging import clean_staging
from emoji_packs.state import ArchiveInfo
from emoji_packs.state import Emoji
from emoji_packs.store import Pack
from emoji_packs.store import list_packs
from emoji_packs.store import load_pack
from emoji_packs.store import save_pack

__all__ = [
    # errors
    "PackError",
    "EmptyName",
    "InvalidName",
    "PackNotFound",
    "PackExists",
    "PackUnreadable",
    "EmptyValue",
    "InvalidShortcode",
    "ValueTooLong",
    "InvalidFileName",
    "ShortcodeTaken",
    "NewShortcodeTaken",
    "FileTaken",
    "EmojiNotFound",
    "NotAnImage",
    "BadSource",
    "BadFileParam",
    "NotDownloadable",
    "FallbackIncomplete",
    "UnsafeArchive",
    "ArchiveTooLarge",
    "BadArchive",
    "NotShareable",
    "NoDownloadSource",
    "ChecksumMismatch",
    "RemoteError",
    "NotWritable",
    # names
    "check_pack_name",
    "emoji_dir",
    "emoji_file",
    "is_safe_relative",
    # store
    "Pack",
    "list_packs",
    "load_pack",
    "save_pack",
    # loaded
    "Emoji",
    "custom_emojis",
    "emoji_by_shortcode",
    "has_shortcode",
    "loaded_emoji",
    "pleroma_emoji_answer",
    "reload",
    "version",
    # archives
    "ArchiveInfo",
    "archive",
    "checked_members",
    "open_downloadable_archive",
    "extract_members",
    "pack_json",
    # staging, remote, files, mutations
    "clean_staging",
    "download_pack",
    "list_remote",
    "add_file",
    "delete_file",
    "update_file",
    "create_pack",
    "delete_pack",
    "import_from_filesystem",
    "update_metadata",
]
