"""Every script in benchmarks/ keeps importing and running: each runs here at a tiny size, in its own process, and each
`--gpu` mode runs as a smoke run of the same code on the CPU, so none rots unseen before the day a GPU is lent (and once
where torch sees no CUDA device: it must end at once, in one line saying so).

Timings never go into these tests: at these sizes they mean nothing. What is checked is that each script ends with
exit status 0 and prints its result lines, parseable, with the values that do not depend on time: the same rows picked
by both ways, the naive way agreeing with ours, counts that follow from the sizes given. The scripts see the hermetic
environment (tests/fixtures/env.py) with the Hub offline as well: a benchmark never touches the network.

Each script spends most of its few seconds importing torch, transformers and datasets (lighteval too, for some), so
one after the other they would take minutes: when the module starts, every selected run is started, a few side by
side, and each test waits for its own. Under pytest-xdist, whose workers already run side by side, each test starts
its run when it comes.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fixtures.env import BENCHMARK_FOLDERS, BENCHMARKS, REAL_POOL, REPO_ROOT

pytestmark = pytest.mark.slow  # each starts Python with torch, transformers and datasets; some start lighteval

SCRIPTS = REPO_ROOT / "benchmarks"
TIMEOUT = 600  # seconds a run may take; far above what each takes, even on a busy 2-core machine
SIDE_BY_SIDE = 4  # runs at once: each mostly runs on one core, and peaks at about 1.3 GB of memory
NUMBER = r"-?[\d,]+(?:\.\d+)?"


@dataclass(frozen=True)
class Run:
    script: str
    flags: str  # split on spaces
    needs: tuple[str, ...] = ()  # what of ../shared/data it reads: "pool", "benchmarks"
    exits: int = 0  # the exit status it must end with
    env: dict[str, str] = field(default_factory=dict)  # set for this run only


# The test of run NAME is test_bench_NAME, in this order: the longest first, so that they start first.
RUNS = {
    "experiment": Run(
        "bench_experiment.py",
        "--only joint --steps 1 --problems 1 --runs 2 --seeds 2 --bootstrap-problems 50 --bootstrap-samples 4 "
        "--bootstrap-arms 3 --resamples 500",
        ("benchmarks",),
    ),
    "evaluation_gpu_smoke_run": Run(
        "bench_evaluation.py",
        "--gpu --device cpu --layers 1 --problems 1 --max-new-tokens 2 --vocab 300 --batch-size 1",
        ("benchmarks",),
    ),
    "training_gpu_smoke_run": Run(
        "bench_training.py", "--gpu --device cpu --layers 1 --length 64 --gpu-steps 1 --vocab 300", ("pool",)
    ),
    "training": Run("bench_training.py", "--rows 20 --examples 8 --max-length 512 --cpu-steps 1", ("pool",)),
    "judge_gpu_smoke_run": Run(
        "bench_judge.py", "--gpu --device cpu --prompts 16 --layers 1 --vocab 300", ("pool", "benchmarks")
    ),
    "judge": Run(
        "bench_judge.py",
        "--questions 4 --vocab 300 --layers 1 --threads 1 --generate-batch 2",
        ("pool", "benchmarks"),
    ),
    "evaluation": Run("bench_evaluation.py", "--per-benchmark 1", ("benchmarks",)),
    "grader": Run("bench_grader.py", "--samples 1 --problems 2", ("benchmarks",)),
    "selection": Run("bench_selection.py", "--rows 200 --budget-rows 300 --budget-vocab 300"),
    "length": Run("bench_length.py", "--rows 20 --vocab-size 300", ("pool",)),
    "hygiene": Run("bench_hygiene.py", "--rows 300 --naive-sample 60 --naive-pairs-sample 60", ("pool", "benchmarks")),
    "decontamination": Run("bench_decontamination.py", "--per-benchmark 3 --misses 1", ("pool", "benchmarks")),
    "report": Run("bench_report.py", "--rows 200"),
    "rollouts": Run(
        "bench_rollouts.py", "--questions 3 --rollouts 2 --max-new-tokens 3 --layers 1 --hidden 32 --vocab 300"
    ),
    "rollouts_gpu_smoke_run": Run(
        "bench_rollouts.py", "--gpu --device cpu --questions 2 --rollouts 2 --max-new-tokens 3 --layers 1"
    ),
    # The GPU modes where torch sees no CUDA device (hidden from it, so on a GPU machine too): one line saying so.
    **{
        f"{name}_gpu_without_cuda": Run(f"bench_{name}.py", "--gpu", exits=1, env={"CUDA_VISIBLE_DEVICES": ""})
        for name in ("judge", "training", "evaluation", "rollouts")
    },
}


def data_present(needs: tuple[str, ...]) -> bool:
    """The files of ../shared/data a run reads are there (its test skips, with the reason, where they are not)."""
    paths = {
        "pool": [REAL_POOL],
        "benchmarks": [BENCHMARKS / folder / "test.jsonl" for folder in BENCHMARK_FOLDERS.values()],
    }
    return all(path.exists() for need in needs for path in paths[need])


class BenchmarkRuns:
    """The benchmark runs of this module: each started once, in its own folder, at most SIDE_BY_SIDE at a time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.executor = ThreadPoolExecutor(max_workers=SIDE_BY_SIDE)
        self.started: dict[str, Future] = {}
        self.processes: list[subprocess.Popen] = []
        self.lock = threading.Lock()  # no process starts once close() began stopping them
        self.closed = False

    def start(self, name: str) -> None:
        if name not in self.started:
            self.started[name] = self.executor.submit(self._run, name)

    def finished(self, name: str) -> tuple[str, str]:
        """Run NAME's standard output and error, once it ended with the exit status it must end with."""
        self.start(name)
        run = RUNS[name]
        command = f"{run.script} {run.flags}"
        returncode, stdout, stderr = self.started[name].result()
        assert returncode is not None, f"{command} ran past {TIMEOUT} s and was stopped:\n{stderr[-4000:]}"
        assert returncode == run.exits, f"{command} exited with {returncode}, not {run.exits}:\n{stderr[-4000:]}"
        return stdout, stderr

    def output(self, name: str) -> str:
        return self.finished(name)[0]

    def _run(self, name: str) -> tuple[int | None, str, str]:
        run = RUNS[name]
        cwd = self.folder / name  # whatever a script writes in its working folder stays out of the checkout
        cwd.mkdir()
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT),
            "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1",
            "OMP_NUM_THREADS": "1",  # one thread each: they run side by side on a shared machine, at tiny sizes
            **run.env,
        }
        with self.lock:
            if self.closed:
                return None, "", "not started: the module ended first"
            process = subprocess.Popen(
                [sys.executable, str(SCRIPTS / run.script), *run.flags.split()],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                cwd=cwd,
            )
            self.processes.append(process)
        try:
            stdout, stderr = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate()
            return None, stdout, stderr
        return process.returncode, stdout, stderr

    def close(self) -> None:
        with self.lock:
            self.closed = True
            for process in self.processes:
                if process.poll() is None:  # the module ended early (a failure with -x, Ctrl-C): no orphans
                    process.kill()
        self.executor.shutdown(wait=True, cancel_futures=True)


