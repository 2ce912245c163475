"""Makes the seed (asyncio-cancel-token 0.2.0, installed from PyPI) run on Python 3.10+ for the
benchmark, without touching its code: its module's `asyncio` is replaced by a namespace where the
three calls it makes with `loop=` drop that argument (removed from asyncio in 3.10)."""

import asyncio
import types


class _Event(asyncio.Event):
    def __init__(self, *, loop=None):
        super().__init__()


def _ensure_future(awaitable, *, loop=None):
    return asyncio.ensure_future(awaitable)


async def _wait(futures, *, loop=None, **kwargs):
    return await asyncio.wait(futures, **kwargs)


def install():
    import cancel_token.token as seed

    shim = types.SimpleNamespace(**vars(asyncio))
    shim.Event, shim.ensure_future, shim.wait = _Event, _ensure_future, _wait
    seed.asyncio = shim
