"""What every channel adapter shares: sending to a chat (pushes, announcements, answers), the error a
chat that is gone for good raises, the /healthz count of updates that could not be read, and how
unreadable input is described in the logs (by field names and shape, never by content)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from bot.messages import Reply

_NAME = re.compile(r"[A-Za-z0-9_]{1,40}")


class ChannelSender(Protocol):
    """Sends replies to one chat on one channel; raises when the channel refuses or fails
    (`ChatUnreachable` when it refuses that chat for good)."""

    name: str

    async def send(self, chat_id: str, replies: list[Reply]) -> None: ...


class ChatUnreachable(Exception):
    """The channel refused a chat for good: the learner blocked the bot, or the chat or account is
    gone. Never retried; the learner is marked unreachable until they write again. The message holds
    the reason only, never the chat id (exceptions end up in logs)."""

    def __init__(self, channel: str, chat_id: str, reason: str) -> None:
        super().__init__(f"{channel}: the chat refused messages for good ({reason})")
        self.channel = channel
        self.chat_id = chat_id
        self.reason = reason


@dataclass
class Unreadable:
    """Updates a channel could not read in full since start, for /healthz: `skipped` were
    acknowledged without an answer (nothing in them could be used), `salvaged` were answered without
    the parts that could not be read."""

    skipped: int = 0
    salvaged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"skipped": self.skipped, "salvaged": self.salvaged}


def readable(text: str) -> str:
    """Text as a database can store it: a JSON body may carry half of a UTF-16 surrogate pair
    ("\\ud83d" alone), which no UTF-8 codec accepts; pairs are joined and a lone half becomes "\ufffd"."""
    if text.isascii():
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def field_name(part: Any) -> str:
    """One step of a field path, as it may appear in a log: a field name or a list index; anything
    else (a key that could be data someone typed) becomes "?"."""
    if isinstance(part, int) and not isinstance(part, bool):
        return str(part)
    return part if isinstance(part, str) and _NAME.fullmatch(part) else "?"


def shape(value: Any, depth: int = 3) -> str:
    """The keys of a JSON body, nested three levels, without any value: `{event_name,message{chat,…}}`."""
    if isinstance(value, dict):
        if depth == 0:
            return "{…}"
        keys = sorted(value, key=str)[:20]
        parts = []
        for key in keys:
            nested = value[key]
            parts.append(field_name(key) + (shape(nested, depth - 1) if isinstance(nested, dict) else ""))
        inner = ",".join(parts)
        return "{" + inner + (",…" if len(value) > 20 else "") + "}"
    return type(value).__name__
