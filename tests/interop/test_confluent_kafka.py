"""confluent-kafka-python 1.7.0 (librdkafka 2.0.2): AdminClient create_topics /
describe_configs / create_partitions / delete_topics with their error paths, then Producer and
an assign()-based Consumer (no groups yet: FindCoordinator answers COORDINATOR_NOT_AVAILABLE,
so enable.auto.commit=False and nothing is committed)."""

from confluent_kafka import (TIMESTAMP_CREATE_TIME, KafkaError, KafkaException, TopicPartition)
from confluent_kafka.admin import (AdminClient, ConfigResource, NewPartitions, NewTopic)

import ck
import harness
from harness import expect, expect_eq

BASE_TS = 1_600_000_000_000


def admin_error(fut):
    """The KafkaError code a future failed with, or None if it succeeded."""
    try:
        fut.result(timeout=15)
        return None
    except KafkaException as e:
        return e.args[0].code()


def partitions_of(admin, topic):
    md = admin.list_topics(timeout=10)
    t = md.topics.get(topic)
    return None if t is None or t.error is not None else len(t.partitions)


def check_admin(admin):
    futs = admin.create_topics([NewTopic("ck-a", 3, 1),
                                NewTopic("ck-b", 1, 1, config={"cleanup.policy": "compact",
                                                               "retention.ms": "123456"})],
                               operation_timeout=10)
    for name, f in futs.items():
        expect_eq(admin_error(f), None, f"create_topics {name}")
    expect_eq(partitions_of(admin, "ck-a"), 3, "partitions of ck-a")
    expect_eq(partitions_of(admin, "ck-b"), 1, "partitions of ck-b")
    err = admin_error(admin.create_topics([NewTopic("ck-a", 3, 1)])["ck-a"])
    expect_eq(err, KafkaError.TOPIC_ALREADY_EXISTS, "creating ck-a twice")
    err = admin_error(admin.create_topics([NewTopic("ck-bad", 1, 3)])["ck-bad"])
    expect_eq(err, KafkaError.INVALID_REPLICATION_FACTOR, "replication factor 3 on 1 broker")
    err = admin_error(admin.create_topics([NewTopic("bad/name", 1, 1)])["bad/name"])
    expect_eq(err, KafkaError.TOPIC_EXCEPTION, "creating topic 'bad/name'")
    err = admin_error(admin.create_topics([NewTopic("ck-v", 2, 1)], validate_only=True)["ck-v"])
    expect_eq(err, None, "validate_only create_topics")
    expect_eq(partitions_of(admin, "ck-v"), None, "ck-v after a validate_only create")

    res = ConfigResource(ConfigResource.Type.TOPIC, "ck-b")
    configs = admin.describe_configs([res])[res].result(timeout=15)
    expect_eq(configs["cleanup.policy"].value, "compact", "ck-b cleanup.policy")
    expect_eq(configs["retention.ms"].value, "123456", "ck-b retention.ms")
    expect(not configs["retention.ms"].is_default, "ck-b retention.ms is an override")
    expect("segment.bytes" in configs and configs["segment.bytes"].is_default,
           f"ck-b segment.bytes: expected a default entry, saw {configs.get('segment.bytes')}")
    res = ConfigResource(ConfigResource.Type.TOPIC, "no-such-topic")
    try:
        admin.describe_configs([res])[res].result(timeout=15)
        harness.fail("describe_configs of a missing topic: expected an error, saw success")
    except KafkaException as e:
        expect_eq(e.args[0].code(), KafkaError.UNKNOWN_TOPIC_OR_PART,
                  "describe_configs of a missing topic")

    f = admin.create_partitions([NewPartitions("ck-a", 5)], operation_timeout=10)["ck-a"]
    expect_eq(admin_error(f), None, "create_partitions ck-a to 5")
    expect_eq(partitions_of(admin, "ck-a"), 5, "partitions of ck-a after create_partitions")
    f = admin.create_partitions([NewPartitions("ck-a", 2)])["ck-a"]
    expect_eq(admin_error(f), KafkaError.INVALID_PARTITIONS, "shrinking ck-a to 2 partitions")

    expect_eq(admin_error(admin.delete_topics(["ck-b"], operation_timeout=10)["ck-b"]), None,
              "delete_topics ck-b")
    expect_eq(partitions_of(admin, "ck-b"), None, "ck-b after delete_topics")
    expect_eq(admin_error(admin.delete_topics(["ck-b"])["ck-b"]),
              KafkaError.UNKNOWN_TOPIC_OR_PART, "deleting ck-b twice")


