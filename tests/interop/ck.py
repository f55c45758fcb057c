"""confluent-kafka helpers shared by the interop tests: a producer that records every
acknowledgement, a reader that fetches whole partitions, and the checks that compare them."""

import threading
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

import harness
from harness import expect, fail


class AckLog:
    """Delivery reports of one producer: acked[(partition, offset)] = value."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}
        self.acked_values = set()
        self.errors = []
        self.conflicts = []

    def on_delivery(self, err, msg):
        with self.lock:
            if err is not None:
                self.errors.append((msg.value(), err))
                return
            at = (msg.partition(), msg.offset())
            if at in self.acked and self.acked[at] != msg.value():
                self.conflicts.append((at, self.acked[at], msg.value()))
            self.acked[at] = msg.value()
            self.acked_values.add(msg.value())

    def count(self):
        with self.lock:
            return len(self.acked)


def producer(broker, **extra):
    conf = harness.confluent_config(broker, **{
        "acks": "all", "partitioner": "murmur2_random", "linger.ms": 2,
        "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 500,
        "retry.backoff.ms": 100, "message.timeout.ms": 30000})
    conf.update(extra)
    return Producer(conf)


def consumer(broker, **extra):
    conf = harness.confluent_config(broker, **{
        "group.id": "strata-interop", "enable.auto.commit": False,
        "enable.auto.offset.store": False, "fetch.wait.max.ms": 100,
        "enable.partition.eof": False, "reconnect.backoff.ms": 50})
    conf.update(extra)
    return Consumer(conf)


def read_all(broker, topic, partitions, timeout=60):
    """Reads each partition from its log start to the high watermark seen at the start.
    Returns ({partition: [(offset, key, value, headers)]}, {partition: (low, high)})."""
    c = consumer(broker)
    try:
        marks = {}
        for p in range(partitions):
            marks[p] = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            expect(marks[p] is not None, f"watermarks of {topic}-{p}: expected an answer")
        c.assign([TopicPartition(topic, p, marks[p][0]) for p in range(partitions)])
        out = {p: [] for p in range(partitions)}
        pending = {p for p in range(partitions) if marks[p][1] > marks[p][0]}
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for m in c.consume(1000, timeout=0.5):
                if m.error():
                    fail(f"consume {topic}: expected no error, saw {m.error()}")
                p = m.partition()
                out[p].append((m.offset(), m.key(), m.value(), m.headers()))
                if m.offset() + 1 >= marks[p][1]:
                    pending.discard(p)
        expect(not pending, f"read_all {topic}: partitions {sorted(pending)} not read up to "
                            f"their high watermarks {marks} within {timeout}s "
                            f"(got { {p: len(v) for p, v in out.items()} })")
        return out, marks
    finally:
        c.close()


def check_log_against_acks(log, marks, acks, topic):
    """Every acked record is present at the offset it was acked with; offsets are dense from
    the log start to the high watermark; no acknowledged offset was reported twice with
    different values."""
    expect(not acks.conflicts,
           f"{topic}: two different records acknowledged at one offset: {acks.conflicts[:5]}")
    for p, recs in log.items():
        low, high = marks[p]
        offsets = [r[0] for r in recs]
        expect(offsets == list(range(low, high)),
               f"{topic}-{p}: expected dense offsets [{low}, {high}), saw {len(offsets)} "
               f"records, first gap/duplicate near {first_bad(offsets, low)}")
    lost = []
    for (p, off), value in sorted(acks.acked.items()):
        recs = log.get(p, [])
        low = marks[p][0] if p in marks else 0
        idx = off - low
        if not (0 <= idx < len(recs)) or recs[idx][2] != value:
            seen = recs[idx][2] if 0 <= idx < len(recs) else "(beyond the high watermark)"
            lost.append(f"{topic}-{p}@{off}: acked {value!r}, read {seen!r}")
    expect(not lost, f"{len(lost)} acknowledged record(s) lost or changed, e.g.:\n  " +
           "\n  ".join(lost[:10]))


def first_bad(offsets, low):
    for i, o in enumerate(offsets):
        if o != low + i:
            return f"index {i}: expected {low + i}, saw {o}"
    return f"end: {len(offsets)} records"


def is_benign_transport_error(err):
    return err.code() in (KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN)
