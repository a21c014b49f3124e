"""Objects in S3: the lake is one prefix (``LAKELENS_S3_LAKE``); every key passes :func:`lib.paths.clean_key` first,
so a caller can never address an object outside the lake, and keys handed back are lake-relative again, exactly as
on the local backend."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from lib.backends.aws._errors import AwsErrors
from lib.backends.base import LakeSummary, ObjectInfo, ObjectPage
from lib.errors import NotFound, PathError
from lib.paths import clean_key


class AwsObjects(AwsErrors):
    """Keys and locations, listing, reading and writing objects."""

    # -- keys -----------------------------------------------------------------------------------------------
    def _s3_key(self, key: str, *, folder: bool = False) -> str:
        return self.base + clean_key(key, folder=folder)

    def _lake_key(self, s3_key: str) -> str:
        return s3_key[len(self.base) :] if s3_key.startswith(self.base) else s3_key

    def to_s3_location(self, key: str) -> str:
        """The ``s3://`` URI of a lake key: Glue and Athena need full locations, the rest of LakeLens keys."""
        return f"s3://{self.bucket}/{self._s3_key(key)}"

    def location(self, key: str) -> str:
        return self.to_s3_location(clean_key(key, folder=True))

    def location_key(self, location: str) -> str | None:
        root = f"s3://{self.bucket}/{self.base}"
        text = location.strip()
        if text.rstrip("/") + "/" == root:
            return ""
        if not text.startswith(root):
            return None
        return clean_key(text[len(root) :], folder=True)

    # -- objects --------------------------------------------------------------------------------------------
    def list_objects(self, prefix: str = "", *, token: str | None = None, page_size: int = 1000) -> ObjectPage:
        prefix = clean_key(prefix, folder=True)
        s3_prefix = self.base + prefix
        params: dict[str, Any] = {"Bucket": self.bucket, "Prefix": s3_prefix, "Delimiter": "/", "MaxKeys": page_size}
        if token:
            params["ContinuationToken"] = token
        with self._aws_errors(f"list {self.to_s3_location(prefix)}"):
            response = self._client("s3").list_objects_v2(**params)
        folders = [self._lake_key(item["Prefix"]) for item in response.get("CommonPrefixes", [])]
        objects = [
            ObjectInfo(
                key=self._lake_key(item["Key"]),
                size=int(item.get("Size", 0)),
                last_modified=item.get("LastModified"),
                etag=item.get("ETag"),
                storage_class=item.get("StorageClass", "STANDARD"),
            )
            for item in response.get("Contents", [])
            if item["Key"] != s3_prefix  # the "folder marker" the console creates is not an object of the folder
        ]
        next_token = response.get("NextContinuationToken") if response.get("IsTruncated") else None
        return ObjectPage(prefix, folders, objects, next_token)

    def stat(self, key: str) -> ObjectInfo:
        normal = clean_key(key)
        if not normal or normal.endswith("/"):
            raise NotFound(f"There is no object {key!r} in the lake.")
        with self._aws_errors(
            f"read the details of {self.to_s3_location(normal)}",
            missing=NotFound(f"There is no object {key!r} in the lake."),
        ):
            head = self._client("s3").head_object(Bucket=self.bucket, Key=self.base + normal)
        return ObjectInfo(
            key=normal,
            size=int(head.get("ContentLength", 0)),
            last_modified=head.get("LastModified"),
            etag=head.get("ETag"),
            storage_class=head.get("StorageClass") or "STANDARD",
            content_type=head.get("ContentType"),
            metadata=dict(head.get("Metadata") or {}),
            version_id=head.get("VersionId"),
        )

    def read(self, key: str, start: int | None = None, end: int | None = None) -> bytes:
        normal = clean_key(key)
        if not normal or normal.endswith("/"):
            raise NotFound(f"There is no object {key!r} in the lake.")
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self.base + normal}
        first = start or 0
        if end is not None and end <= first:
            return b""
        if first or end is not None:
            params["Range"] = f"bytes={first}-" if end is None else f"bytes={first}-{end - 1}"
        with self._aws_errors(
            f"read {self.to_s3_location(normal)}", missing=NotFound(f"There is no object {key!r} in the lake.")
        ):
            try:
                response = self._client("s3").get_object(**params)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "InvalidRange":
                    return b""  # a range that starts past the end reads nothing, as a file would
                raise
            body = response["Body"]
            try:
                data: bytes = body.read()
            finally:
                body.close()
        return data

    def _write(
        self, key: str, data: bytes, *, content_type: str | None = None, metadata: dict[str, str] | None = None
    ) -> ObjectInfo:
        normal = clean_key(key)
        if not normal or normal.endswith("/"):
            raise PathError("An object needs a key that names a file, not a folder.")
        kind = content_type or mimetypes.guess_type(normal)[0] or "application/octet-stream"
        with self._aws_errors(f"write {self.to_s3_location(normal)}"):
            self._client("s3").put_object(
                Bucket=self.bucket, Key=self.base + normal, Body=data, ContentType=kind, Metadata=metadata or {}
            )
        return self.stat(normal)

    def _write_file(
        self,
        key: str,
        path: Path,
        *,
        content_type: str | None = None,
        metadata: dict[str, str] | None = None,
        progress: Callable[[int], None] | None = None,
        move: bool = False,
    ) -> ObjectInfo:
        """A multipart upload (boto3's transfer manager): the file is read in parts, never whole; S3 shows the
        object only once every part is in, so readers see the old object or the new one."""
        normal = clean_key(key)
        if not normal or normal.endswith("/"):
            raise PathError("An object needs a key that names a file, not a folder.")
        kind = content_type or mimetypes.guess_type(normal)[0] or "application/octet-stream"
        done = [0]

        def callback(sent: int) -> None:
            done[0] += sent
            if progress:
                progress(done[0])

        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_threshold=64 * 2**20, multipart_chunksize=64 * 2**20, max_concurrency=4)
        with self._aws_errors(f"write {self.to_s3_location(normal)}"):
            self._client("s3").upload_file(
                str(path),
                self.bucket,
                self.base + normal,
                ExtraArgs={"ContentType": kind, "Metadata": metadata or {}},
                Callback=callback,
                Config=config,
            )
        return self.stat(normal)

    def _delete(self, key: str) -> None:
        normal = clean_key(key)
        if not normal or normal.endswith("/"):
            return  # as on the local backend: deleting a folder key removes no object
        with self._aws_errors(f"delete {self.to_s3_location(normal)}"):
            self._client("s3").delete_object(Bucket=self.bucket, Key=self.base + normal)

    def summary(self, object_cap: int = 100_000) -> LakeSummary:
        """One flat listing instead of the base class's walk folder by folder: S3 has no folders to walk."""
        databases = self.list_databases()
        tables = sum(len(self.list_tables(db.name)) for db in databases)
        objects = 0
        size = 0
        capped = False
        paginator = self._client("s3").get_paginator("list_objects_v2")
        with self._aws_errors(f"count the objects in {self.lake}"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.base):
                for item in page.get("Contents", []):
                    if item["Key"].endswith("/") and not item.get("Size"):
                        continue  # folder markers
                    objects += 1
                    size += int(item.get("Size", 0))
                    if objects >= object_cap:
                        capped = True
                        break
                if capped:
                    break
        return LakeSummary(len(databases), tables, objects, size, capped)

    def _folders(self, prefix: str) -> list[str]:
        folders: list[str] = []
        token: str | None = None
        while True:
            page = self.list_objects(prefix, token=token)
            folders.extend(page.folders)
            token = page.next_token
            if not token:
                return sorted(folders)
