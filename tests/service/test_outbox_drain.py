"""The service's periodic outbox drain (service/outbox_drain.py, issue #16): it finishes
acts left in flight, nudges the sequencer only when it finished some, survives a store
that is down, and is not started for a store without an outbox."""

from __future__ import annotations

import asyncio

from identity.errors import UnavailableError
from identity.storage.memory import MemoryStore
from service.outbox_drain import OutboxDrainer, start_drainer


class _Store:
    def __init__(self, results: list[int | Exception]) -> None:
        self.results = results
        self.ages: list[float] = []

    def drain_outbox(self, older_than_s: float = 0.0) -> int:
        self.ages.append(older_than_s)
        result = self.results.pop(0) if self.results else 0
        if isinstance(result, Exception):
            raise result
        return result


def test_a_pass_that_finished_acts_nudges_the_sequencer() -> None:
    nudges: list[None] = []
    store = _Store([0, 2])
    drainer = OutboxDrainer(store, lambda: nudges.append(None), min_age_s=5.0)
    assert asyncio.run(drainer.drain_once()) == 0 and nudges == []
    assert asyncio.run(drainer.drain_once()) == 2 and len(nudges) == 1
    assert drainer.finished == 2 and store.ages == [5.0, 5.0]


def test_the_background_task_keeps_draining_after_the_store_was_down() -> None:
    nudges: list[None] = []
    store = _Store([UnavailableError("Redis is unavailable"), 1])

    async def run() -> None:
        drainer = OutboxDrainer(store, lambda: nudges.append(None), interval_s=0.01)
        drainer.start()
        for _ in range(200):
            if nudges:
                break
            await asyncio.sleep(0.01)
        await drainer.stop()

    asyncio.run(run())
    assert len(nudges) == 1 and len(store.ages) >= 2


def test_no_drainer_for_a_store_without_an_outbox() -> None:
    assert start_drainer(MemoryStore(), lambda: None) is None
    assert start_drainer(object(), lambda: None) is None
