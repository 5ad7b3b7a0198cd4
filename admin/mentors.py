"""The mentors ("Đại sứ số") page of the dashboard.

- mentors who need help come first: fewer learners than the commune's minimum and none active in the
  last 7 days, then fewer than the minimum, then none active; an activity column (learners active in 7
  days); "Đạt" counts active learners, not merely linked ones;
- invite codes show who redeemed them and when; an unused code can be revoked (it then no longer
  works in the chat);
- every form redirects after posting (POST/redirect/GET): reloading the page never creates codes again;
  the codes just created are shown once, on the page the redirect leads to.
"""

# No `from __future__ import annotations` here: FastAPI reads the route signatures at run time, and the
# dependency alias `Auth` is local to `create_router`, where string annotations cannot be resolved.
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from admin import store, workflow
from admin.web import MAX_ID, PathId, Session, Tools, path_for
from data import stats
from data.models import MentorInvite
from data.stats import utc

NEW_CODES_MINUTES = 30  # codes created this recently by the same account are shown as "new"


def create_router(tools: Tools) -> APIRouter:
    """The mentors page's routes (names: mentors, invite, invite_revoke)."""
    ctx = tools.ctx
    router = APIRouter(route_class=tools.route_class)
    Auth = Annotated[Session, Depends(tools.current)]

    def core_ids() -> list[str]:
        return [lesson.id for lesson in ctx.curriculum.core_lessons]

    @router.get("/c/{commune_id}/mentors", name="mentors")
    async def mentors(
        request: Request,
        auth: Auth,
        commune_id: str,
        moi: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
        revoked: Annotated[int, Query(ge=0, le=1)] = 0,
    ) -> Response:
        """The page; `moi` (the first id of codes this account just created) shows them again."""
        commune = tools.commune_for(auth, commune_id)
        now = ctx.clock.now()
        async with ctx.sessions() as session:
            rows = await stats.mentors(session, commune, core_ids(), now)
            invites = await workflow.invites(session, commune.id)
        by = f"admin:{auth.user.username}"
        fresh = utc(now) - timedelta(minutes=NEW_CODES_MINUTES)
        new_codes = [
            i.invite.code
            for i in reversed(invites)
            if moi
            and i.invite.id >= moi
            and i.invite.created_by == by
            and utc(i.invite.created_at) >= fresh
            and i.state == "open"
        ]
        return tools.page(
            request,
            "mentors.html",
            {
                **tools.base(auth, commune, "mentors"),
                "mentors": workflow.by_need(rows, commune.mentor_min_learners),
                "target": commune.mentor_min_learners,
                "villages": {v.id: v.name for v in commune.villages},
                "invites": invites,
                "new_codes": new_codes,
                "revoked": bool(revoked),
            },
        )

    @router.post("/c/{commune_id}/mentors/invite", name="invite")
    async def invite(
        request: Request,
        auth: Auth,
        commune_id: str,
        csrf: Annotated[str, Form()] = "",
        count: Annotated[int, Form(ge=1, le=50)] = 1,
    ) -> Response:
        tools.check_csrf(auth, csrf)
        commune = tools.commune_for(auth, commune_id)
        async with ctx.sessions() as session, session.begin():
            codes = await store.issue_invites(
                session, commune.id, count, f"admin:{auth.user.username}", ctx.clock.now()
            )
            first = await session.scalar(
                select(func.min(MentorInvite.id)).where(MentorInvite.code.in_(codes))
            )
        return tools.redirect(
            path_for(request, "mentors", commune_id=commune.id) + f"?moi={first or 0}#codes"
        )

    @router.post("/c/{commune_id}/mentors/invites/{invite_id}/revoke", name="invite_revoke")
    async def revoke(
        request: Request, auth: Auth, commune_id: str, invite_id: PathId, csrf: Annotated[str, Form()] = ""
    ) -> Response:
        """Take back an unused code."""
        tools.check_csrf(auth, csrf)
        commune = tools.commune_for(auth, commune_id)
        async with ctx.sessions() as session, session.begin():
            done = await workflow.revoke_invite(
                session, commune.id, invite_id, f"admin:{auth.user.username}", ctx.clock.now()
            )
        if not done:
            raise HTTPException(
                404, "Không có mã mời chưa dùng này trong xã (có thể đã được dùng hoặc đã thu hồi)."
            )
        return tools.redirect(path_for(request, "mentors", commune_id=commune.id) + "?revoked=1#codes")

    return router
