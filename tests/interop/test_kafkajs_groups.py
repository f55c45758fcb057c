"""kafkajs 2.2.4's group consumer against strata (js/kafkajs_groups.js): two members share a
topic, read every record with read_committed fetches, commit on disconnect; the admin client
describes, lists and deletes the group.

Needs `npm install` in tests/interop/js (scripts/test.sh does it); skipped without it."""

import json
import os
import shutil

import harness
from harness import expect, expect_eq


def test(ctx):
    js_dir = ctx.arg("js-dir")
    node = shutil.which("node")
    if node is None:
        raise harness.Skip("node is not installed")
    if not os.path.isdir(os.path.join(js_dir, "node_modules", "kafkajs")):
        raise harness.Skip(f"kafkajs is not installed: run `npm install` in {js_dir}")
    b = ctx.broker(overrides=["group.initial.rebalance.delay.ms=0",
                              "offsets.topic.num.partitions=4"])
    r = ctx.run([node, os.path.join(js_dir, "kafkajs_groups.js"), b.bootstrap], timeout=100,
                check=False)
    lines = [l for l in r.stdout.splitlines() if l.startswith("RESULT ")]
    expect(lines, f"kafkajs_groups.js printed no RESULT line (exit {r.returncode})\n"
                  f"stdout:\n{r.stdout[-3000:]}\nstderr:\n{r.stderr[-3000:]}")
    result = json.loads(lines[-1][len("RESULT "):])
    expect(not result["failures"], "kafkajs group checks failed:\n  " +
           "\n  ".join(result["failures"]) + f"\nstderr:\n{r.stderr[-2000:]}")
    expect_eq(r.returncode, 0, "kafkajs_groups.js exit status")
    expect(b.alive(), "broker died")
    expect_eq(b.stop(), 0, "broker exit status after SIGTERM")


if __name__ == "__main__":
    harness.main(test)
