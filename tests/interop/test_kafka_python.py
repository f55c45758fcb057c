"""kafka-python 2.0.2 (pure Python; picks request versions from a guessed broker version):
KafkaAdminClient create_topics / delete_topics, KafkaProducer with keys, headers and gzip,
KafkaConsumer with assign(), seek_to_beginning(), seek(), offsets_for_times() and end_offsets().
No consumer group (group_id=None): groups are not served yet."""

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

import harness
from harness import expect, expect_eq

TOPIC = "kp-events"
N = 3000
BASE_TS = 1_650_000_000_000


def expected(i):
    return (f"key-{i % 17}".encode(), f"payload-{i}-".encode() * 4,
            [("n", str(i).encode()), ("src", b"kafka-python")])


def test(ctx):
    b = ctx.broker()
    admin = KafkaAdminClient(bootstrap_servers=b.bootstrap, client_id="kp-admin")
    try:
        admin.create_topics([NewTopic(TOPIC, 3, 1), NewTopic("kp-doomed", 1, 1)],
                            timeout_ms=10000)
        try:
            admin.create_topics([NewTopic(TOPIC, 3, 1)], timeout_ms=10000)
            harness.fail("creating an existing topic: expected TopicAlreadyExistsError")
        except TopicAlreadyExistsError:
            pass
        admin.delete_topics(["kp-doomed"], timeout_ms=10000)
    finally:
        admin.close()

    p = KafkaProducer(bootstrap_servers=b.bootstrap, acks="all", compression_type="gzip",
                      linger_ms=5, retries=0)
    version = p.config["api_version"]
    print(f"kafka-python inferred broker version {version}")
    expect(version >= (0, 11), f"inferred broker version: expected >= (0, 11) for record "
                               f"batch v2 and headers, saw {version}")
    futures = []
    for i in range(N):
        key, value, headers = expected(i)
        futures.append(p.send(TOPIC, key=key, value=value, headers=headers,
                              partition=i % 3, timestamp_ms=BASE_TS + i))
    p.flush(30)
    metas = [f.get(timeout=30) for f in futures]
    p.close(10)
    for i, md in enumerate(metas):
        expect_eq((md.partition, md.offset), (i % 3, i // 3), f"ack of record {i}")
    topics = KafkaConsumer(bootstrap_servers=b.bootstrap).topics()
    expect(TOPIC in topics and "kp-doomed" not in topics,
           f"topics after create/delete: expected {TOPIC} and no kp-doomed, saw {topics}")

    c = KafkaConsumer(bootstrap_servers=b.bootstrap, group_id=None, enable_auto_commit=False,
                      consumer_timeout_ms=5000, fetch_max_wait_ms=100)
    try:
        tps = [TopicPartition(TOPIC, p) for p in range(3)]
        c.assign(tps)
        c.seek_to_beginning()
        expect_eq(c.end_offsets(tps), {tp: N // 3 for tp in tps}, "end_offsets")
        expect_eq(c.beginning_offsets(tps), {tp: 0 for tp in tps}, "beginning_offsets")
        got = {}
        for m in c:
            got[(m.partition, m.offset)] = m
            if len(got) == N:
                break
        expect_eq(len(got), N, "records read with seek_to_beginning")
        for i in range(N):
            m = got[(i % 3, i // 3)]
            key, value, headers = expected(i)
            expect_eq((m.key, m.value, list(m.headers), m.timestamp),
                      (key, value, headers, BASE_TS + i), f"record {i}")
        # seek() to an offset, and offsets_for_times.
        tp = tps[1]
        c.seek(tp, 500)
        records = c.poll(timeout_ms=5000, max_records=1).get(tp, [])
        expect(records, "poll after seek(kp-events-1, 500): expected a record")
        expect_eq((records[0].offset, records[0].value), (500, expected(1501)[1]),
                  "first record after seek to 500")
        found = c.offsets_for_times({tp: BASE_TS + 10**9})
        expect_eq(found[tp], None, "offsets_for_times after the last timestamp")
        # The record sits inside a gzip batch: like Kafka (FileRecords.searchForTimestamp),
        # the broker must look inside the batch, not answer the batch's base offset.
        found = c.offsets_for_times({tp: BASE_TS + 1501})
        expect_eq(found[tp].offset, 500, "offsets_for_times(kp-events-1, ts of record 1501, "
                                         "inside a gzip batch)")
    finally:
        c.close()
    expect(b.alive(), "broker died")
    expect_eq(b.stop(), 0, "broker exit status after SIGTERM")


if __name__ == "__main__":
    harness.main(test)
