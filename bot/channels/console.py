"""A terminal chat: the embedded default that needs no tokens and no network.

Buttons show as numbered options; the learner types the number or the option's words. When stdin is
not a terminal, each line is one message and the replies are printed, so a journey can be piped in.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from typing import TextIO

from bot import texts
from bot.channels.numbered import numbered_texts
from bot.messages import Reply
from bot.service import Assistant, text_event

CHANNEL = "console"


def render(replies: list[Reply]) -> str:
    parts = []
    for reply, text in zip(replies, numbered_texts(replies), strict=True):
        extra = []
        if reply.image:
            extra.append(f"[hình minh họa: {reply.image}]")
        if reply.audio:
            extra.append(f"[bản đọc: {reply.audio}]")
        parts.append("\n".join([text, *extra]))
    return "\n\n".join(parts)


async def chat(
    assistant: Assistant, user: str, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout
) -> None:
    """Run the chat until end of input (Ctrl-D) or Ctrl-C."""
    interactive = stdin.isatty()
    bar = "─" * 60

    def show(replies: list[Reply]) -> None:
        if replies:
            print(f"{bar}\n{render(replies)}\n{bar}", file=stdout, flush=True)

    if interactive:
        print(texts.CONSOLE_HELLO, file=stdout)
        show(await assistant.handle(text_event(CHANNEL, user, uuid.uuid4().hex, "/start", user)))
    while True:
        try:
            if interactive:
                line = await asyncio.to_thread(input, "✏️  ")
            else:
                line = stdin.readline()
                if not line:
                    break
                line = line.rstrip("\n")
                print(f"» {line}", file=stdout)
        except (EOFError, KeyboardInterrupt):
            break
        show(await assistant.handle(text_event(CHANNEL, user, uuid.uuid4().hex, line, user)))
    if interactive:
        print(texts.CONSOLE_BYE, file=stdout)