def _runs_scope(fixture_name: str, config) -> str:
    """One set of runs for the module; under pytest-xdist one per test, so that the tests are not all kept on one
    worker (tests/fixtures/parallel.py keeps the users of a module fixture together) and each runs where it lands."""
    return "function" if hasattr(config, "workerinput") else "module"


@pytest.fixture(scope=_runs_scope)
def benchmark_runs(request, tmp_path_factory):
    runs = BenchmarkRuns(tmp_path_factory.mktemp("benchmark-runs"))
    if not hasattr(request.config, "workerinput"):  # not a pytest-xdist worker: start every selected run now
        selected = {
            item.name.removeprefix("test_bench_")
            for item in request.session.items
            if getattr(item, "module", None) is request.module
        }
        for name, run in RUNS.items():
            if name in selected and data_present(run.needs):
                runs.start(name)
    yield runs
    runs.close()


def line_matching(output: str, pattern: str) -> re.Match:
    """The first line of `output` that `pattern` matches from its start (after spaces)."""
    for line in output.splitlines():
        match = re.match(r"\s*" + pattern, line)
        if match:
            return match
    raise AssertionError(f"no line matches {pattern!r} in:\n{output}")


def number(text: str) -> float:
    return float(text.replace(",", ""))


def test_every_script_has_a_test():
    scripts = sorted(path.name for path in SCRIPTS.glob("bench_*.py"))
    assert sorted({run.script for run in RUNS.values()}) == scripts
    assert all(callable(globals().get(f"test_bench_{name}")) for name in RUNS)


