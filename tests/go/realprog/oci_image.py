"""A one-layer OCI image archive with fixed bytes, for containerd.sh.

``python3 oci_image.py OUT.tar`` writes it; the tests import :func:`blobs`
to know the digests and sizes containerd must have recorded.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
import tarfile

REF = "docker.io/pybbolt/fixture:1.0"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def tar_bytes(files: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def descriptor(media: str, data: bytes) -> dict[str, object]:
    return {"mediaType": media, "digest": digest(data), "size": len(data)}


def blobs() -> dict[str, bytes]:
    """The image's blobs by role: layer, config, manifest, index."""
    layer = tar_bytes([("hello.txt", b"hello from pybbolt\n")])
    config = json.dumps({"architecture": "amd64", "os": "linux", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [digest(layer)]}},
                        sort_keys=True).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST,
        "config": descriptor("application/vnd.oci.image.config.v1+json", config),
        "layers": [descriptor("application/vnd.oci.image.layer.v1.tar", layer)],
    }, sort_keys=True).encode()
    index = json.dumps({"schemaVersion": 2, "manifests": [{
        **descriptor(MANIFEST, manifest),
        "annotations": {"org.opencontainers.image.ref.name": REF},
        "platform": {"architecture": "amd64", "os": "linux"},
    }]}).encode()
    return {"layer": layer, "config": config, "manifest": manifest, "index": index}


def archive() -> bytes:
    """The OCI image layout as a tar: oci-layout, index.json and the blobs."""
    b = blobs()
    files = [("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'), ("index.json", b["index"])]
    files += [("blobs/sha256/" + digest(b[role])[7:], b[role])
              for role in ("layer", "config", "manifest")]
    return tar_bytes(files)


if __name__ == "__main__":
    with open(sys.argv[1], "wb") as out:
        out.write(archive())
