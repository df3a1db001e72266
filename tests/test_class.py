"""backend_class: the backend's same-named class at construction, else the host's."""

from __future__ import annotations

import abc
import pickle
import types

import pytest

from turnout import BackendDispatcher, DispatchDefinitionError

TRUSTED = {"gpu": {"package": "host-gpu"}}

BACKEND = """
class Backend:
    name = "gpu"

    class Model:
        def __init__(self, size, *, scale=1):
            self.where = "gpu"
            self.size = size * scale
"""


@pytest.fixture
def dispatcher(install, make_dispatcher):
    install("host-gpu", {"gpu": "host_gpu:Backend"}, {"host_gpu.py": BACKEND})
    return make_dispatcher(trusted_backends=TRUSTED)


class Meta(type):
    created: list[str] = []  # noqa: RUF012 - shared on purpose

    def __call__(cls, *args, **kwargs):
        Meta.created.append(cls.__name__)
        return super().__call__(*args, **kwargs)


def test_construction_selects_the_backend_class(dispatcher):
    @dispatcher.backend_class
    class Model:
        def __init__(self, size, *, scale=1):
            self.where = "cpu"
            self.size = size * scale

    assert Model(2).where == "cpu"
    assert isinstance(Model(2), Model)
    gpu = Model(2, scale=3, backend="gpu")
    assert (gpu.where, gpu.size) == ("gpu", 6)
    assert not isinstance(gpu, Model)  # documented: a backend class is its own class
    with dispatcher.settings.use_backend("gpu"):
        assert Model(1).where == "gpu"
        assert Model(1, backend="cpu").where == "cpu"


def test_class_the_backend_lacks_falls_back(dispatcher):
    @dispatcher.backend_class
    class Other:
        def __init__(self, value=0):
            self.value = value

    assert Other(5, backend="gpu").value == 5
    assert type(Other(backend="gpu")) is Other


def test_class_without_init_and_subclasses_construct_normally(dispatcher):
    @dispatcher.backend_class
    class Plain:
        pass

    class Child(Plain):
        def __init__(self, x):
            self.x = x

    assert type(Plain(backend="gpu")) is Plain
    assert Child(3).x == 3
    with dispatcher.settings.use_backend("gpu"):
        assert type(Child(4)) is Child


def test_host_class_with_its_own_metaclass(dispatcher):
    @dispatcher.backend_class
    class Model(metaclass=Meta):
        def __init__(self, size, *, scale=1):
            self.where = "cpu"

    Meta.created.clear()
    assert Model(1).where == "cpu"
    assert Model(1, backend="gpu").where == "gpu"
    assert Meta.created == ["Model", "Model"]


def test_abstract_host_class_and_custom_new(dispatcher):
    @dispatcher.backend_class
    class Model(abc.ABC):  # noqa: B024 - abstractness not needed to test construction
        def __new__(cls, size, **kwargs):
            instance = super().__new__(cls)
            instance.made_by_new = size
            return instance

        def __init__(self, size, *, scale=1):
            self.where = "cpu"

    model = Model(7)
    assert (model.where, model.made_by_new) == ("cpu", 7)
    assert Model(7, backend="gpu").where == "gpu"


def test_the_class_keeps_its_identity_and_instances_pickle():
    model = pickle.loads(pickle.dumps(PicklableModel(3)))
    assert type(model) is PicklableModel
    assert model.size == 3


def test_decorating_a_function_is_refused(dispatcher):
    with pytest.raises(DispatchDefinitionError, match="@backend_dispatch"):
        dispatcher.backend_class(len)


_module_dispatcher = BackendDispatcher("turnout_tests.never_installed", "testhost")


@_module_dispatcher.backend_class
class PicklableModel:
    def __init__(self, size):
        self.size = size


