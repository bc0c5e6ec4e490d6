"""The job pool shared by the long experiments and the GPU accuracy run
(``benchmarks/experiment.py``): its deadline."""

import subprocess
import sys
import time


def test_run_jobs_stops_at_the_deadline(load_script):
    exp = load_script("experiment")
    commands = {"quick": "pass", "slow": "import time; time.sleep(60)",
                "waiting": "pass"}
    procs, recorded, stopped = {}, [], []

    def start(job):
        procs[job] = subprocess.Popen([sys.executable, "-c", commands[job]])
        return procs[job]

    t0 = time.time()
    failed = exp.run_jobs(["quick", "slow", "waiting"], dependencies=lambda j: [],
                          trained=lambda j: False, done=lambda j: False, start=start,
                          record=lambda j, wall: recorded.append(j), parallel=2,
                          deadline=t0 + 3, stopped=lambda j, started: stopped.append((j, started)))
    assert time.time() - t0 < 20
    assert failed == set()
    # "waiting" starts once "quick" ends, so only the sleeper is left at the deadline
    assert recorded == ["quick", "waiting"] or recorded == ["quick"]
    assert ("slow", True) in stopped and procs["slow"].poll() is not None
    assert all(j != "quick" for j, _ in stopped)


def test_run_jobs_reports_jobs_never_started(load_script):
    exp = load_script("experiment")
    stopped = []
    procs = []

    def start(job):
        procs.append(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]))
        return procs[-1]

    exp.run_jobs(["a", "b", "c"], dependencies=lambda j: [], trained=lambda j: False,
                 done=lambda j: False, start=start, record=lambda j, w: None, parallel=1,
                 deadline=time.time() + 1.5, stopped=lambda j, s: stopped.append((j, s)))
    assert stopped == [("a", True), ("b", False), ("c", False)]
    assert all(p.poll() is not None for p in procs)
