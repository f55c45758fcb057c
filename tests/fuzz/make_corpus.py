#!/usr/bin/python3
"""Regenerates the fuzzers' seed corpora from real client traffic.

Starts a strata broker behind a small TCP proxy (the broker advertises the proxy's port, so
every client connection goes through it), runs kcat, confluent-kafka, kafka-python (with each
codec whose module is installed) and kafkajs (if installed) against it, and records every
request frame the clients send. Then writes:

  corpus/fuzz_request/       each distinct request frame (no size prefix), and the same body
                             in the target's direct route (0xFF, api_key, version, body)
  corpus/fuzz_record_batch/  the records blob of each Produce request, and the same prefixed
                             with 0xC5 (the target's fix-the-CRC route)

  usage: tests/fuzz/make_corpus.py --strata build/engine/cli/strata
"""

import hashlib
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "interop"))
import harness  # noqa: E402
import kwire  # noqa: E402

PER_KEY_VERSION_MAX = 6  # distinct frames kept per (api_key, version)


class Proxy:
    """Forwards 127.0.0.1:port to the broker and records client->broker request frames."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.frames = []
        self.lock = threading.Lock()
        self.target = None

    def start(self, target_port):
        self.target = target_port
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False),
                             daemon=True).start()

    def _pump(self, src, dst, record):
        buf = b""
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
                if record:
                    buf += data
                    while len(buf) >= 4:
                        n = struct.unpack(">i", buf[:4])[0]
                        if len(buf) < 4 + n:
                            break
                        with self.lock:
                            self.frames.append(buf[4:4 + n])
                        buf = buf[4 + n:]
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def run_clients(ctx, bootstrap):
    k = ["kcat", "-b", bootstrap, "-m", "10"]
    ctx.run(k + ["-L"])
    ctx.run(k + ["-P", "-t", "corpus", "-K:", "-H", "h=v"], input="a:1\nb:2\nc:3\n")
    ctx.run(k + ["-P", "-t", "corpus", "-Z"], input="\n")
    ctx.run(k + ["-C", "-t", "corpus", "-e", "-o", "beginning"])
    ctx.run(k + ["-Q", "-t", "corpus:0:0"])
    for codec in ("gzip", "snappy", "lz4", "zstd"):
        ctx.run(k + ["-P", "-t", f"kcat-{codec}", "-z", codec], input="x\n" * 50)

    from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic("ck", 2, 1, config={"cleanup.policy": "compact"})])[
        "ck"].result(10)
    res = ConfigResource(ConfigResource.Type.TOPIC, "ck")
    admin.describe_configs([res])[res].result(10)
    admin.create_partitions([NewPartitions("ck", 3)])["ck"].result(10)
    admin.delete_topics(["ck"])["ck"].result(10)

    import importlib.util
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.admin import KafkaAdminClient, NewTopic as KNewTopic
    KafkaAdminClient(bootstrap_servers=bootstrap).create_topics([KNewTopic("kp", 1, 1)])
    modules = {"gzip": "gzip", "snappy": "snappy", "lz4": "lz4", "zstd": "zstandard"}
    for codec, module in [("none", None)] + list(modules.items()):
        if module and importlib.util.find_spec(module) is None:
            continue
        p = KafkaProducer(bootstrap_servers=bootstrap,
                          compression_type=None if codec == "none" else codec)
        for i in range(20):
            p.send("kp", key=b"k%d" % i, value=b"value %d " % i * 8, headers=[("h", b"v")])
        p.flush()
        p.close()
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, consumer_timeout_ms=2000)
    tp = TopicPartition("kp", 0)
    c.assign([tp])
    c.seek_to_beginning(tp)
    for _ in c:
        pass
    c.offsets_for_times({tp: 0})
    c.close()

    js = os.path.join(HERE, "..", "interop", "js")
    if shutil.which("node") and os.path.isdir(os.path.join(js, "node_modules", "kafkajs")):
        subprocess.run(["node", os.path.join(js, "kafkajs_interop.js"), bootstrap],
                       capture_output=True, timeout=90)


def produce_records(frame):
    """The records blobs of a Produce request frame (header v1, v3+ body)."""
    r = kwire.Reader(frame)
    key, version = r.i16(), r.i16()
    if key != 0 or version < 3 or version > 8:
        return []
    r.i32()
    r.string()  # client id
    r.string()  # transactional id
    r.i16()
    r.i32()
    out = []
    for _ in range(r.i32()):
        r.string()
        for _ in range(r.i32()):
            r.i32()
            recs = r.kbytes()
            if recs:
                out.append(recs)
    return out


def write(dirname, name, data):
    with open(os.path.join(dirname, name), "wb") as f:
        f.write(data)


def build(ctx):
    out = ctx.arg("out", os.path.join(HERE, "corpus"))
    proxy = Proxy()
    b = ctx.broker(overrides=[f"advertised.listeners=PLAINTEXT://127.0.0.1:{proxy.port}"],
                   start=False)
    b.start()
    proxy.start(b.port)
    run_clients(ctx, f"127.0.0.1:{proxy.port}")
    b.stop()

    req_dir = os.path.join(out, "fuzz_request")
    batch_dir = os.path.join(out, "fuzz_record_batch")
    for d in (req_dir, batch_dir):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    per_kv, seen, batches = {}, set(), set()
    for frame in proxy.frames:
        for recs in produce_records(frame):
            d = hashlib.sha1(recs).hexdigest()[:12]
            if d in batches or len(recs) > 16 * 1024:
                continue
            batches.add(d)
            codec = struct.unpack(">h", recs[21:23])[0] & 7 if len(recs) >= 23 else -1
            write(batch_dir, f"codec{codec}-{d}", recs)
            write(batch_dir, f"fixcrc-codec{codec}-{d}", b"\xc5" + recs)
        key, version = struct.unpack(">hh", frame[:4])
        digest = hashlib.sha1(frame).hexdigest()[:12]
        if (digest in seen or len(frame) > 16 * 1024 or
                per_kv.get((key, version), 0) >= PER_KEY_VERSION_MAX):
            continue
        seen.add(digest)
        per_kv[(key, version)] = per_kv.get((key, version), 0) + 1
        write(req_dir, f"k{key:02d}-v{version}-{digest}", frame)
        # The direct route: 0xFF, key, version, then the body (header skipped: v1 and v2
        # headers are i16 key, i16 version, i32 correlation id, string client id [, tags]).
        client_id_len = struct.unpack(">h", frame[8:10])[0]
        body_at = 10 + max(client_id_len, 0)
        if key == 18 and version >= 3:
            body_at += 1  # request header v2's empty tagged-field buffer
        write(req_dir, f"direct-k{key:02d}-v{version}-{digest}",
              b"\xff" + frame[:4] + frame[body_at:])
    print(f"{len(seen)} request frames over {len(per_kv)} (api_key, version) pairs, "
          f"{len(batches)} record batch blobs -> {out}")
    print("pairs:", sorted(per_kv))


if __name__ == "__main__":
    harness.main(build, name="make_corpus")
