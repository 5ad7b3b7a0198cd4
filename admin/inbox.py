"""The question inbox of the dashboard: what learners asked that the assistant could not answer.

- three tabs: "Chờ trả lời" (waiting, oldest first, near-duplicates grouped), "Đã trả lời" and "Đã xử lý"
  (latest first, with who answered or handled each and when);
- the menu of every page shows how many wait, and how many arrived since the account last opened the
  inbox (those carry a "mới" badge here);
- answer templates: staff keep a few answers (create, edit, delete) and pick one to fill a group's
  answer box (a form and a redirect: the dashboard runs no JavaScript);
- "Đánh dấu đã xử lý" with an answer typed in the box asks first, on a page of its own, whether to drop
  the answer — and offers to send it instead;
- a question from a mentor's learner is also told to the mentor in the chat (`bot.notices`).
"""

# No `from __future__ import annotations` here: FastAPI reads the route signatures at run time, and the
# dependency alias `Auth` is local to `create_router`, where string annotations cannot be resolved.
import math
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import Response

from admin import store, workflow
from admin.web import MAX_ID, MAX_PAGE, PathId, Session, Tools, path_for
from bot.messages import reply_to_json
from data import knowledge as kb
from data.commune import Commune
from data.models import Learner, UnansweredQuestion
from data.repository import SqlStore
from data.stats import utc
from retrieval.knowledge import KnowledgeMatch

MAX_ANSWER = 1000
QUESTIONS_PER_PAGE = 50
TAB_NAMES = {"open": "Chờ trả lời", "answered": "Đã trả lời", "handled": "Đã xử lý"}


