"""Durability across a clean restart: produce N records with acks=all (confluent-kafka),
SIGTERM the broker (it must exit 0), restart it on the same data dir and port, and read back
exactly the acknowledged records at their offsets. Then produce more and restart again: new
records continue at the old high watermark, and everything is still there."""

from confluent_kafka.admin import AdminClient, NewTopic

import ck
import harness
from harness import expect, expect_eq

TOPIC = "durable"
PARTITIONS = 3
N = 20000


def produce(b, acks, first, count):
    p = ck.producer(b)
    for i in range(first, first + count):
        key = f"k{i % 97}".encode()
        while True:
            try:
                p.produce(TOPIC, key=key, value=f"v{i}".encode(), on_delivery=acks.on_delivery)
                break
            except BufferError:
                p.poll(0.05)
        p.poll(0)
    left = p.flush(60)
    expect_eq(left, 0, "messages still queued after flush(60)")
    expect(not acks.errors, f"delivery errors on a healthy broker: {acks.errors[:5]}")


def restart_and_check(b, acks, expected_total):
    code = b.stop()
    expect_eq(code, 0, "broker exit status after SIGTERM (clean shutdown)")
    expect("stopped cleanly" in b.stderr_text(), "broker log: expected 'stopped cleanly'")
    b.start()
    md = AdminClient(harness.confluent_config(b)).list_topics(TOPIC, timeout=10)
    expect_eq(len(md.topics[TOPIC].partitions), PARTITIONS,
              f"partitions of {TOPIC} after restart")
    log, marks = ck.read_all(b, TOPIC, PARTITIONS)
    total = sum(len(r) for r in log.values())
    expect_eq(total, expected_total, "records after restart")
    expect_eq(sum(h for _, h in marks.values()), expected_total, "sum of high watermarks")
    ck.check_log_against_acks(log, marks, acks, TOPIC)


def test(ctx):
    b = ctx.broker()
    admin = AdminClient(harness.confluent_config(b))
    fut = admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)], operation_timeout=10)
    fut[TOPIC].result(timeout=15)

    acks = ck.AckLog()
    produce(b, acks, 0, N)
    expect_eq(acks.count(), N, "acknowledged records")
    restart_and_check(b, acks, N)

    produce(b, acks, N, N // 4)
    expect_eq(acks.count(), N + N // 4, "acknowledged records after the second batch")
    restart_and_check(b, acks, N + N // 4)
    expect_eq(b.stop(), 0, "broker exit status after the final SIGTERM")


if __name__ == "__main__":
    harness.main(test)
