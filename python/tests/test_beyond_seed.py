"""What the seed could not do: threads, several loops, deep chains, and the Rust core's extras."""

import asyncio
import gc
import sys
import threading
import time
import weakref

import pytest

from conftest import assert_no_task_left

from cancel_token import CancelToken, EventLoopMismatch, OperationCancelled


@pytest.mark.asyncio
async def test_trigger_from_another_thread_wakes_an_asyncio_waiter():
    token = CancelToken("cross-thread")
    waiter = asyncio.ensure_future(token.wait())
    await asyncio.sleep(0.01)
    thread = threading.Thread(target=token.trigger)
    thread.start()
    await asyncio.wait_for(waiter, timeout=5)
    thread.join()
    await assert_no_task_left()


def test_one_token_awaited_on_two_loops_in_two_threads_at_once():
    token = CancelToken("shared")
    parent = CancelToken("parent")
    derived = token.chain(parent)
    waiting = threading.Barrier(3)
    woken = []

    def run_loop(which):
        async def main():
            first = asyncio.ensure_future(which.wait())
            await asyncio.sleep(0.01)
            waiting.wait(timeout=5)
            await asyncio.wait_for(first, timeout=5)
            woken.append(which)

        asyncio.run(main())

    threads = [threading.Thread(target=run_loop, args=(t,)) for t in (token, derived)]
    for thread in threads:
        thread.start()
    waiting.wait(timeout=5)
    token.trigger()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(map(str, woken)) == ["shared", "shared:parent"]


def test_a_100000_deep_chain_checks_and_triggers_without_recursion():
    root = CancelToken("root")
    token = root
    for i in range(100_000):
        token = token.child("level") if i % 2 else CancelToken.any("level", [token, CancelToken("side")])
    assert not token.triggered
    token.raise_if_triggered()
    root.trigger()
    assert token.triggered
    assert token.triggered_token == root
    with pytest.raises(OperationCancelled, match="by root token"):
        token.raise_if_triggered()
    del token
    gc.collect()


@pytest.mark.asyncio
async def test_a_waiter_on_a_100000_deep_chain_is_woken():
    root = CancelToken("root")
    token = root
    for _ in range(100_000):
        token = token.child("level")
    waiter = asyncio.ensure_future(token.wait())
    await asyncio.sleep(0)
    root.trigger()
    await asyncio.wait_for(waiter, timeout=5)


def test_a_cancelled_wait_leaves_nothing_registered_in_the_token():
    # The waiter registered in the token holds the loop: once the wait is cancelled and the loop
    # dropped, nothing may keep the loop alive, though the token lives on.
    token = CancelToken("long-lived")

    async def cancel_a_wait():
        task = asyncio.ensure_future(token.wait())
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    loop = asyncio.new_event_loop()
    loop.run_until_complete(cancel_a_wait())
    loop.close()
    gone = weakref.ref(loop)
    del loop
    gc.collect()
    assert gone() is None
    assert not token.triggered


def test_a_wait_abandoned_with_its_loop_is_released_by_the_trigger():
    # A pending wait stays registered while a token that can trigger it lives (the seed's Event
    # kept it so too): the trigger then finds the loop closed and lets everything go.
    parent = CancelToken("parent")

    async def abandon():
        asyncio.ensure_future(parent.child("child").wait())
        await asyncio.sleep(0)

    loop = asyncio.new_event_loop()
    loop.run_until_complete(abandon())
    loop.close()
    gone = weakref.ref(loop)
    del loop
    parent.trigger()
    gc.collect()
    assert gone() is None


@pytest.mark.asyncio
async def test_a_trigger_racing_a_cancel_never_completes_a_cancelled_future():
    errors = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, context: errors.append(context))
    previous_hook, sys.unraisablehook = sys.unraisablehook, errors.append
    try:
        await race_trigger_against_cancel()
    finally:
        sys.unraisablehook = previous_hook
    assert errors == []


async def race_trigger_against_cancel():
    for _ in range(200):
        token = CancelToken("race")
        task = asyncio.ensure_future(token.wait())
        await asyncio.sleep(0)
        thread = threading.Thread(target=token.trigger)
        thread.start()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        thread.join()
    await asyncio.sleep(0.01)
    await assert_no_task_left()


@pytest.mark.asyncio
async def test_a_result_that_is_ready_when_the_token_triggers_is_returned():
    # The seed discarded it; the Rust core's rule is that nothing already done is lost.
    token = CancelToken("token")
    future = asyncio.get_running_loop().create_future()

    def finish_and_trigger():
        future.set_result("kept")
        token.trigger()

    asyncio.get_running_loop().call_soon(finish_and_trigger)
    assert await token.cancellable_wait(future) == "kept"


