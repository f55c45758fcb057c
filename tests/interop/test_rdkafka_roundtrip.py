"""librdkafka C program (rdkafka_roundtrip.c): CreateTopics with 8 partitions, N keyed records
with acks=all and murmur2_random, every delivery report successful, then every record read
back exactly once, in send order per partition, at the offset its delivery report gave."""

import harness
from harness import expect, expect_eq


def test(ctx):
    b = ctx.broker()
    records = ctx.arg("records", "200000")
    r = ctx.run([ctx.arg("roundtrip"), "--bootstrap", b.bootstrap, "--topic", "roundtrip",
                 "--partitions", "8", "--records", records], timeout=200)
    print(r.stdout, end="")
    expect(r.stdout.rstrip().endswith("OK"), f"rdkafka_roundtrip: expected OK, saw:\n{r.stdout}")
    expect(b.alive(), "broker died during the round trip")
    expect_eq(b.stop(), 0, "broker exit status after SIGTERM")


if __name__ == "__main__":
    harness.main(test)
