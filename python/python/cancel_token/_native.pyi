import asyncio
from collections.abc import Awaitable, Iterable
from typing import Any, TypeVar

_R = TypeVar("_R")

class CancelToken:
    """A named signal that an operation should stop; its state lives in a Rust token."""

    def __init__(self, name: str, loop: asyncio.AbstractEventLoop | None = None) -> None: ...
    @property
    def name(self) -> str: ...
    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop given at creation, if any (waits work on any loop)."""
    @property
    def triggered(self) -> bool:
        """One atomic load, whatever the depth of the chain."""
    @property
    def triggered_token(self) -> CancelToken | None:
        """The token whose trigger() caused this one's (equal to it, not always the same object);
        None while live."""
    @property
    def reason(self) -> Any:
        """The object given to trigger(reason); "triggered" without one; "deadline exceeded" for
        a with_timeout deadline; None while live."""
    @property
    def deadline(self) -> float | None:
        """The earliest deadline in force, on the time.monotonic() clock."""
    def trigger(self, reason: Any = None) -> None:
        """Triggers this token and everything derived from it; safe from any thread; wakes
        waiters on every loop and thread. The first reason wins."""
    def raise_if_triggered(self) -> None:
        """Raises OperationCancelled("Cancellation requested by NAME token") if triggered."""
    def chain(self, other: CancelToken) -> CancelToken:
        """A new token "self:other", triggered when either is; EventLoopMismatch if the two were
        given different loops."""
    def child(self, name: str) -> CancelToken:
        """A new token triggered when this one is, or by its own trigger()."""
    @staticmethod
    def any(name: str, tokens: Iterable[CancelToken]) -> CancelToken:
        """A new token triggered when any of `tokens` is."""
    def with_timeout(self, seconds: float) -> CancelToken:
        """A child that triggers itself after `seconds` (reason "deadline exceeded")."""
    def wait_blocking(self, timeout: float | None = None) -> bool:
        """Blocks this thread (GIL released) until triggered or `timeout`; returns triggered.
        KeyboardInterrupt still interrupts it."""
    async def wait(self) -> None:
        """Returns once this token is triggered; cancelling it leaves nothing registered."""
    async def cancellable_wait(self, *awaitables: Awaitable[_R], timeout: float | None = None) -> _R:
        """The result of the first awaitable to finish; asyncio.TimeoutError after `timeout`;
        OperationCancelled if the token triggers first. Every other awaitable is cancelled and
        awaited before it returns."""
    def _waiter(self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> _Waiter | None: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class _Waiter:
    def close(self) -> None: ...
