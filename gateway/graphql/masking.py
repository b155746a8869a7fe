"""Errors nobody planned for become ``INTERNAL`` with a fixed message: no stack trace, no exception
text (it may hold data) and no upstream detail reaches the client; the log gets the type and path."""

from __future__ import annotations

import logging

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from .errors import ErrorCode

log = logging.getLogger("gateway.graphql")


def _unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class MaskUnexpectedErrors(MaskErrors):
    def __init__(self) -> None:
        super().__init__(should_mask_error=_unexpected, error_message="Internal error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        log.error("internal error at %s: %s", error.path, type(error.original_error).__name__)
        masked = super().anonymise_error(error)
        masked.extensions = {"code": ErrorCode.INTERNAL.value}
        return masked
