"""The exceptions a token raises, under one base class."""


class BaseCancelTokenException(Exception):
    """Every exception of this package derives from this one."""


class EventLoopMismatch(BaseCancelTokenException):
    """Tokens given different event loops were joined (``chain`` or ``CancelToken.any``)."""


class OperationCancelled(BaseCancelTokenException):
    """A token was triggered: ``Cancellation requested by NAME token``, NAME being the token
    whose ``trigger()`` caused it."""
