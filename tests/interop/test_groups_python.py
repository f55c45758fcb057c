"""Consumer groups with the Python clients against strata.

confluent-kafka (librdkafka): two members subscribe with manual commits; the partitions are
split between them; a member commits what it processed, closes, and a new member resumes
from the commit; static membership (group.instance.id) and the admin API's group listing.
kafka-python: its own group protocol implementation (JoinGroup v2, SyncGroup/Heartbeat v1,
OffsetCommit v2, OffsetFetch v1): two consumers share a topic, commit synchronously, and a
restarted consumer resumes from the committed offsets."""

import time

from confluent_kafka import Consumer, KafkaError, TopicPartition
from confluent_kafka.admin import AdminClient

import ck
import harness
from harness import expect, expect_eq


def fill(b, topic, count, partitions):
    p = ck.producer(b)
    for i in range(count):
        p.produce(topic, key=f"k{i}".encode(), value=f"v{i}".encode(), partition=i % partitions)
    p.flush(30)


def poll_until(consumers, want, timeout=60, seen=None):
    """Polls every consumer in turn until `want` distinct values were seen (counting those
    already in `seen`). Returns {consumer index: [messages]}."""
    seen = seen or {i: [] for i in range(len(consumers))}
    values = {m.value() for msgs in seen.values() for m in msgs}
    deadline = time.monotonic() + timeout
    while len(values) < want and time.monotonic() < deadline:
        for i, c in enumerate(consumers):
            m = c.poll(0.1)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    continue
                harness.fail(f"consumer {i}: {m.error()}")
            seen[i].append(m)
            values.add(m.value())
    expect(len(values) >= want, f"read {len(values)} distinct records, wanted {want}")
    return seen


def confluent_group(ctx, b):
    topic = "ck-group"
    ctx.run([ctx.strata, "topics", "create", topic, "--partitions", "4",
             "--bootstrap-server", b.bootstrap])
    fill(b, topic, 400, 4)
    assigned = {0: set(), 1: set()}

    def tracker(i):
        def on_assign(consumer, partitions):
            assigned[i] = {p.partition for p in partitions}

        def on_revoke(consumer, partitions):
            assigned[i] -= {p.partition for p in partitions}
        return on_assign, on_revoke

    members = []
    for i in range(2):
        c = ck.consumer(b, **{"group.id": "ck", "auto.offset.reset": "earliest",
                              "session.timeout.ms": 6000, "heartbeat.interval.ms": 500})
        on_assign, on_revoke = tracker(i)
        c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
        members.append(c)
    # Both members must end up with two partitions each (the second join rebalances).
    early = {0: [], 1: []}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for i, c in enumerate(members):
            m = c.poll(0.05)
            if m is not None and not m.error():
                early[i].append(m)
        if len(assigned[0]) == 2 and len(assigned[1]) == 2:
            break
    expect_eq(sorted(assigned[0] | assigned[1]), [0, 1, 2, 3], "partitions owned by the pair")
    expect(not (assigned[0] & assigned[1]), f"a partition with two owners: {assigned}")
    seen = poll_until(members, 400, seen={i: list(early[i]) for i in early})
    for i, msgs in seen.items():
        parts = {m.partition() for m in msgs[len(early[i]):]}
        expect(parts <= assigned[i], f"member {i} read partitions {parts} but owns {assigned[i]}")
    # Manual, synchronous commits: each member commits, for the partitions it owns now, the
    # position after the last record the group processed there (a partition read partly by
    # its previous owner before the rebalance counts that owner's records too).
    processed = {}
    for msgs in seen.values():
        for m in msgs:
            processed[m.partition()] = max(processed.get(m.partition(), 0), m.offset() + 1)
    for i, c in enumerate(members):
        mine = [TopicPartition(topic, p, processed[p]) for p in sorted(assigned[i])
                if p in processed]
        if mine:
            for tp in c.commit(offsets=mine, asynchronous=False):
                expect(tp.error is None, f"commit of {tp}: {tp.error}")
    committed = members[0].committed([TopicPartition(topic, p) for p in range(4)], timeout=10)
    expect_eq(sum(tp.offset for tp in committed), 400, "committed offsets summed")
    for c in members:
        c.close()

    # A new member of the same group resumes after the commits: only new records.
    fill(b, topic, 8, 4)
    c = ck.consumer(b, **{"group.id": "ck", "auto.offset.reset": "earliest"})
    c.subscribe([topic])
    seen = poll_until([c], 8, timeout=30)[0]
    expect_eq(sorted(m.value() for m in seen), sorted(f"v{i}".encode() for i in range(8)),
              "records read after resuming from the committed offsets")
    c.close()

    # Static membership: a member with group.instance.id keeps its id across a restart.
    conf = {"group.id": "ck-static", "group.instance.id": "instance-1",
            "auto.offset.reset": "earliest", "session.timeout.ms": 10000}
    s = ck.consumer(b, **conf)
    s.subscribe([topic])
    poll_until([s], 10, timeout=30)
    s.close()

    admin = AdminClient(harness.confluent_config(b))
    groups = {g.id: g for g in admin.list_groups(timeout=10)}
    expect("ck" in groups and "ck-static" in groups, f"list_groups: {sorted(groups)}")
    expect_eq(groups["ck"].protocol_type, "consumer", "protocol type of group ck")


