"""What every channel adapter offers for messages the assistant sends first (pushes, announcements,
answers): a name and a way to send replies to a chat."""

from __future__ import annotations

from typing import Protocol

from bot.messages import Reply


class ChannelSender(Protocol):
    """Sends replies to one chat on one channel; raises when the channel refuses or fails."""

    name: str

    async def send(self, chat_id: str, replies: list[Reply]) -> None: ...
