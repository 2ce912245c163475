"""Every behaviour the seed's own suite (asyncio-cancel-token 0.2.0, 20 tests) checks, in our words."""

import asyncio

import pytest

from conftest import assert_no_task_left

from cancel_token import CancelToken, EventLoopMismatch, OperationCancelled


def three_chained():
    first, second, third = CancelToken("first"), CancelToken("second"), CancelToken("third")
    pair = first.chain(second)
    return first, second, third, pair, pair.chain(third)


def test_the_package_and_its_modules_import():
    import cancel_token
    import cancel_token.exceptions
    import cancel_token.token

    assert cancel_token.token.CancelToken is cancel_token.CancelToken
    assert cancel_token.exceptions.OperationCancelled is cancel_token.OperationCancelled


def test_a_lone_token_names_itself_once_triggered():
    token = CancelToken("lone")
    assert not token.triggered
    assert token.triggered_token is None
    token.trigger()
    assert token.triggered
    assert token.triggered_token == token


def test_chaining_tokens_of_different_loops_is_refused():
    other_loop = asyncio.new_event_loop()
    try:
        with pytest.raises(EventLoopMismatch):
            CancelToken("no loop").chain(CancelToken("a loop", loop=other_loop))
        with pytest.raises(EventLoopMismatch):
            CancelToken("a", loop=other_loop).chain(CancelToken("b", loop=asyncio.new_event_loop()))
        same = CancelToken("a", loop=other_loop).chain(CancelToken("b", loop=other_loop))
        assert same.loop is other_loop
    finally:
        other_loop.close()


def test_triggering_a_chain_leaves_what_it_was_made_of_alone():
    first, second, third, pair, chain = three_chained()
    chain.trigger()
    assert chain.triggered
    assert chain.triggered_token == chain
    assert not any(t.triggered for t in (first, second, third, pair))


@pytest.mark.parametrize("which", [0, 1, 2])
def test_any_parent_triggers_the_chain_and_is_named(which):
    first, second, third, pair, chain = three_chained()
    parents = (first, second, third)
    parents[which].trigger()
    assert chain.triggered
    assert chain.triggered_token == parents[which]
    # The pair sees its own parents only.
    assert pair.triggered == (which < 2)
    assert [p.triggered for p in parents] == [i == which for i in range(3)]


@pytest.mark.asyncio
async def test_wait_returns_once_triggered():
    token = CancelToken("token")
    asyncio.get_running_loop().call_soon(token.trigger)
    done, pending = await asyncio.wait([asyncio.ensure_future(token.wait())], timeout=1)
    assert (len(done), len(pending)) == (1, 0)
    assert token.triggered


@pytest.mark.asyncio
async def test_a_finished_wait_on_a_chain_leaves_no_task():
    parent = CancelToken("parent")
    chain = CancelToken("other").chain(parent)
    asyncio.get_running_loop().call_soon(parent.trigger)
    await chain.wait()
    await assert_no_task_left()


@pytest.mark.asyncio
async def test_wait_is_a_coroutine_and_cancelling_it_leaves_no_task():
    _, _, _, _, chain = three_chained()
    coroutine = chain.wait()
    assert asyncio.iscoroutine(coroutine)
    task = asyncio.ensure_future(coroutine)
    done, pending = await asyncio.wait([task], timeout=0.05)
    assert (done, pending) == (set(), {task})
    assert task.get_coro() is coroutine
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await assert_no_task_left()


@pytest.mark.asyncio
async def test_cancelling_a_wait_on_a_chain_while_it_runs_leaves_no_task():
    chain = CancelToken("parent").chain(CancelToken("child"))
    task = asyncio.ensure_future(chain.wait())
    await asyncio.sleep(0.01)
    with pytest.raises(AssertionError):
        await assert_no_task_left()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await assert_no_task_left()


@pytest.mark.asyncio
async def test_a_wait_on_a_chain_ends_when_the_chain_is_triggered():
    chain = CancelToken("parent").chain(CancelToken("child"))
    task = asyncio.ensure_future(chain.wait())
    await asyncio.sleep(0.01)
    assert not task.done()
    chain.trigger()
    await asyncio.wait_for(task, timeout=1)
    await assert_no_task_left()


@pytest.mark.asyncio
async def test_cancellable_wait_gives_the_result():
    future = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(future.set_result, "result")
    assert await CancelToken("token").cancellable_wait(future, timeout=1) == "result"
    await assert_no_task_left()


@pytest.mark.asyncio
async def test_cancellable_wait_raises_what_the_awaitable_raised():
    future = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(future.set_exception, KeyError("inner"))
    with pytest.raises(KeyError, match="inner"):
        await CancelToken("token").cancellable_wait(future, timeout=1)
    await assert_no_task_left()


@pytest.mark.asyncio
async def test_cancelling_cancellable_wait_cancels_what_it_runs():
    outer = asyncio.ensure_future(CancelToken("").cancellable_wait(asyncio.sleep(5)))
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(outer, timeout=0.01)
    assert outer.cancelled()
    await assert_no_task_left()


@pytest.mark.asyncio
async def test_cancellable_wait_times_out_with_asyncio_timeout_error():
    with pytest.raises(asyncio.TimeoutError):
        await CancelToken("token").cancellable_wait(asyncio.sleep(5), timeout=0.01)
    await assert_no_task_left()


@pytest.mark.asyncio
async def test_cancellable_wait_on_a_triggered_token_raises_operation_cancelled():
    token = CancelToken("token")
    token.trigger()
    with pytest.raises(OperationCancelled, match="^Cancellation requested by token token$"):
        await token.cancellable_wait(asyncio.sleep(5))
    await assert_no_task_left()


@pytest.mark.asyncio
async def test_an_awaitable_that_failed_before_the_trigger_has_its_error_raised():
    token = CancelToken("token")
    started = asyncio.Event()

    async def fail():
        started.set()
        raise ValueError("failed first")

    outer = asyncio.ensure_future(token.cancellable_wait(fail()))
    await started.wait()
    token.trigger()
    with pytest.raises(ValueError, match="failed first"):
        await outer
    await assert_no_task_left()


@pytest.mark.asyncio
async def test_cancelling_cancellable_wait_cancels_a_running_awaitable():
    running, cancelled = asyncio.Event(), asyncio.Event()

    async def sleeper():
        running.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    inner = asyncio.ensure_future(sleeper())
    outer = asyncio.ensure_future(CancelToken("token").cancellable_wait(inner))
    await running.wait()
    outer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await outer
    assert cancelled.is_set() and inner.cancelled()
    await assert_no_task_left()


@pytest.mark.asyncio
async def test_the_first_to_finish_wins_and_the_others_are_cancelled():
    quick = asyncio.ensure_future(asyncio.sleep(0, "quick"))
    slow = asyncio.ensure_future(asyncio.sleep(10))
    assert await CancelToken("token").cancellable_wait(quick, slow) == "quick"
    assert quick.done() and not quick.cancelled()
    assert slow.cancelled()
    await assert_no_task_left()
