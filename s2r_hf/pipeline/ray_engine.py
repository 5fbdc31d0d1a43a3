"""`s2r score --engine ray`: the batched steps of scoring run as Ray Data `map_batches` steps on a Ray cluster.

What runs where. The driver (the process running `s2r score`, or the entrypoint of `ray job submit`) reads and adapts
the pool, as the local engine does, and sends the columns each step reads to the cluster in blocks. On the cluster:
- the trace length and rethink count (`s2r_hf.signals.length._trace_columns_batch`), the decontamination matches
  (`s2r_hf.hygiene.decontaminate._match_batch`) and the near-duplicate MinHash signatures
  (`s2r_hf.hygiene.near_duplicates._shingle_batch`) run as stateless Ray tasks, one block at a time;
- a model-backed difficulty scorer (the judge, the sampled rollouts: any scorer whose `batch_step` returns a
  `BatchStep`) runs in a pool of Ray actors: one per GPU of the cluster (`num_gpus=1`, each seeing its GPU as cuda:0;
  a step may ask for more GPUs per worker), or, on a cluster without GPUs, one per `--num-proc` (default: the
  cluster's CPUs). Each actor is one long-lived process that loads the model
  once and calls the same batch function as the local engine, on the same batches (`batch_rows` rows from the first
  row on), so the scores equal a single-process run's row for row.
The results come back to the driver in row order (every block carries its row numbers, checked on return) and are
added to the pool with a `Dataset.map`, as the local engine adds them; the global parts (the near-duplicate clustering,
the decontamination report, the card) stay on the driver.

Resume. The judge keeps its resume store (s2r_hf.signals.judge.store; the sampled scorer its own, alike) in its work
dir: each actor writes every batch it scores there at once, so a rerun of a killed job scores only what is missing.
With `--engine ray` a work dir is always used: `--judge-work-dir` (`--rollout-work-dir`), else `default_work_dir()`
(under the user's cache folder). On a cluster of several
machines give a `--judge-work-dir` on a shared filesystem, so that every actor sees every finished batch.

Faults. Actors are restarted (`max_restarts`) and their unfinished batch retried (`max_task_retries`); tasks are
retried (`max_retries`): a worker killed mid-run costs its batch, not the job.

Connecting. `ray.init()` as Ray does it: `--ray-address` when given, else RAY_ADDRESS (set by `ray job submit`) or a
cluster running on this machine, else a local cluster started for the run (and stopped after it). A given address is
probed first with a bounded wait: no cluster there is one line and exit code 2, not a hang.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from s2r_hf.core.columns import MESSAGES
from s2r_hf.core.errors import InputError, RayJobError, S2RError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import pyarrow as pa
    from datasets import Dataset

    from s2r_hf.signals.difficulty import BatchStep, DifficultyScorer

logger = logging.getLogger(__name__)

# Fault tolerance, Ray's own: a dead actor is started again and its unfinished batch sent again; a failed task (a
# killed worker process) is run again. Bounded, so that a batch that always kills its worker ends the job.
# Passed as map_batches' ray_remote_args_fn (deprecated in Ray 2.60, removed in 2.64, hence the extra's upper bound).
ACTOR_RESTARTS = 3
TASK_RETRIES = 3
# Rows per block of the model-free steps (datasets' default map batch).
BLOCK_ROWS = 1000
# How long a given cluster address may take to answer before it counts as unreachable (seconds).
CONNECT_TIMEOUT = 10.0
_ROW = "_s2r_row"  # the row number every block carries to the cluster and back
# Test hook: a marker file path; the first model worker to reach its batch number S2R_RAY_TEST_EXIT_AFTER (default 0)
# creates the file and ends its process at once (os._exit), as a killed worker would. Used by tests/pipeline.
EXIT_HOOK = "S2R_RAY_TEST_EXIT_ONCE"
EXIT_AFTER = "S2R_RAY_TEST_EXIT_AFTER"


def default_work_dir() -> Path:
    """Where `--engine ray` keeps the judge's resume store when no `--judge-work-dir` is given."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "s2r_hf" / "judge-resume"