def test_makefile_bench_runs_every_script():
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    target = makefile.split("\nbench:", 1)[1].split("\n\n", 1)[0]
    listed = re.findall(r"benchmarks/(bench_\w+\.py)", target)
    assert sorted(listed) == sorted(path.name for path in SCRIPTS.glob("bench_*.py"))


def test_bench_experiment(benchmark_runs, benchmark_paths):
    out = benchmark_runs.output("experiment")
    assert "tiny-cpu experiment (joint), whole processes" in out
    first = line_matching(out, rf"1\. whole experiment, from nothing\s+{NUMBER}\s+1\.0x  (.*)$")
    assert first[1] == "pool, joint/select, joint/seed0/train, joint/seed0/evaluate"
    again = line_matching(out, rf"2\. same command again \(all up to date\)\s+{NUMBER}\s+{NUMBER}x  (.*)$")
    assert again[1] == "-"  # nothing ran again
    steps = {match[1] for match in re.finditer(rf"^  (\w+)\s+{NUMBER} s  \(n=1\)$", out, re.MULTILINE)}
    assert steps == {"pool", "select", "train", "evaluate"}
    seeds = line_matching(
        out,
        rf"5\. 2 training seeds, from nothing: {NUMBER} s \(run 1, then {NUMBER} s to add seeds 1-1\), "
        rf"{NUMBER}x the cost of one seed \(run 1\)  steps run: .*$",
    )
    assert seeds[0].endswith("steps run: joint/seed1/train, joint/seed1/evaluate")  # seed 0 is kept from run 1
    line_matching(
        out,
        rf"6\. intervals and paired differences, 50 problems x 4 samples x 3 arms, 500 draws each: vectorised "
        rf"{NUMBER} s; a Python loop over the draws {NUMBER} s \({NUMBER}x\); the same intervals$",
    )


def test_bench_evaluation_gpu_smoke_run(benchmark_runs, benchmark_paths):
    out = benchmark_runs.output("evaluation_gpu_smoke_run")
    line_matching(out, r"smoke run: transformers evaluated 1 answer\(s\) of 2 tokens on average on cpu; no figure")
    if importlib.util.find_spec("vllm") is None:
        line_matching(out, r"smoke run: vllm checked up to its arguments \(backend, batch_size, .*cannot import")
    else:
        line_matching(out, r"smoke run: vllm evaluated 1 answer\(s\)")
    assert "tokens/s" not in out and "vLLM / transformers" not in out  # a smoke run prints no figure


def test_bench_training_gpu_smoke_run(benchmark_runs, real_pool_path):
    out = benchmark_runs.output("training_gpu_smoke_run")
    for packing in ("False", "True "):
        # One sequence of exactly --length tokens per step, all of them real tokens.
        line_matching(out, rf"smoke run: liger=False packing={packing} 1 steps, 64 tokens seen, .* train loss {NUMBER}")
    if importlib.util.find_spec("liger_kernel") is None:
        assert "liger=True: skipped, liger-kernel is not installed" in out
    else:
        line_matching(out, r"smoke run: liger=True  packing=False 1 steps, 64 tokens seen")
    assert "tokens/s" not in out and "MFU" not in out  # a smoke run prints no figure


