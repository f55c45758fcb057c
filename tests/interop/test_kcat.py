"""kcat 1.7.1 (librdkafka 2.0.2) against strata: -L metadata, -P with keys and headers,
-C with exact formatted output, consuming from an offset, and -Q offsets-for-times."""

import time

import harness
from harness import expect, expect_eq

NODE_ID = 7


def kcat(ctx, b, *args, input=None, timeout=30):
    return ctx.run(["kcat", "-b", b.bootstrap, "-m", "10", "-X", "broker.address.family=v4",
                    *args], input=input, timeout=timeout).stdout


def consume(ctx, b, topic, *args, fmt="%k|%s|%h|%p|%o\\n"):
    out = kcat(ctx, b, "-C", "-t", topic, "-e", "-q", "-f", fmt.replace("\\n", "\n"), *args)
    return out.splitlines()


def check_metadata(ctx, b):
    out = kcat(ctx, b, "-L")
    expect(f"broker {NODE_ID} at 127.0.0.1:{b.port}" in out,
           f"kcat -L: expected 'broker {NODE_ID} at 127.0.0.1:{b.port}', saw:\n{out}")
    expect(" 0 topics:" in out, f"kcat -L on a new broker: expected ' 0 topics:', saw:\n{out}")
    # Asking for one topic auto-creates it with num.partitions=3.
    out = kcat(ctx, b, "-L", "-t", "events")
    expect('topic "events" with 3 partitions:' in out,
           f"kcat -L -t events: expected 3 partitions, saw:\n{out}")
    for p in range(3):
        line = f"partition {p}, leader {NODE_ID}, replicas: {NODE_ID}, isrs: {NODE_ID}"
        expect(line in out, f"kcat -L -t events: expected '{line}', saw:\n{out}")
    out = kcat(ctx, b, "-L")
    expect(" 1 topics:" in out and 'topic "events"' in out,
           f"kcat -L: expected exactly topic 'events', saw:\n{out}")


def check_produce_consume(ctx, b):
    lines = [f"key-{i}:value {i} with spaces" for i in range(5)]
    kcat(ctx, b, "-P", "-t", "events", "-p", "1", "-K:", "-H", "trace=abc", "-H", "h2=x y",
         input="\n".join(lines) + "\n")
    kcat(ctx, b, "-P", "-t", "events", "-p", "2", "-K:", input="only:in-two\n")
    got = consume(ctx, b, "events", "-p", "1")
    expected = [f"key-{i}|value {i} with spaces|trace=abc,h2=x y|1|{i}" for i in range(5)]
    expect_eq(got, expected, "kcat -C -p 1 output")
    got = sorted(consume(ctx, b, "events"))
    expect_eq(got, sorted(expected + ["only|in-two||2|0"]), "kcat -C over all partitions")
    # From an absolute offset, and the last two records (-o -2 is relative to the end).
    expect_eq(consume(ctx, b, "events", "-p", "1", "-o", "3"), expected[3:],
              "kcat -C -p 1 -o 3")
    expect_eq(consume(ctx, b, "events", "-p", "1", "-o", "-2"), expected[3:],
              "kcat -C -p 1 -o -2")
    # Empty partition: nothing, and -e still exits.
    expect_eq(consume(ctx, b, "events", "-p", "0"), [], "kcat -C on empty partition 0")
    # NULL key and value survive (-Z maps empty input to NULL and prints NULL).
    kcat(ctx, b, "-P", "-t", "events", "-p", "0", "-Z", "-K:", input=":\nk:\n:v\n")
    expect_eq(consume(ctx, b, "events", "-p", "0", "-Z", fmt="%k|%s|%o\\n"),
              ["NULL|NULL|0", "k|NULL|1", "NULL|v|2"], "kcat -Z NULL keys/values")


def check_offsets_for_times(ctx, b):
    kcat(ctx, b, "-P", "-t", "times", "-p", "0", input="a1\na2\n")
    time.sleep(0.05)
    kcat(ctx, b, "-P", "-t", "times", "-p", "0", input="b1\nb2\n")
    rows = [line.split("|") for line in consume(ctx, b, "times", "-p", "0", fmt="%o|%T|%s\\n")]
    expect_eq([r[2] for r in rows], ["a1", "a2", "b1", "b2"], "values in topic 'times'")
    ts = [int(r[1]) for r in rows]
    expect(ts[2] > ts[1], f"second produce should have a later timestamp: {ts}")

    def query(t):
        out = kcat(ctx, b, "-Q", "-t", f"times:0:{t}")
        prefix = "times [0] offset "
        for line in out.splitlines():
            if line.startswith(prefix):
                return int(line[len(prefix):])
        harness.fail(f"kcat -Q -t times:0:{t}: no '{prefix}' line in:\n{out}")

    expect_eq(query(0), 0, "offset for timestamp 0")
    expect_eq(query(ts[0]), 0, f"offset for the first record's timestamp {ts[0]}")
    expect_eq(query(ts[1] + 1), 2, f"offset for timestamp {ts[1] + 1} (after batch a)")
    # The first offset whose timestamp is at least ts[3]: 2 when b1 and b2 share a
    # millisecond, 3 when kcat stamped b2 a millisecond later.
    first_at_last = min(i for i, t in enumerate(ts) if t >= ts[3])
    expect(first_at_last in (2, 3), f"timestamps of batch b: {ts}")
    expect_eq(query(ts[3]), first_at_last, f"offset for the last timestamp {ts[3]} ({ts})")
    expect_eq(query(ts[3] + 100000), -1, "offset for a timestamp after every record")
    expect_eq(query(-1), 4, "offset for LATEST (-1)")
    expect_eq(query(-2), 0, "offset for EARLIEST (-2)")


def test(ctx):
    b = ctx.broker(overrides=[f"node.id={NODE_ID}", "num.partitions=3"])
    check_metadata(ctx, b)
    check_produce_consume(ctx, b)
    check_offsets_for_times(ctx, b)
    expect(b.alive(), "broker died during the test")
    expect_eq(b.stop(), 0, "broker exit status after SIGTERM")


if __name__ == "__main__":
    harness.main(test)
