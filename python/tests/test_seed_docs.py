"""Every example of the seed's documentation, run as written there (asyncio.run for the loop)."""

import asyncio

import pytest

from cancel_token import CancelToken, OperationCancelled


def test_quick_start_prints_started_then_cancelled(capsys):
    async def run_and_cancel_task():
        async def some_task(token):
            print("started task")
            await token.wait()
            print("task cancelled")

        token = CancelToken("demo")
        asyncio.ensure_future(some_task(token))
        await asyncio.sleep(0.01)
        token.trigger()
        await asyncio.sleep(0.01)

    asyncio.run(run_and_cancel_task())
    assert capsys.readouterr().out == "started task\ntask cancelled\n"


def test_a_token_reprs_with_its_name():
    assert repr(CancelToken("demo")) == "<CancelToken: demo>"
    assert str(CancelToken("demo")) == "demo"
    assert CancelToken("demo").name == "demo"


def test_chaining_example():
    token_a = CancelToken("token-a")
    token_b = CancelToken("token-b").chain(token_a)
    assert (token_a.triggered, token_b.triggered) == (False, False)
    token_a.trigger()
    assert (token_a.triggered, token_b.triggered) == (True, True)
    assert token_b.name == "token-b:token-a"


def test_loop_exit_conditions():
    async def by_flag(token, rounds):
        while not token.triggered:
            rounds.append(1)
            if len(rounds) == 3:
                token.trigger()
            await asyncio.sleep(0)

    async def by_raising(token, rounds):
        while True:
            token.raise_if_triggered()
            rounds.append(1)
            if len(rounds) == 3:
                token.trigger()
            await asyncio.sleep(0)

    rounds = []
    asyncio.run(by_flag(CancelToken("flag"), rounds))
    assert len(rounds) == 3
    rounds = []
    with pytest.raises(OperationCancelled, match="^Cancellation requested by raising token$"):
        asyncio.run(by_raising(CancelToken("raising"), rounds))
    assert len(rounds) == 3


def test_waiting_for_an_external_signal():
    async def do_work(token):
        await asyncio.sleep(0.01)
        token.trigger()

    async def main():
        token = CancelToken("worker")
        asyncio.ensure_future(do_work(token))
        await token.wait()
        return token.triggered

    assert asyncio.run(main())


def test_cancellable_wait_with_a_timeout_raises_timeout_error():
    token = CancelToken("demo")

    async def some_3rd_party_api():
        await asyncio.sleep(10)

    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(asyncio.TimeoutError):
            loop.run_until_complete(token.cancellable_wait(some_3rd_party_api(), timeout=0.1))
    finally:
        loop.close()
