"""Offline means no network at all (issue 16, case 16): lighteval fetched nltk data on every run, with no timeout, and
hung at "LOADING TASKS" behind a proxy that never answers."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request

import pytest
from fixtures.evaluation import SCRIPTED_MODEL, s2r

pytestmark = pytest.mark.slow


@pytest.fixture
def silent_proxy():
    """A local proxy that accepts every connection and never answers; yields (its URL, the connections it took)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    taken: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:  # closed at teardown
                return
            taken.append(connection)

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}", taken
    server.close()
    for connection in taken:
        connection.close()


def test_an_offline_evaluation_with_local_data_never_touches_the_network(benchmark_paths, tmp_path, silent_proxy):
    proxy, taken = silent_proxy
    env = {
        "HF_HUB_OFFLINE": "1",
        **{name: proxy for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy", "ALL_PROXY")},
        "NO_PROXY": "",
        "no_proxy": "",
        "S2R_TEST_SCRIPT": json.dumps({"math500": "oracle"}),
    }
    out = tmp_path / "eval"
    started = time.monotonic()
    done = s2r(
        "evaluate", str(SCRIPTED_MODEL), "--backend", "custom", "--tasks", "math500", "--max-samples", "1",
        "--data", f"math500={benchmark_paths['math500']}", "-o", str(out), env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert time.monotonic() - started < 300
    assert json.loads((out / "results.json").read_text())["results"]["math500"]["pass@1"] == 1.0
    assert taken == []  # not one connection to the proxy: nothing tried the network


@pytest.mark.parametrize("offline", [True, False])
def test_nltk_downloads_in_the_worker_never_hang(silent_proxy, monkeypatch, tmp_path, offline):
    pytest.importorskip("nltk")
    import nltk.downloader
    from huggingface_hub import constants

    from s2r_hf.evaluation import worker

    proxy, taken = silent_proxy
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("no_proxy", "")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", offline)
    monkeypatch.setattr(worker, "NLTK_TIMEOUT_SECONDS", 1)
    monkeypatch.setattr(nltk, "download", nltk.download)  # restored after the test: the worker replaces it
    monkeypatch.setattr(nltk.downloader, "download", nltk.downloader.download)
    # urllib builds its global opener (with the proxies of the environment at that moment) on the first urlopen and
    # keeps it: restore it after the test, or every later urlopen in this process goes to the silent proxy.
    monkeypatch.setattr(urllib.request, "_opener", urllib.request._opener)
    worker._keep_nltk_off_the_network()
    started = time.monotonic()
    assert nltk.download("punkt", download_dir=str(tmp_path)) is False
    assert time.monotonic() - started < 30
    # Offline: not even a connection. Online: the proxy was asked, and its silence cut after the bound.
    assert (len(taken) == 0) if offline else (len(taken) >= 1)
