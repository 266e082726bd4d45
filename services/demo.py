"""Demo data for client developers (SPEC 27): `flask --app app demo` fills an empty instance with
the same accounts, posts and interactions every time, made through the services a client's
requests go through (counters, notifications and conversations all follow).

Images are drawn here with Pillow, so nothing is downloaded and every run is identical.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from PIL import Image
from PIL import ImageDraw
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

import emoji_packs
from errors import ApiError
from models import Account
from models import Poll
from models import Status
from models import db
from services import interactions
from services import lists
from services import polls
from services import reactions
from services.accounts import create_local_account
from services.accounts import update_credentials
from services.follows import follow
from services.media import save_upload
from services.reset import DEMO_EMOJI_PACK
from services.statuses import NewStatus
from services.statuses import post_status

EMOJI_PACK = DEMO_EMOJI_PACK
Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoAccount:
    nickname: str
    password: str
    display_name: str
    bio: str
    fields: tuple[tuple[str, str], ...]
    colour: str
    admin: bool = False
    locked: bool = False


ACCOUNTS = (
    DemoAccount(
        "alice",
        "alice-demo-pw",
        "Alice :kenoma_heart:",
        "Runs this demo instance. Writes about #gardening and #kenoma.",
        (("Website", "https://example.org/alice"), ("Pronouns", "she/her")),
        "#d8a070",
        admin=True,
    ),
    DemoAccount(
        "bob",
        "bob-demo-pw",
        "Bob",
        "Builds **clients**. Posts polls.",
        (("Client", "Pleroma-FE"), ("Timezone", "UTC")),
        "#5b8cc9",
    ),
    DemoAccount("carol", "carol-demo-pw", "Carol", "Photographer. Reacts to everything.", (), "#7cb36b"),
    DemoAccount(
        "dave", "dave-demo-pw", "Dave (locked)", "Approves followers by hand.", (), "#a06bb3", locked=True
    ),
)
# (follower, followed): dave is locked, so carol's follow stays a request.
FOLLOWS = (
    ("bob", "alice"),
    ("carol", "alice"),
    ("dave", "alice"),
    ("alice", "bob"),
    ("alice", "carol"),
    ("carol", "bob"),
    ("bob", "carol"),
    ("carol", "dave"),
)


class NotEmpty(Exception):
    """The instance already has local accounts: demo data goes into an empty one only."""


def png(colour: str, size: tuple[int, int], letter: str = "") -> bytes:
    """A flat picture with a lighter disc (and a letter): enough to see avatars and media."""
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    side = min(size)
    box = ((size[0] - side) // 2 + side // 6, side // 6, (size[0] + side) // 2 - side // 6, side - side // 6)
    draw.ellipse(box, fill="#f4f1ea")
    if letter:
        draw.text((size[0] // 2, side // 2), letter, fill=colour, anchor="mm", font_size=side // 3)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _upload(data: bytes, filename: str) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=filename, content_type="image/png")


def _emoji_pack() -> None:
    """A custom emoji pack of two shortcodes, replaced if an earlier demo left it."""
    try:
        emoji_packs.delete_pack(EMOJI_PACK)
    except emoji_packs.PackNotFound:
        pass
    emoji_packs.create_pack(EMOJI_PACK)
    pack = emoji_packs.load_pack(EMOJI_PACK)
    for shortcode, colour in (("kenoma_heart", "#d8546c"), ("kenoma_star", "#e0b040")):
        emoji_packs.add_file(
            pack, _upload(png(colour, (64, 64)), f"{shortcode}.png"), shortcode, f"{shortcode}.png"
        )
        pack = emoji_packs.load_pack(EMOJI_PACK)


def _account(spec: DemoAccount) -> Account:
    account = create_local_account(
        spec.nickname, spec.password, email=f"{spec.nickname}@demo.invalid", is_admin=spec.admin
    )
    changes: dict = {
        "display_name": spec.display_name,
        "note": spec.bio,
        "locked": spec.locked,
        "avatar": _upload(png(spec.colour, (256, 256), spec.nickname[0].upper()), "avatar.png"),
        "header": _upload(png(spec.colour, (1500, 500)), "header.png"),
        "fields_attributes": [{"name": name, "value": value} for name, value in spec.fields],
    }
    return update_credentials(account, changes)


def _post(author: Account, text: str, **kwargs: object) -> Status:
    return post_status(author, NewStatus(text=text, **kwargs))  # type: ignore[arg-type]


def _statuses(people: dict[str, Account]) -> None:
    alice, bob, carol, dave = (people[n] for n in ("alice", "bob", "carol", "dave"))
    welcome = _post(
        alice,
        "Welcome to Kenoma :kenoma_heart: This instance is filled with demo data for client "
        "developers. Say hi to @bob and @carol! #kenoma",
        visibility="public",
    )
    picture = save_upload(
        carol,
        _upload(png("#7cb36b", (1280, 720), "K"), "garden.png"),
        current_app.config["UPLOAD_LIMIT"],
        description="A green square with a pale disc and the letter K",
    )
    photo = _post(
        carol, "Today's picture from the garden #gardening", visibility="public", media_ids=[picture.id]
    )
    poll_status = _post(
        bob,
        "Which client are you testing with?",
        visibility="public",
        poll=polls.NewPoll(options=["Pleroma-FE", "Tusky", "Elk", "Something else"], expires_in=7 * 86400),
    )
    poll = db.session.scalar(select(Poll).where(Poll.status_id == poll_status.id))
    polls.vote(alice, poll, [0])
    polls.vote(carol, poll, [1])
    _post(
        carol,
        "@alice thanks for the invitation :kenoma_star:",
        visibility="public",
        in_reply_to_id=welcome.id,
    )
    _post(bob, "Only my followers see this one.", visibility="private")
    _post(carol, "An unlisted note: not on the public timelines.", visibility="unlisted")
    _post(dave, "Posting from a locked account.", visibility="public")
    _post(
        bob,
        "Markdown works too: **bold**, _italic_ and `code`.",
        visibility="public",
        content_type="text/markdown",
    )
    interactions.favourite(bob, welcome)
    interactions.favourite(alice, photo)
    interactions.reblog(bob, photo, None)
    interactions.bookmark(alice, poll_status)
    reactions.react(carol, welcome.id, "🎉")
    reactions.react(bob, welcome.id, ":kenoma_heart:")
    reactions.react(alice, photo.id, "👍")
    # A direct conversation between alice and bob.
    question = _post(alice, "@bob are you coming to the client meetup on Friday?", visibility="direct")
    _post(bob, "@alice yes, I'll bring the test devices.", visibility="direct", in_reply_to_id=question.id)


def fill(progress: Progress) -> dict[str, Account]:
    """Make the demo data; NotEmpty when local accounts exist already."""
    if db.session.scalar(select(Account.id).where(Account.domain.is_(None)).limit(1)) is not None:
        raise NotEmpty("the instance has accounts already: run `flask --app app reset` first")
    progress("custom emoji pack")
    _emoji_pack()
    progress("accounts, avatars and profile fields")
    people = {spec.nickname: _account(spec) for spec in ACCOUNTS}
    progress("follows and a follow request")
    for follower, followed in FOLLOWS:
        follow(people[follower], people[followed])
    try:
        progress("statuses, media, a poll, favourites, reblogs, reactions, a conversation")
        _statuses(people)
        progress("a list")
        friends = lists.create_list(people["alice"], "Friends", "list", False)
        lists.add_accounts(friends, [people["bob"].id, people["carol"].id])
    except ApiError as error:  # a service refused demo input: a bug here, said plainly
        raise RuntimeError(f"demo data refused: {error.message}") from error
    return people


def password_of(nickname: str) -> str:
    return next(spec.password for spec in ACCOUNTS if spec.nickname == nickname)
