"""STIX and MISP exports of a case, and a read-only TAXII 2.1 server of published fact-checks.

Two routers share this module because they share the TLP rules of ``service.exports``:

* ``/api/v1/cases/{id}/stix`` and ``/misp``: the owner's direct export of one published case, in the
  service's own error model (``CaseDep``: another organization's case is a 404);
* ``/taxii2/``: TAXII 2.1 (OASIS Standard, 10 June 2021) so OpenCTI, MISP and other TAXII clients can pull.
  One API root (``/taxii2/api/``) with one read-only collection, ``published-fact-checks``, whose objects
  are the STIX objects of every published case the caller may receive (``exports.may_receive``).

TAXII clients parse TAXII error messages (``title``, ``description``, ``http_status``...), not ours, so
`TaxiiRoute` renders every error of the TAXII routes that way; it is the only other renderer of errors and
it covers only ``/taxii2/``. Clients authenticate with an API key, as a Bearer token or as the HTTP Basic
password (the user name is ignored), because HTTP Basic is what TAXII clients implement first (TAXII 2.1
section 8.5.1) and what OpenCTI and MISP feeds are configured with.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from civicshield.errors import (
    CivicShieldError,
    Forbidden,
    NotAcceptable,
    NotFound,
    Unauthenticated,
    UsageError,
)
from civicshield.service.domain import exports, store
from civicshield.service.domain.principal import Principal
from civicshield.service.domain.security import Role, Scope
from civicshield.service.web.deps import CaseDep, DbDep, RuntimeDep, key_use_recorder, runtime

log = logging.getLogger(__name__)

TAXII_MEDIA = "application/taxii+json;version=2.1"
STIX_MEDIA = "application/stix+json;version=2.1"
API_ROOT = "/taxii2/api/"
#: The collection's TAXII identifier (a version-4 UUID, section 2): fixed, so clients can be configured once.
COLLECTION_ID = "2f0e4a2e-6b0c-4f57-9d8a-1c4e0f6c9b51"
COLLECTION_ALIAS = "published-fact-checks"
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
_CHALLENGE = 'Basic realm="CivicShield TAXII", charset="UTF-8", Bearer realm="CivicShield TAXII"'


class TaxiiResponse(JSONResponse):
    media_type = TAXII_MEDIA


def taxii_error(status: int, description: str, code: str) -> TaxiiResponse:
    """A TAXII error message (section 3.6.1); ``http_status`` is a string there."""
    body = {
        "title": HTTPStatus(status).phrase,
        "description": description,
        "error_code": code,
        "http_status": str(status),
    }
    headers = {"WWW-Authenticate": _CHALLENGE} if status == 401 else None
    return TaxiiResponse(body, status_code=status, headers=headers)


class TaxiiRoute(APIRoute):
    """Renders the errors of a TAXII route, including those raised while resolving its dependencies."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await inner(request)
            except CivicShieldError as exc:
                if exc.http_status >= 500:
                    log.error("error %s on %s: %s", exc.code, request.url.path, exc.message)
                return taxii_error(exc.http_status, exc.message, exc.code)
            except RequestValidationError as exc:  # malformed filters MUST be a 400 (section 3.4)
                problems = "; ".join(
                    f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg', '')}" for e in exc.errors()
                )
                return taxii_error(400, problems or "malformed request", "bad_request")
            except StarletteHTTPException as exc:
                return taxii_error(exc.status_code, str(exc.detail), "http_error")
            except Exception:
                log.exception("unhandled error on %s", request.url.path)
                return taxii_error(500, "internal error; it has been logged", "internal_error")

        return handler


def acceptable(accept: str | None) -> bool:
    """Whether an Accept header admits TAXII 2.1 JSON. No header, ``*/*`` and ``application/*`` do; so does
    ``application/taxii+json`` without a version ("the latest the server supports", section 1.6.8.2)."""
    if accept is None or not accept.strip():
        return True
    for media_range in accept.split(","):
        kind, *raw = (part.strip() for part in media_range.split(";"))
        params = {k.strip().lower(): v.strip().strip('"') for k, _, v in (p.partition("=") for p in raw)}
        if _weight(params.get("q", "1")) == 0:
            continue
        if kind.lower() in ("*/*", "application/*"):
            return True
        if kind.lower() == "application/taxii+json" and params.get("version", "2.1") == "2.1":
            return True
    return False


def _weight(q: str) -> float:
    try:
        return float(q)
    except ValueError:
        return 1.0


def api_key_from(authorization: str) -> str | None:
    """The API key in ``Bearer <key>`` or ``Basic base64(<anything>:<key>)`` (or ``<key>:`` for clients that
    only fill in the user name)."""
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return value.strip() or None
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return password or user or None


