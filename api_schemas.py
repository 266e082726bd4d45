"""The response entities (SPEC 20) as marshmallow schemas, for /openapi.json only.

Views return the plain dicts of the serializers package; these schemas never dump anything
(dumping would silently drop keys they do not list). They describe the answers so the document is
complete and the fuzz tests can check every response against it: keys that are always present are
required, keys that may be null are nullable, and every object allows extra keys, as clients must.
"""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import Boolean
from apiflask.fields import Dict
from apiflask.fields import Float
from apiflask.fields import Integer
from apiflask.fields import List
from apiflask.fields import Nested
from apiflask.fields import Raw
from apiflask.fields import String
from marshmallow import INCLUDE


class Out(Schema):
    """Base of every response schema: objects may carry keys the schema does not list."""

    class Meta:
        unknown = INCLUDE


# Short constructors: `required` here means "the key is always in the answer".
def string(nullable: bool = False, **kw: Any) -> String:
    return String(required=True, allow_none=nullable, **kw)


def integer(nullable: bool = False, **kw: Any) -> Integer:
    return Integer(required=True, allow_none=nullable, **kw)


def flag(nullable: bool = False, **kw: Any) -> Boolean:
    return Boolean(required=True, allow_none=nullable, **kw)


def one(schema: Any, nullable: bool = False, **kw: Any) -> Nested:
    return Nested(schema, required=True, allow_none=nullable, **kw)


def many(schema: Any, **kw: Any) -> List:
    return List(Nested(schema), required=True, **kw)


def strings(**kw: Any) -> List:
    return List(String(), required=True, **kw)


def obj(**kw: Any) -> Dict:
    return Dict(required=True, **kw)


# ---------------------------------------------------------------------------------------------
# Errors and small answers


class Error(Out):
    """`{"error": "<message>"}`; a few answers add keys (`mfa_token`, `identifier`...)."""

    error = string()


class Success(Out):
    """Pleroma's `{"status": "success"}`; its password checks answer 200 with `error` instead."""

    status = String()
    error = String()


EMPTY: dict = {"type": "object", "maxProperties": 0, "description": "an empty object `{}`"}
JSON_STRING: dict = {"type": "string"}
ANY_OBJECT: dict = {"type": "object"}
NULL: dict = {"type": "null", "description": "`null`"}


# ---------------------------------------------------------------------------------------------
# Emoji


class Emoji(Out):
    """SPEC 20.7; `tags` and `category` only in /api/v1/custom_emojis."""

    shortcode = string()
    url = string()
    static_url = string()
    visible_in_picker = flag()
    tags = List(String())
    category = String()


class PleromaEmoji(Out):
    image_url = string()
    tags = strings()


