"""The communes' knowledge base at question time: answers a commune's staff reviewed and approved.

A learner's question is matched only against the approved entries of the learner's own commune
(`data.knowledge`): each entry's question and its other phrasings ("variants"), embedded with the same
encoder as the lessons. An entry answers when, for one of its phrasings,
- the cosine between the question and the phrasing is at least `MIN_COSINE` (0.93), and
- the overlap of their folded content syllables (Dice: shared / average count, after dropping address
  forms and particles such as "bác", "cháu ơi", "ạ", "cho hỏi") is at least `MIN_OVERLAP` (0.65);
the best such phrasing's entry wins. The lexical check keeps a short entry ("Zalo là gì?") from
answering questions that merely mention its word ("zalo bị khóa thì làm sao"), and near misses ("nộp
thuế đất bao nhiêu tiền" against "Nộp thuế đất ở đâu?") out: e5 cosines of related Vietnamese questions
sit close together (0.90–0.95), so the cosine alone cannot tell them apart.

Both thresholds were chosen on `tests/data/knowledge_dev.yaml` (15 entries, 63 questions): every pair
from (0.93, 0.55) up answers no question with a wrong entry; (0.93, 0.65) stays 0.02 in cosine and 0.10
in overlap inside that region and answers 26 of the 37 answerable questions. The separately written
`tests/data/knowledge_holdout.yaml` (10 entries, 35 questions) is only measured: 11 of 21 answered,
1 of 35 answered with a wrong entry ("đèn đường trong thôn bị hỏng" -> "Đường trong thôn bị hỏng thì báo
ai?"); `bench/bench_knowledge.py` prints both. Missed phrasings are what staff add as variants from the
question inbox, which is how the base learns.

Each phrasing is embedded twice, as written and accent-folded; a question typed without diacritics is
embedded folded (chat shorthand spelled out), so it meets the folded phrasing, and one typed with them
meets the written one. (Putting diacritics back from the lessons' phrases, as the lesson retriever
does, made the cosines depend on the lessons' word counts — "vay" became "vay" or "vậy" as lessons
changed — and moved the best threshold by 0.035 between two runs; folding both sides does not.)

Cost: a question is embedded only when some phrasing passes the lexical check, so a question no entry
could answer (most of them) costs microseconds; a candidate costs one query embedding plus a dot product
per phrasing. An entry is embedded once; reloads embed only new phrasings.

Changes show up without a restart, also when made by another process (the dashboard, `hocvuso kb
import`): at most every `refresh_seconds` (2 s) a match asks the database for each commune's version
(count and sum of entry revisions, one indexed aggregate) and reloads the communes whose version changed.
`invalidate()` makes the next match check at once.

API for the conversation engine
-------------------------------
Build once at start-up, with the lesson retriever's encoder (the same model; no second copy)::

    from retrieval.knowledge import KnowledgeBase, KnowledgeMatch
    knowledge = KnowledgeBase.from_sessions(assistant_sessions, retriever.encoder)

On a free question of a learner, before the lesson retriever::

    found: KnowledgeMatch | None = await knowledge.match(learner.commune_id, text)
    if found is not None:
        # found.entry_id: int, found.commune_id: str, found.question: str (the entry's, as staff wrote
        # it), found.answer: str, found.lesson_id: str | None, found.score: float (cosine of the
        # phrasing that matched), found.overlap: float, found.phrasing: str
        ...  # reply with found.answer, marked as the commune's answer

Then, in the background (a commune's first load embeds all its phrasings: seconds for hundreds)::

    asyncio.create_task(knowledge.warm())

`match(commune_id, question)` accepts `commune_id=None` (a learner not registered in a commune) and
returns None for it, for an empty question, and whenever no approved entry of that commune answers (also
when the database cannot be read: it logs that, and the lessons still answer); it reads the database
only for the periodic version check and a commune's (re)load. `await
knowledge.refresh(force=True)` checks now; `knowledge.invalidate()` is synchronous and costs nothing.
`suggest(commune_id, question)` gives staff the nearest entries below the thresholds (never for
learners). `QuestionGrouper` / `group_questions` group near-duplicate queued questions for the dashboard.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from retrieval.encoders import Encoder, Vectors
from retrieval.normalize import fold, has_diacritics, has_words, syllables

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from data.knowledge import ApprovedEntry, Version

log = logging.getLogger(__name__)

MIN_COSINE = 0.93
MIN_OVERLAP = 0.65
REFRESH_SECONDS = 2.0
QUERY_CACHE = 256
# Near-duplicate queued questions (dashboard grouping): the same folded content words, or embeddings
# very close *and* most words shared. Neither alone: two greetings ("chào cháu", "cảm ơn cháu nhé") have
# a cosine of 0.96, and "đổi mật khẩu zalo" / "đổi mật khẩu wifi" share five words of six.
GROUP_COSINE = 0.96
GROUP_COSINE_OVERLAP = 0.60
# Staff suggestions on the dashboard: the nearest entry, shown (never answered) from this cosine up.
SUGGEST_COSINE = 0.86

# Address forms, particles and pronouns: they wrap a question without saying what it asks. Question
# words ("ở đâu", "mấy giờ", "là gì", "bao nhiêu") are kept: they are what tells near misses apart.
_FILLER_WORDS = (
    "bac chau oi a ha nhe nha nhi vay thi la cho hoi xin giup gium minh con co ong ba toi em anh chi "
    "roi ma va voi ay nay do day kia muon"
)
FILLERS = frozenset(_FILLER_WORDS.split())


def content_words(text: str) -> frozenset[str]:
    """The folded syllables of a text that say what it asks (chat shorthand expanded, fillers dropped)."""
    return frozenset(word for word in syllables(text) if word not in FILLERS)


def query_text(question: str) -> str:
    """What is embedded of a learner's question: as typed, or, typed without diacritics, its folded
    syllables with chat shorthand spelled out ("dt" -> "dien thoai")."""
    return question if has_diacritics(question) else " ".join(syllables(question))


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice overlap of two word sets: 1.0 for the same words, 0.0 for none shared (or both empty)."""
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


