"""The type probe's statistics: it finds a signal that is there and none that is not."""

from __future__ import annotations

import numpy as np

from model_server.training.type_probe import ridge_correlations, within_group_z


def test_within_group_z_standardises_each_group() -> None:
    values = np.array([1.0, 2.0, 3.0, 10.0, 20.0, 30.0])
    groups = np.array(["f", "f", "f", "m", "m", "m"])
    z = within_group_z(values, groups)
    assert np.allclose(z[:3], z[3:]) and abs(z[:3].mean()) < 1e-9


def test_ridge_finds_a_real_signal_and_not_noise() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 16))
    train = np.arange(200) < 150
    signal = x @ rng.normal(size=16) + 0.1 * rng.normal(size=200)
    noise = rng.normal(size=200)
    assert min(ridge_correlations(x, signal, train, (1.0, 10.0)).values()) > 0.9
    assert max(abs(r) for r in ridge_correlations(x, noise, train, (1.0, 10.0)).values()) < 0.4
