"""backend_class: construct the selected backend's same-named class instead of the host's."""

from __future__ import annotations

from typing import Any

from turnout._discovery import Discovery
from turnout._dispatch import qualified_name
from turnout._errors import DispatchDefinitionError
from turnout._names import CPU
from turnout._settings import SelectionState


class DispatchedClass:
    """turnout's record of one host class and the class to build per label."""

    __slots__ = ("_discovery", "host", "implementations", "name", "qualified_name")

    def __init__(self, host: type, discovery: Discovery) -> None:
        self.host = host
        self.name = host.__name__
        self.qualified_name = qualified_name(host)
        self._discovery = discovery
        self.implementations: dict[str, type] = {CPU: host}

    def implementation(self, label: object) -> type:
        """Return the class to construct for `label` (the backend's or the host's)."""
        entry = self._discovery.require(label)
        found = getattr(entry.obj, self.name, None)
        if found is None:
            found = self.host
        elif not isinstance(found, type):
            raise DispatchDefinitionError(
                target=self.qualified_name,
                problem=(
                    f"backend {entry.name!r} ({entry.describe_source()}) has an "
                    f"attribute {self.name!r} of type {type(found).__name__}, not a class"
                ),
                action="the backend must expose a class under that name, or none at all",
            )
        if isinstance(label, str):
            self.implementations[label] = found
        return found


def check_class(host: object) -> None:
    """Raise `DispatchDefinitionError` when `host` cannot be dispatched as a class."""
    if not isinstance(host, type):
        raise DispatchDefinitionError(
            target=qualified_name(host),
            problem=f"@backend_class decorates classes, not {type(host).__name__}",
            action="decorate functions with @backend_dispatch",
        )


def install(record: DispatchedClass, state: SelectionState, keyword: str) -> None:
    """Make constructing ``record.host`` build the selected backend's class.

    The host class is changed in place (its identity, metaclass and pickling
    stay as they are): ``__new__`` picks the class and ``__init__`` drops the
    selector keyword. Subclasses of the host class construct normally.
    """
    cls: Any = record.host  # Any: its __new__ and __init__ are replaced below
    host_new = cls.__new__
    host_init = cls.__init__
    implementations = record.implementations
    slow = record.implementation
    var = state.var

    def __new__(klass: type, *args: Any, **kwargs: Any) -> Any:  # noqa: N807
        label = kwargs.pop(keyword, None)
        if klass is cls:
            if label is None:
                label = var.get().name
            try:
                chosen = implementations[label]
            except (KeyError, TypeError):
                chosen = slow(label)
            if chosen is not cls:
                return chosen(*args, **kwargs)
        if host_new is object.__new__:
            return object.__new__(klass)
        return host_new(klass, *args, **kwargs)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:  # noqa: N807
        kwargs.pop(keyword, None)
        if host_init is object.__init__:
            host_init(self)
        else:
            host_init(self, *args, **kwargs)

    __new__.__qualname__ = f"{cls.__qualname__}.__new__"
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    __init__.__doc__ = host_init.__doc__
    __init__.__wrapped__ = host_init  # type: ignore[attr-defined]
    cls.__new__ = staticmethod(__new__)
    cls.__init__ = __init__