@dataclass(frozen=True)
class KnowledgeMatch:
    """An approved entry that answers the question."""

    entry_id: int
    commune_id: str
    question: str  # the entry's question, as staff wrote it
    answer: str
    lesson_id: str | None
    score: float  # cosine between the learner's question and the phrasing that matched
    overlap: float  # Dice overlap of their content words
    phrasing: str  # the entry's question or one of its variants


class EntrySource(Protocol):
    """Where approved entries come from (the database in production; `SqlEntries`)."""

    async def versions(self) -> dict[str, Version]: ...

    async def approved(self, commune_id: str) -> list[ApprovedEntry]: ...


class SqlEntries:
    """Approved entries and versions read from the database, each in a short session of its own."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def versions(self) -> dict[str, Version]:
        from data import knowledge

        async with self.sessions() as session:
            return await knowledge.versions(session)

    async def approved(self, commune_id: str) -> list[ApprovedEntry]:
        from data import knowledge

        async with self.sessions() as session:
            return await knowledge.approved(session, commune_id)


@dataclass(frozen=True)
class _Commune:
    """One commune's approved entries, ready to match: one row per phrasing."""

    version: Version
    entries: tuple[ApprovedEntry, ...]
    owners: tuple[int, ...]  # phrasing -> index into entries
    phrasings: tuple[str, ...]
    words: tuple[frozenset[str], ...]
    vectors: Vectors  # two rows per phrasing: as written, then folded (see `_phrasing_rows`)


