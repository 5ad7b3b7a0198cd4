"""Mentors ("Đại sứ số") in the chat, and learners joining them.

A learner becomes a mentor by redeeming an invite code an admin issued (`hocvuso mentors invite`).
A mentor has a personal code; a learner joins with it — the deep link `/start m_<code>` on Telegram or a
message "ma <code>" on any channel — and can leave or change mentor. A mentor sees only their own
learners: their progress and who is stuck, can push a lesson to all or one of them, and answers the
questions the assistant could not. Pushes and answers go through the persisted outbox (`bot.outbox`).

Button payloads all start with "m:" and name what they act on; every id in them is checked against the
mentor's own learners, so a guessed or stale id gets "not found", never someone else's data.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot import reminders, texts
from bot.messages import Button, Incoming, Reply, reply_to_json
from bot.ports import Clock, Store
from bot.turn import Turn
from data.commune import CommuneConfig
from data.models import Learner
from data.repository import SqlStore
from data.stats import utc
from lessons.models import Curriculum
from retrieval.normalize import fold

# "ma AB3CDE", "mã: ab3cde", "ma m_AB3CDE": a code always holds a digit, so "ma otp" stays a question
_CODE_MESSAGE = re.compile(r"^ma\s*:?\s*(?:[mi]_)?([a-z0-9]{6,8})$")
MAX_ANSWER = 1000
MAX_LEARNER_BUTTONS = 12  # questions listed at once
PANEL_PAGE = 8  # learners per page of the mentor's panel
PUSH_REPEAT_WINDOW = timedelta(minutes=10)  # a second tap on the same push within this is not sent again
COMMANDS = frozenset({"hocvien", "cauhoi", "madaisu", "daisu"})


class Mentoring:
    """The mentor and mentor-joining part of the conversation; the engine hands it events it owns."""

    def __init__(
        self,
        curriculum: Curriculum,
        communes: CommuneConfig,
        clock: Clock,
        *,
        stuck_days: int = 7,
        telegram_link: str | None = None,
        qr_dir: Path | None = None,
    ) -> None:
        self.curriculum = curriculum
        self.communes = communes
        self.clock = clock
        self.stuck_days = stuck_days
        self.qr_dir = qr_dir  # where printable QR images of mentors' Telegram links are drawn
        # e.g. "https://t.me/hocvuso_bot?start=": a mentor's deep link is this followed by m_<code>
        self.telegram_link = telegram_link

    # --- entry points the engine calls ---------------------------------------------------------
    async def command(
        self, store: Store, learner: Learner, state: dict[str, Any], event: Incoming, turn: Turn
    ) -> bool:
        """Handle /hocvien, /cauhoi, /madaisu, /daisu and /start with a code; False when not ours."""
        if not isinstance(store, SqlStore):
            return False
        command = event.text.lower()
        if command == "start" and event.payload:
            await self.apply_code(store, learner, event.payload, turn)
            return True
        if command not in COMMANDS:
            return False
        if command == "daisu" and learner.role != "mentor":
            await self._my_mentor(store, learner, turn)
        elif learner.role != "mentor":
            turn.say(texts.MENTOR_ONLY, [Button(texts.BTN_MENU, "menu")])
        elif command == "cauhoi":
            await self._questions(store, learner, turn)
        else:
            state["step"] = "menu"
            await self._panel(store, learner, turn, state)
            return True
        state["step"] = "menu"
        return True

    async def button(
        self, store: Store, learner: Learner, state: dict[str, Any], payload: str, turn: Turn
    ) -> bool:
        """Handle an "m:..." button; False when the payload is not ours."""
        if not payload.startswith("m:") or not isinstance(store, SqlStore):
            return False
        action, *args = payload.split(":")[1:]
        if action == "leave":
            await self._leave(store, learner, turn)
            return True
        if learner.role != "mentor":
            turn.say(texts.MENTOR_ONLY, [Button(texts.BTN_MENU, "menu")])
            return True
        state["step"] = "menu"
        target: int | None = None
        if action in {"push", "pt", "pl"} and len(args) == 1 + (action != "push"):
            target = _int(args[-1])
            if target is None:
                turn.say(texts.MENTOR_NOT_YOURS, [Button(texts.BTN_MENTOR_HOME, "m:home")])
                return True
        if action == "home":
            await self._panel(store, learner, turn, state)
        elif action == "page" and args and (page := _int(args[0])) is not None:
            await self._panel(store, learner, turn, state, page)
        elif action == "qr":
            await self._qr(store, learner, turn)
        elif action == "l" and args and (learner_id := _int(args[0])) is not None:
            await self._learner(store, learner, learner_id, turn)
        elif action == "push":
            await self._choose_topic(store, learner, target, turn)
        elif action == "pt" and args:
            await self._choose_lesson(store, learner, args[0], target, turn)
        elif action == "pl" and args:
            await self._push(store, learner, state, args[0], target, turn)
        elif action == "nudge" and args and (learner_id := _int(args[0])) is not None:
            await self._nudge(store, learner, state, learner_id, turn)
        elif action == "qs":
            await self._questions(store, learner, turn)
        elif action == "qa" and args and (question_id := _int(args[0])) is not None:
            await self._ask_answer(store, learner, state, question_id, turn)
        else:
            turn.say(texts.STALE_BUTTON)
            await self._panel(store, learner, turn)
        return True

    async def text(
        self, store: Store, learner: Learner, state: dict[str, Any], text: str, turn: Turn
    ) -> bool:
        """A mentor's typed answer, or "ma <code>"; False when the text is an ordinary question."""
        if not isinstance(store, SqlStore):
            return False
        if state.get("step") == "mentor_reply" and learner.role == "mentor":
            await self._send_answer(store, learner, state, text, turn)
            return True
        on_panel = state.get("step") == "mentor_panel" and learner.role == "mentor"
        if on_panel and await self._find(store, learner, state, text, turn):
            return True
        match = _CODE_MESSAGE.match(fold(text))
        if match is None or not any(ch.isdigit() for ch in match.group(1)):
            return False
        await self.apply_code(store, learner, match.group(1), turn)
        return True

    async def apply_code(self, store: Store, learner: Learner, code: str, turn: Turn) -> None:
        """A mentor's personal code (join them) or an admin's invite (become a mentor)."""
        if not isinstance(store, SqlStore):
            return
        code = code.strip().upper().removeprefix("M_").removeprefix("I_")[:20]
        mentor = await store.mentor_by_code(code)
        if mentor is not None and mentor.commune_id == learner.commune_id:
            if mentor.id == learner.id:
                turn.say(texts.MENTOR_CODE_SELF)
            elif learner.mentor_id == mentor.id:
                turn.say(texts.MENTOR_ALREADY.format(mentor=mentor.name))
            else:
                changed = learner.mentor_id is not None
                learner.mentor_id = mentor.id
                turn.say(
                    (texts.MENTOR_CHANGED if changed else texts.MENTOR_JOINED).format(mentor=mentor.name)
                )
            return
        if await store.redeem_invite(code, learner) is not None:
            own = await store.mentor_code(learner.id)
            commune = self.communes.commune(learner.commune_id or "")
            turn.say(
                texts.MENTOR_BECAME.format(
                    name=learner.name, commune=commune.name if commune else "", code=own
                ),
                [Button(texts.BTN_MENTOR_HOME, "m:home")],
            )
            return
        turn.say(texts.MENTOR_CODE_UNKNOWN.format(code=code))

    # --- the learner's side --------------------------------------------------------------------
    async def _my_mentor(self, store: SqlStore, learner: Learner, turn: Turn) -> None:
        mentor = await store.learner_by_id(learner.mentor_id) if learner.mentor_id else None
        if mentor is None:
            turn.say(texts.MENTOR_NONE, [Button(texts.BTN_MENU, "menu")])
            return
        turn.say(
            texts.MENTOR_MINE.format(mentor=mentor.name),
            [Button(texts.BTN_LEAVE_MENTOR, "m:leave"), Button(texts.BTN_MENU, "menu")],
        )

    async def _leave(self, store: SqlStore, learner: Learner, turn: Turn) -> None:
        mentor = await store.learner_by_id(learner.mentor_id) if learner.mentor_id else None
        if mentor is None:
            turn.say(texts.MENTOR_NONE, [Button(texts.BTN_MENU, "menu")])
            return
        learner.mentor_id = None
        turn.say(texts.MENTOR_LEFT.format(mentor=mentor.name), [Button(texts.BTN_MENU, "menu")])

    # --- the mentor's side ---------------------------------------------------------------------
    def _target(self, mentor: Learner) -> int:
        commune = self.communes.commune(mentor.commune_id or "")
        return commune.mentor_min_learners if commune else 5

    def _village(self, learner: Learner) -> str:
        commune = self.communes.commune(learner.commune_id or "")
        village = commune.village(learner.village_id or "") if commune else None
        return village.name if village else ""

    def _activity(self, learner: Learner, done: set[str] | int) -> tuple[str, str]:
        """("active N days ago", " ⚠️ stuck" or ""): stuck = idle `stuck_days` without finishing the core."""
        days = max(0, (utc(self.clock.now()) - utc(learner.last_active_at)).days)
        active = texts.MENTOR_ACTIVE_TODAY if days == 0 else texts.MENTOR_ACTIVE_DAYS.format(days=days)
        core = {le.id for le in self.curriculum.core_lessons}
        finished_core = core <= done if isinstance(done, set) else False
        stuck = texts.MENTOR_STUCK if days >= self.stuck_days and not finished_core else ""
        return active, stuck

    async def _sorted_mentees(self, store: SqlStore, mentor: Learner) -> list[tuple[Learner, set[str], bool]]:
        """The mentor's learners, those who need help first: stuck, then fewest core lessons, then name."""
        core = {le.id for le in self.curriculum.core_lessons}
        rows = []
        for learner, _ in await store.mentees(mentor.id):
            done = await store.completed(learner.id)
            _, stuck = self._activity(learner, done)
            rows.append((learner, done, bool(stuck)))
        rows.sort(key=lambda r: (not r[2], len(core & r[1]), (r[0].name or "").lower(), r[0].id))
        return rows

    async def _panel(
        self, store: SqlStore, mentor: Learner, turn: Turn, state: dict[str, Any] | None = None, page: int = 0
    ) -> None:
        code = await store.mentor_code(mentor.id)
        mentees = await self._sorted_mentees(store, mentor)
        target = self._target(mentor)
        missing = target - len(mentees)
        link = texts.MENTOR_LINK.format(link=f"{self.telegram_link}m_{code}") if self.telegram_link else ""
        lines = [
            texts.MENTOR_PANEL.format(
                name=mentor.name,
                count=len(mentees),
                target=target,
                flag=texts.MENTOR_BELOW_TARGET.format(missing=missing) if missing > 0 else "",
                code=code,
                link=link,
            )
        ]
        if not mentees:
            lines.append(texts.MENTOR_NO_LEARNERS.format(code=code))
        pages = max(1, -(-len(mentees) // PANEL_PAGE))
        page = min(max(page, 0), pages - 1)
        shown = list(enumerate(mentees, 1))[page * PANEL_PAGE : (page + 1) * PANEL_PAGE]
        core = self.curriculum.core_lessons
        for number, (learner, done, _) in shown:
            active, stuck = self._activity(learner, done)
            lines.append(
                texts.MENTOR_LEARNER_LINE.format(
                    number=number,
                    name=learner.name,
                    village=self._village(learner),
                    done=sum(1 for le in core if le.id in done),
                    total=len(core),
                    active=active,
                    stuck=stuck,
                )
            )
        if pages > 1:
            lines.append(texts.MENTOR_PAGE.format(page=page + 1, pages=pages))
        last = (state or {}).get("last_push")
        if isinstance(last, dict) and last.get("broadcast"):
            lines.append(await self._push_feedback(store, last))
        questions = await store.mentor_questions(mentor.id)
        buttons = [
            Button(texts.BTN_MENTOR_LEARNER.format(name=f"{number}. {learner.name}"), f"m:l:{learner.id}")
            for number, (learner, _, _) in shown
        ]
        if page + 1 < pages:
            buttons.append(Button(texts.BTN_PAGE_NEXT, f"m:page:{page + 1}"))
        if page > 0:
            buttons.append(Button(texts.BTN_PAGE_PREV, f"m:page:{page - 1}"))
        if mentees:
            buttons.append(Button(texts.BTN_PUSH_ALL, "m:push"))
        buttons.append(Button(texts.BTN_MENTOR_QUESTIONS.format(count=len(questions)), "m:qs"))
        if self.telegram_link and self.qr_dir is not None:
            buttons.append(Button(texts.BTN_MENTOR_QR, "m:qr"))
        buttons.append(Button(texts.BTN_MENU, "menu"))
        turn.say("\n".join(lines), buttons)
        if state is not None:  # a typed number or name on this panel opens that learner
            state["step"] = "mentor_panel"
            state["mentor_order"] = [learner.id for learner, _, _ in mentees]

    async def _find(
        self, store: SqlStore, mentor: Learner, state: dict[str, Any], text: str, turn: Turn
    ) -> bool:
        """A learner's number in the list, or (part of) their name, typed on the panel."""
        order = [i for i in state.get("mentor_order", []) if isinstance(i, int)]
        typed = fold(text)
        if typed.isdecimal() and len(typed) < 6:
            number = int(typed)
            if 1 <= number <= len(order):
                await self._learner(store, mentor, order[number - 1], turn)
                return True
            return False
        if len(typed) < 2:
            return False
        found = [
            learner
            for learner, _, _ in await self._sorted_mentees(store, mentor)
            if typed in fold(learner.name or "")
        ]
        if len(found) == 1:
            await self._learner(store, mentor, found[0].id, turn)
            return True
        if found:
            turn.say(
                texts.MENTOR_FOUND_SEVERAL.format(count=len(found)),
                [
                    *(
                        Button(texts.BTN_MENTOR_LEARNER.format(name=le.name), f"m:l:{le.id}")
                        for le in found[:8]
                    ),
                    Button(texts.BTN_MENTOR_HOME, "m:home"),
                ],
            )
            return True
        return False

    async def _push_feedback(self, store: SqlStore, last: dict[str, Any]) -> str:
        """ "📤 «bài»: đã tới 4/5, 3/5 đã mở bài" for the mentor's last push."""
        broadcast = _int(str(last.get("broadcast", "")))
        lesson = self.curriculum.lesson(str(last.get("lesson", "")))
        if broadcast is None or lesson is None:
            return ""
        counts = await store.push_progress(broadcast)
        recipients = await store.push_recipients(broadcast)
        opened = 0
        for learner_id in recipients:
            if await store.card_reached(learner_id, lesson.id) is not None:
                opened += 1
        return texts.MENTOR_PUSH_FEEDBACK.format(
            lesson=lesson.title, sent=counts.get("sent", 0), total=len(recipients), opened=opened
        )

    async def _qr(self, store: SqlStore, mentor: Learner, turn: Turn) -> None:
        """A printable QR image of the mentor's Telegram link, and the code for Zalo."""
        code = await store.mentor_code(mentor.id)
        if not self.telegram_link or self.qr_dir is None:
            turn.say(texts.MENTOR_ZALO_JOIN.format(code=code), [Button(texts.BTN_MENTOR_HOME, "m:home")])
            return
        link = f"{self.telegram_link}m_{code}"
        path = self.qr_dir / f"mentor-{mentor.id}.png"

        def draw() -> None:
            import segno

            self.qr_dir.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
            segno.make(link, error="m").save(str(path), scale=12, border=4)

        await asyncio.to_thread(draw)
        turn.say(
            texts.MENTOR_QR.format(code=code, link=link),
            [Button(texts.BTN_MENTOR_HOME, "m:home")],
            image=str(path),
        )

    async def _learner(self, store: SqlStore, mentor: Learner, learner_id: int, turn: Turn) -> None:
        learner = await store.mentee(mentor.id, learner_id)
        if learner is None:
            turn.say(texts.MENTOR_NOT_YOURS, [Button(texts.BTN_MENTOR_HOME, "m:home")])
            return
        done = await store.completed(learner.id)
        active, stuck = self._activity(learner, done)
        core = self.curriculum.core_lessons
        titles = [le.title for le in self.curriculum.lessons if le.id in done]
        turn.say(
            texts.MENTOR_LEARNER.format(
                name=learner.name,
                village=self._village(learner),
                done=len(titles),
                total=len(self.curriculum.lessons),
                core_done=sum(1 for le in core if le.id in done),
                core_total=len(core),
                active=active,
                stuck=stuck,
                lessons=", ".join(titles) if titles else texts.MY_DATA_NONE,
            ),
            [
                Button(texts.BTN_PUSH_ONE.format(name=learner.name), f"m:push:{learner.id}"),
                Button(texts.BTN_NUDGE.format(name=learner.name or texts.NO_NAME), f"m:nudge:{learner.id}"),
                Button(texts.BTN_MENTOR_HOME, "m:home"),
            ],
        )

    async def _nudge(
        self, store: SqlStore, mentor: Learner, state: dict[str, Any], learner_id: int, turn: Turn
    ) -> None:
        """ "🔔 Nhắc giúp" (from the weekly digest or a learner's page): one friendly message naming the
        mentor and the lesson to go on with; a second tap within the repeat window sends nothing."""
        home = [Button(texts.BTN_MENTOR_HOME, "m:home")]
        learner = await store.mentee(mentor.id, learner_id)
        if learner is None:
            turn.say(texts.MENTOR_NOT_YOURS, home)
            return
        name = learner.name or texts.NO_NAME
        now = utc(self.clock.now())
        nudged = state.setdefault("nudged", {})
        last = nudged.get(str(learner.id))
        if last is not None and now - datetime.fromisoformat(last) < PUSH_REPEAT_WINDOW:
            turn.say(texts.MENTOR_NUDGED_ALREADY.format(name=name), home)
            return
        reply = await reminders.nudge_reply(store, self.curriculum, learner.id, mentor.name)
        await store.push(mentor, [learner], None, reply.text, reply_to_json(reply))
        nudged[str(learner.id)] = now.isoformat()
        turn.say(texts.MENTOR_NUDGED.format(name=name), home)

    async def _recipients(self, store: SqlStore, mentor: Learner, target: int | None) -> list[Learner] | None:
        """All the mentor's learners, or the one named; None when the named one is not theirs."""
        if target is None:
            return [learner for learner, _ in await store.mentees(mentor.id)]
        learner = await store.mentee(mentor.id, target)
        return [learner] if learner is not None else None

    async def _choose_topic(self, store: SqlStore, mentor: Learner, target: int | None, turn: Turn) -> None:
        recipients = await self._recipients(store, mentor, target)
        if recipients is None:
            turn.say(texts.MENTOR_NOT_YOURS, [Button(texts.BTN_MENTOR_HOME, "m:home")])
            return
        suffix = f":{target}" if target is not None else ""
        turn.say(
            texts.MENTOR_CHOOSE_TOPIC,
            [
                *(Button(f"{t.icon} {t.title}", f"m:pt:{t.id}{suffix}") for t in self.curriculum.topics),
                Button(texts.BTN_MENTOR_HOME, "m:home"),
            ],
        )

    async def _choose_lesson(
        self, store: SqlStore, mentor: Learner, topic_id: str, target: int | None, turn: Turn
    ) -> None:
        recipients = await self._recipients(store, mentor, target)
        topic = self.curriculum.topic(topic_id)
        if recipients is None or topic is None:
            turn.say(texts.MENTOR_NOT_YOURS if recipients is None else texts.LESSON_GONE)
            await self._panel(store, mentor, turn)
            return
        who = recipients[0].name if target is not None and recipients else texts.MENTOR_EVERYONE
        suffix = f":{target}" if target is not None else ""
        done = [await store.completed(learner.id) for learner in recipients]
        buttons = []
        for le in topic.lessons:
            finished = sum(1 for d in done if le.id in d)
            if target is not None:
                mark = "✅ " if finished else ""
                count = ""
            else:
                mark = "✅ " if recipients and finished == len(recipients) else ""
                count = (
                    f" ({finished}/{len(recipients)} xong)" if finished and finished < len(recipients) else ""
                )
            star = " ⭐" if le.core else ""
            buttons.append(Button(f"{mark}{le.title}{star}{count}", f"m:pl:{le.id}{suffix}"))
        turn.say(
            texts.MENTOR_CHOOSE_LESSON.format(who=who),
            [*buttons, Button(texts.BTN_MENTOR_HOME, "m:home")],
        )

    async def _push(
        self,
        store: SqlStore,
        mentor: Learner,
        state: dict[str, Any],
        lesson_id: str,
        target: int | None,
        turn: Turn,
    ) -> None:
        recipients = await self._recipients(store, mentor, target)
        lesson = self.curriculum.lesson(lesson_id)
        home = [Button(texts.BTN_MENTOR_HOME, "m:home")]
        if recipients is None:
            turn.say(texts.MENTOR_NOT_YOURS, home)
            return
        if lesson is None:
            turn.say(texts.LESSON_GONE, home)
            return
        if not recipients:
            turn.say(texts.MENTOR_PUSH_NOBODY, home)
            return
        now = utc(self.clock.now())
        key = f"{lesson.id}:{target if target is not None else 'all'}"
        last = state.get("last_push", {})
        if last.get("key") == key and now - datetime.fromisoformat(last["at"]) < PUSH_REPEAT_WINDOW:
            turn.say(texts.MENTOR_PUSHED_ALREADY.format(lesson=lesson.title), home)
            return
        finished = [learner for learner in recipients if lesson.id in await store.completed(learner.id)]
        recipients = [learner for learner in recipients if learner not in finished]
        if not recipients:
            turn.say(texts.MENTOR_PUSH_ALL_DONE.format(lesson=lesson.title), home)
            return
        text = texts.PUSH_MESSAGE.format(mentor=mentor.name, lesson=lesson.title)
        reply = Reply(text, (Button(texts.BTN_PUSH_OPEN, f"lesson:{lesson.id}"),))
        broadcast = await store.push(mentor, recipients, lesson.id, text, reply_to_json(reply))
        state["last_push"] = {
            "key": key,
            "at": now.isoformat(),
            "broadcast": broadcast.id,
            "lesson": lesson.id,
        }
        skipped = texts.MENTOR_PUSH_SKIPPED.format(count=len(finished)) if finished else ""
        turn.say(texts.MENTOR_PUSHED.format(lesson=lesson.title, count=broadcast.recipients) + skipped, home)

    async def _questions(self, store: SqlStore, mentor: Learner, turn: Turn) -> None:
        questions = await store.mentor_questions(mentor.id)
        if not questions:
            turn.say(texts.MENTOR_NO_QUESTIONS, [Button(texts.BTN_MENTOR_HOME, "m:home")])
            return
        lines = [texts.MENTOR_QUESTIONS]
        buttons = []
        for number, (question, learner) in enumerate(questions[:MAX_LEARNER_BUTTONS], 1):
            lines.append(
                texts.MENTOR_QUESTION_LINE.format(
                    number=number, name=learner.name, when=_date(question.asked_at), text=question.text
                )
            )
            buttons.append(Button(texts.BTN_ANSWER_QUESTION.format(number=number), f"m:qa:{question.id}"))
        turn.say("\n".join(lines), [*buttons, Button(texts.BTN_MENTOR_HOME, "m:home")])

    async def _ask_answer(
        self, store: SqlStore, mentor: Learner, state: dict[str, Any], question_id: int, turn: Turn
    ) -> None:
        found = await store.mentor_question(mentor.id, question_id)
        if found is None:
            turn.say(texts.MENTOR_QUESTION_GONE, [Button(texts.BTN_MENTOR_HOME, "m:home")])
            return
        question, learner = found
        state.update(step="mentor_reply", question=question.id)
        turn.say(texts.MENTOR_TYPE_ANSWER.format(name=learner.name, text=question.text))

    async def _send_answer(
        self, store: SqlStore, mentor: Learner, state: dict[str, Any], text: str, turn: Turn
    ) -> None:
        if not text:
            turn.say(texts.MENTOR_ANSWER_EMPTY)
            return
        found = await store.mentor_question(mentor.id, int(state.get("question", 0)))
        state["step"] = "menu"
        state.pop("question", None)
        if found is None:
            turn.say(texts.MENTOR_QUESTION_GONE, [Button(texts.BTN_MENTOR_HOME, "m:home")])
            return
        question, learner = found
        answer = text[:MAX_ANSWER]
        reply = Reply(
            texts.ANSWER_FROM_MENTOR.format(
                question=question.text, answer=answer, who=f"Đại sứ số {mentor.name}"
            ),
            (Button(texts.BTN_MENU, "menu"),),
        )
        await store.answer_question(question, learner, answer, f"mentor:{mentor.id}", reply_to_json(reply))
        turn.say(
            texts.MENTOR_ANSWER_SENT.format(name=learner.name), [Button(texts.BTN_MENTOR_HOME, "m:home")]
        )


def _int(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdecimal() and len(text) < 12 else None


def _date(moment: datetime) -> str:
    return utc(moment).strftime("%d/%m")
