"""The asyncio side of a token: the coroutines behind ``CancelToken.wait`` and
``CancelToken.cancellable_wait``.

A wait is one asyncio future of the running loop plus one waiter registered in the Rust token
(``CancelToken._waiter``); the token's trigger completes the future from whatever thread it runs
on. Whatever ends the wait (the trigger, a cancellation, the coroutine being closed), the
``finally`` takes the waiter out of the token, so nothing stays registered.
"""

import asyncio
import inspect


def _resolve(future):
    """Called on the future's loop by a trigger from another thread: the future may have been
    cancelled since."""
    if not future.done():
        future.set_result(None)


async def wait(token):
    if token.triggered:
        return
    loop = asyncio.get_running_loop()
    # The core's wait future completes only on a trigger; the loop is there so that the state,
    # not the wake-up, says when to stop.
    while not token.triggered:
        future = loop.create_future()
        waiter = token._waiter(loop, future)
        if waiter is None:
            return
        try:
            await future
        finally:
            waiter.close()


async def cancellable_wait(token, awaitables, timeout):
    if token.triggered:
        # Like the Rust core: a token triggered before the call wins, and the work never starts.
        await _abandon(awaitables)
        token.raise_if_triggered()
    loop = asyncio.get_running_loop()
    works = [asyncio.ensure_future(a) for a in awaitables]
    triggered = loop.create_future()
    waiter = token._waiter(loop, triggered)
    if waiter is None:
        triggered.set_result(None)
    try:
        await asyncio.wait([*works, triggered], timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        # Our caller cancelled us: every awaitable goes with us.
        await _cancel(works)
        raise
    finally:
        if waiter is not None:
            waiter.close()
        triggered.cancel()
    finished = [w for w in works if w.done()]
    await _cancel([w for w in works if not w.done()])
    if finished:
        # Unlike the seed, a result that is there is returned even if the token triggered in the
        # same instant: the Rust core's rule, so that nothing already done is lost.
        for other in finished[1:]:
            if not other.cancelled():
                other.exception()  # retrieved, so asyncio does not warn about it
        return finished[0].result()
    token.raise_if_triggered()
    raise asyncio.TimeoutError()


async def _cancel(futures):
    """Cancels `futures` and waits until every one has finished. An exception one of them raised
    instead of finishing cancelled is raised here (the first, in order)."""
    if not futures:
        return
    for future in futures:
        future.cancel()
    await asyncio.wait(futures)
    for future in futures:
        if not future.cancelled() and future.exception() is not None:
            raise future.exception()


async def _abandon(awaitables):
    """Nothing of `awaitables` runs: coroutines are closed unstarted, futures cancelled."""
    futures = []
    for awaitable in awaitables:
        if inspect.iscoroutine(awaitable):
            awaitable.close()
        elif asyncio.isfuture(awaitable):
            futures.append(awaitable)
    await _cancel([f for f in futures if not f.done()])
    for future in futures:
        if future.done() and not future.cancelled():
            future.exception()