def test_backend_class_that_subclasses_the_host_class_is_initialised_once(make_dispatcher):
    dispatcher = make_dispatcher()
    inits = []

    @dispatcher.backend_class
    class Model:
        def __init__(self, size):
            inits.append(("host", size))
            self.size = size

    class GpuModel(Model):
        def __init__(self, size):
            inits.append(("gpu", size))
            super().__init__(size)
            self.where = "gpu"

    class InheritingModel(Model):
        where = "inheriting"

    dispatcher.register_backend(types.SimpleNamespace(name="gpu", Model=GpuModel))
    dispatcher.register_backend(types.SimpleNamespace(name="plain", Model=InheritingModel))
    model = Model(3, backend="gpu")
    assert isinstance(model, Model)
    assert (type(model), model.where, model.size) == (GpuModel, "gpu", 3)
    assert inits == [("gpu", 3), ("host", 3)]
    inits.clear()
    other = Model(4, backend="plain")
    assert (type(other), other.size) == (InheritingModel, 4)
    assert inits == [("host", 4)]
    inits.clear()
    assert GpuModel(5).size == 5  # the backend class on its own constructs normally
    assert inits == [("gpu", 5), ("host", 5)]


HOST_MODULE = """
from turnout import BackendDispatcher

dispatcher = BackendDispatcher({group!r}, "pickhost", trusted_backends={trusted!r})


@dispatcher.backend_class
class Model:
    '''A model.

    Parameters
    ----------
    size
        How big.
    '''

    def __init__(self, size, *, scale=1):
        self.where = "cpu"
        self.size = size * scale

    def __eq__(self, other):
        return type(other) is Model and vars(other) == vars(self)

    __hash__ = None


@dispatcher.backend_class
class Pair:
    def __init__(self, a, b):
        self.a, self.b = a, b

    def __reduce__(self):
        return (Pair, (self.a, self.b))


@dispatcher.backend_class
class Slotted:
    __slots__ = ("value",)

    def __new__(cls, value=0):
        self = super().__new__(cls)
        self.value = value
        return self

    def __getnewargs__(self):
        return (self.value,)
"""

SUBCLASSING_BACKEND = """
import pickhost

class Backend:
    name = "gpu"

    class Model(pickhost.Model):
        def __init__(self, size, *, scale=1):
            self.where = "gpu"
            self.size = size

    class Pair:
        def __init__(self, a, b):
            self.where = "gpu"

    class Slotted:
        def __init__(self, value=0):
            self.where = "gpu"
"""


@pytest.fixture
def pickhost(site, group):
    site.add(
        "host-gpu",
        entry_points={group: {"gpu": "pick_gpu:Backend"}},
        modules={"pick_gpu.py": SUBCLASSING_BACKEND},
    )
    site.add(
        "pickhost",
        modules={"pickhost.py": HOST_MODULE.format(group=group, trusted=TRUSTED)},
    )
    import pickhost  # noqa: PLC0415 - written by this test

    return pickhost


def test_copies_and_unpickled_instances_stay_host_instances(pickhost):
    import copy  # noqa: PLC0415

    model = pickhost.Model(2, scale=3)
    pair = pickhost.Pair(1, 2)
    with pickhost.dispatcher.settings.use_backend("gpu"):
        assert pickhost.Model(1).where == "gpu"  # construction dispatches ...
        # ... but copying and unpickling recreate the host's instance
        for clone in (
            copy.copy(model),
            copy.deepcopy(model),
            pickle.loads(pickle.dumps(model)),
            pickle.loads(pickle.dumps(model, protocol=0)),
        ):
            assert type(clone) is pickhost.Model
            assert clone == model
        clone = pickle.loads(pickle.dumps(pair))  # a __reduce__ that calls the class
        assert type(clone) is pickhost.Pair
        assert (clone.a, clone.b) == (1, 2)
        slotted = pickle.loads(pickle.dumps(pickhost.Slotted(7, backend="cpu")))
        assert type(slotted) is pickhost.Slotted
        assert slotted.value == 7
        assert copy.copy(pickhost.Slotted(5, backend="cpu")).value == 5


