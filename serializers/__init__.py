"""One function per API entity (SPEC 20), one module per entity family. List forms load what a
page needs in a constant number of queries, whatever its length; single forms are the list form
of one item. Callers use the names re-exported here: `serializers.status_json(...)`.

Modules only import those below them: common <- accounts <- reactions <- statuses <- reports <-
notifications; chats (below notifications), media, apps, scrobbles, lists, markers, tags and misc
sit beside them; filters sits below statuses; suggestions over accounts, scheduled statuses over
media."""

from __future__ import annotations

from serializers.accounts import account_json
from serializers.accounts import accounts_json
from serializers.accounts import familiar_followers_json
from serializers.accounts import relationship_json
from serializers.accounts import relationships_json
from serializers.announcements import announcements_json
from serializers.apps import app_json
from serializers.apps import oauth_token_json
from serializers.apps import oauth_tokens_json
from serializers.chats import chat_json
from serializers.chats import chat_message_json
from serializers.chats import chat_messages_json
from serializers.chats import chats_json
from serializers.common import base_url
from serializers.common import iso
from serializers.common import media_url
from serializers.filters import filter_json
from serializers.filters import filter_keyword_json
from serializers.filters import filter_status_json
from serializers.filters import v1_filter_json
from serializers.lists import list_json
from serializers.markers import marker_json
from serializers.markers import markers_json
from serializers.media import attachment_json
from serializers.media import mascot_json
from serializers.misc import backup_json
from serializers.misc import bookmark_folder_json
from serializers.misc import push_subscription_json
from serializers.notifications import conversation_json
from serializers.notifications import conversation_json_by_reader
from serializers.notifications import conversations_json
from serializers.notifications import notification_json
from serializers.notifications import notifications_json
from serializers.polls import poll_json
from serializers.reactions import reactions_json
from serializers.reactions import reactions_of
from serializers.reports import report_json
from serializers.scheduled_statuses import scheduled_status_json
from serializers.scheduled_statuses import scheduled_statuses_json
from serializers.scrobbles import scrobble_json
from serializers.scrobbles import scrobbles_json
from serializers.status_edits import status_edits_json
from serializers.statuses import StatusAnswer
from serializers.statuses import status_json
from serializers.statuses import status_source_json
from serializers.statuses import statuses_json
from serializers.statuses import statuses_json_by_reader
from serializers.suggestions import suggestions_json
from serializers.tags import featured_tag_json
from serializers.tags import featured_tags_json
from serializers.tags import tag_json
from serializers.tags import tags_json

__all__ = [
    "announcements_json",
    "account_json",
    "accounts_json",
    "familiar_followers_json",
    "app_json",
    "attachment_json",
    "backup_json",
    "base_url",
    "chat_json",
    "chat_message_json",
    "chat_messages_json",
    "chats_json",
    "bookmark_folder_json",
    "conversation_json",
    "conversation_json_by_reader",
    "conversations_json",
    "featured_tag_json",
    "featured_tags_json",
    "filter_json",
    "filter_keyword_json",
    "filter_status_json",
    "iso",
    "list_json",
    "marker_json",
    "markers_json",
    "mascot_json",
    "media_url",
    "notification_json",
    "notifications_json",
    "oauth_token_json",
    "oauth_tokens_json",
    "poll_json",
    "push_subscription_json",
    "reactions_json",
    "reactions_of",
    "relationship_json",
    "relationships_json",
    "report_json",
    "scheduled_status_json",
    "scheduled_statuses_json",
    "scrobble_json",
    "scrobbles_json",
    "status_edits_json",
    "StatusAnswer",
    "status_json",
    "status_source_json",
    "statuses_json",
    "statuses_json_by_reader",
    "suggestions_json",
    "tag_json",
    "tags_json",
    "v1_filter_json",
]
