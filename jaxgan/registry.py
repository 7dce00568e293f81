"""Name -> object registries, so that a config string or flag selects a model or loss.

LOSSES = Registry("loss")

@LOSSES.register("ns")
def non_saturating(real_logits, fake_logits): ...

LOSSES.get("ns")      # -> the function
LOSSES.names()        # -> ("mm", "ns", ...) in registration order, used as flag choices
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
  """An ordered mapping from names to objects of one kind."""

  def __init__(self, kind: str):
    self.kind = kind
    self._items: dict[str, T] = {}

  def register(self, name: str) -> Callable[[T], T]:
    def add(obj: T) -> T:
      if name in self._items:
        raise ValueError(f"{self.kind} {name!r} is already registered")
      self._items[name] = obj
      return obj

    return add

  def get(self, name: str) -> T:
    try:
      return self._items[name]
    except KeyError:
      raise KeyError(f"unknown {self.kind} {name!r}; choices: {', '.join(self._items)}") from None

  def names(self) -> tuple[str, ...]:
    return tuple(self._items)

  def __contains__(self, name: str) -> bool:
    return name in self._items
