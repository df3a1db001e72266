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
