"""Every compression codec end to end.

* librdkafka (rdkafka_roundtrip.c) produces and consumes 20,000 records per codec
  (none/gzip/snappy/lz4/zstd) with every record checked; a raw Fetch then shows the broker
  stored the batches with the producer's codec (no recompression).
* kafka-python does the same for every codec whose Python module is installed (gzip always;
  snappy, lz4, zstd with python3-snappy, python3-lz4, python3-zstandard), and also reads the
  batches librdkafka compressed: each client must decode the other's batches.
"""

import importlib.util

import harness
import kwire
from harness import expect, expect_eq

CODECS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
RECORDS = 20000
# kafka-python's optional codec modules (kafka/codec.py).
PY_MODULES = {"none": None, "gzip": "gzip", "snappy": "snappy", "lz4": "lz4.frame",
              "zstd": "zstandard"}


def librdkafka_codec(ctx, b, codec):
    topic = f"rd-{codec}"
    r = ctx.run([ctx.arg("roundtrip"), "--bootstrap", b.bootstrap, "--topic", topic,
                 "--partitions", "4", "--records", str(RECORDS), "--compression", codec,
                 "--value-bytes", "200"], timeout=100)
    print(r.stdout, end="")
    expect(r.stdout.rstrip().endswith("OK"), f"rdkafka_roundtrip {codec}: expected OK, "
                                             f"saw:\n{r.stdout}")
    attrs = kwire.fetch_first_batch_attributes(b.port, topic, 0)
    # librdkafka 2.0.2 compresses gzip/snappy/lz4 only if the broker's Produce range
    # includes v0 (rdkafka_msgset_writer.c, select_MsgVersion: ApiVersion_supported(Produce,
    # 0, 0)); otherwise it logs "Broker does not support compression type" and sends plain.
    expect_eq(attrs & 7, CODECS[codec], f"codec bits of the first stored batch of {topic} "
              "(0 = librdkafka did not compress; does ApiVersions list Produce from v0?)")


def kafka_python_codec(b, codec):
    from kafka import KafkaProducer
    topic = f"kp-{codec}"
    n = 2000
    p = KafkaProducer(bootstrap_servers=b.bootstrap, acks="all",
                      compression_type=None if codec == "none" else codec, linger_ms=5)
    futures = [p.send(topic, key=f"k{i % 13}".encode(), value=f"value-{i}-".encode() * 5,
                      headers=[("i", str(i).encode())], partition=0) for i in range(n)]
    p.flush(30)
    offsets = [f.get(timeout=30).offset for f in futures]
    p.close(10)
    expect_eq(offsets, list(range(n)), f"kafka-python {codec}: acked offsets")
    attrs = kwire.fetch_first_batch_attributes(b.port, topic, 0)
    expect_eq(attrs & 7, CODECS[codec], f"codec bits of the first stored batch of {topic}")
    got = read_kafka_python(b, topic, 0, n)
    for i, m in enumerate(got):
        want = (i, f"k{i % 13}".encode(), f"value-{i}-".encode() * 5, [("i", str(i).encode())])
        seen = (m.offset, m.key, m.value, list(m.headers))
        if seen != want:
            harness.fail(f"kafka-python {codec} record {i}: expected {want}, saw {seen}")
    # The batches librdkafka compressed, decoded by kafka-python.
    got = read_kafka_python(b, f"rd-{codec}", 0, None)
    expect(len(got) > 0, f"kafka-python reading rd-{codec}-0: expected records")
    for m in got:
        seq = int(m.value.split(b"|")[1])
        expect_eq(m.key, f"key-{seq % 1000}".encode(), f"key of rd-{codec} sequence {seq}")


def read_kafka_python(b, topic, partition, n):
    from kafka import KafkaConsumer, TopicPartition
    c = KafkaConsumer(bootstrap_servers=b.bootstrap, group_id=None, enable_auto_commit=False,
                      consumer_timeout_ms=5000, fetch_max_wait_ms=100)
    try:
        tp = TopicPartition(topic, partition)
        c.assign([tp])
        c.seek_to_beginning(tp)
        end = c.end_offsets([tp])[tp] if n is None else n
        out = []
        for m in c:
            out.append(m)
            if len(out) >= end:
                break
        expect_eq(len(out), end, f"kafka-python records read from {topic}-{partition}")
        return out
    finally:
        c.close()


def test(ctx):
    b = ctx.broker()
    for codec in CODECS:
        librdkafka_codec(ctx, b, codec)
    missing = []
    for codec, module in PY_MODULES.items():
        if module and importlib.util.find_spec(module.split(".")[0]) is None:
            missing.append(f"{codec} (python module {module})")
            continue
        kafka_python_codec(b, codec)
        print(f"kafka-python {codec}: OK")
    if missing:
        print("kafka-python codecs not tested, modules missing: " + ", ".join(missing))
    expect(b.alive(), "broker died")
    expect_eq(b.stop(), 0, "broker exit status after SIGTERM")


if __name__ == "__main__":
    harness.main(test)
