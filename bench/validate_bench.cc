// strata_validate_bench: the broker's per-batch produce validation (CRC-32C and the walk
// over every record, validate_for_append) on a batch like librdkafka sends in the default
// workload, timed in isolation. The end-to-end benchmark is client-bound on small machines,
// so changes to this path are measured here. Prints figures; asserts nothing on speed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/base/crc32c.h"
#include "engine/protocol/record_batch.h"

namespace {

using Clock = std::chrono::steady_clock;

strata::Bytes make_batch(int records, int value_bytes) {
  strata::RecordBatchBuilder b;
  std::vector<uint8_t> value(size_t(value_bytes), uint8_t('x'));
  for (int i = 0; i < records; ++i) {
    b.add(1'700'000'000'000 + i / 1000, std::nullopt, strata::ByteSpan(value));
  }
  auto built = b.build();
  if (!built) {
    std::fprintf(stderr, "build: %s\n", built.status().to_string().c_str());
    std::exit(1);
  }
  return *built;
}

// Nanoseconds per record of one pass, the best of `passes` (the least disturbed).
double best_ns_per_record(const strata::Bytes& batch, int records, int passes, int reps) {
  double best = 1e18;
  for (int p = 0; p < passes; ++p) {
    auto t0 = Clock::now();
    for (int i = 0; i < reps; ++i) {
      strata::AppendValidation v = strata::validate_for_append(batch);
      if (!v.ok()) {
        std::fprintf(stderr, "validation failed: %s\n", v.status.to_string().c_str());
        std::exit(1);
      }
    }
    double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
    best = std::min(best, ns / (double(reps) * records));
  }
  return best;
}

// The same for the CRC-32C alone over the whole batch, to split validation's cost.
double best_crc_ns_per_record(const strata::Bytes& batch, int records, int passes, int reps) {
  double best = 1e18;
  uint32_t sink = 0;
  for (int p = 0; p < passes; ++p) {
    auto t0 = Clock::now();
    for (int i = 0; i < reps; ++i) sink ^= strata::crc32c::extend(sink, batch.data(), batch.size());
    double ns = std::chrono::duration<double, std::nano>(Clock::now() - t0).count();
    best = std::min(best, ns / (double(reps) * records));
  }
  if (sink == 0x12345678) std::printf(" ");  // keeps the loop from being optimised away
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  int records = argc > 1 ? std::atoi(argv[1]) : 10'000;     // librdkafka's batch.num.messages
  int value_bytes = argc > 2 ? std::atoi(argv[2]) : 100;
  if (records <= 0 || value_bytes < 0) {
    std::fprintf(stderr, "usage: strata_validate_bench [RECORDS [VALUE_BYTES]]\n");
    return 2;
  }
  strata::Bytes batch = make_batch(records, value_bytes);
  int reps = std::max(1, 20'000'000 / int(batch.size()));  // about 20 MB per pass
  double ns = best_ns_per_record(batch, records, 15, reps);
  std::printf("validate_for_append: batch of %d records x %d B (%zu bytes): %.1f ns/record, "
              "%.0f MB/s (best of 15 passes)\n",
              records, value_bytes, batch.size(), ns,
              double(batch.size()) / records / ns * 1e9 / (1 << 20));
  std::printf("  of which CRC-32C over the batch: %.1f ns/record\n",
              best_crc_ns_per_record(batch, records, 15, reps));
  return 0;
}