def test_bench_training(benchmark_runs, real_pool_path):
    out = benchmark_runs.output("training")
    line_matching(out, rf"measuring 20 conversations: prepare_sft_dataset {NUMBER} s, per-row map {NUMBER} s")
    whole = line_matching(out, r"whole pool\s+([\d,]+)  1\.000$")
    joint = line_matching(out, r"joint 10% \(w=0\.25\)\s+([\d,]+)  ([\d.]+) of the pool")
    assert 0 < number(joint[1]) < number(whole[1])
    assert float(joint[2]) == pytest.approx(number(joint[1]) / number(whole[1]), abs=5e-4)
    for packing in ("False", "True "):
        line_matching(out, rf"packing={packing}\s+[\d,]+ tokens in\s+{NUMBER} s =\s+{NUMBER} tokens/s$")
    line_matching(out, rf"packing / no packing: {NUMBER}x$")


def test_bench_judge_gpu_smoke_run(benchmark_runs, real_pool_path, benchmark_paths):
    out = benchmark_runs.output("judge_gpu_smoke_run")
    assert "smoke run of the GPU judge benchmark on cpu: Qwen2.5-1.5B architecture (1 layers, smoke widths)" in out
    smoke = line_matching(
        out, r"smoke run: (\d+) prompts scored \(\d+ tokens, (\d+) forward passes.*scores in \[(\S+), (\S+)\]"
    )
    assert int(smoke[1]) == 16 and int(smoke[2]) >= 1
    assert 0 <= float(smoke[3]) <= float(smoke[4]) <= 1
    assert "MFU" not in out and "prompts/s" not in out  # a smoke run prints no figure


def test_bench_judge(benchmark_runs, real_pool_path, benchmark_paths):
    out = benchmark_runs.output("judge")
    assert re.search(r"CPU judge benchmark: 4 real questions, Qwen2 [\d.]+M parameters \(1 layers,", out)
    rows = {
        match[1]: [number(value) for value in match.groups()[1:5]] + [float(match[6])]
        for match in re.finditer(
            rf"^\| (ours|naive|batched)[^|]* \| ({NUMBER}) \| ({NUMBER}) \| ({NUMBER})x \| ({NUMBER})% \| (\S+) \|$",
            out,
            re.MULTILINE,
        )
    }
    assert sorted(rows) == ["batched", "naive", "ours"]
    # One question at a time, generate reads the same position as ours: the same probabilities, to float error.
    assert rows["ours"][4] == 0.0 and rows["naive"][4] < 1e-4
    line_matching(out, rf"ours vs naive: {NUMBER}x \(target >= 10x\); ours vs batched generate: {NUMBER}x")


def test_bench_evaluation(benchmark_runs, benchmark_paths):
    out = benchmark_runs.output("evaluation")
    assert re.search(
        r"^\d+ completions \(1 golds per benchmark, several spellings each, one wrong answer\)$", out, re.M
    )
    for method in ("ours: grade_answer", "naive: last-boxed string equality"):
        line_matching(out, rf"{re.escape(method)}\s+{NUMBER}\s+{NUMBER}%\s+100\.0%$")  # both reject the wrong answers
    ratio = line_matching(
        out, rf"speed ratio ours/naive: {NUMBER}; equivalent spellings accepted: ({NUMBER})% vs ({NUMBER})%"
    )
    assert number(ratio[1]) == 100.0 > number(ratio[2])  # `27.0` for `27`, `\dfrac`: equal only to a math grader