@pytest.mark.asyncio
async def test_a_token_triggered_before_cancellable_wait_never_starts_the_work():
    token = CancelToken("token")
    token.trigger()
    started = []

    async def work():
        started.append(1)

    pending = asyncio.ensure_future(asyncio.sleep(10))
    with pytest.raises(OperationCancelled):
        await token.cancellable_wait(work(), pending)
    assert started == [] and pending.cancelled()
    await assert_no_task_left()


@pytest.mark.asyncio
async def test_cancellable_wait_with_nothing_waits_for_the_token_or_the_timeout():
    token = CancelToken("bare")
    with pytest.raises(asyncio.TimeoutError):
        await token.cancellable_wait(timeout=0.01)
    asyncio.get_running_loop().call_soon(token.trigger)
    with pytest.raises(OperationCancelled):
        await token.cancellable_wait()


def test_wait_blocking_times_out_then_sees_a_trigger_from_another_thread():
    token = CancelToken("blocking")
    assert token.wait_blocking(timeout=0.01) is False
    threading.Timer(0.01, token.trigger).start()
    assert token.wait_blocking(timeout=10) is True
    assert token.wait_blocking() is True


def test_wait_blocking_releases_the_gil():
    token = CancelToken("gil")
    ran = threading.Event()

    def python_work():
        ran.set()
        token.trigger()

    threading.Thread(target=python_work).start()
    # If the wait held the GIL, the thread could not run Python code and this would time out.
    assert token.wait_blocking(timeout=10)
    assert ran.is_set()


def test_wait_blocking_refuses_a_negative_timeout():
    with pytest.raises(ValueError):
        CancelToken("t").wait_blocking(timeout=-1)


def test_child_and_any():
    parent = CancelToken("parent")
    child = parent.child("child")
    assert child.name == "child"
    child.trigger()
    assert not parent.triggered
    a, b, c = CancelToken("a"), CancelToken("b"), CancelToken("c")
    joined = CancelToken.any("joined", (t for t in (a, b, c)))
    b.trigger()
    assert joined.triggered and joined.triggered_token == b
    assert CancelToken.any("none", []).triggered is False
    with pytest.raises(TypeError):
        CancelToken.any("bad", [a, "not a token"])
    loop = asyncio.new_event_loop()
    try:
        with pytest.raises(EventLoopMismatch):
            CancelToken.any("mixed", [a, CancelToken("l", loop=loop)])
    finally:
        loop.close()


def test_a_token_derived_from_a_triggered_one_is_born_triggered():
    parent = CancelToken("parent")
    parent.trigger("why")
    assert parent.child("late").triggered
    assert parent.child("late").reason == "why"


def test_trigger_with_a_reason():
    class ClientGone(Exception):
        pass

    request = CancelToken("request")
    query = request.child("query")
    assert request.reason is None
    gone = ClientGone("hung up")
    request.trigger(gone)
    assert query.reason is gone
    request.trigger("second")  # the first reason stays
    assert request.reason is gone
    plain = CancelToken("plain")
    plain.trigger()
    assert plain.reason == "triggered"


def test_with_timeout_triggers_itself_with_a_deadline():
    request = CancelToken("request")
    assert request.deadline is None
    before = time.monotonic()
    attempt = request.with_timeout(0.05)
    assert before + 0.05 <= attempt.deadline <= time.monotonic() + 0.05
    assert attempt.child("inner").deadline == pytest.approx(attempt.deadline, abs=1e-3)
    assert attempt.wait_blocking(timeout=10)
    assert attempt.reason == "deadline exceeded"
    assert not request.triggered
    with pytest.raises(ValueError):
        request.with_timeout(float("nan"))


@pytest.mark.asyncio
async def test_a_deadline_wakes_an_asyncio_waiter_from_the_timer_thread():
    attempt = CancelToken("request").with_timeout(0.02)
    await asyncio.wait_for(attempt.wait(), timeout=5)
    assert attempt.triggered


def test_equality_and_hashing_are_by_identity_of_the_token():
    a = CancelToken("same")
    b = CancelToken("same")
    assert a != b and a == a
    chain = a.chain(b)
    a.trigger()
    assert chain.triggered_token == a and hash(chain.triggered_token) == hash(a)
    assert {a, chain.triggered_token} == {a}
    assert (a == "same") is False
    assert chain.triggered_token.triggered_token is not None
    assert weakref.ref(a)() is a


def test_the_type_stubs_are_installed():
    import importlib.resources

    files = importlib.resources.files("cancel_token")
    assert files.joinpath("py.typed").is_file()
    assert files.joinpath("_native.pyi").is_file()