def check_produce_consume(b, admin):
    p = ck.producer(b)
    acks = ck.AckLog()
    sent = {}
    for i in range(500):
        part = i % 5
        headers = [("i", str(i).encode()), ("empty", b"")]
        p.produce("ck-a", key=f"key-{i}".encode(), value=f"value-{i}".encode() * (i % 7 + 1),
                  headers=headers, partition=part, timestamp=BASE_TS + i,
                  on_delivery=acks.on_delivery)
        sent[i] = (part, headers)
    p.produce("ck-a", key=None, value=None, partition=0, on_delivery=acks.on_delivery)
    expect_eq(p.flush(30), 0, "unsent after flush")
    expect(not acks.errors, f"delivery errors: {acks.errors[:3]}")
    expect_eq(acks.count(), 501, "acknowledged records")

    log, marks = ck.read_all(b, "ck-a", 5)
    expect_eq({p: m for p, m in marks.items()},
              {0: (0, 101), 1: (0, 100), 2: (0, 100), 3: (0, 100), 4: (0, 100)},
              "watermarks of ck-a")
    ck.check_log_against_acks(log, marks, acks, "ck-a")
    for part, recs in log.items():
        for n, (off, key, value, headers) in enumerate(recs):
            if part == 0 and n == 100:
                expect_eq((key, value), (None, None), "null key and value at ck-a-0@100")
                continue
            i = n * 5 + part
            expect_eq((off, key, value, headers),
                      (n, f"key-{i}".encode(), f"value-{i}".encode() * (i % 7 + 1),
                       sent[i][1]), f"record ck-a-{part}@{n}")

    c = ck.consumer(b)
    try:
        # Timestamps come back as CreateTime, and offsets_for_times finds them.
        c.assign([TopicPartition("ck-a", 3, 50)])
        msgs = c.consume(1, timeout=10)
        expect(msgs and not msgs[0].error(), f"consume ck-a-3 from 50: {msgs}")
        m = msgs[0]
        expect_eq((m.offset(), m.key()), (50, b"key-253"), "first record from offset 50")
        expect_eq(m.timestamp(), (TIMESTAMP_CREATE_TIME, BASE_TS + 253), "timestamp of ck-a-3@50")
        # One query per call: librdkafka merges duplicate partitions within one request.
        for part, ts, want in [(3, BASE_TS + 253, 50), (3, BASE_TS + 254, 51),
                               (3, BASE_TS, 0), (1, BASE_TS + 10**9, -1)]:
            found = c.offsets_for_times([TopicPartition("ck-a", part, ts)], timeout=10)
            expect_eq(found[0].offset, want, f"offsets_for_times ck-a-{part} at {ts}")
        lo, hi = c.get_watermark_offsets(TopicPartition("ck-a", 4), timeout=10)
        expect_eq((lo, hi), (0, 100), "watermarks of ck-a-4")
    finally:
        c.close()
    # Out of range with auto.offset.reset=error is reported, not silently reset.
    c = ck.consumer(b, **{"auto.offset.reset": "error"})
    try:
        c.assign([TopicPartition("ck-a", 1, 5000)])
        msgs = c.consume(1, timeout=10)
        expect(msgs and msgs[0].error() is not None and
               msgs[0].error().code() == KafkaError._AUTO_OFFSET_RESET,
               f"consume ck-a-1 from 5000: expected an offset-out-of-range error, saw "
               f"{[m.error() or m.offset() for m in msgs]}")
    finally:
        c.close()


def test(ctx):
    b = ctx.broker()
    admin = AdminClient(harness.confluent_config(b))
    check_admin(admin)
    check_produce_consume(b, admin)
    # Recreating a deleted topic gives an empty topic.
    f = admin.create_topics([NewTopic("ck-b", 2, 1)])["ck-b"]
    expect_eq(admin_error(f), None, "recreating ck-b")
    log, marks = ck.read_all(b, "ck-b", 2)
    expect_eq(marks, {0: (0, 0), 1: (0, 0)}, "watermarks of the recreated ck-b")
    expect(b.alive(), "broker died")
    expect_eq(b.stop(), 0, "broker exit status after SIGTERM")


if __name__ == "__main__":
    harness.main(test)
