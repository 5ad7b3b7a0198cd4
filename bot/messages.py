"""Channel-neutral value types: what comes in from a learner and what goes back out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """What an incoming event is."""

    TEXT = "text"
    BUTTON = "button"
    COMMAND = "command"
    OTHER = "other"  # a sticker, photo, voice note, file or anything we cannot read


@dataclass(frozen=True)
class Incoming:
    """One event from a channel, already translated by its adapter.

    `event_id` is the channel's own id for the update (Telegram update_id, Zalo message_id, a console
    counter); a redelivered event carries the same id and has no second effect.
    """

    channel: str
    user_id: str
    event_id: str
    kind: Kind
    text: str = ""  # the message text; for COMMAND the command's name without "/" ("start")
    payload: str = ""  # button payload, or the argument of a command (/start m_abc -> "m_abc")
    chat_id: str = ""  # where replies go; defaults to user_id
    display_name: str = ""
    media: str = ""  # for OTHER: "sticker", "image", "voice", "file", "unsupported", ...
    # the learner passed on someone else's message (Telegram forward): content to look at, never the
    # learner's own words or a command; a forwarded "/start" arrives as TEXT "/start" with this set
    forwarded: bool = False

    @property
    def reply_to(self) -> str:
        return self.chat_id or self.user_id


@dataclass(frozen=True)
class Button:
    """A choice offered to the learner: what it says and what pressing it sends back."""

    label: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One message to send. Channels without buttons show them as a numbered list.

    `replaces` marks a reply that may replace the message whose button was pressed (lesson cards),
    so a channel that can edit messages does so instead of flooding the chat.
    """

    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    image: str | None = None
    audio: str | None = None
    replaces: bool = False


def reply_to_json(reply: Reply) -> dict[str, Any]:
    """A reply as stored in a row (the outbox, replies kept after an event)."""
    data: dict[str, Any] = {
        "text": reply.text,
        "buttons": [[b.label, b.payload] for b in reply.buttons],
        "image": reply.image,
        "audio": reply.audio,
    }
    if reply.replaces:
        data["replaces"] = True
    return data


def reply_from_json(data: Mapping[str, Any]) -> Reply:
    return Reply(
        text=str(data.get("text", "")),
        buttons=tuple(Button(str(label), str(payload)) for label, payload in data.get("buttons", [])),
        image=data.get("image"),
        audio=data.get("audio"),
        replaces=bool(data.get("replaces", False)),
    )


@dataclass(frozen=True)
class Outgoing:
    """A reply addressed to someone the assistant writes to first (pushes, reminders, answers)."""

    channel: str
    chat_id: str
    reply: Reply
