"""Channels without buttons number the options across a whole turn, matching the engine's numbering."""

from __future__ import annotations

from bot import texts
from bot.channels.numbered import numbered_texts
from bot.messages import Button, Reply


def test_numbering_runs_on_across_replies_and_the_hint_mentions_menu_only_when_offered() -> None:
    replies = [
        Reply("Đúng rồi", (Button("A", "a"),)),
        Reply("Câu 2", (Button("B", "b"), Button(texts.BTN_MENU, "menu"))),
    ]
    first, second = numbered_texts(replies)
    assert first == "Đúng rồi\n\n1. A"
    assert second.splitlines()[-3:] == ["2. B", f"3. {texts.BTN_MENU}", texts.CHOOSE_HINT_MENU]
    [only] = numbered_texts([Reply("Thôn nào?", (Button("Thôn Đông", "village:d"),))])
    assert only.endswith(texts.CHOOSE_HINT)
    assert numbered_texts([Reply("Chỉ chữ")]) == ["Chỉ chữ"]
