"""One JSON shape for every error: `{"error": {"code", "message", "field"?}}`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from junction.accounts.mail import MailError
from junction.accounts.passwords import PasswordError


class ApiError(Exception):
    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return {"error": error}


_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    410: "gone",
    413: "payload_too_large",
    503: "unavailable",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            error_body(exc.code, exc.message, exc.field),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    # Refusals the account services raise in their own terms.
    @app.exception_handler(PasswordError)
    async def _weak_password(_request: Request, exc: PasswordError) -> JSONResponse:
        return JSONResponse(error_body("weak_password", str(exc), "password"), status_code=422)

    @app.exception_handler(MailError)
    async def _mail_error(_request: Request, exc: MailError) -> JSONResponse:
        return JSONResponse(error_body("mail_unavailable", str(exc)), status_code=503)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _CODES.get(exc.status_code, "error")
        return JSONResponse(
            error_body(code, str(exc.detail)),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        location = [
            str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path")
        ]
        field = ".".join(location) or None
        message = f"{field}: {first['msg']}" if field else str(first["msg"])
        return JSONResponse(error_body("invalid_request", message, field), status_code=422)