PLEROMA_EMOJI_MAP: dict = {
    "type": "object",
    "additionalProperties": {
        "type": "object",
        "required": ["image_url", "tags"],
        "properties": {
            "image_url": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
    },
}


# ---------------------------------------------------------------------------------------------
# Accounts


class Field(Out):
    name = string()
    value = string()
    verified_at = String(allow_none=True)


class SourcePleroma(Out):
    show_role = Boolean()
    no_rich_text = Boolean()
    discoverable = Boolean()
    actor_type = String()


class Source(Out):
    note = string()
    privacy = string()
    sensitive = flag()
    fields = many(Field)
    pleroma = Nested(SourcePleroma)


class AccountPleroma(Out):
    ap_id = string()
    also_known_as = strings()
    background_image = string(nullable=True)
    tags = List(String(), required=True)
    is_confirmed = flag()
    confirmation_pending = flag()
    hide_favorites = flag()
    hide_followers = flag()
    hide_follows = flag()
    hide_followers_count = flag()
    hide_follows_count = flag()
    relationship = obj(metadata={"description": "{} or a Relationship (with_relationships=true)"})
    skip_thread_containment = flag()
    accepts_chat_messages = flag(nullable=True)
    favicon = string(nullable=True)
    avatar_description = string()
    header_description = string()
    # The owner (or everyone, with show_role) sees the roles; admins see `deactivated`.
    is_admin = Boolean()
    is_moderator = Boolean()
    deactivated = Boolean()
    # Owner only (verify_credentials, update_credentials).
    settings_store = Dict()
    notification_settings = Dict()
    allow_following_move = Boolean()
    unread_conversation_count = Integer()
    unread_notifications_count = Integer()
    follow_requests_count = Integer()
    chat_token = String()


class Account(Out):
    """SPEC 20.1."""

    id = string()
    username = string()
    acct = string()
    display_name = string()
    locked = flag()
    bot = flag()
    discoverable = flag()
    group = flag()
    created_at = string()
    note = string()
    url = string()
    avatar = string()
    avatar_static = string()
    header = string()
    header_static = string()
    followers_count = integer()
    following_count = integer()
    statuses_count = integer()
    last_status_at = string(nullable=True)
    emojis = many(Emoji)
    fields = many(Field)
    moved = one(lambda: Account(), nullable=True)
    pleroma = one(AccountPleroma)
    source = Nested(Source, metadata={"description": "owner only"})


class Relationship(Out):
    """SPEC 20.2."""

    id = string()
    following = flag()
    showing_reblogs = flag()
    notifying = flag()
    followed_by = flag()
    blocking = flag()
    blocked_by = flag()
    muting = flag()
    muting_notifications = flag()
    subscribing = flag()
    requested = flag()
    domain_blocking = flag()
    endorsed = flag()
    note = string()


class FamiliarFollowers(Out):
    """Mastodon's FamiliarFollowers (SPEC 26)."""

    id = string()
    accounts = many(Account)


class Token(Out):
    """The answer of /oauth/token, registration and the MFA challenge (SPEC 2)."""

    access_token = string()
    token_type = string()
    scope = string()
    expires_in = Integer()
    refresh_token = String()
    id = integer()
    created_at = integer()
    me = String(metadata={"description": "the account's ap_id (user tokens only)"})


class App(Out):
    """SPEC 2; the secrets only when the app is created."""

    id = string()
    name = string()
    website = string(nullable=True)
    vapid_key = string()
    redirect_uri = String()
    client_id = String()
    client_secret = String()


class Preferences(Out):
    class Meta:
        unknown = INCLUDE
        include = {
            "posting:default:visibility": string(),
            "posting:default:sensitive": flag(),
            "posting:default:language": string(nullable=True),
            "reading:expand:media": string(),
            "reading:expand:spoilers": flag(),
        }


# ---------------------------------------------------------------------------------------------
# Statuses


class Attachment(Out):
    """SPEC 20.6."""

    id = string()
    type = string()
    url = string()
    remote_url = string(nullable=True)
    preview_url = string()
    text_url = string(nullable=True)
    description = string(nullable=True)
    blurhash = string(nullable=True)
    meta = obj()
    pleroma = obj()


class Mention(Out):
    id = string()
    username = string()
    acct = string()
    url = string()


class Tag(Out):
    name = string()
    url = string()
    history = List(Raw())
    following = Boolean()  # on /api/v1/tags and followed_tags, for a signed-in reader


class Application(Out):
    name = string()
    website = string(nullable=True)


class ReactionSummary(Out):
    """One emoji's reactions in a Status (SPEC 20.3)."""

    name = string()
    count = integer()
    me = flag()
    url = string(nullable=True)
    account_ids = strings()


class StatusPleroma(Out):
    local = flag()
    conversation_id = integer(metadata={"description": "the thread's context (an integer)"})
    context = string()
    direct_conversation_id = string(nullable=True)
    in_reply_to_account_acct = string(nullable=True)
    content = obj()
    spoiler_text = obj()
    expires_at = string(nullable=True)
    thread_muted = flag()
    emoji_reactions = many(ReactionSummary)
    parent_visible = flag()
    pinned_at = string(nullable=True)
    quote = one(lambda: Status(), nullable=True)
    quote_id = string(nullable=True)
    quote_url = string(nullable=True)
    quote_visible = flag()
    bookmark_folder = string(nullable=True)


class PollOption(Out):
    title = string()
    votes_count = integer(nullable=True)  # null while the totals are hidden


class Poll(Out):
    """SPEC 26, Mastodon's Poll."""

    id = string()
    expires_at = string(nullable=True)
    expired = flag()
    multiple = flag()
    votes_count = integer()
    voters_count = integer(nullable=True)
    voted = flag()
    own_votes = List(Integer(), required=True)
    options = many(PollOption)
    emojis = many(Emoji)


class FilterKeyword(Out):
    id = string()
    keyword = string()
    whole_word = flag()


class FilterStatus(Out):
    id = string()
    status_id = string()


class FilterHead(Out):
    """A Filter without its rules, as a FilterResult names it."""

    id = string()
    title = string()
    context = strings()
    expires_at = string(nullable=True)
    filter_action = string()


class Filter(FilterHead):
    """Mastodon's Filter (v2, SPEC 26)."""

    keywords = many(FilterKeyword)
    statuses = many(FilterStatus)


class V1Filter(Out):
    """Mastodon's v1 Filter: one keyword of a v2 filter."""

    id = string()
    phrase = string()
    context = strings()
    whole_word = flag()
    expires_at = string(nullable=True)
    irreversible = flag()


class FilterResult(Out):
    filter = one(FilterHead)
    keyword_matches = List(String(), required=True, allow_none=True)
    status_matches = List(String(), required=True, allow_none=True)


class Status(Out):
    """SPEC 20.3; `filtered` only for a signed-in reader."""

    id = string()
    uri = string()
    url = string()
    account = one(Account)
    in_reply_to_id = string(nullable=True)
    in_reply_to_account_id = string(nullable=True)
    reblog = one(lambda: Status(), nullable=True)
    content = string()
    text = string(nullable=True)
    created_at = string()
    edited_at = string(nullable=True)
    emojis = many(Emoji)
    replies_count = integer()
    reblogs_count = integer()
    favourites_count = integer()
    reblogged = flag()
    favourited = flag()
    bookmarked = flag()
    muted = flag()
    pinned = flag()
    sensitive = flag()
    spoiler_text = string()
    visibility = string()
    media_attachments = many(Attachment)
    mentions = many(Mention)
    tags = many(Tag)
    application = one(Application, nullable=True)
    language = string(nullable=True)
    card = Raw(required=True, allow_none=True)
    poll = one(Poll, nullable=True)
    quote = one(lambda: Status(), nullable=True)
    quote_id = string(nullable=True)
    emoji_reactions = many(ReactionSummary)
    filtered = List(Nested(FilterResult))
    pleroma = one(StatusPleroma)


class StatusSource(Out):
    id = string()
    text = string()
    spoiler_text = string()
    content_type = string()


class EditPollOption(Out):
    title = string()


class EditPoll(Out):
    options = many(EditPollOption)


class StatusEdit(Out):
    """Mastodon's StatusEdit: one version of an edited status."""

    content = string()
    spoiler_text = string()
    sensitive = flag()
    created_at = string()
    account = one(Account)
    poll = one(EditPoll, nullable=True)
    media_attachments = many(Attachment)
    emojis = many(Emoji)


class Context(Out):
    ancestors = many(Status)
    descendants = many(Status)


class Reaction(Out):
    """GET .../reactions: one emoji with the accounts that used it (SPEC 16)."""

    name = string()
    count = integer()
    me = flag()
    url = string(nullable=True)
    accounts = many(Account)


class SearchResults(Out):
    accounts = many(Account)
    statuses = many(Status)
    hashtags = List(Nested(Tag), required=True)


class SearchResultsV1(Out):
    accounts = many(Account)
    statuses = many(Status)
    hashtags = strings()


# ---------------------------------------------------------------------------------------------
# Notifications, conversations, reports


class Report(Out):
    id = string()
    action_taken = flag()
    state = string()
    comment = string()
    content = string()
    created_at = string()
    account = one(Account, nullable=True)
    actor = one(Account, nullable=True)
    status_ids = strings()
    statuses = many(Status)


class ChatMessage(Out):
    """Pleroma's ChatMessage (SPEC 26); `idempotency_key` for a few minutes after posting."""

    id = string()
    chat_id = string()
    account_id = string()
    content = string()
    created_at = string()
    emojis = many(Emoji)
    attachment = one(Attachment, nullable=True)
    card = obj(allow_none=True)
    unread = flag()
    idempotency_key = String()


class Chat(Out):
    """Pleroma's Chat (SPEC 26)."""

    id = string()
    account = one(Account)
    unread = integer()
    last_message = one(ChatMessage, nullable=True)
    updated_at = string()


class NotificationPleroma(Out):
    is_seen = flag()
    is_muted = flag()


class Notification(Out):
    """SPEC 20.4; `status`, `target`, `emoji`, `emoji_url`, `report` and `chat_message` by type."""

    # An integer sequence sent as a decimal string, below 2^53 (SPEC 1.6), unlike other ids.
    id = string(metadata={"pattern": "^[0-9]+$", "description": "decimal integer id (SPEC 1.6)"})
    type = string()
    created_at = string()
    account = one(Account)
    pleroma = one(NotificationPleroma)
    status = Nested(Status)
    target = Nested(Account)
    emoji = String(allow_none=True)
    emoji_url = String(allow_none=True)
    report = Nested(Report)
    chat_message = Nested(ChatMessage)


class MarkerPleroma(Out):
    unread_count = integer()


class Marker(Out):
    """SPEC 26; only the notifications marker carries `pleroma`."""

    last_read_id = string()
    version = integer()
    updated_at = string()
    pleroma = Nested(MarkerPleroma)


class Markers(Out):
    """The markers that exist among those asked for or saved, by timeline name."""

    home = Nested(Marker)
    notifications = Nested(Marker)


class ScheduledStatus(Out):
    """SPEC 26, Mastodon's ScheduledStatus: `params` are the posting parameters as given."""

    id = string()
    scheduled_at = string()
    params = obj()
    media_attachments = many(Attachment)


class ConversationPleroma(Out):
    recipients = many(Account)


class Conversation(Out):
    """SPEC 20.5."""

    id = string()
    unread = flag()
    accounts = many(Account)
    last_status = one(Status, nullable=True)
    pleroma = one(ConversationPleroma)


# ---------------------------------------------------------------------------------------------
# Pleroma entities


class Scrobble(Out):
    """SPEC 20.9."""

    id = string()
    account = one(Account)
    title = string()
    artist = string(nullable=True)
    album = string(nullable=True)
    length = integer(nullable=True)
    external_link = string(nullable=True)
    created_at = string()


class Backup(Out):
    """SPEC 20.10."""

    id = integer()
    content_type = string()
    file_size = integer()
    processed = flag()
    inserted_at = string()
    url = string()


class OauthTokenEntry(Out):
    """SPEC 20.11: `valid_until` is a naive ISO date-time (Pleroma's format)."""

    id = integer()
    app_name = string(nullable=True)
    valid_until = string()


class BookmarkFolder(Out):
    """SPEC 20.12."""

    id = string()
    name = string()
    emoji = string(nullable=True)
    emoji_url = string(nullable=True)


class UserList(Out):
    """Mastodon's List entity (SPEC 26); named so it does not hide the List field."""

    id = string()
    title = string()
    replies_policy = string()
    exclusive = flag()


class FeaturedTag(Out):
    id = string()
    name = string()
    url = string()
    statuses_count = integer()
    last_status_at = string(nullable=True)


class Suggestion(Out):
    source = string()
    sources = strings()
    account = one(Account)


class PushSubscription(Out):
    id = string()
    endpoint = string()
    alerts = obj()
    policy = string()
    standard = flag()
    server_key = string()


class Mascot(Out):
    """An Attachment, or the default mascot's few keys."""

    id = string()
    url = string()
    preview_url = string()
    pleroma = obj()


class ImageUrl(Out):
    url = string(nullable=True)


class PackMeta(Out):
    can_download = Boolean(data_key="can-download", required=True)
    download_sha256 = String(data_key="download-sha256")


class Pack(Out):
    """SPEC 20.8 in API form."""

    files = obj(keys=String(), values=String())
    files_count = integer()
    pack = one(PackMeta)


class PackList(Out):
    count = integer()
    packs = obj(keys=String(), values=Nested(Pack))


PACK_FILES: dict = {"type": "object", "additionalProperties": {"type": "string"}}


class Captcha(Out):
    type = string()
    token = String()
    url = String()
    answer_data = String()
    seconds_valid = Integer()


class Healthcheck(Out):
    pool_size = Integer()
    active = Integer()
    idle = Integer()
    memory_used = Float()
    healthy = Boolean()
    job_queue_stats = Dict()


class MfaSettings(Out):
    settings = obj(keys=String(), values=Boolean())


class MfaSetup(Out):
    key = string()
    provisioning_uri = string()
    qr_code = string()


class BackupCodes(Out):
    codes = strings()


class Aliases(Out):
    aliases = strings()


class RemoteInteraction(Out):
    url = String()
    error = String()


# ---------------------------------------------------------------------------------------------
# The instance


class InstanceV1(Out):
    uri = string()
    title = string()
    description = string()
    short_description = string()
    version = string()
    email = string()
    urls = obj()
    stats = obj()
    thumbnail = string()
    languages = strings()
    registrations = flag()
    approval_required = flag()
    invites_enabled = flag()
    max_toot_chars = integer()
    max_media_attachments = integer()
    poll_limits = obj()
    upload_limit = integer()
    avatar_upload_limit = integer()
    background_upload_limit = integer()
    banner_upload_limit = integer()
    description_limit = integer()
    background_image = string()
    configuration = obj()
    rules = List(Raw(), required=True)
    pleroma = obj()


class InstanceV2(Out):
    domain = string()
    title = string()
    version = string()
    source_url = string()
    description = string()
    usage = obj()
    thumbnail = obj()
    languages = strings()
    configuration = obj()
    registrations = obj()
    contact = obj()
    rules = List(Raw(), required=True)
    pleroma = obj()


class Link(Out):
    rel = string()
    href = String()
    type = String()
    template = String()


class NodeinfoLinks(Out):
    links = many(Link)


class Nodeinfo(Out):
    version = string()
    software = obj()
    protocols = strings()
    services = obj()
    openRegistrations = flag()  # noqa: N815 - nodeinfo's own key
    usage = obj()
    metadata = obj()


class Webfinger(Out):
    subject = string()
    aliases = strings()
    links = many(Link)


class Actor(Out):
    """The ActivityPub actor at /users/<nickname> (SPEC 24.1); the keys every actor has."""

    id = string()
    type = string()
    preferredUsername = string()  # noqa: N815 - ActivityStreams' key
    inbox = string()
    outbox = string()


# ---------------------------------------------------------------------------------------------
# Other media types

HTML: dict = {"type": "string", "description": "an HTML page"}
FILE: dict = {"type": "string", "format": "binary"}
XML: dict = {"type": "string", "description": "an XML document"}
STRING_LIST: dict = {"type": "array", "items": {"type": "string"}}
ANY_LIST: dict = {"type": "array"}
ANY_JSON: dict = {"description": "another server's answer, passed on as it came"}
NOTIFICATION_OR_LIST: dict = {
    "description": "the notification marked (`id`), or those marked (`max_id`)",
    "anyOf": [
        {"$ref": "#/components/schemas/Notification"},
        {"type": "array", "items": {"$ref": "#/components/schemas/Notification"}},
    ],
}


# ---------------------------------------------------------------------------------------------
# Announcements and registration awaiting e-mail confirmation (SPEC 26)


class AnnouncementReaction(Out):
    """`url`/`static_url` only for a custom emoji."""

    name = string()
    count = integer()
    me = flag()
    url = String()
    static_url = String()


class Announcement(Out):
    """Mastodon's Announcement."""

    id = string()
    content = string()
    starts_at = string(nullable=True)
    ends_at = string(nullable=True)
    all_day = flag()
    published_at = string()
    updated_at = string()
    read = flag()
    mentions = List(Dict(), required=True)
    statuses = List(Dict(), required=True)
    tags = List(Dict(), required=True)
    emojis = List(Dict(), required=True)
    reactions = many(AnnouncementReaction)


class RegistrationPending(Out):
    """Pleroma's answer to a registration that cannot log in yet."""

    message = string()
    identifier = string()


TOKEN_OR_PENDING: dict = {
    "description": "a token (logged in), or why the new account cannot log in yet",
    "anyOf": [
        {"$ref": "#/components/schemas/Token"},
        {"$ref": "#/components/schemas/RegistrationPending"},
    ],
}
