"""Every refusal of the emoji pack code: the routes turn these into SPEC 17's status codes and
bodies (routes/pleroma/emoji_packs.py)."""

from __future__ import annotations


class PackError(Exception):
    """Base of every refusal; str(error) is the client-facing message."""


class EmptyName(PackError):
    def __init__(self) -> None:
        super().__init__("pack name cannot be empty")


class InvalidName(PackError):
    def __init__(self) -> None:
        super().__init__("Invalid pack name")


class PackNotFound(PackError):
    def __init__(self, name: str) -> None:
        super().__init__(f"Pack {name} does not exist")
        self.name = name


class PackExists(PackError):
    def __init__(self, name: str) -> None:
        super().__init__(f'A pack named "{name}" already exists')


class PackUnreadable(PackError):
    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"Failed to get the contents of the `{name}` pack. {reason}".strip())


class EmptyValue(PackError):
    """A shortcode / filename given as an empty string; each endpoint words it differently."""


class InvalidShortcode(PackError):
    def __init__(self) -> None:
        super().__init__("Invalid shortcode")


class ValueTooLong(PackError):
    def __init__(self, key: str, limit: int) -> None:
        super().__init__(f"{key} is too long (at most {limit} characters)")


class InvalidFileName(PackError):
    def __init__(self, filename: str) -> None:
        super().__init__(f'Invalid file name "{filename}"')


class ShortcodeTaken(PackError):
    def __init__(self, shortcode: str) -> None:
        super().__init__(f'An emoji with the "{shortcode}" shortcode already exists')


class NewShortcodeTaken(PackError):
    def __init__(self, shortcode: str) -> None:
        super().__init__(
            f"New shortcode \"{shortcode}\" is already used. If you want to override emoji use 'force' option"
        )


class FileTaken(PackError):
    def __init__(self, filename: str) -> None:
        super().__init__(f'A file named "{filename}" already exists in the pack')


class EmojiNotFound(PackError):
    def __init__(self, shortcode: str) -> None:
        super().__init__(f'Emoji "{shortcode}" does not exist')


class NotAnImage(PackError):
    def __init__(self) -> None:
        super().__init__("Emoji files must be images")


class BadSource(PackError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} must be an http(s) URL")


class BadFileParam(PackError):
    def __init__(self) -> None:
        super().__init__("file must be an uploaded file or an http(s) URL")


class NotDownloadable(PackError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"Pack {name} cannot be downloaded from this instance, either pack sharing was disabled "
            "for this pack or some files are missing"
        )


class FallbackIncomplete(PackError):
    def __init__(self) -> None:
        super().__init__("The fallback archive does not have all files specified in pack.json")


class UnsafeArchive(PackError):
    def __init__(self, member: str, why: str) -> None:
        super().__init__(f"Refused archive: member {member!r} {why}")


class ArchiveTooLarge(PackError):
    def __init__(self) -> None:
        super().__init__("Refused archive: it unpacks to more than the allowed size")


class BadArchive(PackError):
    def __init__(self, reason: str = "") -> None:
        super().__init__(f"Invalid zip archive. {reason}".strip())


class NotShareable(PackError):
    def __init__(self) -> None:
        super().__init__("The requested instance does not support sharing emoji packs")


class NoDownloadSource(PackError):
    def __init__(self) -> None:
        super().__init__("The pack was not set as shared and there is no fallback src to download from")


class ChecksumMismatch(PackError):
    def __init__(self) -> None:
        super().__init__("SHA256 for the pack doesn't match the one sent by the server")


class RemoteError(PackError):
    """Another server failed us (network, status, bad document); the message is the reason."""


class NotWritable(PackError):
    def __init__(self) -> None:
        super().__init__("Error: emoji pack directory must be writable")
