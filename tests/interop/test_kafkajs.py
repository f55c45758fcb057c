"""kafkajs 2.2.4 (node): admin createTopics / fetchTopicMetadata / describeConfigs /
fetchTopicOffsets / fetchTopicOffsetsByTimestamp / createPartitions / deleteTopics and the
producer (acks -1, keyed over 4 partitions, headers, gzip, sendBatch), in js/kafkajs_interop.js.
Every record the node side says it produced is read back here with confluent-kafka and
compared; kafkajs's group consumer has its own test (test_kafkajs_groups.py).

Needs `npm install` in tests/interop/js (scripts/test.sh does it); skipped without it."""

import ck
import harness
from harness import expect, expect_eq


def test(ctx):
    b = ctx.broker()
    result = harness.run_kafkajs(ctx, "kafkajs_interop.js", b)
    sent = result["sent"]
    expect_eq(len(sent), 402, "records the kafkajs producer reported")

    log, marks = ck.read_all(b, "js-a", 6)
    by_offset = {(p, rec[0]): rec for p, recs in log.items() for rec in recs}
    expect_eq(sum(len(v) for v in log.values()), len(sent), "records in js-a")
    for s in sent:
        rec = by_offset.get((s["partition"], s["offset"]))
        expect(rec is not None, f"record {s} not found at js-a-{s['partition']}@{s['offset']}")
        _, key, value, headers = rec
        want_key = None if s["key"] is None else s["key"].encode()
        want_headers = [(k, v.encode()) for k, v in s["headers"].items()] or None
        expect_eq((key, value, headers), (want_key, s["value"].encode(), want_headers),
                  f"js-a-{s['partition']}@{s['offset']}")
    expect(b.alive(), "broker died")
    expect_eq(b.stop(), 0, "broker exit status after SIGTERM")


if __name__ == "__main__":
    harness.main(test)
