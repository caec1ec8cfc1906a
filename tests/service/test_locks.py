"""Per-key locks serialise acts on one record and forget keys nobody uses."""

from __future__ import annotations

import asyncio

from service.locks import KeyedLocks


def test_acts_on_one_key_run_one_at_a_time_and_other_keys_do_not_wait() -> None:
    locks = KeyedLocks()
    trace: list[str] = []

    async def act(key: str, name: str, pause: float) -> None:
        async with locks.hold(key):
            trace.append(f"{name} in")
            await asyncio.sleep(pause)
            trace.append(f"{name} out")

    async def main() -> None:
        await asyncio.gather(act("a", "a1", 0.05), act("a", "a2", 0), act("b", "b1", 0))

    asyncio.run(main())
    assert trace.index("a1 out") < trace.index("a2 in")
    assert trace.index("b1 out") < trace.index("a1 out")
    assert locks._locks == {} and locks._users == {}


def test_a_failing_act_releases_its_key() -> None:
    locks = KeyedLocks()

    async def main() -> None:
        try:
            async with locks.hold("k"):
                raise ValueError
        except ValueError:
            pass
        async with locks.hold("k"):
            pass

    asyncio.run(main())
    assert locks._locks == {}