def taxii_reader(request: Request, s: DbDep) -> Principal:
    if not acceptable(request.headers.get("accept")):
        raise NotAcceptable(f"this endpoint answers {TAXII_MEDIA}; ask for it in the Accept header")
    key = api_key_from(request.headers.get("authorization", ""))
    who = store.resolve_api_key(s, key, record_use=key_use_recorder(runtime(request).db)) if key else None
    if who is None:
        raise Unauthenticated("send an API key as a Bearer token or as the HTTP Basic password")
    if not who.can(Role.VIEWER, Scope.READ):
        raise Forbidden("this API key lacks the read scope")
    return who


TaxiiReader = Annotated[Principal, Depends(taxii_reader)]


@dataclass(frozen=True)
class ObjectQuery:
    filters: exports.Filters
    limit: int
    after: exports.Key | None


def _values(raw: str | None) -> list[str] | None:
    return None if raw is None else [v for v in raw.split(",") if v]


def _versions(raw: str | None) -> tuple[str, ...]:
    wanted = _values(raw) or ["last"]
    if len(set(wanted)) != len(wanted) or ("all" in wanted and len(wanted) > 1):
        raise UsageError("match[version]: no repeated values, and 'all' stands alone")
    for value in wanted:
        if value not in ("first", "last", "all"):
            exports.parse_timestamp(value)
    return tuple(wanted)


def object_query(
    request: Request,
    added_after: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1)] = DEFAULT_LIMIT,
    next_: Annotated[str | None, Query(alias="next")] = None,
    match_id: Annotated[str | None, Query(alias="match[id]")] = None,
    match_type: Annotated[str | None, Query(alias="match[type]")] = None,
    match_version: Annotated[str | None, Query(alias="match[version]")] = None,
    match_spec_version: Annotated[str | None, Query(alias="match[spec_version]")] = None,
) -> ObjectQuery:
    """The filters and page of a request (section 3.4); a repeated parameter is malformed."""
    repeated = sorted(
        {k for k, _ in request.query_params.multi_items() if len(request.query_params.getlist(k)) > 1}
    )
    if repeated:
        raise UsageError(f"parameters given more than once: {', '.join(repeated)}")
    ids, types, specs = _values(match_id), _values(match_type), _values(match_spec_version)
    filters = exports.Filters(
        added_after=exports.parse_timestamp(added_after) if added_after else None,
        ids=frozenset(ids) if ids is not None else None,
        types=frozenset(types) if types is not None else None,
        versions=_versions(match_version),
        spec_versions=frozenset(specs) if specs is not None else None,
    )
    return ObjectQuery(filters, min(limit, MAX_LIMIT), exports.decode_cursor(next_) if next_ else None)


ObjectQueryDep = Annotated[ObjectQuery, Depends(object_query)]

# ---- direct exports (our error model) --------------------------------------------------------------------

exports_router = APIRouter(prefix="/api/v1/cases", tags=["sharing"])


@exports_router.get("/{case_id}/stix", response_class=JSONResponse)
def case_stix(case: CaseDep, s: DbDep, rt: RuntimeDep) -> Response:
    """STIX 2.1 bundle of a published case of the caller's organization, marked with its TLP label."""
    return JSONResponse(exports.stix_for(s, case, rt.settings.base_url), media_type=STIX_MEDIA)


@exports_router.get("/{case_id}/misp", response_class=JSONResponse)
def case_misp(case: CaseDep, s: DbDep, rt: RuntimeDep) -> Response:
    """MISP event of a published case of the caller's organization, tagged with its TLP label."""
    return JSONResponse(exports.misp_for(s, case, rt.settings.base_url))


# ---- TAXII 2.1 --------------------------------------------------------------------------------------------

taxii_router = APIRouter(
    prefix="/taxii2", tags=["taxii"], route_class=TaxiiRoute, default_response_class=TaxiiResponse
)


def _collection(collection_id: str) -> dict[str, Any]:
    if collection_id not in (COLLECTION_ID, COLLECTION_ALIAS):
        raise NotFound("no such collection")
    return {
        "id": COLLECTION_ID,
        "title": "Published fact-checks",
        "alias": COLLECTION_ALIAS,
        "description": "STIX 2.1 of the fact-checks published on this service that you may receive under "
        "TLP 2.0: your organization's up to AMBER+STRICT, other organizations' CLEAR and "
        "GREEN. Perceptual hashes come with their match rule (extension definition).",
        "can_read": True,
        "can_write": False,
        "media_types": [STIX_MEDIA],
    }


@taxii_router.get("/")
def discovery(request: Request, who: TaxiiReader) -> Response:
    root = f"{request.scope.get('root_path', '')}{API_ROOT}"  # relative URLs are allowed (section 4.1.1)
    return TaxiiResponse(
        {
            "title": "CivicShield",
            "default": root,
            "api_roots": [root],
            "description": "Fact-checks of deepfakes and other manipulated media in elections.",
        }
    )


@taxii_router.get("/api/")
def api_root(who: TaxiiReader, rt: RuntimeDep) -> Response:
    return TaxiiResponse(
        {
            "title": "CivicShield fact-checks",
            "versions": [TAXII_MEDIA],
            "description": "Published fact-checks as STIX 2.1, with TLP 2.0 markings.",
            "max_content_length": rt.settings.max_upload_bytes,
        }
    )