def test_bench_grader(benchmark_runs, benchmark_paths):
    out = benchmark_runs.output("grader")
    # 2 problems of each sampled benchmark once, and 2 of MATH-500: every kind of completion in turn.
    line_matching(out, r"8 completions \(aime24, aime25, amc23 x1 samples, math500 once, 2 problems each\)")
    ours = line_matching(out, rf"\| ours \(s2r_hf\.answers\) \| ({NUMBER}) \| ({NUMBER})% \| ({NUMBER})% \|")
    line_matching(out, rf"\| lighteval 0\.13 \(before\) \| {NUMBER} \| {NUMBER}% \| {NUMBER}% \|")
    assert (number(ours[2]), number(ours[3])) == (100.0, 100.0)  # every right answer accepted, every wrong rejected
    slowest = line_matching(out, rf"adversarial answers: 5, slowest graded in ({NUMBER}) s \(limit 5 s\)")
    assert number(slowest[1]) < 5


def test_bench_selection(benchmark_runs):
    out = benchmark_runs.output("selection")
    assert "selection of 10% of 200 rows (joint rank, weight 0.25)" in out
    ours = line_matching(out, rf"s2r_hf\.select \(Arrow \+ numpy\)\s+({NUMBER})\s+({NUMBER})$")
    naive = line_matching(out, rf"naive \(list of dicts \+ sorted\)\s+({NUMBER})\s+({NUMBER})$")
    assert number(ours[1]) > 0 and number(naive[1]) >= 0
    line_matching(out, rf"speed-up: {NUMBER}x   same ids selected: True$")
    assert re.search(r"^token budget of 10% of the trainer tokens of 300 conversations \([\d,]+ tokens, joint order\), "
                     r"BPE vocabulary [\d,]+, (real|synthetic) traces$", out, re.MULTILINE)  # fmt: skip
    ours = line_matching(out, rf"select\(token_budget=N\) \(batched chat template\)\s+({NUMBER})\s+({NUMBER})$")
    naive = line_matching(out, rf"row by row \(apply_chat_template per row\)\s+({NUMBER})\s+({NUMBER})$")
    assert number(ours[2]) == number(naive[2]) > 0  # the same number of rows within the budget
    line_matching(out, rf"speed-up: {NUMBER}x   same rows taken: True$")


def test_bench_length(benchmark_runs, real_pool_path):
    out = benchmark_runs.output("length")
    assert re.search(r"^20 traces, .* BPE vocabulary 300$", out, re.MULTILINE)
    line_matching(out, rf"add_trace_columns \(batched, Rust encode_batch\)\s+{NUMBER}\s+{NUMBER}$")
    line_matching(out, rf"speed-up: {NUMBER}x   same counts: True$")


def test_bench_hygiene(benchmark_runs, real_pool_path, benchmark_paths):
    out = benchmark_runs.output("hygiene")
    counts = line_matching(out, r"300 questions; ([\d,]+) benchmark problems; (\d+) injected;")
    assert int(counts[2]) == 120  # 20 problems of each of the six benchmarks
    for rule in ("coverage (n = 5)", "any-ngram (n = 8)"):  # each rule, side by side, checked against the naive loop
        section = out.split(f"rule {rule}\n", 1)[1]
        line_matching(section, rf"speed-up: {NUMBER}x; same rows dropped on the sample: yes$")
        caught = line_matching(section, r"dropped [\d,]+ rows; injected benchmark problems caught: (\d+)/(\d+)$")
        assert caught[1] == caught[2] == "120"
    assert "per benchmark: math500 " in out
    line_matching(out, rf"naive exact all-pairs Jaccard:\s+{NUMBER} s")
    line_matching(out, r"injected pairs: recall (?:[\d.]+|n/a) \(\d+/\d+\), precision (?:[\d.]+|n/a) \(\d+/\d+\)$")


