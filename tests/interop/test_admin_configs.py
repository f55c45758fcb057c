"""Changing a running topic's configuration and deleting records, with real admin clients:

1. confluent-kafka 1.7.0 (librdkafka 2.0.2) AdminClient.alter_configs (AlterConfigs v0) on
   topic A sets segment.bytes and retention.bytes small; the partitions take them at once:
   records produced afterwards roll small segments and the retention check deletes old ones,
   so the log start offset rises. describe_configs shows both keys as dynamic topic configs.
   A bad value and an unknown topic each get their own error.
2. kafka-python 2.0.2 KafkaAdminClient.alter_configs on topic B, then its describe_configs.
3. kafkajs 2.2.4 (js/kafkajs_admin.js): admin.alterConfigs (AlterConfigs) and
   admin.deleteTopicRecords (DeleteRecords) on topic C; fetchTopicOffsets shows the new low
   watermark, and a consumer from the beginning starts there.
4. After a clean restart every change above is still in force: the configs (describe) and
   each partition's low watermark.

Needs python3-confluent-kafka (else skipped); kafka-python and kafkajs parts are skipped when
their client is missing, and the test then reports itself skipped."""

import time

import harness
from harness import Skip, expect, expect_eq

try:
    from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic
    from confluent_kafka import KafkaException, TopicPartition
    import ck
except ImportError as e:  # the Debian package is missing, or not the system python3
    ck = None
    IMPORT_ERROR = e

try:
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource as KpConfigResource, ConfigResourceType
except ImportError:
    KafkaAdminClient = None


def produce(b, topic, n, size=200, partition=0):
    p = ck.producer(b)
    acks = ck.AckLog()
    for i in range(n):
        p.produce(topic, value=(f"{i:06d}-" + "x" * size).encode(), partition=partition,
                  on_delivery=acks.on_delivery)
        p.poll(0)
    expect_eq(p.flush(30), 0, f"{topic}: messages left unflushed")
    expect(not acks.errors, f"{topic}: delivery errors {acks.errors[:3]}")
    return acks


def watermarks(b, topic, partition=0):
    c = ck.consumer(b)
    try:
        return c.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
    finally:
        c.close()


def describe(admin, topic):
    res = ConfigResource(ConfigResource.Type.TOPIC, topic)
    entries = admin.describe_configs([res])[res].result(timeout=15)
    return {k: (e.value, e.source) for k, e in entries.items()}


DYNAMIC_TOPIC = 1  # ConfigSource.DYNAMIC_TOPIC_CONFIG


def part_confluent(b, admin):
    futs = admin.create_topics([NewTopic("cfg-a", 1, 1)], operation_timeout=10)
    futs["cfg-a"].result(timeout=15)
    produce(b, "cfg-a", 50)
    expect_eq(watermarks(b, "cfg-a")[0], 0, "cfg-a: low watermark before any change")

    res = ConfigResource(ConfigResource.Type.TOPIC, "cfg-a",
                         set_config={"segment.bytes": "2048", "retention.bytes": "4096"})
    admin.alter_configs([res])[res].result(timeout=15)
    seen = describe(admin, "cfg-a")
    expect_eq(seen["segment.bytes"], ("2048", DYNAMIC_TOPIC), "cfg-a segment.bytes")
    expect_eq(seen["retention.bytes"], ("4096", DYNAMIC_TOPIC), "cfg-a retention.bytes")

    # New records go into 2 KiB segments; the retention check (every 200 ms here) keeps
    # about 4 KiB, so the log start moves past the first records.
    produce(b, "cfg-a", 200)
    deadline = time.monotonic() + 20
    low, high = watermarks(b, "cfg-a")
    while low == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
        low, high = watermarks(b, "cfg-a")
    expect(low > 0, f"cfg-a: retention.bytes=4096 set at runtime deleted nothing "
                    f"(watermarks {low}, {high})")
    expect_eq(high, 250, "cfg-a high watermark")

    bad = ConfigResource(ConfigResource.Type.TOPIC, "cfg-a", set_config={"retention.ms": "x"})
    missing = ConfigResource(ConfigResource.Type.TOPIC, "no-such-topic",
                             set_config={"retention.ms": "1000"})
    futs = admin.alter_configs([bad, missing])
    for r, code in ((bad, "INVALID_CONFIG"), (missing, "UNKNOWN_TOPIC_OR_PART")):
        try:
            futs[r].result(timeout=15)
            harness.fail(f"alter_configs {r}: expected {code}, it succeeded")
        except KafkaException as e:
            expect(e.args[0].name() == code, f"alter_configs {r}: expected {code}, saw {e}")
    # The failed change left the good one alone.
    expect_eq(describe(admin, "cfg-a")["retention.bytes"], ("4096", DYNAMIC_TOPIC),
              "cfg-a retention.bytes after a refused change")
    return low


