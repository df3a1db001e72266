"""The example host's own tests, as a host keeps them."""

import example_host


def test_mean():
    assert example_host.mean([1.0, 2.0, 3.0]) == 2.0


def test_moving_average():
    assert example_host.moving_average([1.0, 2.0, 3.0, 4.0], window=2) == [1.5, 2.5, 3.5]


def test_standardize():
    assert example_host.standardize([1.0, 2.0, 3.0])[1] == 0.0
