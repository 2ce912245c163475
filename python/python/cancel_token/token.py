"""``from cancel_token.token import CancelToken`` works as it did with the seed."""

from ._native import CancelToken

__all__ = ["CancelToken"]
