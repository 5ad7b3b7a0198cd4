"""Incoming events of one learner handled one at a time and in order; different learners at once.

Both channels receive updates faster than they are answered (long polling hands over a batch; a webhook
answers 200 at once and works in the background). Each learner gets a queue: the next event of a learner
starts only when the previous one has been handled and its replies delivered, so two fast taps never
interleave and replies arrive in the order the learner sent. Shutdown waits for the queues to empty.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class SerialExecutor:
    """Runs jobs in submission order per key; at most `concurrency` keys at a time."""

    def __init__(self, concurrency: int = 64) -> None:
        self._queues: dict[str, deque[Job]] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(concurrency)
        self._idle = asyncio.Event()
        self._idle.set()
        self.closed = False

    def submit(self, key: str, job: Job) -> bool:
        """Queue a job for `key`; False (and nothing queued) once shutdown has begun."""
        if self.closed:
            return False
        queue = self._queues.get(key)
        if queue is not None:
            queue.append(job)
            return True
        self._queues[key] = deque([job])
        self._idle.clear()
        task = asyncio.create_task(self._run(key))
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return True

    async def _run(self, key: str) -> None:
        queue = self._queues[key]
        async with self._slots:
            while queue:
                job = queue.popleft()
                try:
                    await job()
                except Exception:  # one failed job must not stop the learner's later events
                    log.exception("event job failed")
        del self._queues[key]

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()

    @property
    def pending(self) -> int:
        return sum(len(q) for q in self._queues.values()) + len(self._tasks)

    async def wait_idle(self) -> None:
        """Until every queued job has finished (new ones may still be submitted meanwhile)."""
        while self._tasks:
            await self._idle.wait()

    async def close(self, grace: float = 30.0) -> None:
        """Stop taking jobs and let the queued ones finish ; cancel them after `grace` seconds."""
        self.closed = True
        try:
            await asyncio.wait_for(self.wait_idle(), grace)
        except TimeoutError:
            log.warning("shutdown: %d event(s) still running after %.0f s are cancelled", self.pending, grace)
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
