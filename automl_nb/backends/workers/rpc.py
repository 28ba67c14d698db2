"""The wire between the chief and its workers: gRPC services, the token, JSON payloads.

The chief serves two services on one port: KerasTuner's own ``keras_tuner.Oracle`` (its
``OracleServicer``, whose trial starts and ends are told to the chief's engine) and a small
JSON service of ours, ``automl_nb.Chief`` (``Hello``, ``Plan``, ``Epoch``, ``Fail``, ``Poll``).
Every call carries the search's token in its metadata, checked by :func:`gate`; KerasTuner's
calls wait until the chief's oracle exists (the server starts first, so workers can start
importing TensorFlow while the kernel does).
"""

from __future__ import annotations

import hmac
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ..._kt_compat import oracle_servicer_class, protos
from ...errors import SearchError


class OracleHost(Protocol):
    """What KerasTuner's Oracle service asks of the chief (``chief.WorkerPool`` is one): its
    oracle, and the trial starts and ends it tells its engine about. The service calls these
    at run time, from gRPC's threads; this module needs no more of the chief than that."""

    @property
    def oracle(self) -> Any: ...

    def guarded(self, fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """``fn(request, context)``, ending the search when its journal cannot be written."""
        ...

    def create_trial(self, tuner_id: str) -> Any:
        """The oracle's next trial for worker ``tuner_id``, told to the engine."""
        ...

    def end_trial(self, trial: Any) -> None:
        """A worker's trial ended: the oracle scores it, the engine publishes it."""
        ...

SERVICE = "automl_nb.Chief"
SERVICE_METHODS = ("Hello", "Plan", "Epoch", "Fail", "Poll")
KT_SERVICE = "keras_tuner.Oracle"
KT_METHODS = ("GetSpace", "UpdateSpace", "CreateTrial", "UpdateTrial", "EndTrial", "GetTrial", "GetBestTrials")
TOKEN_KEY = "automl-nb-token"
TOKEN_ENV = "AUTOML_NB_TOKEN"
LONG_POLL_S = 1.0  # a worker's poll returns at the latest after this (at once on a change)


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, default=_plain).encode()


def loads(data: bytes) -> Any:
    return json.loads(data) if data else {}


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    return str(value)


def parse_address(text: str, *, name: str = "--chief", default_port: int | None = None) -> tuple[str, int]:
    """``"HOST:PORT"`` (or ``"[::1]:PORT"``) -> (host, port)."""
    value = str(text).strip()
    host, sep, port = value.rpartition(":")
    if not sep or "]" in port:
        host, port = value, ""
    host = host.strip("[]")
    if not port:
        if default_port is None:
            raise SearchError(f"must be HOST:PORT such as 127.0.0.1:50051; got {text!r}", argument=name,
                              value=text)
        return host, default_port
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise SearchError(f"{text!r} has no valid port", argument=name, value=text,
                          hint="write HOST:PORT such as 0.0.0.0:50051")
    if not host:
        raise SearchError(f"{text!r} has no host", argument=name, value=text,
                          hint="write HOST:PORT such as 0.0.0.0:50051")
    return host, int(port)


def join_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def oracle_handlers(pool: OracleHost, ready: threading.Event):
    """KerasTuner's Oracle service, its handlers made once ``ready`` is set (the chief's oracle
    exists, so the search thread has imported KerasTuner).

    gRPC looks a handler up on its one serving thread. Importing KerasTuner there, while the
    search thread imports it too, can hand one of them the half-initialised module (KerasTuner's
    modules import each other; CPython breaks such an import race that way): the chief then
    failed with "partially initialized module ... base_tuner has no attribute BaseTuner". So a
    call that comes before ``ready`` gets a handler that takes the request as bytes; on a pool
    thread, once ``ready`` is set (the gate waits for it first), it makes the real handlers
    and hands the request to the right one.
    """
    import grpc

    class Handlers(grpc.GenericRpcHandler):
        def __init__(self):
            self._handlers: dict[str, Any] | None = None
            self._lock = threading.Lock()

        def service(self, handler_call_details):
            method = handler_call_details.method
            if not method.startswith(f"/{KT_SERVICE}/"):
                return None
            if ready.is_set():
                return self.real().get(method)
            if method.rpartition("/")[2] not in KT_METHODS:
                return None
            return grpc.unary_unary_rpc_method_handler(
                lambda request, context: self.late(method, request, context))

        def real(self) -> dict[str, Any]:
            with self._lock:
                if self._handlers is None:
                    self._handlers = _capture_handlers(_oracle_servicer(pool))
                return self._handlers

        def late(self, method: str, request: bytes, context):
            ready.wait()
            handler = self.real()[method]
            if handler.request_deserializer is not None:
                request = handler.request_deserializer(request)
            response = handler.unary_unary(request, context)
            if handler.response_serializer is not None:
                response = handler.response_serializer(response)
            return response

    return Handlers()


