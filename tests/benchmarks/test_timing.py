"""The timing harness shared by the timing scripts (``benchmarks/timing.py``):
warm-up, failures and warnings as results, round-robin timing, the Compare table."""

import warnings


def test_measure_round_robin_failures_and_warnings(load_script):
    timing = load_script("timing")
    calls = []

    def setup(name):
        if name == "broken":
            raise RuntimeError("does not compile")

        def step():
            calls.append(name)
            if name == "noisy":
                warnings.warn("compile failed, using the eager math")

        return step, (lambda: f"runs {name}")

    rows = timing.measure(["quiet", "broken", "noisy"], setup, warmup=2, reps=3, device="cpu")
    assert [t.name for t in rows] == ["quiet", "broken", "noisy"]
    quiet, broken, noisy = rows
    # warm-up per configuration first, then one step of each per round
    assert calls == ["quiet"] * 2 + ["noisy"] * 2 + ["quiet", "noisy"] * 3
    assert quiet.ran == "runs quiet" and len(quiet.times_ms) == 3
    assert quiet.ms is not None and quiet.min_ms <= quiet.ms
    assert broken.error == "RuntimeError: does not compile" and broken.ms is None
    assert noisy.warnings == ["compile failed, using the eager math"]
    table = timing.compare_table(rows, "a label")
    assert "a label" in table and "quiet" in table and "broken" not in table
