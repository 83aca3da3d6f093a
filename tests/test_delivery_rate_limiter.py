"""The rate limiter's buckets and flood-control pauses, on a clock the tests move."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from telegram.error import RetryAfter

from bot.delivery.rate_limiter import (
    ChatRateLimiter,
    RateLimiterClosed,
    TokenBucket,
    send_in_bulk,
)

ALICE = 2001
BOB = 3001
GROUP = -1_002_000_000_001

T = TypeVar("T")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limiter(clock: Clock) -> ChatRateLimiter:
    return ChatRateLimiter(
        global_per_second=20, private_chat_per_second=1, group_per_minute=20, monotonic=clock
    )


async def request(
    limiter: ChatRateLimiter, chat_id: int | None, outcome: BaseException | None = None
) -> list[dict[str, Any]]:
    """Pass one request through process_request; return the calls that reached "Telegram"."""
    calls: list[dict[str, Any]] = []

    async def telegram(**data: Any) -> bool:
        calls.append(data)
        if outcome is not None:
            raise outcome
        return True

    data = {} if chat_id is None else {"chat_id": chat_id}
    await limiter.process_request(telegram, (), data, "sendMessage", data, None)
    return calls


async def in_bulk(work: Awaitable[T]) -> T:
    """Await `work` as the delivery engine's sends are: in bulk."""

    async def marked() -> T:
        send_in_bulk()
        return await work

    return await asyncio.create_task(marked())


async def let_through(limiter: ChatRateLimiter, chat_id: int | None, *, bulk: bool) -> None:
    """A request that must go at once."""
    wait = limiter.wait_time(chat_id, bulk=bulk)
    assert wait == 0, f"would wait {wait} s"
    await (in_bulk(request(limiter, chat_id)) if bulk else request(limiter, chat_id))


def test_a_bucket_lets_its_capacity_through_then_paces() -> None:
    bucket = TokenBucket.full(rate=2, capacity=3, now=0)
    for _ in range(3):
        assert bucket.wait(0) == 0
        bucket.take(0)
    assert bucket.wait(0) == pytest.approx(0.5)
    assert bucket.wait(0.5) == 0
    assert bucket.is_full(10) and bucket.tokens == 3


def test_a_bucket_can_keep_tokens_back() -> None:
    bucket = TokenBucket.full(rate=1, capacity=4, now=0)
    bucket.take(0)
    assert bucket.wait(0, keep=2) == 0
    bucket.take(0)
    assert bucket.wait(0, keep=2) == pytest.approx(1)


async def test_a_private_chat_takes_a_short_burst_then_one_a_second(
    limiter: ChatRateLimiter, clock: Clock
) -> None:
    for _ in range(3):
        await let_through(limiter, ALICE, bulk=True)
    assert limiter.wait_time(ALICE, bulk=True) == pytest.approx(1)
    assert limiter.chat_delay(ALICE) == pytest.approx(1)
    assert limiter.wait_time(BOB, bulk=True) == 0
    clock.now += 1
    await let_through(limiter, ALICE, bulk=True)


async def test_a_group_gets_twenty_a_minute(limiter: ChatRateLimiter) -> None:
    for _ in range(3):
        await let_through(limiter, GROUP, bulk=True)
    assert limiter.chat_delay(GROUP) == pytest.approx(3)
    assert limiter.chat_delay(-1_002_000_000_002) == 0


async def test_replies_never_wait_for_their_chat_but_count_against_it(
    limiter: ChatRateLimiter,
) -> None:
    for _ in range(5):
        await let_through(limiter, ALICE, bulk=False)
    assert limiter.wait_time(ALICE, bulk=False) == 0
    assert limiter.chat_delay(ALICE) == pytest.approx(1)


async def test_bulk_sends_leave_a_quarter_of_the_overall_budget_to_replies(
    limiter: ChatRateLimiter,
) -> None:
    for chat in range(1, 16):
        await let_through(limiter, chat, bulk=True)
    assert limiter.wait_time(99, bulk=True) == pytest.approx(1 / 20)
    for chat in range(100, 105):
        await let_through(limiter, chat, bulk=False)
    assert limiter.wait_time(200, bulk=False) == pytest.approx(1 / 20)


async def test_calls_naming_no_chat_are_not_paced(limiter: ChatRateLimiter) -> None:
    for _ in range(100):
        await let_through(limiter, None, bulk=False)
    assert limiter.wait_time(ALICE, bulk=False) == 0


async def test_a_429_pauses_only_its_chat(limiter: ChatRateLimiter, clock: Clock) -> None:
    with pytest.raises(RetryAfter):
        await request(limiter, ALICE, RetryAfter(5))
    assert limiter.chat_delay(ALICE) == pytest.approx(5)
    assert limiter.chat_delay(BOB) == 0
    assert await request(limiter, BOB) == [{"chat_id": BOB}]

    with pytest.raises(RetryAfter) as refused:
        await request(limiter, ALICE)
    assert "5 seconds" in str(refused.value)

    clock.now += 5
    assert await request(limiter, ALICE) == [{"chat_id": ALICE}]


async def test_a_429_on_a_call_without_a_chat_pauses_everything(
    limiter: ChatRateLimiter,
) -> None:
    with pytest.raises(RetryAfter):
        await request(limiter, None, RetryAfter(3))
    assert limiter.chat_delay(ALICE) == pytest.approx(3)
    assert limiter.wait_time(ALICE, bulk=True) == pytest.approx(3)
    with pytest.raises(RetryAfter):
        await request(limiter, BOB)


async def test_a_paused_chat_holds_bulk_sends_until_the_pause_ends() -> None:
    """On the real clock: the pause is 0.1 s."""
    limiter = ChatRateLimiter(global_per_second=20, private_chat_per_second=1, group_per_minute=20)
    with pytest.raises(RetryAfter):
        await request(limiter, ALICE, RetryAfter(timedelta(seconds=0.1)))
    assert limiter.chat_delay(ALICE) > 0
    assert await in_bulk(request(limiter, ALICE)) == [{"chat_id": ALICE}]
    assert limiter.chat_delay(ALICE) == 0


async def test_shutdown_refuses_new_requests_and_wakes_waiting_ones(
    limiter: ChatRateLimiter,
) -> None:
    for _ in range(3):
        await let_through(limiter, ALICE, bulk=True)
    waiting = asyncio.create_task(in_bulk(request(limiter, ALICE)))
    await asyncio.sleep(0)
    await limiter.shutdown()
    with pytest.raises(RateLimiterClosed):
        await waiting
    with pytest.raises(RateLimiterClosed):
        await request(limiter, BOB)
    await limiter.initialize()
    assert await request(limiter, BOB) == [{"chat_id": BOB}]


async def test_shutdown_lets_requests_on_the_wire_finish(limiter: ChatRateLimiter) -> None:
    answer = asyncio.get_running_loop().create_future()

    async def telegram(**data: Any) -> bool:
        return bool(await answer)

    data = {"chat_id": ALICE}
    on_the_wire = asyncio.create_task(
        limiter.process_request(telegram, (), data, "sendMessage", data, None)
    )
    await asyncio.sleep(0)
    closing = asyncio.create_task(limiter.shutdown())
    await asyncio.sleep(0)
    assert not closing.done()
    answer.set_result(True)
    assert await on_the_wire is True
    await closing
