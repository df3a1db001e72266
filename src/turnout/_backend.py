"""The in-tree Backend base class and the metaclass that registers its subclasses."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence

from turnout import _lazytyping as t
from turnout._lazytyping import TYPE_CHECKING
from turnout._registration import Registrar
from turnout._registry import Origin

# Each dispatcher's base class -> how its subclasses register. Base classes live
# as long as their dispatchers (module globals of the host), so a plain dict.
_registrars: dict[type, tuple[Registrar, Callable[[type], str | None] | None]] = {}


class BackendMeta(abc.ABCMeta):
    """Registers each concrete subclass of a dispatcher's ``Backend`` when it is defined.

    A subclass registers when it sets ``name`` in its own body, or when the
    dispatcher's ``backend_key`` rule derives a name from it. Abstract
    subclasses (any abstract method left) and subclasses without a name are
    skipped. It derives from `abc.ABCMeta`, so backends may declare abstract
    methods.
    """

    def __init__(cls, name: str, bases: tuple[type, ...], namespace: dict[str, t.Any]) -> None:
        super().__init__(name, bases, namespace)
        if cls in _registrars:
            return  # a dispatcher's base class itself
        owner = next((_registrars[base] for base in cls.__mro__[1:] if base in _registrars), None)
        if owner is None or getattr(cls, "__abstractmethods__", None):
            return
        registrar, key_rule = owner
        key = namespace.get("name")
        if key is None and key_rule is not None:
            key = key_rule(cls)
        if key is None:
            return
        registrar.register(cls, name=key, origin=Origin.IN_TREE)


class Backend(metaclass=BackendMeta):
    """Base class of in-tree backends (each dispatcher has its own subclass of it).

    Subclass ``dispatcher.Backend``, set ``name`` (and optionally ``aliases``),
    and define methods named like the host's dispatched functions. The class
    registers itself when defined; its instance is created on first use.

    .. versionadded:: 0.1
    """

    # Declared for type checkers only: runtime annotations here would be
    # evaluated in the `turnout` namespace (this class's __module__).
    if TYPE_CHECKING:
        name: t.ClassVar[str]
        aliases: t.ClassVar[Sequence[str]]
    aliases = ()


Backend.__module__ = "turnout"
BackendMeta.__module__ = "turnout"


def make_base(
    registrar: Registrar, host_name: str, key_rule: Callable[[type], str | None] | None
) -> type[Backend]:
    """Create the ``Backend`` base class for one dispatcher."""
    base = BackendMeta(
        "Backend",
        (Backend,),
        {"__doc__": f"Base class of {host_name}'s in-tree backends.", "__module__": "turnout"},
    )
    _registrars[base] = (registrar, key_rule)
    return base  # type: ignore[return-value]  # BackendMeta's instances are Backend classes


def parameter_map(**mapping: t.Any) -> Callable[[t.F], t.F]:
    """Declare how a backend function's parameters differ from the host function's.

    Each keyword names a host parameter; its value is the backend parameter that
    receives it, or ``(backend parameter, transform)`` where ``transform(value)``
    gives the backend's value. An argument the caller left out is not
    transformed: the backend's own default applies.

    .. versionadded:: 0.1

    Examples
    --------
    >>> import operator
    >>> from turnout import parameter_map
    >>> @parameter_map(data="adata", inplace=("copy", operator.not_))
    ... def pca(adata, n_comps=50, copy=False):
    ...     return adata
    >>> pca.turnout_parameters["data"]
    'adata'
    """
    problems = [
        f"{host!r}: expected a parameter name or (name, transform), got {target!r}"
        for host, target in mapping.items()
        if not (
            isinstance(target, str)
            or (
                isinstance(target, tuple)
                and len(target) == 2  # noqa: PLR2004 - (name, transform)
                and isinstance(target[0], str)
                and callable(target[1])
            )
        )
    ]
    if problems:
        from turnout._errors import ConfigurationError  # noqa: PLC0415

        raise ConfigurationError(problems=problems, subject="parameter_map")

    def decorate(function: t.F) -> t.F:
        function.turnout_parameters = dict(mapping)  # type: ignore[attr-defined]
        return function

    return decorate


parameter_map.__module__ = "turnout"
