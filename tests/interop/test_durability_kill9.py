"""Durability across kill -9: a confluent-kafka producer sends continuously with acks=all
while the broker is SIGKILLed mid-stream (three times), restarted on the same data dir and port
each time. The producer keeps going through the outages (librdkafka retries). Afterwards:

  * every acknowledged record is readable, at the partition and offset it was acked with;
  * no two different records were acknowledged at one offset;
  * every partition's offsets are dense from 0 to the high watermark (no gaps, no repeats).

Records sent but never acknowledged may or may not be present (and may appear twice, since
this producer is not idempotent): that is allowed. The broker does not fsync by default, but
SIGKILL keeps the page cache, so acked data must survive.
"""

import threading
import time

from confluent_kafka.admin import AdminClient, NewTopic

import ck
import harness
from harness import expect, expect_eq

TOPIC = "crashy"
PARTITIONS = 4
KILLS = 3


class ContinuousProducer(threading.Thread):
    def __init__(self, b, acks):
        super().__init__(daemon=True)
        self.p = ck.producer(b, **{"message.timeout.ms": 60000,
                                   "queue.buffering.max.messages": 20000})
        self.acks = acks
        self.stop_flag = threading.Event()
        self.sent = 0

    def run(self):
        i = 0
        while not self.stop_flag.is_set():
            try:
                self.p.produce(TOPIC, key=f"k{i % 101}".encode(), value=f"r{i}".encode(),
                               on_delivery=self.acks.on_delivery)
                i += 1
                self.sent = i
            except BufferError:
                self.p.poll(0.01)
                continue
            self.p.poll(0)
            if i % 50 == 0:
                time.sleep(0.002)  # a steady stream, not a flood

    def finish(self):
        self.stop_flag.set()
        self.join(10)
        return self.p.flush(70)


def wait_for_acks(acks, at_least, timeout, what):
    deadline = time.monotonic() + timeout
    while acks.count() < at_least and time.monotonic() < deadline:
        time.sleep(0.02)
    expect(acks.count() >= at_least,
           f"{what}: expected at least {at_least} acks within {timeout}s, saw {acks.count()}")


def test(ctx):
    b = ctx.broker()
    admin = AdminClient(harness.confluent_config(b))
    admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)])[TOPIC].result(timeout=15)
    del admin

    acks = ck.AckLog()
    prod = ContinuousProducer(b, acks)
    prod.start()
    for k in range(KILLS):
        wait_for_acks(acks, acks.count() + 3000, 30, f"before kill {k + 1}")
        before = acks.count()
        b.kill9()
        time.sleep(0.3)  # the producer keeps sending into the outage
        b.start()
        print(f"kill {k + 1}: {before} acked before SIGKILL, {prod.sent} sent so far")
        # The stream resumes against the restarted broker.
        wait_for_acks(acks, before + 1000, 30, f"after restart {k + 1}")
    left = prod.finish()
    expect_eq(left, 0, "messages neither acked nor failed after flush(70)")
    transport_only = [e for _, e in acks.errors if not ck.is_benign_transport_error(e)]
    print(f"sent {prod.sent}, acked {acks.count()}, failed {len(acks.errors)}")
    expect(not transport_only, f"delivery errors other than transport ones: {transport_only[:5]}")

    # One more kill with nothing in flight, then read everything.
    b.kill9()
    b.start()
    log, marks = ck.read_all(b, TOPIC, PARTITIONS)
    total = sum(len(r) for r in log.values())
    print(f"read {total} records; high watermarks {marks}")
    expect(total >= acks.count(), f"expected at least the {acks.count()} acked records, "
                                  f"read {total}")
    ck.check_log_against_acks(log, marks, acks, TOPIC)
    expect_eq(b.stop(), 0, "broker exit status after SIGTERM")


if __name__ == "__main__":
    harness.main(test)