@taxii_router.get("/api/status/{status_id}/")
def status(status_id: str, who: TaxiiReader) -> Response:
    raise NotFound("no such status: this server accepts no writes, so it has no statuses")


@taxii_router.get("/api/collections/")
def collections(who: TaxiiReader) -> Response:
    return TaxiiResponse({"collections": [_collection(COLLECTION_ID)]})


@taxii_router.get("/api/collections/{collection_id}/")
def collection(collection_id: str, who: TaxiiReader) -> Response:
    return TaxiiResponse(_collection(collection_id))


def _selected(
    s: Session,
    base_url: str,
    who: Principal,
    collection_id: str,
    q: ObjectQuery,
    object_id: str | None = None,
) -> exports.Page:
    """One page of what ``who`` may receive, filtered; 404 for an object id the caller cannot see."""
    _collection(collection_id)
    every = exports.collection_objects(s, who.org_id, base_url)
    filters = q.filters
    if object_id is not None:
        if not any(o.id == object_id for o in every):
            raise NotFound("no such object in this collection")
        filters = exports.Filters(
            filters.added_after, frozenset({object_id}), None, filters.versions, filters.spec_versions
        )
    return exports.paginate(exports.select_objects(every, filters), q.limit, q.after)


def _dated(body: dict[str, Any], page: exports.Page) -> Response:
    headers = {}
    if page.items:  # the headers MUST be timestamps, so an empty page has none
        headers = {
            "X-TAXII-Date-Added-First": exports.taxii_timestamp(page.items[0].date_added),
            "X-TAXII-Date-Added-Last": exports.taxii_timestamp(page.items[-1].date_added),
        }
    return TaxiiResponse(body, headers=headers)


def _envelope(page: exports.Page) -> Response:
    """Empty lists are not allowed in TAXII (section 2): an empty page has no ``objects`` key."""
    body: dict[str, Any] = {"more": page.more}
    if page.next:
        body["next"] = page.next
    if page.items:
        body["objects"] = [o.body for o in page.items]
    return _dated(body, page)


@taxii_router.get("/api/collections/{collection_id}/objects/")
def objects(collection_id: str, who: TaxiiReader, q: ObjectQueryDep, s: DbDep, rt: RuntimeDep) -> Response:
    return _envelope(_selected(s, rt.settings.base_url, who, collection_id, q))


@taxii_router.get("/api/collections/{collection_id}/manifest/")
def manifest(collection_id: str, who: TaxiiReader, q: ObjectQueryDep, s: DbDep, rt: RuntimeDep) -> Response:
    page = _selected(s, rt.settings.base_url, who, collection_id, q)
    body: dict[str, Any] = {"more": page.more}
    if page.next:
        body["next"] = page.next
    if page.items:
        body["objects"] = [
            {
                "id": o.id,
                "date_added": exports.taxii_timestamp(o.date_added),
                "version": o.version,
                "media_type": STIX_MEDIA,
            }
            for o in page.items
        ]
    return _dated(body, page)


@taxii_router.get("/api/collections/{collection_id}/objects/{object_id}/")
def get_object(
    collection_id: str, object_id: str, who: TaxiiReader, q: ObjectQueryDep, s: DbDep, rt: RuntimeDep
) -> Response:
    return _envelope(_selected(s, rt.settings.base_url, who, collection_id, q, object_id))


@taxii_router.get("/api/collections/{collection_id}/objects/{object_id}/versions/")
def versions(
    collection_id: str, object_id: str, who: TaxiiReader, q: ObjectQueryDep, s: DbDep, rt: RuntimeDep
) -> Response:
    every = ObjectQuery(
        exports.Filters(q.filters.added_after, versions=("all",), spec_versions=q.filters.spec_versions),
        q.limit,
        q.after,
    )
    page = _selected(s, rt.settings.base_url, who, collection_id, every, object_id)
    body: dict[str, Any] = {"more": page.more}
    if page.items:
        body["versions"] = [o.version for o in page.items]
    return _dated(body, page)


@taxii_router.post("/api/collections/{collection_id}/objects/")
def write(collection_id: str, who: TaxiiReader) -> Response:
    _collection(collection_id)
    raise Forbidden("this collection is read-only (can_write: false)")


@taxii_router.delete("/api/collections/{collection_id}/objects/{object_id}/")
def delete(collection_id: str, object_id: str, who: TaxiiReader) -> Response:
    _collection(collection_id)
    raise Forbidden("this collection is read-only (can_write: false)")


@taxii_router.api_route(
    "/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False
)
def elsewhere(rest: str, request: Request) -> Response:
    """TAXII paths end in "/" (section 3.1): redirect a GET that forgot it, answer 404 for the rest."""
    if request.method == "GET" and not rest.endswith("/"):
        url = request.url.replace(path=request.url.path + "/")
        return RedirectResponse(str(url), status_code=308)
    raise NotFound("no such TAXII resource")


router = APIRouter()
router.include_router(exports_router)
router.include_router(taxii_router)