def test_a_constructor_that_takes_the_selector_is_refused(dispatcher):
    class Model:
        def __init__(self, data, backend="threads"):
            pass

    with pytest.raises(DispatchDefinitionError, match="backend_keyword") as excinfo:
        dispatcher.backend_class(Model)
    assert "parameter 'backend' is reserved" in str(excinfo.value)

    class Built:
        def __new__(cls, *, backend=None):
            return super().__new__(cls)

    with pytest.raises(DispatchDefinitionError, match="backend_keyword"):
        dispatcher.backend_class(Built)


def test_the_fallback_policy_applies_to_classes(dispatcher):
    from turnout import FallbackWarning, MissingImplementationError  # noqa: PLC0415

    @dispatcher.backend_class
    class Missing:
        def __init__(self, value=0):
            self.value = value

    assert type(Missing(backend="gpu")) is Missing  # silent by default
    with dispatcher.settings.use_fallback("warn"):
        with pytest.warns(FallbackWarning, match="'gpu' did not build .*Missing"):
            assert type(Missing(backend="gpu")) is Missing
    with dispatcher.settings.use_fallback("error"):
        with pytest.raises(MissingImplementationError, match="Missing"):
            Missing(backend="gpu")
        with pytest.raises(MissingImplementationError):
            Missing(backend="gpu")  # every time, not only the first


def test_the_class_docstring_documents_the_selector_and_the_cpu_class_is_exposed(dispatcher):
    @dispatcher.backend_class
    class Model:
        """A model.

        Parameters
        ----------
        size
            How big.
        """

        def __init__(self, size, *, scale=1):
            self.where = "cpu"
            self.size = size

    import inspect  # noqa: PLC0415

    doc = inspect.cleandoc(Model.__doc__)
    assert "\nbackend\n    Backend to run this call" in doc
    assert doc.index("size") < doc.index("backend")
    with dispatcher.settings.use_backend("gpu"):
        assert Model(1).where == "gpu"
        built = Model.__scverse_backends_cpu_class__(1)  # never dispatches
        assert type(built) is Model
        assert built.where == "cpu"
        assert Model.__scverse_backends_cpu_class__(2).where == "cpu"
    assert Model.__scverse_backends_cpu_class__.__name__ == "Model"
    cpu_class = Model.__scverse_backends_cpu_class__
    assert isinstance(cpu_class, type)  # a real class
    assert isinstance(Model(1), cpu_class)
    assert issubclass(Model, cpu_class)

    class Sub(cpu_class):
        pass

    assert issubclass(Sub, Model)
    with pytest.raises(DispatchDefinitionError, match="already decorated"):
        dispatcher.backend_class(Model)


def test_help_shows_what_the_host_wrote_plus_the_selector(dispatcher):
    import pydoc  # noqa: PLC0415

    @dispatcher.backend_class
    class Model:
        """A model.

        Parameters
        ----------
        size
            How big.
        """

        def __init__(self, size, *, scale=1):
            """Make one."""
            self.size = size

    shown = pydoc.render_doc(Model, renderer=pydoc.plaintext)
    # 3.13's pydoc puts each parameter of a long signature on a line of its own
    bare = "".join("".join(line.removeprefix(" |").split()) for line in shown.splitlines())
    assert "Model(size,*,scale=1,backend:str|list[str]" in bare
    assert "__init__(self, size, *, scale=1)\n |      Make one." in shown
    for invented in ("__reduce_ex__", "__signature__", "__turnout", "cpu_class =", "t.Any"):
        assert invented not in shown, invented
    python = {"__module__", "__qualname__", "__dict__", "__weakref__", "__doc__"}
    python |= {"__firstlineno__", "__static_attributes__"}  # every class has them on 3.13
    added = set(vars(Model)) - python
    assert added == {"__new__", "__init__", "__scverse_backends_cpu_class__"}


def test_a_backend_that_re_exports_the_host_class_falls_back_to_it(dispatcher):
    @dispatcher.backend_class
    class Model:
        def __init__(self, size=1):
            self.where = "cpu"

    for exported in (Model, Model.__scverse_backends_cpu_class__):
        backend = types.SimpleNamespace(name="reexport", Model=exported)
        with dispatcher.registered(backend, replace=True):
            assert type(Model(backend="reexport")) is Model
            assert Model(backend="reexport").where == "cpu"
