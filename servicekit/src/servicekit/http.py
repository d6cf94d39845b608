"""Health, readiness and metrics over HTTP; services add their own routes beside them."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TypeVar

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

M = TypeVar("M", bound=BaseModel)
ReadinessCheck = Callable[[], Awaitable[tuple[bool, str]]]


def health_routes(service: str, checks: Mapping[str, ReadinessCheck]) -> Sequence[BaseRoute]:
    async def health(_: Request) -> Response:
        # Liveness: the process answers. Dependencies belong to readiness.
        return JSONResponse({"service": service, "status": "ok"})

    async def ready(_: Request) -> Response:
        results = {}
        ok = True
        for name, check in checks.items():
            try:
                passed, detail = await check()
            except Exception as exc:
                passed, detail = False, f"{type(exc).__name__}: {exc}"
            ok = ok and passed
            results[name] = {"ok": passed, "detail": detail}
        return JSONResponse(
            {"service": service, "ready": ok, "checks": results}, status_code=200 if ok else 503
        )

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return [
        Route("/health", health),
        Route("/ready", ready),
        Route("/metrics", metrics),
    ]


def bearer_principal(request: Request, api_keys: Mapping[str, str]) -> str | None:
    """Who sent `request` (a key of `api_keys`), or None when the token is missing or unknown.

    `api_keys` maps each principal to the SHA-256 hex digest of its bearer token, so a leaked
    settings file does not hand out working tokens; every entry is compared in constant time.
    """
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    digest = hashlib.sha256(token.strip().encode()).hexdigest()
    found = None
    for principal, expected in api_keys.items():
        if hmac.compare_digest(digest, expected.lower()):
            found = principal
    return found


def path_principal(request: Request, api_keys: Mapping[str, str], param: str, whom: str) -> str | Response:
    """The caller, when its token is valid and it is the one the path names (`param`); otherwise
    the answer to send: 401 without a valid token, 403 with another `whom`'s valid token."""
    who = bearer_principal(request, api_keys)
    if who is None:
        return unauthorised(whom)
    if who != request.path_params[param]:
        return JSONResponse({"error": f"this {whom}'s token may act only for itself"}, status_code=403)
    return who


def unauthorised(whom: str) -> Response:
    return JSONResponse({"error": f"a valid bearer token for this {whom} is required"}, status_code=401)


async def read_body(request: Request, model: type[M], max_bytes: int) -> M | Response:
    """The request's JSON body as `model`, or the error response to send instead: 413 when it is
    larger than `max_bytes`, 400 naming each problem (field and what is wrong) when invalid."""
    body = await request.body()
    if len(body) > max_bytes:
        return JSONResponse({"error": f"the body exceeds {max_bytes} bytes"}, status_code=413)
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in e["loc"]) or "(body)", "problem": e["msg"]}
            for e in exc.errors()[:20]
        ]
        return JSONResponse({"error": f"invalid {model.__name__}", "problems": problems}, status_code=400)
