"""A learner's own data: see what is stored (/dulieu) and delete it (/xoadulieu, after a confirmation).

Deletion anonymises rather than removes the learner's row (see `SqlStore.erase_learner`): name, channel
ids, display name and age group go, while village and completions stay, so the commune's anonymous
counts do not change when somebody leaves (Law 91/2025/QH15 asks for deletion of personal data, not
of statistics). A certificate image, which bears the name, is deleted from disk.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from bot import reminders, texts
from bot.messages import Button, Incoming
from bot.ports import Store
from bot.turn import Turn
from data.commune import CommuneConfig
from data.models import Learner
from data.repository import SqlStore
from data.stats import VIETNAM, utc

COMMANDS = frozenset({"xoadulieu", "dulieu"})


class Privacy:
    """Shows and deletes a learner's personal data."""

    def __init__(self, communes: CommuneConfig) -> None:
        self.communes = communes

    async def command(
        self, store: Store, learner: Learner, state: dict[str, Any], event: Incoming, turn: Turn
    ) -> bool:
        if event.text.lower() not in COMMANDS or not isinstance(store, SqlStore):
            return False
        await self._show(store, learner, turn)
        state["step"] = "confirm_delete" if event.text.lower() == "xoadulieu" else "menu"
        village = self._village(learner)
        if state["step"] == "confirm_delete":
            turn.say(
                texts.DELETE_ASK.format(village=village),
                [
                    Button(texts.BTN_DELETE_CONFIRM, "priv:delete"),
                    Button(texts.BTN_DELETE_CANCEL, "priv:keep"),
                ],
            )
        else:
            turn.say(
                texts.MENU, [Button(texts.BTN_DELETE_CONFIRM, "priv:ask"), Button(texts.BTN_MENU, "menu")]
            )
        return True

    async def button(
        self, store: Store, learner: Learner, state: dict[str, Any], payload: str, turn: Turn
    ) -> bool:
        if not payload.startswith("priv:") or not isinstance(store, SqlStore):
            return False
        action = payload.removeprefix("priv:")
        if action == "delete" and state.get("step") == "confirm_delete":
            certificate = await store.certificate(learner.id)
            await store.erase_learner(learner)
            if certificate is not None:  # the image bears the learner's name
                await asyncio.to_thread(Path(certificate.path).unlink, missing_ok=True)
            state.clear()
            turn.say(texts.DELETE_DONE)
        elif action in {"delete", "ask"}:
            # a delete button from an old message: ask again rather than delete without a fresh yes
            state["step"] = "confirm_delete"
            turn.say(
                texts.DELETE_ASK.format(village=self._village(learner)),
                [
                    Button(texts.BTN_DELETE_CONFIRM, "priv:delete"),
                    Button(texts.BTN_DELETE_CANCEL, "priv:keep"),
                ],
            )
        else:
            state["step"] = "menu"
            turn.say(texts.DELETE_CANCELLED, [Button(texts.BTN_MENU, "menu")])
        return True

    def _village(self, learner: Learner) -> str:
        commune = self.communes.commune(learner.commune_id or "")
        village = commune.village(learner.village_id or "") if commune else None
        return village.name if village else texts.MY_DATA_NONE

    async def _show(self, store: SqlStore, learner: Learner, turn: Turn) -> None:
        data = await store.personal_data(learner)
        commune = self.communes.commune(learner.commune_id or "")
        ages = dict(texts.AGE_GROUPS)
        none = texts.MY_DATA_NONE
        registered = learner.registered_at
        text = texts.MY_DATA.format(
            name=learner.name or none,
            commune=commune.name if commune else none,
            village=self._village(learner),
            age=ages.get(learner.age_group or "", none),
            channel=learner.channel,
            registered=utc(registered).astimezone(VIETNAM).strftime("%d/%m/%Y") if registered else none,
            completed=data["completed"],
            questions=data["questions"],
            mentor=data["mentor"] or none,
        )
        text += "\n" + reminders.setting_line(await reminders.setting(store, learner.id))
        asked = [f"«{q[:80]}»" for q in data.get("asked", [])[-5:]]
        if asked:
            text += "\n" + texts.MY_DATA_ASKED.format(questions="; ".join(asked))
        turn.say(text)