def kafka_python_group(ctx, b):
    from kafka import KafkaConsumer, TopicPartition as KTP
    topic = "kp-group"
    ctx.run([ctx.strata, "topics", "create", topic, "--partitions", "4",
             "--bootstrap-server", b.bootstrap])
    fill(b, topic, 200, 4)

    def consumer():
        return KafkaConsumer(topic, bootstrap_servers=b.bootstrap, group_id="kp",
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             session_timeout_ms=6000, heartbeat_interval_ms=500,
                             consumer_timeout_ms=1000)

    # kafka-python joins inside poll() and blocks there until the rebalance completes, so
    # each member needs its own thread (as each would be its own process in production).
    import threading
    values, lock, stop = {}, threading.Lock(), threading.Event()
    a, c2 = consumer(), consumer()

    # Each thread also notes its positions (kafka-python is not thread-safe, so only the
    # polling thread asks): the pair is done when every partition is owned and read to its
    # end (50 records each) — records its previous owner read before a rebalance do not
    # count for the new owner, which starts again from the (absent) commit.
    positions = {}

    def run(name, c):
        while not stop.is_set():
            for tp, recs in c.poll(timeout_ms=200).items():
                with lock:
                    for r in recs:
                        values[r.value] = name
            mine = {tp.partition: c.position(tp) for tp in c.assignment()}
            with lock:
                positions[name] = mine

    def caught_up():
        with lock:
            if len(values) < 200 or set(positions) != {"a", "b"}:
                return False
            owned = [p for pos in positions.values() for p in pos]
            if sorted(owned) != [0, 1, 2, 3] or any(not pos for pos in positions.values()):
                return False
            return all(o == 50 for pos in positions.values() for o in pos.values())

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in (("a", a), ("b", c2))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not caught_up():
        time.sleep(0.1)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    expect(caught_up(), f"kafka-python pair did not read every partition to its end: "
                        f"{positions}, {len(values)} records")
    expect_eq(len(values), 200, "records read by the kafka-python pair")
    parts_a, parts_b = a.assignment(), c2.assignment()
    expect(parts_a and parts_b and not (parts_a & parts_b),
           f"kafka-python assignment overlaps or is one-sided: {parts_a} / {parts_b}")
    expect_eq({tp.partition for tp in parts_a | parts_b}, {0, 1, 2, 3}, "partitions owned")
    a.commit()
    c2.commit()
    a.close()
    c2.close()

    fill(b, topic, 4, 4)
    r = consumer()
    got = []
    deadline = time.monotonic() + 30
    while len(got) < 4 and time.monotonic() < deadline:
        for tp, recs in r.poll(timeout_ms=200).items():
            got += [x.value for x in recs]
    expect_eq(sorted(got), sorted(f"v{i}".encode() for i in range(4)),
              "kafka-python resumed from its committed offsets")
    pos = sum(r.committed(KTP(topic, p)) or 0 for p in range(4))
    expect_eq(pos, 200, "kafka-python committed offsets before the second commit")
    r.close()


def test(ctx):
    b = ctx.broker(overrides=["group.initial.rebalance.delay.ms=0",
                              "offsets.topic.num.partitions=4"])
    confluent_group(ctx, b)
    kafka_python_group(ctx, b)
    expect(b.alive(), "broker died")
    expect_eq(b.stop(), 0, "broker exit status after SIGTERM")


if __name__ == "__main__":
    harness.main(test)
