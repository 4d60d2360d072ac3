"""Tensor's indexing-family methods (gather, scatter, masked ops, sorting ...): each calls an op's ``apply``."""


class IndexingMethods:
    """Index-based selection and placement, sorting and searching."""

    __slots__ = ()
