"""Object store on an S3-protocol server (MinIO, Ceph, AWS S3) through the minio SDK."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import BinaryIO

import urllib3
from minio import Minio
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError
from urllib3.exceptions import HTTPError as Urllib3Error

from storage.base import ObjectInfo, ObjectNotFoundError, StorageError, StorageUnavailableError

# minio holds about (parallel_uploads + 3) parts of an upload at once (two uploading, one being read,
# copies while it is cut): 8 MiB parts keep an upload near 50 MB, and still allow objects up to
# 80 GB (10,000 parts).
DEFAULT_PART_SIZE = 8 * 1024 * 1024
_NOT_FOUND_CODES = {"NoSuchKey", "NoSuchObject", "NoSuchBucket", "ResourceNotFound"}
_CREDENTIAL_CODES = {
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "AuthorizationHeaderMalformed",
}


class S3Store:
    """ObjectStore on one bucket of an S3-protocol server, created on first use.

    Uploads are streamed as multipart uploads of `part_size` bytes, `parallel_uploads` parts at a
    time; memory per upload is bounded by roughly (parallel_uploads + 3) * part_size.
    Connection errors and 5xx answers are retried `retries` times with exponential backoff; after
    that, and when the server refuses our credentials, StorageUnavailableError is raised.
    """

    def __init__(
        self,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        *,
        secure: bool = False,
        region: str | None = None,
        part_size: int = DEFAULT_PART_SIZE,
        parallel_uploads: int = 2,
        retries: int = 5,
        connect_timeout: float = 10.0,
        read_timeout: float = 120.0,
    ) -> None:
        self.endpoint = endpoint
        self.bucket = bucket
        self.part_size = part_size
        self.parallel_uploads = parallel_uploads
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
            maxsize=10,
            retries=urllib3.Retry(
                total=retries,
                backoff_factor=0.5,
                backoff_max=10,
                status_forcelist=[500, 502, 503, 504],
                # S3 requests are idempotent or harmless to repeat (an orphan multipart upload at worst).
                allowed_methods=frozenset({"GET", "HEAD", "PUT", "POST", "DELETE"}),
                raise_on_status=False,
            ),
        )
        self._client = Minio(
            endpoint,
            access_key=access_key,
            secret_key=secret_key,
            secure=secure,
            region=region,
            http_client=http,
        )
        self._region = region
        self._bucket_ready = False
        self._bucket_lock = threading.Lock()

    @contextmanager
    def _errors(self, key: str | None = None) -> Iterator[None]:
        """Translate minio and urllib3 failures into storage errors."""
        try:
            yield
        except S3Error as exc:
            if exc.code in _NOT_FOUND_CODES and key is not None:
                raise ObjectNotFoundError(key) from None
            if exc.code in _CREDENTIAL_CODES:
                raise StorageUnavailableError(
                    f"S3 endpoint {self.endpoint} refused our credentials for bucket {self.bucket!r} "
                    f"({exc.code}); check the access key and secret key"
                ) from exc
            raise StorageError(
                f"S3 operation on {self.bucket}/{key or ''} failed: {exc.code} {exc.message}"
            ) from exc
        except (ServerError, InvalidResponseError) as exc:
            raise StorageUnavailableError(f"S3 endpoint {self.endpoint} is failing: {exc}") from exc
        except Urllib3Error as exc:
            raise StorageUnavailableError(f"cannot reach S3 endpoint {self.endpoint}: {exc}") from exc
        except MinioException as exc:
            raise StorageError(f"S3 operation failed: {exc}") from exc

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        with self._bucket_lock, self._errors():
            if self._bucket_ready:
                return
            if not self._client.bucket_exists(self.bucket):
                try:
                    self._client.make_bucket(self.bucket, location=self._region)
                except S3Error as exc:
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
            self._bucket_ready = True

    def put(self, key: str, source: BinaryIO) -> int:
        """Stream `source` into `key` as a multipart upload; return the byte count."""
        self._ensure_bucket()
        counted = _CountingReader(source)
        with self._errors(key):
            self._client.put_object(
                self.bucket,
                key,
                counted,
                length=-1,
                part_size=self.part_size,
                num_parallel_uploads=self.parallel_uploads,
            )
        return counted.count

    def open(self, key: str) -> BinaryIO:
        """Return a stream of the object; closing it releases the connection."""
        self._ensure_bucket()
        with self._errors(key):
            response = self._client.get_object(self.bucket, key)
        return io.BufferedReader(_ResponseStream(response, self.endpoint), buffer_size=256 * 1024)  # type: ignore[return-value]

    def delete(self, key: str) -> None:
        """Delete the object; deleting a missing key does nothing."""
        self._ensure_bucket()
        with self._errors(key):
            self._client.remove_object(self.bucket, key)

    def exists(self, key: str) -> bool:
        self._ensure_bucket()
        try:
            with self._errors(key):
                self._client.stat_object(self.bucket, key)
        except ObjectNotFoundError:
            return False
        return True

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Yield every object whose key starts with `prefix`."""
        self._ensure_bucket()
        with self._errors():
            for obj in self._client.list_objects(self.bucket, prefix=prefix, recursive=True):
                if obj.is_dir or obj.object_name is None:
                    continue
                yield ObjectInfo(key=obj.object_name, size=obj.size or 0, modified=_utc(obj.last_modified))


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _CountingReader:
    """Count the bytes minio reads from the caller's stream."""

    def __init__(self, source: BinaryIO) -> None:
        self._source = source
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        # Fill the request in one piece: minio appends short reads to the part, copying it each time.
        chunks = []
        remaining = size
        while remaining != 0:
            chunk = self._source.read(remaining)
            if not chunk:
                break
            chunks.append(chunk)
            if remaining > 0:
                remaining -= len(chunk)
        data = b"".join(chunks)
        self.count += len(data)
        return data


class _ResponseStream(io.RawIOBase):
    """Raw stream over an urllib3 response that releases the connection when closed."""

    def __init__(self, response: urllib3.BaseHTTPResponse, endpoint: str) -> None:
        super().__init__()
        self._response = response
        self._endpoint = endpoint

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            return self._response.readinto(buffer)
        except Urllib3Error as exc:
            raise StorageUnavailableError(f"lost connection to S3 endpoint {self._endpoint}: {exc}") from exc

    def close(self) -> None:
        if not self.closed:
            try:
                self._response.close()
                self._response.release_conn()
            finally:
                super().close()