def test_bench_decontamination(benchmark_runs, real_pool_path, benchmark_paths):
    out = benchmark_runs.output("decontamination")
    split = line_matching(out, r"^real pool: 291 LIMO questions; benchmark problems injected: 18 in each of 7 forms "
                          r"\((\d+) development, (\d+) held out\)$")  # fmt: skip
    held_out = int(split[2])
    assert int(split[1]) + held_out == 18 and held_out > 0
    for form in ("verbatim", "re-spaced", "re-cased", "numbers changed", "wrapped"):  # the default catches them all
        line_matching(out, rf"^  {form}\s+1\.000 \({held_out}/{held_out}\)\s+{NUMBER} \(\d+/{held_out}\)$")
    line_matching(out, rf"^  paraphrase\s+{NUMBER} \(\d+/{held_out}\)\s+{NUMBER} \(\d+/{held_out}\)$")
    # the whole real pool is measured at any size: the default keeps 288 of its 291 questions, open-r1's rule 202
    line_matching(out, r"^  coverage   kept 288/291 \(0\.990\)$")
    line_matching(out, r"^  any-ngram  kept 202/291 \(0\.694\)$")


def test_bench_report(benchmark_runs):
    out = benchmark_runs.output("report")
    assert "pool: 200 rows; quadrant short-hard, k = 20" in out
    line_matching(
        out, rf"quadrant select  ours\s+{NUMBER} s  naive\s+{NUMBER} s  speed-up\s+{NUMBER}x  same ids: True$"
    )
    taken = line_matching(out, r"taken: \{'short-hard': (\d+)\}$")
    assert int(taken[1]) == 20  # the 200-row pool's short-hard quadrant holds more than k rows
    line_matching(out, rf"describe_pool    ours\s+{NUMBER} s")
    if importlib.util.find_spec("scipy") is None:
        assert "scipy not installed: no comparison" in out
        return
    spearman = line_matching(out, rf"difficulty ~ length: ours ({NUMBER}) \(rounded\), scipy ({NUMBER})")
    assert number(spearman[1]) == round(number(spearman[2]), 4)


def check_gpu_mode_without_cuda(benchmark_runs, name: str) -> None:
    out, err = benchmark_runs.finished(f"{name}_gpu_without_cuda")
    assert err.strip().splitlines() == [
        "--gpu needs a CUDA device; torch sees none (--gpu --device cpu smoke-tests this code path)"
    ]
    assert out == ""


def test_bench_judge_gpu_without_cuda(benchmark_runs):
    check_gpu_mode_without_cuda(benchmark_runs, "judge")


def test_bench_training_gpu_without_cuda(benchmark_runs):
    check_gpu_mode_without_cuda(benchmark_runs, "training")


def test_bench_evaluation_gpu_without_cuda(benchmark_runs):
    check_gpu_mode_without_cuda(benchmark_runs, "evaluation")


def test_bench_rollouts_gpu_without_cuda(benchmark_runs):
    check_gpu_mode_without_cuda(benchmark_runs, "rollouts")


def test_bench_rollouts(benchmark_runs):
    out = benchmark_runs.output("rollouts")
    assert re.search(
        r"^CPU rollouts benchmark: 3 questions x 2 completions, Qwen2 [\d.]+M parameters \(1 layers", out, re.M
    )
    rows = {
        match[1]: (int(match[2]), int(match[3]))
        for match in re.finditer(rf"^\| (ours|naive)[^|]* \| (\d+) \| (\d+) \| {NUMBER} \| {NUMBER} \|$", out, re.M)
    }
    # Both sample 3 x 2 completions; each has 1 to 3 new tokens (random weights rarely end one early).
    assert sorted(rows) == ["naive", "ours"] and all(completions == 6 for completions, _ in rows.values())
    assert all(6 <= tokens <= 18 for _, tokens in rows.values())
    line_matching(out, rf"ours vs naive: {NUMBER}x rollouts/s")


def test_bench_rollouts_gpu_smoke_run(benchmark_runs):
    out = benchmark_runs.output("rollouts_gpu_smoke_run")
    assert "smoke run of the GPU rollouts benchmark on cpu: Qwen2.5-1.5B architecture (1 layers, smoke widths" in out
    smoke = line_matching(out, r"smoke run: 2 prompts x 2 completions sampled, (\d+) completions, (\d+) new tokens")
    assert int(smoke[1]) == 4 and 4 <= int(smoke[2]) <= 12
    assert "rollouts/s" not in out and "tokens/s" not in out  # a smoke run prints no figure