def probe_address(address: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """Fail in at most `timeout` seconds, naming the address, when nothing listens there (ray.init would wait on)."""
    if address in ("auto", "local"):
        return
    parts = urlsplit(address if "://" in address else f"ray://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number
        host, port = None, None
    if not host or port is None:
        raise InputError(
            f"--ray-address {address!r} is not HOST:PORT (e.g. 10.0.0.5:6379, or ray://10.0.0.5:10001 for Ray "
            "Client); give the head node's address, or leave the option out to use RAY_ADDRESS or a local cluster"
        )
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as err:
        raise InputError(
            f"no Ray cluster reachable at --ray-address {address!r} ({err or type(err).__name__}, waited up to "
            f"{timeout:g} s); start one there (`ray start --head`), check the address, or leave the option out to "
            "start a local cluster"
        ) from None


class RayEngine:
    """The Ray side of `score_pool`: a connection, and the steps that run on the cluster."""

    def __init__(self, *, num_proc: int | None, started: bool):
        self.num_proc = num_proc
        self.started = started  # this run called ray.init: it ends with ray.shutdown (a local cluster stops with it)

    @classmethod
    def connect(cls, address: str | None, *, num_proc: int | None = None) -> RayEngine:
        """Join the cluster `address` names (None: RAY_ADDRESS, a running cluster, else a new local one)."""
        import ray
        import ray.data

        # A batch function's own error (one line naming the fix) reaches the driver as itself, not as Ray Data's
        # UserCodeException around it (whose cause does not travel).
        ray.data.DataContext.get_current().raise_original_map_exception = True
        given = address if address is not None else os.environ.get("RAY_ADDRESS")
        if given:
            probe_address(given)
        if ray.is_initialized():  # the caller's own session (a script, the tests): use it as it is
            return cls(num_proc=num_proc, started=False)
        try:
            context = ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
        except ConnectionError as err:  # no cluster at "auto", or one that refused this driver
            # `ray start` (Ray 2.5x on) turns token authentication on, and a driver joining it must too.
            auth = "" if os.environ.get("RAY_AUTH_MODE") else (
                "; a cluster started with `ray start` asks for its token: set RAY_AUTH_MODE=token (the token is read "
                "from ~/.ray/auth_token or RAY_AUTH_TOKEN)"
            )  # fmt: skip
            raise InputError(
                f"could not join a Ray cluster ({' '.join(str(err).split())[:200]}){auth}; or start one "
                "(`ray start --head`), check --ray-address, or leave it out to start a local cluster"
            ) from None
        address_info = getattr(context, "address_info", {}) or {}
        logger.info("Ray: connected to %s", address_info.get("gcs_address", "a local cluster"))
        return cls(num_proc=num_proc, started=True)

    def close(self) -> None:
        import ray

        if self.started and ray.is_initialized():
            ray.shutdown()

    # ---- what score_pool asks of an engine ------------------------------------------------------------------------

    def scorer_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """A scorer with a resume store always gets a work dir here: a killed job resumes from its finished batches."""
        if "work_dir" in options and options["work_dir"] is None:
            options = {**options, "work_dir": str(default_work_dir())}
            logger.info("Ray: the scorer's finished batches go to %s (--judge-work-dir to choose)", options["work_dir"])
        return options

    def add_trace_columns(self, pool: Dataset, tokenizer, *, discount_repeated_steps: bool, rethink_markers) -> Dataset:
        """`s2r_hf.signals.length.add_trace_columns`, its batch function run as Ray tasks."""
        from s2r_hf.signals.length import _trace_columns_batch

        fn_kwargs = {
            "tokenizer": tokenizer,
            "discount_repeated_steps": discount_repeated_steps,
            "rethink_markers": tuple(rethink_markers),
        }
        outputs = self.run_tasks(pool, [MESSAGES], _trace_columns_batch, fn_kwargs, desc="trace length")
        return attach_columns(pool, outputs, "trace length")

    def map_outputs(
        self, dataset: Dataset, function: Callable, *, fn_kwargs: dict[str, Any], desc: str, columns: Sequence[str]
    ) -> Dataset:
        """The hygiene steps' mapper (s2r_hf.hygiene): the function run on `columns` (only those travel to the
        cluster); its output columns, as a dataset, row for row."""
        from datasets import Dataset
        from datasets.table import InMemoryTable

        outputs = self.run_tasks(dataset, columns, function, fn_kwargs, desc=desc)
        return Dataset(InMemoryTable(outputs))

    def add_difficulty(self, scorer: DifficultyScorer, pool: Dataset) -> Dataset:
        """The scorer's model step in an actor pool (or, for a scorer without one, its own `add_difficulty`)."""
        step = scorer.batch_step(pool)
        if step is None:  # a column-only scorer: nothing worth sending to the cluster
            return scorer.add_difficulty(pool, num_proc=self.num_proc)
        outputs = self.run_model_step(pool, step)
        return scorer.finish_batches(attach_columns(pool, outputs, f"difficulty ({scorer.name})"))

    # ---- running a batch function on the cluster ------------------------------------------------------------------

    def run_tasks(
        self, dataset: Dataset, columns: Sequence[str], function: Callable, fn_kwargs: dict[str, Any], *, desc: str
    ) -> pa.Table:
        """`function(batch, **fn_kwargs)` over `dataset`'s `columns` as stateless Ray tasks; outputs in row order."""
        ray_data = blocks_of(dataset, columns, BLOCK_ROWS)
        mapped = ray_data.map_batches(
            _run_batch,
            batch_size=None,  # one block is one batch: the blocks are cut to the batch size already
            batch_format="pyarrow",
            fn_kwargs={"function": function, "fn_kwargs": fn_kwargs},
            ray_remote_args_fn=lambda: {"max_retries": TASK_RETRIES},
        )
        return collect(mapped, len(dataset), desc)

    def run_model_step(self, pool: Dataset, step: BatchStep) -> pa.Table:
        """A scorer's `BatchStep` in a fixed pool of actors: one per GPU, or per CPU slot on a CPU cluster."""
        import ray
        import ray.data

        resources = ray.cluster_resources()
        gpus = int(resources.get("GPU", 0))
        on_gpu = gpus > 0 and (step.device is None or step.device.startswith("cuda"))  # device "cpu": CPU actors
        if on_gpu:
            if gpus < step.gpus_per_worker:
                raise InputError(
                    f"the difficulty step needs {step.gpus_per_worker} GPUs per worker (tensor x data parallel), and "
                    f"the Ray cluster has {gpus}; lower them, or use a cluster with that many GPUs"
                )
            actors, per_actor = gpus // step.gpus_per_worker, {"num_gpus": step.gpus_per_worker}
        else:
            actors = self.num_proc or max(1, int(resources.get("CPU", 1)))
            per_actor = {"num_cpus": 1}
        hook = os.environ.get(EXIT_HOOK)
        restarts = ACTOR_RESTARTS
        logger.info("Ray: %d %s worker(s) for the difficulty step", actors, "GPU" if on_gpu else "CPU")
        ray_data = blocks_of(pool, step.input_columns, step.batch_rows)
        mapped = ray_data.map_batches(
            _ModelWorker,
            batch_size=None,
            batch_format="pyarrow",
            fn_constructor_kwargs={
                "function": step.function,
                "fn_kwargs": step.fn_kwargs,
                # Each actor sees its own GPUs from cuda:0 on (Ray sets CUDA_VISIBLE_DEVICES), so its rank is 0.
                "rank": 0 if on_gpu else None,
                "exit_hook": (hook, int(os.environ.get(EXIT_AFTER, "0"))) if hook else None,
            },
            compute=ray.data.ActorPoolStrategy(size=actors),
            ray_remote_args_fn=lambda: {"max_restarts": restarts, "max_task_retries": restarts},
            **per_actor,
        )
        return collect(mapped, len(pool), "difficulty")

    def __repr__(self) -> str:
        return f"RayEngine(num_proc={self.num_proc}, started={self.started})"


def blocks_of(dataset: Dataset, columns: Sequence[str], rows_per_block: int):
    """A Ray dataset of `columns` in blocks of `rows_per_block` rows (the batches of the local map), numbered."""
    import numpy as np
    import pyarrow as pa
    import ray.data

    table = dataset.select_columns(list(columns)).with_format("arrow")[:]  # respects a selection (indices mapping)
    table = table.append_column(_ROW, pa.array(np.arange(len(table), dtype=np.int64)))
    blocks = [table.slice(start, rows_per_block) for start in range(0, len(table), rows_per_block)] or [table]
    return ray.data.from_arrow(blocks)


def collect(mapped, rows: int, desc: str) -> pa.Table:
    """The output blocks, gathered on the driver and put back in row order; every row exactly once, or an error."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import ray
    import ray.exceptions

    try:
        tables = [table for table in ray.get(mapped.to_arrow_refs()) if table.num_rows]
    except ray.exceptions.RayError as err:
        cause = _our_error(err)
        if cause is not None:  # a problem the batch function found (a bad value, a judge out of memory): as is
            raise cause from None
        raise RayJobError(
            f"the Ray step {desc!r} failed after Ray's retries: {' '.join(str(err).split())[:400]}. Run the same "
            "command again: a scorer's finished batches are kept in its work dir and not scored again"
        ) from err
    if not tables:
        return pa.table({_ROW: pa.array([], pa.int64())})
    try:
        table = pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # nested values whose inferred types differ between blocks
        merged: dict[str, list] = {}
        for block in tables:
            for name, values in block.to_pydict().items():
                merged.setdefault(name, []).extend(values)
        table = pa.table(merged)
    order = pc.sort_indices(table[_ROW])
    table = table.take(order)
    numbers = table[_ROW].to_numpy()
    if len(numbers) != rows or (rows and (numbers[0] != 0 or numbers[-1] != rows - 1 or len(set(numbers)) != rows)):
        raise RayJobError(
            f"the Ray step {desc!r} returned {len(numbers)} rows for {rows}; a block was lost or doubled. Run the "
            "same command again"
        )
    return table.drop_columns([_ROW])


def _our_error(error: BaseException) -> S2RError | None:
    """The S2RError a worker raised, out of the Ray errors wrapped around it (None: the failure was Ray's own)."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        # Ray's RayTaskError(ColumnTypeError) is a ColumnTypeError too, with a traceback for a message: the one
        # raised is its `cause`.
        inner = getattr(error, "cause", None) or error.__cause__
        if isinstance(error, S2RError) and not isinstance(inner, S2RError):
            return error
        error = inner
    return None


def _run_batch(table: pa.Table, *, function: Callable, fn_kwargs: dict[str, Any]) -> pa.Table:
    """One block through a batch function (as datasets' map gives it: column -> list of Python values)."""
    import pyarrow as pa

    rows = table[_ROW]
    outputs = function(table.drop_columns([_ROW]).to_pydict(), **fn_kwargs)
    return pa.table({**outputs, _ROW: rows})


class _ModelWorker:
    """One Ray actor of a model step: a long-lived process that loads the model on its first batch and keeps it."""

    def __init__(self, function: Callable, fn_kwargs: dict[str, Any], rank: int | None, exit_hook=None):
        self.function = function
        self.fn_kwargs = fn_kwargs
        self.rank = rank
        self.exit_hook = exit_hook
        self.calls = 0

    def __call__(self, table: pa.Table) -> pa.Table:
        import pyarrow as pa

        if self.exit_hook is not None:
            _exit_once(*self.exit_hook, calls=self.calls)
        self.calls += 1
        rows = table[_ROW]
        outputs = self.function(table.drop_columns([_ROW]).to_pydict(), self.rank, **self.fn_kwargs)
        return pa.table({**outputs, _ROW: rows})


def _exit_once(marker: str, after: int, *, calls: int) -> None:
    """The test hook: end this process, as a killed worker, once in the whole job (the marker file says it was)."""
    if calls < after:
        return
    try:
        descriptor = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    os.close(descriptor)
    os._exit(1)


def attach_columns(pool: Dataset, outputs: pa.Table, desc: str) -> Dataset:
    """`pool` with the output columns, added by a `Dataset.map` as the local engine's map adds them (same types, same
    order, a column of that name replaced). The fingerprint names the pool and the values themselves."""
    import pyarrow as pa

    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, outputs.schema) as writer:
        writer.write_table(outputs)
    digest = hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()
    fingerprint = hashlib.sha256(f"{pool._fingerprint}:{digest}".encode()).hexdigest()[:32]
    return pool.map(
        _take_rows,
        batched=True,
        with_indices=True,
        fn_kwargs={"outputs": outputs},
        new_fingerprint=f"s2r-ray-{fingerprint}",
        desc=f"Ray results: {desc}",
    )


def _take_rows(batch: dict[str, list], indices: list[int], *, outputs: pa.Table) -> dict[str, list]:
    return {name: outputs[name].take(indices).to_pylist() for name in outputs.column_names}
