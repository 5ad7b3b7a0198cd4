"""Consent, then name (confirmed once), commune, village and an optional age group; changed later too.

Nothing is stored before consent, so a mentor's invite code (/start <code>) rides in the consent button.
Each step understands what people type: any clear yes or no, a name with "tên tôi là … ạ" around it, a
village with "thôn/xóm/tổ" and fillers, an age or a birth year. A learner changes name, village or age
group later by saying so ("đổi tên") or from /dulieu; the same steps run with `editing` set.
"""

from __future__ import annotations

from typing import Any

from bot import texts
from bot.messages import Button, Incoming, Kind
from bot.ports import Clock, Store
from bot.screens.base import Conversation, Screens
from bot.turn import Turn
from bot.understand import Meaning, Screen, clean_text, interpret
from data.commune import Commune, CommuneConfig

MAX_NAME = 60


class RegistrationScreen:
    """Gets a new learner from their first message to the main menu."""

    def __init__(self, communes: CommuneConfig, clock: Clock, screens: Screens) -> None:
        self.communes = communes
        self.clock = clock
        self.screens = screens

    def default_commune(self) -> Commune:
        return self.communes.communes[0]

    def commune_of(self, c: Conversation) -> Commune:
        return self.communes.commune(c.learner.commune_id or "") or self.default_commune()

    # --- consent (no learner row yet) -----------------------------------------------------------
    async def consent(self, store: Store, event: Incoming, turn: Turn) -> None:
        choice, _, invite = (
            (event.payload if event.kind is Kind.BUTTON else "").partition(":")[2].partition(":")
        )
        screen = Screen("consent", (texts.BTN_CONSENT_YES, texts.BTN_CONSENT_NO))
        meaning = interpret(event, screen) if event.kind is Kind.TEXT else None
        if meaning is not None:
            choice = {"yes": "yes", "no": "no"}.get(meaning.kind, "")
            if meaning.kind == "choice":
                choice = "yes" if meaning.value == "1" else "no"
        if choice == "yes":
            learner = await store.create_learner(
                event.channel, event.user_id, event.reply_to, clean_text(event.display_name)[:100]
            )
            state: dict[str, Any] = {"step": "name"}
            if invite:
                state["invite"] = invite[:40]
            turn.say(texts.ASK_NAME)
            state["prompt"] = texts.ASK_NAME
            await store.save_state(learner.id, state)
            return
        store.keep_nothing()  # no consent: not even this message's id is kept
        if choice == "no":
            turn.say(texts.CONSENT_DECLINED)
            return
        code = event.payload[:40] if event.kind is Kind.COMMAND and event.payload.isprintable() else ""
        buttons = [
            Button(texts.BTN_CONSENT_YES, f"consent:yes:{code}" if code else "consent:yes"),
            Button(texts.BTN_CONSENT_NO, "consent:no"),
        ]
        first = meaning is None or meaning.kind in {"greeting", "empty", "ack", "help", "menu", "learn"}
        if not first:  # an unclear reply to the question: one short line, not the whole text again
            turn.say(texts.CONSENT_REPEAT, buttons)
            return
        commune = self.default_commune() if len(self.communes.communes) == 1 else None
        turn.say(
            texts.WELCOME.format(
                assistant=texts.ASSISTANT_NAME, commune=commune.name if commune else "xã/phường"
            ),
            buttons,
        )

    # --- the steps after consent -----------------------------------------------------------------
    async def handle(self, c: Conversation, meaning: Meaning) -> None:
        step = c.step
        if meaning.kind == "media" or meaning.kind == "empty":
            self.ask_again(c)
            return
        registration_button = meaning.value.startswith(("commune:", "village:", "age:", "name:"))
        if meaning.kind in {"button", "command"} and not registration_button and not c.state.get("editing"):
            c.say(texts.REGISTRATION_FIRST)
            self.ask_again(c)
            return
        if step == "name":
            await self._name(c, meaning)
        elif step == "confirm_name":
            await self._confirm_name(c, meaning)
        elif step == "commune":
            self._commune(c, meaning)
        elif step == "village":
            await self._village(c, meaning)
        else:
            await self._age(c, meaning)

    def ask_again(self, c: Conversation) -> None:
        step = c.step
        if step == "name":
            c.say(texts.ASK_NAME_AGAIN)
        elif step == "confirm_name":
            self._ask_confirm(c)
        elif step == "commune":
            self._ask_commune(c)
        elif step == "village":
            self._ask_village(c)
        else:
            self._ask_age(c)

    async def _name(self, c: Conversation, meaning: Meaning) -> None:
        if meaning.kind == "name":
            name = meaning.value
            if len(name) > MAX_NAME:
                c.say(texts.NAME_TOO_LONG)
                return
            c.state["name_candidate"] = name
            c.state["step"] = "confirm_name"
            self._ask_confirm(c)
            return
        if meaning.kind in {"menu", "skip", "stop", "back"} and c.state.get("editing"):
            await self._finish_edit(c, texts.EDIT_CANCELLED)
            return
        if meaning.kind in {"greeting", "ack", "thanks"}:
            c.say(texts.ASK_NAME_AGAIN)
        elif meaning.kind == "question":
            c.say(texts.NAME_WHY)
        else:
            c.say(texts.NAME_INVALID)

    def _ask_confirm(self, c: Conversation) -> None:
        c.say(
            texts.CONFIRM_NAME.format(name=c.state.get("name_candidate", "")),
            [Button(texts.BTN_NAME_RIGHT, "name:yes"), Button(texts.BTN_NAME_FIX, "name:no")],
        )

    async def _confirm_name(self, c: Conversation, meaning: Meaning) -> None:
        if meaning.kind in {"menu", "stop", "back", "skip"} and c.state.get("editing"):
            await self._finish_edit(c, texts.EDIT_CANCELLED)
            return
        yes = (
            meaning.kind == "yes"
            or meaning.value == "name:yes"
            or (meaning.kind == "choice" and meaning.value == "1")
        )
        no = (
            meaning.kind in {"no", "change_name"}
            or meaning.value == "name:no"
            or (meaning.kind == "choice" and meaning.value == "2")
        )
        if yes:
            c.learner.name = str(c.state.pop("name_candidate", c.learner.name))
            if c.state.get("editing"):
                await self._finish_edit(c, texts.NAME_CHANGED.format(name=c.learner.name))
                return
            if len(self.communes.communes) > 1:
                c.state["step"] = "commune"
                self._ask_commune(c)
            else:
                c.learner.commune_id = self.default_commune().id
                c.state["step"] = "village"
                self._ask_village(c)
            return
        if no:
            c.state["step"] = "name"
            c.say(texts.ASK_NAME_RETYPE)
            return
        # another name typed instead of yes/no: confirm that one
        from bot.understand import interpret_text

        retyped = interpret_text(meaning.text, Screen("name")) if meaning.text else meaning
        if retyped.kind == "name":
            c.state["name_candidate"] = retyped.value
        self._ask_confirm(c)

    def _ask_commune(self, c: Conversation) -> None:
        c.say(texts.ASK_COMMUNE, [Button(x.name, f"commune:{x.id}") for x in self.communes.communes])

    def _commune(self, c: Conversation, meaning: Meaning) -> None:
        payload = meaning.value if meaning.kind == "button" else ""
        commune = (
            self.communes.commune(payload.removeprefix("commune:"))
            if payload.startswith("commune:")
            else None
        )
        if commune is None:
            c.say(texts.CHOOSE_FROM_LIST)
            self._ask_commune(c)
            return
        c.learner.commune_id = commune.id
        c.state["step"] = "village"
        self._ask_village(c)

    def _ask_village(self, c: Conversation) -> None:
        commune = self.commune_of(c)
        c.say(
            texts.ASK_VILLAGE.format(name=c.learner.name or c.state.get("name_candidate", "")),
            [Button(v.name, f"village:{v.id}") for v in commune.villages],
        )

    async def _village(self, c: Conversation, meaning: Meaning) -> None:
        commune = self.commune_of(c)
        village_id = ""
        if meaning.kind == "village":
            village_id = meaning.value
        elif meaning.kind == "button" and meaning.value.startswith("village:"):
            village_id = meaning.value.removeprefix("village:")
        village = commune.village(village_id) if village_id else None
        if village is None:
            if meaning.kind in {"menu", "skip", "stop", "back"} and c.state.get("editing"):
                await self._finish_edit(c, texts.EDIT_CANCELLED)
                return
            c.say(
                texts.CHOOSE_NUMBER.format(count=len(commune.villages))
                if meaning.value == "range"
                else texts.VILLAGE_UNKNOWN
            )
            self._ask_village(c)
            return
        c.learner.village_id = village.id
        if c.state.get("editing"):
            await self._finish_edit(c, texts.VILLAGE_CHANGED.format(village=village.name))
            return
        if str(c.state.get("invite", "")).lower().startswith("i_"):
            # a volunteer joining with the commune's invite link: no age group, and "bạn", not "bác"
            await self._finish(c, volunteer=True)
            return
        c.state["step"] = "age"
        self._ask_age(c)

    def _ask_age(self, c: Conversation) -> None:
        buttons = [Button(label, f"age:{key}") for key, label in texts.AGE_GROUPS]
        c.say(texts.ASK_AGE, [*buttons, Button(texts.BTN_SKIP, "age:skip")])

    async def _age(self, c: Conversation, meaning: Meaning) -> None:
        groups = dict(texts.AGE_GROUPS)
        if meaning.kind == "age":
            group = meaning.value
        elif meaning.kind == "button" and meaning.value.startswith("age:"):
            group = meaning.value.removeprefix("age:")
        elif meaning.kind in {"skip", "stop", "menu", "no", "learn", "continue", "back"}:
            if c.state.get("editing"):  # changing it was their wish; not answering changes nothing
                await self._finish_edit(c, texts.EDIT_CANCELLED)
                return
            group = "skip"  # the age group is optional: a learner is never held here
        else:
            c.say(texts.AGE_UNCLEAR)
            self._ask_age(c)
            return
        c.learner.age_group = group if group in groups else None
        if c.state.get("editing"):
            await self._finish_edit(c, texts.AGE_CHANGED)
            return
        await self._finish(c)

    async def _finish(self, c: Conversation, *, volunteer: bool = False) -> None:
        c.learner.registered_at = self.clock.now()
        invite = c.state.get("invite")
        c.state.clear()
        c.state["step"] = "menu"
        village = self.commune_of(c).village(c.learner.village_id or "")
        template = texts.REGISTERED_VOLUNTEER if volunteer else texts.REGISTERED
        self.screens.menu.show(
            c, text=template.format(name=c.learner.name, village=village.name if village else "")
        )
        if invite:  # a mentor's code (or the commune's invite) from the /start link, carried through consent
            await self.screens.mentoring.apply_code(c.store, c.learner, str(invite), c.turn)

    # --- changing them later -------------------------------------------------------------------
    def start_edit(self, c: Conversation, what: str) -> None:
        c.state["editing"] = what
        c.state["step"] = {"name": "name", "village": "village", "age": "age"}[what]
        if what == "name":
            c.say(texts.ASK_NAME_NEW)
        elif what == "village":
            self._ask_village(c)
        else:
            self._ask_age(c)

    async def _finish_edit(self, c: Conversation, message: str) -> None:
        what = c.state.pop("editing", None)
        c.state.pop("name_candidate", None)
        if what == "cert":
            c.say(message)
            c.state["step"] = "menu"
            await self.screens.quiz.certificate(c)
            self.screens.menu.show(c)
            return
        self.screens.menu.show(c, text=message)