def create_router(tools: Tools) -> APIRouter:
    """The inbox's routes (names: questions, questions_group, question_post, answer_templates,
    answer_template_create, answer_template_update)."""
    ctx = tools.ctx
    router = APIRouter(route_class=tools.route_class)
    Auth = Annotated[Session, Depends(tools.current)]

    def check_ids(ids: list[int]) -> list[int]:
        if any(not 1 <= i <= MAX_ID for i in ids):
            raise HTTPException(404, "Không có câu hỏi này trong xã.")
        return ids

    def knowledge_changed() -> None:
        if ctx.knowledge is not None:
            ctx.knowledge.invalidate()

    def inbox_path(request: Request, commune: Commune, **query: Any) -> str:
        # defaults left out ("sent" is kept at 0: "sent to 0 people" tells a double submit apart)
        defaults = {"page": 1, "fill": 0, "template": 0, "sent": -1}
        params = {k: v for k, v in query.items() if v is not None and defaults.get(k) != v}
        path = path_for(request, "questions", commune_id=commune.id)
        return path + ("?" + urlencode(params) if params else "")

    # --- the tabs ----------------------------------------------------------------------------
    @router.get("/c/{commune_id}/questions", name="questions")
    async def questions(
        request: Request,
        auth: Auth,
        commune_id: str,
        tab: Annotated[str, Query(max_length=10)] = "open",
        sent: Annotated[int, Query(ge=-1, le=10**9)] = -1,
        page_number: Annotated[int, Query(alias="page", ge=1, le=MAX_PAGE)] = 1,
        fill: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
        template: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    ) -> Response:
        """One page of a tab. Waiting questions are grouped (near-duplicates of the page answered
        once); `fill` and `template` put a template's text in the answer box of the group holding
        question `fill`."""
        commune = tools.commune_for(auth, commune_id)
        if tab not in workflow.TABS:
            raise HTTPException(404, "Không có mục này trong hộp câu hỏi.")
        seen_before = auth.user.questions_seen_at
        async with ctx.sessions() as session:
            rows, total = await workflow.questions_page(
                session,
                commune.id,
                tab,
                page_number,
                QUESTIONS_PER_PAGE,
            )
            counts = await workflow.tab_counts(session, commune.id)
            templates = await workflow.answer_templates(session, commune.id)
            filled = (
                await workflow.answer_template(session, commune.id, template) if fill and template else None
            )
            names = await workflow.answerer_names(session, [q.answered_by for q, _ in rows])
        groups: list[list[tuple[UnansweredQuestion, Learner]]] = []
        suggestions: dict[int, KnowledgeMatch] = {}
        if tab == "open":
            groups = [
                [rows[i] for i in group] for group in await ctx.grouper.groups([q.text for q, _ in rows])
            ]
            if ctx.knowledge is not None:
                for group in groups:
                    found = await ctx.knowledge.suggest(commune.id, group[0][0].text)
                    if found:
                        suggestions[group[0][0].id] = found[0]
            async with ctx.sessions() as session, session.begin():
                await workflow.mark_inbox_seen(session, auth.user.id, ctx.clock.now())
        # "mới": asked since this account last opened the inbox (everything, the first time)
        new_ids = {q.id for q, _ in rows if seen_before is None or utc(q.asked_at) > utc(seen_before)}
        fill_group = next((g[0][0].id for g in groups if any(q.id == fill for q, _ in g)), 0)
        return tools.page(
            request,
            "questions.html",
            {
                **tools.base(auth, commune, "questions"),
                "tab": tab,
                "tabs": TAB_NAMES,
                "counts": counts,
                "groups": groups,
                "rows": rows,
                "names": names,
                "suggestions": suggestions,
                "villages": {v.id: v.name for v in commune.villages},
                "sent": sent,
                "total": total,
                "page": page_number,
                "pages": max(1, math.ceil(total / QUESTIONS_PER_PAGE)),
                "new_ids": new_ids,
                "templates": templates,
                "fill": fill_group if filled is not None else 0,
                "fill_text": filled.text if filled is not None else "",
            },
        )

    # --- answering ---------------------------------------------------------------------------
    async def confirm_discard(
        request: Request, auth: Session, commune: Commune, ids: list[int], answer: str, action: str
    ) -> Response:
        """'Đánh dấu đã xử lý' with an answer typed: ask before the answer is dropped."""
        async with ctx.sessions() as session:
            texts = await store.question_texts(session, ids)
        return tools.page(
            request,
            "questions_confirm.html",
            {
                **tools.base(auth, commune, "questions"),
                "ids": ids,
                "answer": answer,
                "texts": texts,
                "action_url": action,
            },
        )

    @router.post("/c/{commune_id}/questions/group", name="questions_group")
    async def answer_group(
        request: Request,
        auth: Auth,
        commune_id: str,
        csrf: Annotated[str, Form()] = "",
        q: Annotated[list[int] | None, Form()] = None,
        action: Annotated[str, Form(max_length=20)] = "answer",
        answer: Annotated[str, Form(max_length=MAX_ANSWER)] = "",
        save_entry: Annotated[str, Form(max_length=10)] = "",
        entry_id: Annotated[int, Form(ge=0, le=MAX_ID)] = 0,
        remember: Annotated[str, Form(max_length=10)] = "",
        template_id: Annotated[int, Form(ge=0, le=MAX_ID)] = 0,
        discard: Annotated[str, Form(max_length=10)] = "",
        page_number: Annotated[int, Form(alias="page", ge=1, le=MAX_PAGE)] = 1,
    ) -> Response:
        """Answer the checked questions of a group once (each learner gets it once), mark them handled
        (asking first when an answer is typed), answer them with an approved entry of the knowledge
        base, or fill the answer box with a template."""
        tools.check_csrf(auth, csrf)
        commune = tools.commune_for(auth, commune_id)
        ids = check_ids(q or [])
        if not ids:
            raise HTTPException(400, "Anh/chị chưa chọn câu hỏi nào.")
        if action == "template":
            return tools.redirect(
                inbox_path(request, commune, page=page_number, fill=ids[0], template=template_id)
                + f"#q{ids[0]}"
            )
        if action == "handled" and answer.strip() and discard != "yes":
            return await confirm_discard(
                request,
                auth,
                commune,
                ids,
                answer,
                path_for(request, "questions_group", commune_id=commune.id),
            )
        now = ctx.clock.now()
        by = f"admin:{auth.user.username}"
        sent = 0
        async with ctx.sessions() as session, session.begin():
            if action == "handled":
                await store.mark_handled(session, commune.id, ids, auth.user.username, now)
            elif action == "entry":
                entry = await kb.entry_in_commune(session, commune.id, entry_id)
                if entry is None or entry.status != "approved":
                    raise HTTPException(404, "Không có mục đã duyệt này trong kho trả lời của xã.")
                done = await store.answer_group(
                    session, commune.id, commune.name, ids, entry.answer, auth.user.username, now
                )
                sent = done.recipients
                kb.add_sources(entry, done.question_ids, by, now)
                if remember == "yes":
                    for text in await store.question_texts(session, done.question_ids):
                        kb.add_variant(entry, text, by, now)
            elif action == "answer" and answer.strip():
                done = await store.answer_group(
                    session, commune.id, commune.name, ids, answer.strip(), auth.user.username, now
                )
                sent = done.recipients
                if save_entry == "yes" and done.question_ids:
                    texts = await store.question_texts(session, done.question_ids)
                    await kb.create_entry(
                        session,
                        commune.id,
                        question=texts[0][: kb.MAX_QUESTION],
                        answer=answer.strip(),
                        by=by,
                        now=now,
                        source_question_ids=done.question_ids,
                    )
            elif action == "answer":
                raise HTTPException(400, "Câu trả lời đang để trống.")
            else:
                raise HTTPException(400, "Thao tác không hợp lệ.")
        knowledge_changed()
        return tools.redirect(inbox_path(request, commune, sent=sent if action != "handled" else -1))

    # --- answer templates --------------------------------------------------------------------
    async def templates_page(
        request: Request,
        auth: Session,
        commune: Commune,
        error: str | None = None,
        form: dict[str, str] | None = None,
        editing: int = 0,
    ) -> Response:
        async with ctx.sessions() as session:
            rows = await workflow.answer_templates(session, commune.id)
        return tools.page(
            request,
            "answer_templates.html",
            {
                **tools.base(auth, commune, "questions"),
                "templates": rows,
                "error": error,
                "form": form or {"title": "", "text": ""},
                "editing": editing,
                "max_templates": workflow.MAX_TEMPLATES,
            },
            status_code=400 if error else 200,
        )

    @router.get("/c/{commune_id}/questions/templates", name="answer_templates")
    async def answer_templates(request: Request, auth: Auth, commune_id: str) -> Response:
        return await templates_page(request, auth, tools.commune_for(auth, commune_id))

    @router.post("/c/{commune_id}/questions/templates", name="answer_template_create")
    async def answer_template_create(
        request: Request,
        auth: Auth,
        commune_id: str,
        csrf: Annotated[str, Form()] = "",
        title: Annotated[str, Form(max_length=2 * workflow.MAX_TEMPLATE_TITLE)] = "",
        text: Annotated[str, Form(max_length=2 * workflow.MAX_TEMPLATE_TEXT)] = "",
    ) -> Response:
        tools.check_csrf(auth, csrf)
        commune = tools.commune_for(auth, commune_id)
        try:
            async with ctx.sessions() as session, session.begin():
                await workflow.create_template(
                    session, commune.id, title, text, f"admin:{auth.user.username}", ctx.clock.now()
                )
        except workflow.TemplateError as error:
            return await templates_page(request, auth, commune, str(error), {"title": title, "text": text})
        return tools.redirect(path_for(request, "answer_templates", commune_id=commune.id))

    @router.post("/c/{commune_id}/questions/templates/{template_id}", name="answer_template_update")
    async def answer_template_update(
        request: Request,
        auth: Auth,
        commune_id: str,
        template_id: PathId,
        csrf: Annotated[str, Form()] = "",
        action: Annotated[str, Form(max_length=10)] = "save",
        title: Annotated[str, Form(max_length=2 * workflow.MAX_TEMPLATE_TITLE)] = "",
        text: Annotated[str, Form(max_length=2 * workflow.MAX_TEMPLATE_TEXT)] = "",
    ) -> Response:
        """Save a template's edits, or delete it."""
        tools.check_csrf(auth, csrf)
        commune = tools.commune_for(auth, commune_id)
        if action not in {"save", "delete"}:
            raise HTTPException(400, "Thao tác không hợp lệ.")
        try:
            async with ctx.sessions() as session, session.begin():
                found = await workflow.answer_template(session, commune.id, template_id)
                if found is None:
                    raise HTTPException(404, "Không có mẫu trả lời này trong xã.")
                if action == "delete":
                    await session.delete(found)
                else:
                    workflow.edit_template(found, title, text, f"admin:{auth.user.username}", ctx.clock.now())
        except workflow.TemplateError as error:
            return await templates_page(
                request, auth, commune, str(error), {"title": title, "text": text}, editing=template_id
            )
        return tools.redirect(path_for(request, "answer_templates", commune_id=commune.id))

    # after the templates' routes: "/questions/templates" is not a question id
    @router.post("/c/{commune_id}/questions/{question_id}", name="question_post")
    async def answer(
        request: Request,
        auth: Auth,
        commune_id: str,
        question_id: PathId,
        csrf: Annotated[str, Form()] = "",
        action: Annotated[str, Form(max_length=20)] = "answer",
        answer: Annotated[str, Form(max_length=MAX_ANSWER)] = "",
        discard: Annotated[str, Form(max_length=10)] = "",
    ) -> Response:
        """One question: answer it, or mark it handled (asking first when an answer is typed)."""
        tools.check_csrf(auth, csrf)
        commune = tools.commune_for(auth, commune_id)
        now = ctx.clock.now()
        async with ctx.sessions() as session, session.begin():
            found = await store.question_in_commune(session, commune.id, question_id)
            if found is None:
                raise HTTPException(404, "Không có câu hỏi đang chờ này trong xã (có thể đã được trả lời).")
            question, learner = found
            if action == "handled" and answer.strip() and discard != "yes":
                confirm = True
            elif action == "handled":
                confirm = False
                question.status = "handled"
                question.answered_at = now
                question.answered_by = f"admin:{auth.user.username}"
            elif action == "answer" and answer.strip():
                confirm = False
                reply = store.answer_reply(question.text, answer.strip(), commune.name)
                await SqlStore(session, now).answer_question(
                    question, learner, answer.strip(), f"admin:{auth.user.username}", reply_to_json(reply)
                )
            else:
                raise HTTPException(400, "Câu trả lời đang để trống.")
        if confirm:
            return await confirm_discard(
                request,
                auth,
                commune,
                [question_id],
                answer,
                path_for(request, "question_post", commune_id=commune.id, question_id=question_id),
            )
        return tools.redirect(inbox_path(request, commune))

    return router
