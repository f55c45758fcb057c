"""Log compaction read and written by real clients:

1. confluent-kafka (librdkafka) with enable.idempotence=true and gzip (kafkajs reads it
   without a codec plugin) writes 40 keys x 15 rounds to a compacted topic with 2 KiB
   segments; the last round deletes keys 0-4 (tombstones). A record without a key is
   refused with INVALID_RECORD.
2. The broker's cleaner (log.cleaner.backoff.ms=100) compacts the partition; its log says so.
3. confluent-kafka, kafka-python, kcat and kafkajs (js/kafkajs_compacted.js, a group
   consumer) each read the whole partition: offsets only
   increase, fewer records than written remain, every key's last record is its newest
   value (a tombstone for the deleted keys), and no key appears twice below the last
   segment.
4. The same idempotent producer goes on writing after the clean and after a broker restart:
   no sequence error, and the records land after the old log end.

Needs python3-confluent-kafka (else skipped); the kafka-python, kcat and kafkajs readers are
skipped when missing, and the test then reports itself skipped."""

import re
import shutil
import time

import harness
from harness import Skip, expect, expect_eq

try:
    from confluent_kafka import KafkaError
    from confluent_kafka.admin import AdminClient, NewTopic
    import ck
except ImportError as e:
    ck = None
    IMPORT_ERROR = e

try:
    from kafka import KafkaConsumer, TopicPartition as KpTopicPartition
except ImportError:
    KafkaConsumer = None

TOPIC = "compacted"
KEYS = 40
ROUNDS = 15
DELETED = range(5)


def value(key, rnd):
    return f"k{key}-r{rnd}-".encode() + b"x" * 40


def produce_rounds(p, acks, rounds):
    for rnd in rounds:
        for k in range(KEYS):
            v = None if rnd == ROUNDS - 1 and k in DELETED else value(k, rnd)
            p.produce(TOPIC, key=f"k{k}".encode(), value=v, partition=0,
                      on_delivery=acks.on_delivery)
            p.poll(0)
        expect_eq(p.flush(30), 0, "messages left unflushed")
    expect(not acks.errors, f"delivery errors {acks.errors[:3]}")


def check_compacted(records, high, last_segment_base, who):
    """records: [(offset, key, value)] from the log start to the high watermark."""
    offsets = [r[0] for r in records]
    expect(all(a < b for a, b in zip(offsets, offsets[1:])),
           f"{who}: offsets do not increase: {offsets[:20]}")
    expect_eq(offsets[-1] if offsets else None, high - 1, f"{who}: last offset")
    expect(len(records) < KEYS * ROUNDS,
           f"{who}: {len(records)} records left of {KEYS * ROUNDS}: nothing was compacted")
    latest = {}
    seen_below = {}
    for off, key, val in records:
        latest[key] = val
        if off < last_segment_base:
            seen_below[key] = seen_below.get(key, 0) + 1
    for k in range(KEYS):
        key = f"k{k}".encode()
        want = None if k in DELETED else value(k, ROUNDS - 1)
        expect(key in latest, f"{who}: key {key!r} is gone (expected {want!r})")
        expect_eq(latest[key], want, f"{who}: last record of {key!r}")
    twice = {k: n for k, n in seen_below.items() if n > 1}
    expect(not twice, f"{who}: keys seen more than once in cleaned segments: {twice}")


def read_confluent(b):
    log, marks = ck.read_all(b, TOPIC, 1)
    return [(o, k, v) for o, k, v, _h in log[0]], marks[0][1]


def read_kafka_python(b, high):
    c = KafkaConsumer(bootstrap_servers=b.bootstrap, group_id=None, enable_auto_commit=False,
                      consumer_timeout_ms=5000, fetch_max_wait_ms=100)
    try:
        tp = KpTopicPartition(TOPIC, 0)
        c.assign([tp])
        c.seek_to_beginning()
        out = []
        for m in c:
            out.append((m.offset, m.key, m.value))
            if m.offset + 1 >= high:
                break
        return out
    finally:
        c.close()


