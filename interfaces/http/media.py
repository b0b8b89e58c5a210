"""Media endpoints: upload an image (multipart) and serve its sizes, cached forever.

The upload body is read here, bounded, rather than by FastAPI's form parsing, which would
spool a file of any size to disk before the endpoint could refuse it.
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Request, Response, status
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from domain.media import MAX_BYTES, SIZES
from interfaces.http.deps import CommandDep, ContainerDep
from interfaces.http.media_schemas import MediaPublic
from interfaces.http.positions import min_position, set_position
from interfaces.http.problems import ProblemError
from interfaces.http.ratelimits import rate_limit
from projections.media import get_media

router = APIRouter(tags=["media"])
log = logging.getLogger("rentbook.media")

MEDIA_UPLOAD = ("media.upload", 30, 3600)  # per user: 30 images an hour
MAX_BODY = MAX_BYTES + 64 * 1024  # the file plus multipart framing
IMMUTABLE = "public, max-age=31536000, immutable"
FILE_FIELD = "file"

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FILE_FIELD],
                    "properties": {
                        FILE_FIELD: {
                            "type": "string",
                            "format": "binary",
                            "description": "A JPEG, PNG or WebP image, at most 10 MB",
                        }
                    },
                }
            }
        },
    }
}
_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
_BINARY = {"type": "string", "format": "binary"}


def _too_large() -> ProblemError:
    return ProblemError(413, "file_too_large", f"an image is at most {MAX_BYTES} bytes")


async def read_upload(request: Request) -> bytes:
    """The bytes of the multipart `file` field, refusing oversized bodies while reading."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise ProblemError(415, "multipart_required", "send the image as multipart/form-data")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise _too_large()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise _too_large()

    async def whole() -> Any:
        yield bytes(body)

    parser = MultiPartParser(request.headers, whole(), max_files=1, max_fields=10)
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise ProblemError(400, "invalid_multipart", str(exc)) from None
    try:
        part = form.get(FILE_FIELD)
        if not isinstance(part, UploadFile):
            raise ProblemError(
                422,
                "validation_failed",
                "the request is not valid",
                errors=[{"loc": ["body", FILE_FIELD], "msg": "a file is required"}],
            )
        return await part.read()
    finally:
        await form.close()


@router.post(
    "/media",
    status_code=status.HTTP_201_CREATED,
    response_model=MediaPublic,
    openapi_extra=_UPLOAD_BODY,
    dependencies=[Depends(rate_limit(*MEDIA_UPLOAD))],
    responses={
        400: {"description": "The multipart body cannot be parsed"},
        413: {"description": "Over 10 MB or 40 megapixels"},
        415: {"description": "Not a readable JPEG, PNG or WebP image"},
    },
)
async def upload_media(request: Request, command: CommandDep, response: Response) -> MediaPublic:
    """Uploads an image as the multipart field `file`; the caller owns it. JPEG, PNG and
    WebP only, recognised from the bytes (not the file name or content type), at most
    10 MB and 40 megapixels. The image is re-encoded with its EXIF orientation applied and
    every piece of metadata (EXIF, GPS, comments, profiles) removed, in three sizes:
    `original`, `display` (longest side at most 1600 px) and `thumb` (at most 400 px).
    Cite the id in listing `photos`. 413 or 415 when refused, and nothing is stored."""
    data = await read_upload(request)

    def upload() -> tuple[Any, int]:
        library = command.container.media
        assert library is not None, "the container has no media library"
        with command.context():
            return library.upload(command.actor, data, command.now)

    media, position = await run_in_threadpool(upload)
    set_position(response, position)
    response.headers["Location"] = f"/api/v1/media/{media.id}/original"
    return MediaPublic.of(media)


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    tags = [t.strip() for t in if_none_match.split(",")]
    return any(t == "*" or t.removeprefix("W/") == etag for t in tags)


@router.get(
    "/media/{media_id}/{size}",
    response_class=Response,
    dependencies=[Depends(min_position("media"))],
    responses={
        200: {
            "description": "The image bytes",
            "content": {t: {"schema": _BINARY} for t in _IMAGE_TYPES},
        },
        304: {"description": "Not modified (If-None-Match named its ETag)"},
    },
)
def get_media_size(
    media_id: UUID,
    size: str,
    container: ContainerDep,
    if_none_match: str | None = Header(default=None, description="A previously seen ETag"),
) -> Response:
    """One size (`original`, `display` or `thumb`) of an uploaded image. The `ETag` is the
    sha-256 of the bytes, which never change: cache them forever. 404 for an unknown id
    or size. Served from the media view: right after an upload, send
    `X-Rentbook-Min-Position` with the upload's position. Ids are unguessable but not
    secret: anyone with the URL can fetch the image."""
    with container.views.connect() as conn:
        row = get_media(conn, container.runner.tables("media"), media_id)
    if row is None or size not in SIZES or size not in row["sizes"]:
        raise ProblemError(404, "media_not_found", f"no size {size!r} of media {media_id}")
    digest = row["sizes"][size]["sha256"]
    etag = f'"{digest}"'
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"}
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    library = container.media
    data = library.files.read(digest) if library is not None else None
    if data is None:  # recorded but not on this node's disk: a deployment fault
        log.error("media %s: blob %s is not in the media store", media_id, digest)
        raise ProblemError(404, "media_not_found", f"the bytes of media {media_id} are missing")
    return Response(data, media_type=row["content_type"], headers=headers)