def _capture_handlers(servicer) -> dict[str, Any]:
    """Full method name -> handler, as KerasTuner's generated code registers its servicer."""
    captured: dict[str, Any] = {}

    class Capture:
        def add_generic_rpc_handlers(self, handlers):
            for handler in handlers:
                for name in KT_METHODS:
                    found = handler.service(_Call(f"/{KT_SERVICE}/{name}"))
                    if found is not None:
                        captured[f"/{KT_SERVICE}/{name}"] = found

        def add_registered_method_handlers(self, service, handlers):
            captured.update({f"/{service}/{name}": h for name, h in handlers.items()})

    protos()[1].add_OracleServicer_to_server(servicer, Capture())
    return captured


@dataclass(frozen=True)
class _Call:
    method: str
    invocation_metadata: tuple = ()


def _oracle_servicer(pool: OracleHost):
    """KerasTuner's OracleServicer, with trial starts and ends told to our engine."""
    from keras_tuner.engine.trial import Trial

    messages = protos()[0]

    class Servicer(oracle_servicer_class()):
        def CreateTrial(self, request, context):
            trial = pool.guarded(lambda r, c: pool.create_trial(r.tuner_id))(request, context)
            return messages.CreateTrialResponse(trial=trial.to_proto())

        def EndTrial(self, request, context):
            trial = Trial.from_proto(request.trial)
            pool.guarded(lambda r, c: pool.end_trial(trial))(request, context)
            return messages.EndTrialResponse()

    servicer = Servicer(None)
    servicer.oracle = _LazyOracle(pool)
    return servicer


class _LazyOracle:
    """The chief tuner's oracle, built after the server starts (calls wait for it: the gate)."""

    def __init__(self, pool: OracleHost):
        self._pool = pool

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool.oracle, name)


def _gate_class():
    import grpc

    class Gate(grpc.ServerInterceptor):
        """Refuses calls without the search's token; holds KerasTuner's calls until the oracle exists."""

        def __init__(self, token: str, ready: threading.Event):
            self._token = token.encode()
            self._ready = ready

        def intercept_service(self, continuation, handler_call_details):
            given = dict(handler_call_details.invocation_metadata or ()).get(TOKEN_KEY, "")
            if not hmac.compare_digest(str(given).encode(), self._token):
                return grpc.unary_unary_rpc_method_handler(_refuse)
            handler = continuation(handler_call_details)
            if handler is None or handler.unary_unary is None:
                return handler
            if handler_call_details.method.startswith(f"/{SERVICE}/"):
                return handler
            inner, ready = handler.unary_unary, self._ready

            def wait_then(request, context):
                if not ready.wait(600):
                    context.abort(grpc.StatusCode.UNAVAILABLE, "the chief's oracle is not ready")
                return inner(request, context)

            return handler._replace(unary_unary=wait_then)

    return Gate


def _refuse(request, context):
    import grpc

    context.abort(grpc.StatusCode.UNAUTHENTICATED, "this search's token is missing or wrong")


def gate(token: str, ready: threading.Event):
    return _gate_class()(token, ready)


def token_interceptor(token: str):
    import collections

    import grpc

    class Details(
        collections.namedtuple(
            "Details", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")
        ),
        grpc.ClientCallDetails,
    ):
        pass

    class AddToken(grpc.UnaryUnaryClientInterceptor):
        def intercept_unary_unary(self, continuation, details, request):
            metadata = [*(details.metadata or ()), (TOKEN_KEY, token)]
            return continuation(
                Details(details.method, details.timeout, metadata, details.credentials,
                        details.wait_for_ready, details.compression),
                request,
            )

    return AddToken()
