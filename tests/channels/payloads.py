"""Real-world update bodies that aiogram's models cannot read, as Telegram sends them.

Each is built around the fake server's ids, so a test can mix them with ordinary updates. Shapes
come from the Bot API documentation and the reports that found them:
- aiogram issue #1840: a forward of a 2015 message whose origin is `hidden_user` with only `type` and
  `date` (no `sender_user_name`, which the documentation calls required);
- aiogram issue #1587: a reply quoting a story from another chat, `external_reply.story = {}`;
- a poll in the shape from before Bot API 7 (no `type`, `allows_multiple_answers` or the options'
  `persistent_id` that the current model requires).
"""

from __future__ import annotations

import time
from typing import Any

from tests.channels.fake_telegram import FakeTelegram


def message(server: FakeTelegram, user_id: int, name: str = "Hoa", **fields: Any) -> dict[str, Any]:
    return {
        "update_id": server.next_update_id(),
        "message": {
            "message_id": server.next_message_id(),
            "from": {"id": user_id, "is_bot": False, "first_name": name, "language_code": "vi"},
            "chat": {"id": user_id, "first_name": name, "type": "private"},
            "date": int(time.time()),
            **fields,
        },
    }


def hidden_user_forward(server: FakeTelegram, user_id: int, text: str, name: str = "Hoa") -> dict[str, Any]:
    return message(
        server,
        user_id,
        name,
        forward_origin={"type": "hidden_user", "date": 1422450181},
        forward_date=1422450181,
        text=text,
    )


def story_reply(server: FakeTelegram, user_id: int, text: str, name: str = "Hoa") -> dict[str, Any]:
    return message(
        server,
        user_id,
        name,
        external_reply={
            "origin": {
                "type": "user",
                "sender_user": {"id": 777000111, "is_bot": False, "first_name": "Người lạ"},
                "date": 1727950000,
            },
            "chat": {"id": 777000111, "first_name": "Người lạ", "type": "private"},
            "story": {},
        },
        quote={"text": "Nhận quà tri ân", "position": 0},
        text=text,
    )


def old_poll(server: FakeTelegram, user_id: int, name: str = "Hoa") -> dict[str, Any]:
    return message(
        server,
        user_id,
        name,
        poll={
            "id": "5334627823232385026",
            "question": "Bác đã cài VNeID chưa?",
            "options": [{"text": "Rồi", "voter_count": 0}, {"text": "Chưa", "voter_count": 0}],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": True,
        },
    )


def user_forward(server: FakeTelegram, user_id: int, text: str) -> dict[str, Any]:
    """A forward in today's shape (Bot API 7+), from a person who allows linking to their account."""
    sender = {"id": 555123, "is_bot": False, "first_name": "Cán bộ", "last_name": "Giả danh"}
    return message(
        server,
        user_id,
        forward_origin={"type": "user", "sender_user": sender, "date": 1733000000},
        forward_from=sender,
        forward_date=1733000000,
        text=text,
    )


def legacy_forward(server: FakeTelegram, user_id: int, text: str) -> dict[str, Any]:
    """A forward in the shape before Bot API 7: `forward_sender_name` and `forward_date` only."""
    return message(server, user_id, forward_sender_name="Ngân hàng", forward_date=1600000000, text=text)


def without_chat(server: FakeTelegram, user_id: int, text: str, name: str) -> dict[str, Any]:
    """A message whose chat cannot be read: nobody to answer, so it can only be skipped."""
    update = message(server, user_id, name, text=text)
    update["message"]["chat"] = {"type": "private"}
    return update
