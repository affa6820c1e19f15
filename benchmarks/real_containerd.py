"""Write a real containerd 1.6 meta.db shaped like ``boltgo gen-shape containerd``.

Runs the Debian package's ``containerd`` (as root, CRI plugin off) with its
root, state and socket in a temporary directory and fills it with ``ctr``, in
the three namespaces the generator uses (``default``, ``k8s.io``, ``moby``):
a namespace label, an OCI archive of IMAGES images imported and unpacked into
the ``native`` snapshotter (each image a manifest, a config and three gzip
layers, the first shared by a tenth of the images: labelled content blobs,
image records, committed snapshot chains), CONTAINERS containers created
from those images (OCI spec, active snapshot, labels) and a few leases.
Then it stops containerd and copies ``io.containerd.metadata.v1.bolt/meta.db``
to OUT.  ``benchmarks/FIELD.md`` compares the two files.

    python -m benchmarks.real_containerd OUT [--images N] [--containers N]
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.go.realprog.oci_image import descriptor, digest, tar_bytes

NAMESPACES = ("default", "k8s.io", "moby")
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def archive(ns: str, images: int) -> bytes:
    """An OCI image layout tar of ``images`` images, same bytes for the same arguments."""
    blobs: dict[str, bytes] = {}
    manifests = []
    for i in range(images):
        diff_tars = [tar_bytes([(f"base-{i % 10}/os-release", f"{ns} base {i % 10}\n".encode())]),
                     tar_bytes([(f"app-{i}/lib.so", f"{ns} lib {i}\n".encode() * 8)]),
                     tar_bytes([(f"app-{i}/main", f"{ns} app {i}\n".encode() * 4)])]
        layers = [gzip.compress(t, mtime=0) for t in diff_tars]
        config = json.dumps({
            "architecture": "amd64", "os": "linux", "created": "2024-05-17T12:00:00Z",
            "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                               f"APP_VERSION=1.{i}"],
                       "Cmd": [f"/app-{i}/main"], "WorkingDir": f"/app-{i}",
                       "Labels": {"org.opencontainers.image.source": f"https://example.com/app-{i}"}},
            "rootfs": {"type": "layers", "diff_ids": [digest(t) for t in diff_tars]},
            "history": [{"created": "2024-05-17T12:00:00Z", "created_by": f"/bin/sh -c step {n}"}
                        for n in range(3)],
        }, sort_keys=True).encode()
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": MANIFEST, "config": descriptor(CONFIG, config),
            "layers": [descriptor(LAYER, b) for b in layers],
        }, sort_keys=True).encode()
        for b in (*layers, config, manifest):
            blobs[digest(b)] = b
        manifests.append({**descriptor(MANIFEST, manifest),
                          "annotations": {"org.opencontainers.image.ref.name":
                                          f"docker.io/library/app-{i:05d}:v1"},
                          "platform": {"architecture": "amd64", "os": "linux"}})
    index = json.dumps({"schemaVersion": 2, "manifests": manifests}).encode()
    files = [("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'), ("index.json", index)]
    files += [("blobs/sha256/" + d[7:], b) for d, b in sorted(blobs.items())]
    return tar_bytes(files)


def fill(ctr: list[str], tmp: Path, images: int, containers: int) -> None:
    def run(*args: str) -> None:
        subprocess.run([*ctr, *args], check=True, stdout=subprocess.DEVNULL)

    for ns in NAMESPACES:
        run("namespaces", "create", ns, "containerd.io/namespace.shareable=true")
        for n in range(3):
            run("-n", ns, "leases", "create", "--id", f"lease-{n}", "--expires", "0",
                f"purpose=bench-{n}")
        tar = tmp / f"{ns}.tar"
        tar.write_bytes(archive(ns, images))
        run("-n", ns, "images", "import", "--snapshotter", "native",
            "--platform", "linux/amd64", str(tar))
        tar.unlink()
        for c in range(containers):
            run("-n", ns, "containers", "create", "--snapshotter", "native",
                "--label", f"io.kubernetes.pod.name=pod-{c:05d}",
                "--label", f"io.kubernetes.pod.namespace=ns-{c % 50}",
                f"docker.io/library/app-{c % images:05d}:v1", f"ctr-{c:05d}")
        print(f"real_containerd: namespace {ns} done", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="benchmarks.real_containerd", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path)
    p.add_argument("--images", type=int, default=800, help="images per namespace")
    p.add_argument("--containers", type=int, default=300, help="containers per namespace")
    args = p.parse_args(argv)
    for tool in ("containerd", "ctr"):
        if shutil.which(tool) is None:
            print(f"benchmarks: {tool} is not installed (apt-get install containerd)",
                  file=sys.stderr)
            return 1
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        sock = tmp / "containerd.sock"
        (tmp / "config.toml").write_text(
            f'version = 2\nroot = "{tmp}/root"\nstate = "{tmp}/state"\n'
            'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
            f'[grpc]\n  address = "{sock}"\n[ttrpc]\n  address = "{sock}.ttrpc"\n')
        with open(tmp / "containerd.log", "wb") as log:
            proc = subprocess.Popen(["containerd", "--config", str(tmp / "config.toml")],
                                    stdout=log, stderr=log)
        ctr = ["ctr", "--address", str(sock)]
        try:
            for _ in range(100):
                if subprocess.run([*ctr, "version"], capture_output=True).returncode == 0:
                    break
                time.sleep(0.1)
            fill(ctr, tmp, args.images, args.containers)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        shutil.copyfile(tmp / "root" / "io.containerd.metadata.v1.bolt" / "meta.db", args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
