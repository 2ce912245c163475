from ._native import CancelToken as CancelToken
from .exceptions import (
    BaseCancelTokenException as BaseCancelTokenException,
    EventLoopMismatch as EventLoopMismatch,
    OperationCancelled as OperationCancelled,
)
