"""benchmarks/source_runs.py: the run list is the sources' experiments at their settings."""

import importlib.util
from pathlib import Path

from tutorials_lib.results import read_parameter_file

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location(
    "source_runs", ROOT / "benchmarks" / "source_runs.py"
)
source_runs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(source_runs)


def _yaml(stem: str) -> dict:
    return read_parameter_file(ROOT / "book" / "params" / f"{stem}_source.yaml")


def test_walk_forward_configs_change_one_setting_at_a_time_costliest_first():
    p = {"HIDDEN": 32, "EPOCHS": 3, "BATCH_SIZE": 1, "LOOKBACK": 15, "STACK_LAYERS": 4,
         "COMPARE": {"hidden": 96, "batch_size": 10},
         "SWEEP": {"batch_size": [1, 2, 4], "epochs": [1, 5]}}  # fmt: skip
    configs = source_runs.walk_forward_configs(p)
    assert len(configs) == 1 + 2 + 1 + 5  # base, two changes, the stack, five sweep points
    base = configs["base"]
    assert base == {"hidden": 32, "epochs": 3, "batch_size": 1, "lookback": 15, "layers": 1,
                    "stateful": False, "shuffle": True}  # fmt: skip
    for name, config in configs.items():
        changed = {k for k in base if config[k] != base[k]}
        if name == "stateful 4-layer stack":
            assert changed == {"layers", "stateful", "shuffle"}
        else:  # one setting changed, or none (a sweep point equal to the base is run again)
            assert len(changed) <= 1
    assert configs["batch_size sweep 4"]["batch_size"] == 4
    costs = [c["epochs"] * c["layers"] / c["batch_size"] for c in configs.values()]
    assert costs == sorted(costs, reverse=True)
    assert next(iter(configs)) == "stateful 4-layer stack"  # 3 epochs x 4 layers at batch 1


def test_run_list_holds_each_source_experiment_once_at_the_parameter_files_settings():
    runs = source_runs.source_runs()
    by_source = {}
    for name, (fn, args) in runs.items():
        by_source.setdefault(name.split(":")[0], []).append((name, fn, args))
    p3 = _yaml("03_cointegrated_walk_forward")
    n_sweep = sum(len(v) for v in p3["SWEEP"].values())
    assert n_sweep == 24 + 60 + 19  # the source's grids: batch 1..24, hidden 15..74, epochs 1..19
    ch3 = by_source["000"]
    assert len(ch3) == n_sweep + 1 + 4 + 1  # + base, four one-at-a-time changes, the stack
    assert {args[1]["epochs"] for _, _, args in ch3} == set(range(1, 20))
    # chapter 7: only the LSTM the source trained; its stack is built but never fitted
    (name, fn, args), = by_source["003"]  # fmt: skip
    p7 = _yaml("07_vector_sequences")
    assert fn is source_runs.vector_run
    assert (args[0]["UNITS"], args[0]["N_ROWS"], args[0]["EPOCHS"]) == (300, 17990, 10)
    assert args[0]["BATCH_SIZE"] == p7["BATCH_SIZE"] == 450
    # chapters 5 and 6 share source 004: its LSTM and GRU run once each
    assert sorted(args[1] for _, _, args in by_source["004"]) == ["gru", "lstm"]
    p6 = by_source["004"][0][2][0]
    assert (p6["GRU_EPOCHS"], p6["GRU_BATCH"], p6["LSTM_EPOCHS"], p6["LSTM_BATCH"]) == (
        50, 150, 50, 32)  # fmt: skip
    assert sorted(args[1] for _, _, args in by_source["002"]) == [1, 200]
    (_, fn, args), = by_source["001"]  # fmt: skip
    assert (args[0]["UNITS"], args[0]["EPOCHS"]) == (256, 200)
    # longest first: the single big runs before the walk-forward runs
    names = list(runs)
    assert names.index(ch3[0][0]) > max(names.index(n) for s in "001 002 003 004".split()
                                        for n, _, _ in by_source[s])  # fmt: skip