class KnowledgeBase:
    """Matches learners' questions against their commune's approved entries (see the module doc)."""

    def __init__(
        self,
        source: EntrySource,
        encoder: Encoder,
        *,
        min_cosine: float = MIN_COSINE,
        min_overlap: float = MIN_OVERLAP,
        refresh_seconds: float = REFRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.encoder = encoder
        self.min_cosine = min_cosine
        self.min_overlap = min_overlap
        self.refresh_seconds = refresh_seconds
        self._monotonic = monotonic
        self._checked_at: float | None = None
        self._versions: dict[str, Version] = {}
        self._communes: dict[str, _Commune] = {}
        self._vectors: dict[str, Vectors] = {}  # phrasing -> its row, kept across reloads
        self._loading: dict[str, tuple[Version, asyncio.Task[_Commune]]] = {}
        self._refreshing: asyncio.Task[dict[str, Version]] | None = None
        self._queries: dict[str, Vectors] = {}  # recent query texts -> embedding, oldest first

    @classmethod
    def from_sessions(
        cls,
        sessions: async_sessionmaker[AsyncSession],
        encoder: Encoder,
        *,
        refresh_seconds: float = REFRESH_SECONDS,
    ) -> KnowledgeBase:
        """The knowledge base over the project's database."""
        return cls(SqlEntries(sessions), encoder, refresh_seconds=refresh_seconds)

    # --- keeping up with the database ------------------------------------------------------------
    def invalidate(self) -> None:
        """Check the database at the next match instead of waiting for `refresh_seconds`."""
        self._checked_at = None

    async def refresh(self, *, force: bool = False) -> None:
        """Learn each commune's current version (at most every `refresh_seconds` unless forced); a
        commune loaded at another version loads again when next asked."""
        running = self._refreshing
        if running is not None and not running.done():
            await asyncio.shield(running)  # a check is under way: its answer is as fresh as ours would be
            return
        now = self._monotonic()
        if not force and self._checked_at is not None and now - self._checked_at < self.refresh_seconds:
            return
        self._checked_at = now
        running = asyncio.get_running_loop().create_task(self.source.versions())
        running.add_done_callback(self._got_versions)  # kept even if this caller is cancelled meanwhile
        self._refreshing = running
        await asyncio.shield(running)

    def _got_versions(self, task: asyncio.Task[dict[str, Version]]) -> None:
        if not task.cancelled() and task.exception() is None:
            self._versions = task.result()

    async def warm(self) -> int:
        """Load every commune that has entries now, embedding all their phrasings; returns how many
        phrasings are loaded. Run it in the background at start-up: a commune's first load embeds each
        phrasing twice (about 10 ms each on two free cores), and a learner should not wait for that."""
        await self.refresh(force=True)
        for commune_id in list(self._versions):
            await self._commune(commune_id)
        current = [c for cid, c in self._communes.items() if c.version == self._versions.get(cid)]
        return sum(len(commune.phrasings) for commune in current)

    async def _commune(self, commune_id: str) -> _Commune | None:
        await self.refresh()
        version = self._versions.get(commune_id)
        if version is None:
            return None  # no entry at all: nothing to load, nothing to embed
        loaded = self._communes.get(commune_id)
        if loaded is not None and loaded.version == version:
            return loaded
        # one load per commune and version, shared by every question arriving meanwhile; a load of one
        # commune never holds up another's questions
        running = self._loading.get(commune_id)
        if running is None or running[0] != version:
            running = (version, asyncio.get_running_loop().create_task(self._load(commune_id, version)))
            self._loading[commune_id] = running
        try:
            loaded = await asyncio.shield(running[1])
        finally:
            if running[1].done() and self._loading.get(commune_id) is running:
                del self._loading[commune_id]
        if self._versions.get(commune_id) == loaded.version:
            self._communes[commune_id] = loaded
        if not self._loading:
            self._forget_unused()
        return loaded

    def _forget_unused(self) -> None:
        """Drop the embeddings of phrasings no loaded commune has any more (edited or retired entries);
        only while no load is running, which may be about to use a cached one."""
        in_use = {text for commune in self._communes.values() for text in commune.phrasings}
        in_use |= {fold(text) for text in in_use}
        for text in [t for t in self._vectors if t not in in_use]:
            del self._vectors[text]

    async def _load(self, commune_id: str, version: Version) -> _Commune:
        entries = tuple(await self.source.approved(commune_id))
        owners: list[int] = []
        phrasings: list[str] = []
        for index, entry in enumerate(entries):
            for text in (entry.question, *entry.variants):
                owners.append(index)
                phrasings.append(text)
        texts = [text for phrasing in phrasings for text in (phrasing, fold(phrasing))]
        missing = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        if missing:
            rows = await asyncio.to_thread(self.encoder.queries, missing)
            self._vectors.update(zip(missing, rows, strict=True))
        if texts:
            vectors = np.stack([self._vectors[text] for text in texts]).astype(np.float32)
        else:
            vectors = np.zeros((0, self.encoder.dimension), dtype=np.float32)
        return _Commune(
            version=version,
            entries=entries,
            owners=tuple(owners),
            phrasings=tuple(phrasings),
            words=tuple(content_words(text) for text in phrasings),
            vectors=vectors.reshape(len(phrasings), 2, self.encoder.dimension),
        )

    # --- matching --------------------------------------------------------------------------------
    async def _query_vector(self, text: str) -> Vectors:
        """The question's embedding; the last few are kept, as the dashboard asks for the same queued
        questions' suggestions on every view."""
        vector = self._queries.pop(text, None)
        if vector is None:
            vector = (await asyncio.to_thread(self.encoder.queries, [text]))[0]
        self._queries[text] = vector
        while len(self._queries) > QUERY_CACHE:
            del self._queries[next(iter(self._queries))]
        return vector

    async def match(self, commune_id: str | None, question: str) -> KnowledgeMatch | None:
        """The approved entry of the learner's commune that answers the question, or None."""
        found = await self._best(commune_id, question, self.min_cosine, self.min_overlap)
        return found[0] if found else None

    async def suggest(self, commune_id: str, question: str, limit: int = 1) -> list[KnowledgeMatch]:
        """For staff only: the nearest approved entries, even below the thresholds (never answered to
        a learner from this), best first, from a cosine of `SUGGEST_COSINE`."""
        return (await self._best(commune_id, question, SUGGEST_COSINE, 0.0))[:limit]

    async def _best(
        self, commune_id: str | None, question: str, min_cosine: float, min_overlap: float
    ) -> list[KnowledgeMatch]:
        if not commune_id or not has_words(question):
            return []
        try:
            commune = await self._commune(commune_id)
        except Exception:  # the database or the encoder failed: the lessons still answer, so go on
            log.exception("knowledge base of a commune could not be loaded; answering from lessons only")
            return []
        if commune is None or not commune.phrasings:
            return []
        words = content_words(question)
        overlaps = [overlap(words, phrasing) for phrasing in commune.words]
        candidates = [i for i, value in enumerate(overlaps) if value >= min_overlap]
        if not candidates:
            return []
        query = await self._query_vector(query_text(question))
        # the better of the phrasing as written and folded: a question typed without diacritics is
        # compared with the folded phrasing, one with diacritics with the written one
        cosines = (commune.vectors[candidates] @ query).max(axis=1)
        best: dict[int, KnowledgeMatch] = {}
        for row, cosine in sorted(zip(candidates, cosines.tolist(), strict=True), key=lambda p: -p[1]):
            owner = commune.owners[row]
            if cosine < min_cosine or owner in best:
                continue
            entry = commune.entries[owner]
            best[owner] = KnowledgeMatch(
                entry_id=entry.id,
                commune_id=entry.commune_id,
                question=entry.question,
                answer=entry.answer,
                lesson_id=entry.lesson_id,
                score=float(cosine),
                overlap=overlaps[row],
                phrasing=commune.phrasings[row],
            )
        return list(best.values())


# --- near-duplicate queued questions ---------------------------------------------------------------
def near_duplicates(
    a: str, b: str, cosine: float | None = None, *, words: tuple[frozenset[str], frozenset[str]] | None = None
) -> bool:
    """Whether two queued questions ask the same thing: the same folded content words in any order
    (greetings and particles aside), or (when their cosine is known) embeddings very close and most
    words shared."""
    first, second = words or (content_words(a), content_words(b))
    if not first and not second:
        return syllables(a) == syllables(b)  # greetings only: the same greeting
    if first == second:
        return True
    return cosine is not None and cosine >= GROUP_COSINE and overlap(first, second) >= GROUP_COSINE_OVERLAP


def group_questions(texts: Sequence[str], vectors: Vectors | None = None) -> list[list[int]]:
    """Group near-duplicate questions, in the given order (oldest first): each question joins the first
    group whose first question it nearly duplicates, else starts one. Returns lists of indexes.

    Comparing with a group's first question only (not any member) keeps a chain of small differences
    from pulling unrelated questions into one group."""
    words = [content_words(text) for text in texts]
    groups: list[list[int]] = []
    for index in range(len(texts)):
        for group in groups:
            leader = group[0]
            cosine = float(vectors[leader] @ vectors[index]) if vectors is not None else None
            if near_duplicates(texts[leader], texts[index], cosine, words=(words[leader], words[index])):
                group.append(index)
                break
        else:
            groups.append([index])
    return groups


class QuestionGrouper:
    """Groups a commune's queued questions for the dashboard, embedding each text once (cached)."""

    def __init__(self, encoder: Encoder | None, cache_size: int = 5000) -> None:
        self.encoder = encoder
        self.cache_size = cache_size
        self._vectors: dict[str, Vectors] = {}

    async def groups(self, texts: Sequence[str]) -> list[list[int]]:
        if self.encoder is None or len(texts) < 2:
            return group_questions(texts)
        missing = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        if missing:
            rows = await asyncio.to_thread(self.encoder.queries, missing)
            if len(self._vectors) + len(missing) > self.cache_size:
                self._vectors.clear()
            self._vectors.update(zip(missing, rows, strict=True))
        vectors = np.stack([self._vectors[text] for text in texts]).astype(np.float32)
        return group_questions(texts, vectors)
