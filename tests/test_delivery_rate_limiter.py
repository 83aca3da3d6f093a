"""The rate limiter's sliding windows and flood-control pauses, on a clock the tests move."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from telegram.error import RetryAfter
from telegram.ext import ExtBot

from bot.delivery.rate_limiter import (
    ChatRateLimiter,
    RateLimiterClosed,
    SlidingWindow,
    send_in_bulk,
)
from bot.sandbox.fake_api import FakeBotApi, RateLimits

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


def send(window: SlidingWindow, sent: float, answered: float) -> None:
    assert window.wait(sent) == 0
    window.let_through()
    window.answered(answered)


def test_a_window_holds_at_most_its_count_in_any_span() -> None:
    window = SlidingWindow(count=3, seconds=1.0)
    for moment in (0.0, 0.1, 0.9):
        send(window, moment, moment)
    assert window.wait(0.95) == pytest.approx(0.05)
    # Not a fresh budget at the next clock second: 0.1 and 0.9 are still in the window.
    send(window, 1.0, 1.0)
    assert window.wait(1.05) == pytest.approx(0.05)
    assert window.wait(1.1) == 0


def test_a_message_holds_its_place_from_leaving_until_a_window_after_its_answer() -> None:
    window = SlidingWindow(count=2, seconds=1.0)
    window.let_through()
    send(window, 0.0, 0.0)
    assert window.wait(0.5) > 0  # one answered, one still on its way: full
    window.answered(0.6)  # Telegram may have counted it as late as this
    assert window.wait(1.0) == 0  # the first left the window
    window.let_through()
    assert window.wait(1.5) == pytest.approx(0.1)


def test_limits_are_kept_a_safety_margin_below_the_configured_rate() -> None:
    assert SlidingWindow.per_second(30).count == 29
    one_a_second = SlidingWindow.per_second(1)
    assert (one_a_second.count, one_a_second.seconds) == (1, pytest.approx(1 / 0.97))
    assert (SlidingWindow.per_minute(20).count, SlidingWindow.per_minute(20).seconds) == (19, 60)


async def test_the_overall_window_never_lets_a_burst_through(
    limiter: ChatRateLimiter, clock: Clock
) -> None:
    # Configured 20/s: 19 in any second, to as many chats.
    for chat in range(1, 20):
        await let_through(limiter, chat, bulk=True)
    assert limiter.wait_time(99, bulk=True) > 0
    assert limiter.wait_time(99, bulk=False) > 0
    clock.now += 1.0
    await let_through(limiter, 99, bulk=True)


async def test_a_private_chat_gets_one_message_in_any_second_replies_included(
    limiter: ChatRateLimiter, clock: Clock
) -> None:
    await let_through(limiter, ALICE, bulk=False)
    assert limiter.wait_time(ALICE, bulk=False) == pytest.approx(1 / 0.97)
    assert limiter.chat_delay(ALICE) == pytest.approx(1 / 0.97)
    await let_through(limiter, BOB, bulk=True)
    clock.now += 1 / 0.97
    await let_through(limiter, ALICE, bulk=True)


async def test_a_group_gets_nineteen_of_its_twenty_a_minute(
    limiter: ChatRateLimiter, clock: Clock
) -> None:
    for _ in range(19):
        await let_through(limiter, GROUP, bulk=True)
        clock.now += 0.1
    assert limiter.chat_delay(GROUP) == pytest.approx(60 - 1.9)


async def test_calls_that_send_no_message_are_not_paced(
    limiter: ChatRateLimiter, clock: Clock
) -> None:
    await let_through(limiter, ALICE, bulk=False)
    data = {"chat_id": ALICE, "user_id": BOB}

    async def telegram(**_: Any) -> bool:
        return True

    assert await limiter.process_request(telegram, (), data, "getChatMember", data, None)
    assert limiter.wait_time(ALICE, bulk=False) == pytest.approx(1 / 0.97)


async def test_a_429_pauses_every_message_of_the_bot(
    limiter: ChatRateLimiter, clock: Clock
) -> None:
    with pytest.raises(RetryAfter):
        await in_bulk(request(limiter, ALICE, RetryAfter(timedelta(seconds=5))))
    for chat in (BOB, GROUP, 4242):
        assert limiter.wait_time(chat, bulk=True) == pytest.approx(5)
        assert limiter.wait_time(chat, bulk=False) == pytest.approx(5)
    assert limiter.chat_delay(BOB) == pytest.approx(5)
    assert limiter.paused_for() == pytest.approx(5)
    clock.now += 5
    await let_through(limiter, BOB, bulk=True)


async def test_broadcast_sends_yield_to_a_waiting_reply(
    limiter: ChatRateLimiter, clock: Clock
) -> None:
    for chat in range(1, 20):
        await let_through(limiter, chat, bulk=True)
    reply = asyncio.create_task(request(limiter, ALICE))
    await asyncio.sleep(0)
    clock.now += 1.0
    # The window has room again, but a reply is waiting: it goes first.
    assert limiter.wait_time(BOB, bulk=True) > 0
    assert limiter.wait_time(BOB, bulk=False) == 0
    assert await reply == [{"chat_id": ALICE}]
    await let_through(limiter, BOB, bulk=True)


async def test_a_reply_that_meets_a_429_is_sent_again_after_the_pause() -> None:
    """On the real clock: the pause is 0.1 s."""
    limiter = ChatRateLimiter(global_per_second=20, private_chat_per_second=20, group_per_minute=20)
    calls: list[float] = []

    async def telegram(**_: Any) -> bool:
        calls.append(asyncio.get_running_loop().time())
        if len(calls) == 1:
            raise RetryAfter(timedelta(seconds=0.1))
        return True

    data = {"chat_id": ALICE}
    assert await limiter.process_request(telegram, (), data, "sendMessage", data, None)
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.09


async def test_a_reply_is_given_up_after_three_429s_and_a_broadcast_after_one() -> None:
    limiter = ChatRateLimiter(global_per_second=20, private_chat_per_second=20, group_per_minute=20)
    pause = RetryAfter(timedelta(seconds=0.01))
    with pytest.raises(RetryAfter):
        await request(limiter, ALICE, pause)
    calls = await _calls_until_failure(limiter, ALICE, pause, bulk=False)
    assert calls == 3
    assert await _calls_until_failure(limiter, BOB, pause, bulk=True) == 1


async def _calls_until_failure(
    limiter: ChatRateLimiter, chat: int, error: BaseException, *, bulk: bool
) -> int:
    calls = 0

    async def telegram(**_: Any) -> bool:
        nonlocal calls
        calls += 1
        raise error

    data = {"chat_id": chat}
    work = limiter.process_request(telegram, (), data, "sendMessage", data, None)
    with pytest.raises(RetryAfter):
        await (in_bulk(work) if bulk else work)
    return calls


async def test_shutdown_refuses_new_requests_and_wakes_waiting_ones(
    limiter: ChatRateLimiter,
) -> None:
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


async def test_messages_to_one_chat_keep_the_order_they_were_asked_in() -> None:
    """On the real clock: one message in any 0.54 s to the chat."""
    limiter = ChatRateLimiter(
        global_per_second=20, private_chat_per_second=1.9, group_per_minute=20
    )
    sent: list[int] = []

    async def send(n: int) -> None:
        async def telegram(**_: Any) -> bool:
            sent.append(n)
            return True

        data = {"chat_id": ALICE}
        await limiter.process_request(telegram, (), data, "sendMessage", data, None)

    tasks = [asyncio.create_task(in_bulk(send(n))) for n in range(4)]
    await asyncio.gather(*tasks)
    assert sent == [0, 1, 2, 3]


@pytest.mark.filterwarnings("ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning")
async def test_a_per_chat_429_from_the_bot_api_pauses_every_chat_since_it_reads_the_same(
    clock: Clock,
) -> None:
    """Telegram's per-chat and overall 429s read alike ("Too Many Requests: retry after
    N"), and so do the fake's: one that was in fact about one chat cannot be told from
    one about the whole bot, so it pauses every send (TELEGRAM-NOTES: flood control)."""
    fake_now = [1_700_000_000.0]
    limiter = ChatRateLimiter(
        global_per_second=30, private_chat_per_second=1, group_per_minute=20, monotonic=clock
    )
    async with FakeBotApi(clock=lambda: fake_now[0]) as api:
        alice, bob = api.add_user("Alice"), api.add_user("Bob")
        async with ExtBot(api.token, base_url=f"{api.api_root}/bot", rate_limiter=limiter) as bot:
            # Stricter than the limiter was told: one message in five seconds per chat.
            api.rate_limits = RateLimits(per_private_chat_per_second=0.2)
            await in_bulk(bot.send_message(alice.id, "one"))
            clock.now += 1.1
            fake_now[0] += 1.1
            with pytest.raises(RetryAfter) as per_chat:
                await in_bulk(bot.send_message(alice.id, "two"))
            # Bob's chat, which that 429 was not about, waits out the pause too.
            assert limiter.wait_time(bob.id, bulk=True) == pytest.approx(4)
            assert limiter.wait_time(bob.id, bulk=False) == pytest.approx(4)

            clock.now += 4
            fake_now[0] += 4
            api.rate_limits = RateLimits()
            api.flood_pause(4)  # the overall limit, as Telegram answers it
            with pytest.raises(RetryAfter) as overall:
                await in_bulk(bot.send_message(bob.id, "three"))
    assert per_chat.value.message == overall.value.message
