"""Replies as plain text with numbered options, for channels without buttons (console, Zalo)."""

from __future__ import annotations

from bot import texts
from bot.messages import Reply


def numbered_texts(replies: list[Reply]) -> list[str]:
    """One text per reply; buttons become "1. ..." lines, numbered on across the replies of one turn.

    The numbering matches the engine's: it keeps every button of the turn in order, so typing "3"
    picks the third button shown.
    """
    out: list[str] = []
    number = 0
    for index, reply in enumerate(replies):
        lines = [reply.text]
        if reply.buttons:
            lines.append("")
            for button in reply.buttons:
                number += 1
                lines.append(f"{number}. {button.label}")
        if number and index == len(replies) - 1:
            has_menu = any(b.payload == "menu" for r in replies for b in r.buttons)
            lines.append(texts.CHOOSE_HINT_MENU if has_menu else texts.CHOOSE_HINT)
        out.append("\n".join(lines))
    return out
