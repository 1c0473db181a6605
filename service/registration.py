"""Tables that the capabilities' manifests fill, once, when ``service.capabilities`` is imported.

The packages that read them (cases, consents, lifecycle) are themselves used by the capabilities,
so they cannot import the manifests: each declares an empty table here and the list of
capabilities fills it. Reading one before it was filled is a bug (a process that never imported
``service.capabilities``), so it raises instead of answering as if no capability had declared
anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TypeVar, overload

K = TypeVar("K")
V = TypeVar("V")


class NotRegistered(RuntimeError):
    pass


class _Filled:
    def __init__(self, what: str) -> None:
        self.what = what
        self.filled = False

    def _fill_once(self) -> None:
        if self.filled:
            raise RuntimeError(f"{self.what} are registered once, by service.capabilities")
        self.filled = True

    def _check(self) -> None:
        if not self.filled:
            raise NotRegistered(f"{self.what} are read before service.capabilities registered them: import it first")


class RegisteredList(_Filled, Sequence[V]):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self._items: tuple[V, ...] = ()

    def fill(self, items: Iterable[V]) -> None:
        self._fill_once()
        self._items = tuple(items)

    @overload
    def __getitem__(self, index: int) -> V: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[V]: ...
    def __getitem__(self, index: int | slice) -> V | Sequence[V]:
        self._check()
        return self._items[index]

    def __len__(self) -> int:
        self._check()
        return len(self._items)

    def __iter__(self) -> Iterator[V]:
        self._check()
        return iter(self._items)


class RegisteredTable(_Filled, Mapping[K, V]):
    def __init__(self, what: str) -> None:
        super().__init__(what)
        self._items: dict[K, V] = {}

    def fill(self, items: Iterable[tuple[K, V]]) -> None:
        """Each key once: two capabilities declaring the same thing is an error, not an override."""
        self._fill_once()
        for key, value in items:
            if key in self._items:
                raise RuntimeError(f"{self.what}: {key!r} is registered twice")
            self._items[key] = value

    def __getitem__(self, key: K) -> V:
        self._check()
        return self._items[key]

    def __len__(self) -> int:
        self._check()
        return len(self._items)

    def __iter__(self) -> Iterator[K]:
        self._check()
        return iter(self._items)