def part_kafka_python(b):
    if KafkaAdminClient is None:
        return False
    kp = KafkaAdminClient(bootstrap_servers=b.bootstrap, request_timeout_ms=10000)
    try:
        from kafka.admin import NewTopic as KpNewTopic
        kp.create_topics([KpNewTopic("cfg-b", 2, 1)])
        resp = kp.alter_configs([KpConfigResource(ConfigResourceType.TOPIC, "cfg-b",
                                                  configs={"retention.ms": "3600000",
                                                           "max.message.bytes": "50000"})])
        expect_eq([r[0] for r in resp.resources], [0], "kafka-python alter_configs errors")
        described = kp.describe_configs([KpConfigResource(ConfigResourceType.TOPIC, "cfg-b")])
        entries = {e[0]: e[1] for e in described[0].resources[0][4]}
        expect_eq(entries.get("retention.ms"), "3600000", "cfg-b retention.ms (kafka-python)")
        expect_eq(entries.get("max.message.bytes"), "50000", "cfg-b max.message.bytes")
    finally:
        kp.close()
    return True


def part_kafkajs(ctx, b):
    try:
        return harness.run_kafkajs(ctx, "kafkajs_admin.js", b)
    except Skip:
        return None


def run(ctx):
    if ck is None:
        raise Skip(f"confluent-kafka not importable: {IMPORT_ERROR}")
    b = ctx.broker(overrides=["log.retention.check.interval.ms=200"])
    admin = AdminClient(harness.confluent_config(b))
    low_a = part_confluent(b, admin)
    kp_ran = part_kafka_python(b)
    js = part_kafkajs(ctx, b)

    b.stop()
    b.start()
    admin = AdminClient(harness.confluent_config(b))
    seen = describe(admin, "cfg-a")
    expect_eq(seen["segment.bytes"], ("2048", DYNAMIC_TOPIC), "cfg-a segment.bytes after restart")
    expect(watermarks(b, "cfg-a")[0] >= low_a, "cfg-a: low watermark went back after restart")
    if kp_ran:
        expect_eq(describe(admin, "cfg-b")["retention.ms"], ("3600000", DYNAMIC_TOPIC),
                  "cfg-b retention.ms after restart")
    if js is not None:
        expect_eq(describe(admin, "cfg-c")["retention.ms"], ("7200000", DYNAMIC_TOPIC),
                  "cfg-c retention.ms after restart")
        for p, low in js["lows"].items():
            expect_eq(watermarks(b, "cfg-c", int(p))[0], low,
                      f"cfg-c-{p} low watermark after restart")
    bad = [line for line in b.stderr_text().splitlines() if " ERROR " in line]
    expect(not bad, "broker log: expected no ERROR line, saw:\n" + "\n".join(bad[:10]))
    if not kp_ran or js is None:
        raise Skip("kafka-python or kafkajs missing: those parts did not run "
                   "(the confluent-kafka part passed)")


if __name__ == "__main__":
    harness.main(run, "admin_configs")