def read_kcat(ctx, b):
    out = ctx.run(["kcat", "-b", b.bootstrap, "-X", "broker.address.family=v4", "-C",
                   "-t", TOPIC, "-e", "-q", "-Z", "-f", "%o|%k|%s\n"], timeout=60).stdout
    records = []
    for line in out.splitlines():
        off, key, val = line.split("|", 2)
        records.append((int(off), key.encode(), None if val == "NULL" else val.encode()))
    return records


def read_kafkajs(ctx, b):
    try:
        result = harness.run_kafkajs(ctx, "kafkajs_compacted.js", b)
    except Skip:
        return None
    return [(o, k.encode(), None if v is None else v.encode()) for o, k, v in result["records"]]


def last_segment_base(b):
    """Everything below the newest 'cleaned up to offset N' the broker logged was cleaned."""
    found = re.findall(rf"{TOPIC}-0: cleaned up to offset (\d+)", b.stderr_text())
    return int(found[-1]) if found else None


def run(ctx):
    if ck is None:
        raise Skip(f"confluent-kafka not importable: {IMPORT_ERROR}")
    b = ctx.broker(overrides=["log.cleaner.backoff.ms=100"])
    admin = AdminClient(harness.confluent_config(b))
    admin.create_topics([NewTopic(TOPIC, 1, 1, config={
        "cleanup.policy": "compact", "segment.bytes": "2048",
        "min.cleanable.dirty.ratio": "0.01"})], operation_timeout=10)[TOPIC].result(timeout=15)

    plain = ck.producer(b)
    refused = ck.AckLog()
    plain.produce(TOPIC, value=b"no key", partition=0, on_delivery=refused.on_delivery)
    expect_eq(plain.flush(30), 0, "keyless record unflushed")
    expect(len(refused.errors) == 1 and refused.errors[0][1].code() == KafkaError.INVALID_RECORD,
           f"a keyless record on a compacted topic: expected INVALID_RECORD, saw "
           f"{refused.errors} (acked {refused.acked})")

    p = ck.producer(b, **{"enable.idempotence": True, "compression.type": "gzip"})
    acks = ck.AckLog()
    produce_rounds(p, acks, range(ROUNDS))
    high = KEYS * ROUNDS

    deadline = time.monotonic() + 30
    while (last_segment_base(b) or 0) < high // 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    cleaned_to = last_segment_base(b)
    expect(cleaned_to is not None and cleaned_to >= high // 2,
           f"the cleaner did not compact {TOPIC}-0 within 30 s (cleaned to {cleaned_to})")

    records, seen_high = read_confluent(b)
    expect_eq(seen_high, high, "high watermark")
    check_compacted(records, high, cleaned_to, "confluent-kafka")
    kp_ran = KafkaConsumer is not None
    if kp_ran:
        check_compacted(read_kafka_python(b, high), high, cleaned_to, "kafka-python")
    kcat_ran = shutil.which("kcat") is not None
    if kcat_ran:
        check_compacted(read_kcat(ctx, b), high, cleaned_to, "kcat")
    js_records = read_kafkajs(ctx, b)
    if js_records is not None:
        check_compacted(js_records, high, cleaned_to, "kafkajs")

    # The idempotent producer goes on: after the clean, then after a restart that rebuilds
    # its sequence state from the compacted log.
    more = ck.AckLog()
    produce_rounds(p, more, [ROUNDS])
    expect_eq(min(o for _p, o in more.acked), high, "first offset after the clean")
    b.stop()
    b.start()
    again = ck.AckLog()
    produce_rounds(p, again, [ROUNDS + 1])
    expect_eq(min(o for _p, o in again.acked), high + KEYS, "first offset after the restart")
    p.flush(10)

    records, seen_high = read_confluent(b)
    expect_eq(seen_high, high + 2 * KEYS, "high watermark after the restart")
    latest = {k: v for _o, k, v in records}
    for k in range(KEYS):
        expect_eq(latest.get(f"k{k}".encode()), value(k, ROUNDS + 1),
                  f"k{k} after the restart")
    bad = [line for line in b.stderr_text().splitlines() if " ERROR " in line]
    expect(not bad, "broker log: expected no ERROR line, saw:\n" + "\n".join(bad[:10]))
    if not kp_ran or not kcat_ran or js_records is None:
        raise Skip("kafka-python, kcat or kafkajs missing: those readers did not run")


if __name__ == "__main__":
    harness.main(run, "compaction")
