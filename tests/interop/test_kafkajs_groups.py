"""kafkajs 2.2.4's group consumer against strata (js/kafkajs_groups.js): two members share a
topic, read every record with read_committed fetches, commit on disconnect; the admin client
describes, lists and deletes the group.

Needs `npm install` in tests/interop/js (scripts/test.sh does it); skipped without it."""

import harness
from harness import expect, expect_eq


def test(ctx):
    b = ctx.broker(overrides=["group.initial.rebalance.delay.ms=0",
                              "offsets.topic.num.partitions=4"])
    result = harness.run_kafkajs(ctx, "kafkajs_groups.js", b, timeout=100)
    expect_eq(result["read"], 200, "records the kafkajs group read")
    expect(b.alive(), "broker died")
    expect_eq(b.stop(), 0, "broker exit status after SIGTERM")


if __name__ == "__main__":
    harness.main(test)
