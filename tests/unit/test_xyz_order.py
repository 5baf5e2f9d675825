"""The order X/Y/Z cells run in (costliest axis outer, fewest checkpoint switches) and their varied seeds."""

from __future__ import annotations

from modules.xyz.order import cell_index, loop_order, run_order, switches, varied_seed


def test_default_nesting_is_z_then_y_then_x() -> None:
    assert loop_order((0, 0, 0)) == ("z", "y", "x")
    assert run_order((2, 2, 1), (0, 0, 0)) == [(0, 0, 0), (1, 0, 0), (0, 1, 0), (1, 1, 0)]


def test_the_costliest_axis_runs_outer() -> None:
    assert loop_order((1.0, 0, 0)) == ("x", "z", "y")
    assert loop_order((0, 0.7, 1.0)) == ("z", "y", "x")
    assert loop_order((0.7, 1.0, 0)) == ("y", "x", "z")
    order = run_order((3, 4, 2), (1.0, 0.0, 0.0))  # a checkpoint on X
    assert len(order) == len(set(order)) == 24
    assert switches([ix for ix, _, _ in order]) == 3, "each checkpoint loaded once"
    naive = run_order((3, 4, 2), (0.0, 0.0, 0.0))
    assert switches([ix for ix, _, _ in naive]) == 24


def test_checkpoint_and_vae_both_switch_least() -> None:
    order = run_order((2, 3, 1), (0.7, 1.0, 0.0))  # VAE on X, checkpoint on Y
    assert switches([iy for _, iy, _ in order]) == 3
    assert switches([(iy, ix) for ix, iy, _ in order]) == 6


def test_cell_index_is_a1111s() -> None:
    assert cell_index(1, 2, 1, nx=3, ny=4) == 1 + 2 * 3 + 1 * 12


def test_vary_seeds_follows_a1111() -> None:
    sizes = (3, 2, 2)
    assert varied_seed(10, (2, 1, 1), sizes, (True, True, True)) == 10 + 2 + 1 * 3 + 1 * 3 * 2
    assert varied_seed(10, (2, 1, 1), sizes, (False, True, False)) == 11, "Y alone: + iy"
    assert varied_seed(10, (2, 1, 1), sizes, (True, False, True)) == 10 + 2 + 1 * 3
    assert varied_seed(10, (2, 1, 1), sizes, (False, False, False)) == 10
    assert varied_seed(-1, (2, 1, 1), sizes, (True, True, True)) == -1, "Keep -1: every cell draws its own"
