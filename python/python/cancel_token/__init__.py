"""Cooperative cancellation for asyncio and threads: the ``cancel_token`` API of
``asyncio-cancel-token`` 0.2.0, for Python 3.10+, on the Rust crate ``cancel-token``.

>>> from cancel_token import CancelToken
>>> token = CancelToken('demo')
>>> token
<CancelToken: demo>
>>> token.trigger()
>>> token.triggered
True
"""

from ._native import CancelToken
from .exceptions import BaseCancelTokenException, EventLoopMismatch, OperationCancelled

__all__ = ["BaseCancelTokenException", "CancelToken", "EventLoopMismatch", "OperationCancelled"]
