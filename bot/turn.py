"""What one event produces: the replies, built up by the screens that handle it."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.messages import Button, Reply


@dataclass
class Turn:
    """The replies of one event, in order; the last offered buttons are what a typed number picks."""

    replies: list[Reply] = field(default_factory=list)
    private: bool = False  # the replies quote what the learner passed on: not kept in the saved state

    def say(
        self,
        text: str,
        buttons: list[Button] | None = None,
        *,
        replaces: bool = False,
        image: str | None = None,
        audio: str | None = None,
    ) -> None:
        self.replies.append(
            Reply(text=text, buttons=tuple(buttons or ()), replaces=replaces, image=image, audio=audio)
        )

    @property
    def buttons(self) -> list[Button]:
        return [b for reply in self.replies for b in reply.buttons]
