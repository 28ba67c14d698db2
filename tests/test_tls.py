"""TLS between a chief that listens beyond loopback and its workers (``listen=``).

A real chief's gRPC server (:class:`WorkerPool` serving, no search, no TensorFlow) and real
``python -m automl_nb worker`` processes: a wrong fingerprint and a wrong token are each
refused in a sentence, a plain-text client cannot talk to the chief at all, and a worker's
link trusts the chief's own certificate alone. The join of a worker that trains over TLS is
in tests/test_workers.py (its searches with ``listen=`` serve TLS).
"""

from __future__ import annotations

import os
import subprocess
import sys

import grpc
import pytest

from automl_nb.backends.workers import WorkerPool, tls
from automl_nb.backends.workers.rpc import SERVICE, dumps, loads, token_interceptor


@pytest.fixture
def chief():
    pool = WorkerPool(1, listen="127.0.0.1:0")
    pool._serve()
    try:
        yield pool
    finally:
        pool._server.stop(grace=0).wait(5)


def join(pool, token, fingerprint=None):
    cmd = [sys.executable, "-m", "automl_nb", "worker", "--chief", pool.address, "--token", token]
    if fingerprint:
        cmd += ["--fingerprint", fingerprint]
    env = {**os.environ, "AUTOML_NB_TOKEN": ""}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=False)
    return proc.returncode, proc.stderr


def test_a_certificate_and_its_fingerprint():
    key, cert = tls.make_certificate()
    assert b"PRIVATE KEY" in key and b"CERTIFICATE" in cert
    fp = tls.fingerprint(cert)
    assert fp.startswith("SHA256:") and len(fp) == len("SHA256:") + 64
    assert tls.same_fingerprint(fp, fp[len("SHA256:"):].upper())
    assert not tls.same_fingerprint(fp, tls.fingerprint(tls.make_certificate()[1]))  # one a search


def test_a_chief_with_listen_serves_tls_and_its_join_command_carries_the_fingerprint(chief):
    assert chief.tls and chief.fingerprint.startswith("SHA256:")
    assert chief.join_command().endswith(f"--fingerprint {chief.fingerprint}")
    host, port = chief.address.rsplit(":", 1)
    presented = tls.fetch_certificate(host, int(port))
    assert tls.fingerprint(presented) == chief.fingerprint
    assert WorkerPool(1).tls is False  # loopback only: plain


def test_a_wrong_fingerprint_is_refused_before_anything_is_sent(chief):
    other = tls.fingerprint(tls.make_certificate()[1])
    rc, err = join(chief, chief.token, other)
    assert rc == 1
    assert f"refused the chief at {chief.address}: its certificate's fingerprint {chief.fingerprint}" in err
    assert "nothing was sent to it" in err


def test_a_wrong_token_over_tls_is_refused(chief):
    rc, err = join(chief, "wrong", chief.fingerprint)
    assert rc == 1 and "refused this worker: its --token is not the search's" in err


def test_a_worker_without_the_fingerprint_cannot_talk_in_plain_text(chief):
    rc, err = join(chief, chief.token)
    assert rc == 1 and f"the chief at {chief.address} speaks TLS" in err and "--fingerprint" in err


def test_the_channel_is_tls_trusting_the_chiefs_certificate_alone(chief):
    host, port = chief.address.rsplit(":", 1)
    certificate = tls.fetch_certificate(host, int(port))

    def hello(channel):
        stub = grpc.intercept_channel(channel, token_interceptor("wrong")).unary_unary(
            f"/{SERVICE}/Hello", request_serializer=dumps, response_deserializer=loads)
        with pytest.raises(grpc.RpcError) as info:
            stub({"worker": None}, timeout=5)
        return info.value.code()

    # over TLS with the chief's certificate the call arrives, and the gate answers it
    assert hello(tls.secure_channel(chief.address, certificate)) == grpc.StatusCode.UNAUTHENTICATED
    # a plain-text client, or one trusting another certificate, never reaches the gate
    assert hello(grpc.insecure_channel(chief.address)) == grpc.StatusCode.UNAVAILABLE
    stranger = tls.make_certificate()[1]
    assert hello(tls.secure_channel(chief.address, stranger)) == grpc.StatusCode.UNAVAILABLE
