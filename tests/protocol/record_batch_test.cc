#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "engine/base/crc32c.h"
#include "engine/protocol/record_batch.h"

using namespace strata;
namespace bf = batch_format;

namespace {

// Golden batches, made by real clients (no broker involved):
//  - kLibrdkafka*: librdkafka 2.0.2 (confluent-kafka-python 1.7.0) producing into its own
//    mock cluster (test.mock.num.brokers=1, linger.ms=500, partition 0) with
//    compression.codec=none/gzip/snappy/lz4/zstd, read back raw by a hand-written Fetch v4
//    request (the mock broker stores batches as produced);
//  - kKafkaPython*: kafka-python 2.0.2's DefaultRecordBatchBuilder (pure-Python CRC-32C),
//    producer id 1234, epoch 5, base sequence 42.
// Both hold the three records of expected_records(), timestamps from 1700000000000.
const char* const kLibrdkafkaNone =
    "0000000000000000000000bf00000000024490534f0000000000020000018bcfe568000000018bcfe568"
    "05ffffffffffffffffffffffffffff000000031a000000046b300a68656c6c6f00ea01000a0201c80177"
    "6f726c64776f726c64776f726c64776f726c64776f726c64776f726c64776f726c64776f726c64776f72"
    "6c64776f726c64776f726c64776f726c64776f726c64776f726c64776f726c64776f726c64776f726c64"
    "776f726c64776f726c64776f726c64040468310476310468320110001304046b320100";
const char* const kLibrdkafkaGzip =
    "0000000000000000000000760000000002e1235c520001000000020000018bcfe568000000018bcfe568"
    "05ffffffffffffffffffffffffffff000000031f8b08000000000000039362606060c936e0ca48cdc9c9"
    "6778c5c8c0c5c47882b13cbf282785c6040b4b86214b99214b8611a30083300b4bb611230300281f5a20"
    "8e000000";
const char* const kLibrdkafkaSnappy =
    "00000000000000000000006a0000000002d6fa4e450002000000020000018bcfe568000000018bcfe568"
    "05ffffffffffffffffffffffffffff000000038e01681a000000046b300a68656c6c6f00ea01000a0201"
    "c801776f726c64fe05007a05004c040468310476310468320110001304046b320100";
const char* const kLibrdkafkaLz4 =
    "000000000000000000000076000000000264365a9f0003000000020000018bcfe568000000018bcfe568"
    "05ffffffffffffffffffffffffffff0000000304224d1860408236000000ff0c1a000000046b300a6865"
    "6c6c6f00ea01000a0201c801776f726c6405004cf005040468310476310468320110001304046b320100"
    "00000000";
const char* const kLibrdkafkaZstd =
    "0000000000000000000000710000000002f2528a8a0004000000020000018bcfe568000000018bcfe568"
    "05ffffffffffffffffffffffffffff0000000328b52ffd0058bd0100f4021a000000046b300a68656c6c"
    "6f00ea01000a0201c801776f726c64040468310476310468320110001304046b320100010033a63206";
const char* const kKafkaPythonNone =
    "0000000000000000000000bf0000000002a70146090000000000020000018bcfe568000000018bcfe568"
    "0500000000000004d200050000002a000000031a000000046b300a68656c6c6f00ea01000a0201c80177"
    "6f726c64776f726c64776f726c64776f726c64776f726c64776f726c64776f726c64776f726c64776f72"
    "6c64776f726c64776f726c64776f726c64776f726c64776f726c64776f726c64776f726c64776f726c64"
    "776f726c64776f726c64776f726c64040468310476310468320110001304046b320100";
const char* const kKafkaPythonGzip =
    "000000000000000000000076000000000272a5a2680001000000020000018bcfe568000000018bcfe568"
    "0500000000000004d200050000002a000000031f8b0800745e026b02ff9362606060c936e0ca48cdc9c9"
    "6778c5c8c0c5c47882b13cbf282785c6040b4b86214b99214b8611a30083300b4bb611230300281f5a20"
    "8e000000";

constexpr int64_t kBaseTs = 1700000000000;

Bytes from_hex(const char* hex) {
  Bytes out;
  size_t n = std::strlen(hex);
  REQUIRE(n % 2 == 0);
  auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (size_t i = 0; i < n; i += 2) {
    out.push_back(uint8_t(nibble(hex[i]) * 16 + nibble(hex[i + 1])));
  }
  return out;
}

Bytes str(std::string_view s) { return Bytes(s.begin(), s.end()); }

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

std::vector<Record> expected_records() {
  std::vector<Record> r(3);
  r[0].offset_delta = 0;
  r[0].timestamp_delta = 0;
  r[0].key = str("k0");
  r[0].value = str("hello");
  r[1].offset_delta = 1;
  r[1].timestamp_delta = 5;
  r[1].value = str(repeat("world", 20));
  r[1].headers = {{"h1", str("v1")}, {"h2", std::nullopt}};
  r[2].offset_delta = 2;
  r[2].timestamp_delta = -10;
  r[2].key = str("k2");
  return r;
}

// Adds expected_records() to a builder, as the clients above did.
void add_expected(RecordBatchBuilder& b) {
  for (const Record& r : expected_records()) {
    std::optional<ByteSpan> key, value;
    if (r.key) key = ByteSpan(*r.key);
    if (r.value) value = ByteSpan(*r.value);
    b.add(kBaseTs + r.timestamp_delta, key, value, r.headers);
  }
}

Bytes build_expected(BatchBuilderOptions options) {
  RecordBatchBuilder b(options);
  add_expected(b);
  Result<Bytes> out = b.build();
  REQUIRE(out.is_ok());
  return std::move(out).value();
}

void restamp_crc(Bytes& batch) {
  store_be32(batch.data() + bf::kCrcAt,
             crc32c::value(ByteSpan(batch).subspan(bf::kAttributesAt)));
}

std::vector<Record> decode_ok(ByteSpan batch) {
  Result<std::vector<Record>> r = decode_records(batch);
  INFO(r.status().to_string());
  REQUIRE(r.is_ok());
  return std::move(r).value();
}

const Codec kAllCodecs[] = {Codec::kNone, Codec::kGzip, Codec::kSnappy, Codec::kLz4,
                            Codec::kZstd};

}  // namespace

TEST_CASE("batches from librdkafka decode for every codec") {
  struct Golden {
    const char* hex;
    Codec codec;
  };
  const Golden goldens[] = {{kLibrdkafkaNone, Codec::kNone},
                            {kLibrdkafkaGzip, Codec::kGzip},
                            {kLibrdkafkaSnappy, Codec::kSnappy},
                            {kLibrdkafkaLz4, Codec::kLz4},
                            {kLibrdkafkaZstd, Codec::kZstd},
                            {kKafkaPythonNone, Codec::kNone},
                            {kKafkaPythonGzip, Codec::kGzip}};
  for (const Golden& g : goldens) {
    INFO(codec_name(g.codec) << ": " << std::string(g.hex).substr(0, 60));
    Bytes batch = from_hex(g.hex);
    CHECK(validate_batch(batch).is_ok());
    Result<BatchHeader> h = parse_batch_header(batch);
    REQUIRE(h.is_ok());
    CHECK(h->codec() == g.codec);
    CHECK(h->records_count == 3);
    CHECK(h->last_offset_delta == 2);
    CHECK(h->base_timestamp == kBaseTs);
    CHECK(h->max_timestamp == kBaseTs + 5);
    CHECK(decode_ok(batch) == expected_records());

    AppendValidation v = validate_for_append(batch);
    INFO(v.status.to_string());
    REQUIRE(v.ok());
    REQUIRE(v.batches.size() == 1);
    CHECK(v.batches[0].codec == g.codec);
    CHECK(v.batches[0].records_count == 3);
    CHECK(v.batches[0].first_offset_delta == 0);
    CHECK(v.batches[0].last_offset_delta == 2);
    CHECK(v.batches[0].max_timestamp == kBaseTs + 5);
    CHECK(v.batches[0].records_max_timestamp == kBaseTs + 5);
    CHECK(v.batches[0].size_bytes == batch.size());
  }
}

TEST_CASE("kafka-python's producer fields are read back") {
  Result<BatchHeader> h = parse_batch_header(from_hex(kKafkaPythonNone));
  REQUIRE(h.is_ok());
  CHECK(h->producer_id == 1234);
  CHECK(h->producer_epoch == 5);
  CHECK(h->base_sequence == 42);
  CHECK_FALSE(h->transactional());
  CHECK_FALSE(h->control());
  CHECK_FALSE(h->log_append_time());
}

TEST_CASE("an uncompressed batch we build is byte-identical to the real clients' batches") {
  BatchBuilderOptions opts;
  opts.partition_leader_epoch = 0;  // what both goldens carry
  CHECK(build_expected(opts) == from_hex(kLibrdkafkaNone));

  opts.producer_id = 1234;
  opts.producer_epoch = 5;
  opts.base_sequence = 42;
  CHECK(build_expected(opts) == from_hex(kKafkaPythonNone));
}

TEST_CASE("built batches round-trip for every codec") {
  for (Codec codec : kAllCodecs) {
    INFO(codec_name(codec));
    BatchBuilderOptions opts;
    opts.codec = codec;
    Bytes batch = build_expected(opts);
    CHECK(validate_batch(batch).is_ok());
    CHECK(parse_batch_header(batch)->codec() == codec);
    CHECK(decode_ok(batch) == expected_records());
    CHECK(validate_for_append(batch).ok());
  }
}

TEST_CASE("a large compressed batch round-trips and estimated_size tracks it") {
  for (Codec codec : kAllCodecs) {
    INFO(codec_name(codec));
    BatchBuilderOptions opts;
    opts.codec = codec;
    opts.producer_id = 7;
    opts.producer_epoch = 1;
    opts.base_sequence = 100;
    RecordBatchBuilder b(opts);
    size_t last_estimate = b.estimated_size();
    CHECK(last_estimate == bf::kHeaderSize);
    for (int i = 0; i < 2000; ++i) {
      std::string key = "key-" + std::to_string(i);
      std::string value = repeat("v" + std::to_string(i % 17), 1 + i % 50);
      b.add(kBaseTs + i, as_bytes(key), as_bytes(value));
      CHECK(b.estimated_size() > last_estimate);
      last_estimate = b.estimated_size();
    }
    Result<Bytes> batch = b.build();
    REQUIRE(batch.is_ok());
    if (codec == Codec::kNone) CHECK(batch->size() == b.estimated_size());
    if (codec != Codec::kNone) CHECK(batch->size() < b.estimated_size());
    std::vector<Record> recs = decode_ok(*batch);
    REQUIRE(recs.size() == 2000);
    CHECK(recs[1999].offset_delta == 1999);
    CHECK(recs[1999].timestamp_delta == 1999);
    CHECK(*recs[1234].key == str("key-1234"));
    AppendValidation v = validate_for_append(*batch);
    REQUIRE(v.ok());
    CHECK(v.batches[0].last_offset_delta == 1999);
    CHECK(v.batches[0].max_timestamp == kBaseTs + 1999);
    CHECK(v.batches[0].producer_id == 7);
    CHECK(v.batches[0].base_sequence == 100);
  }
}

TEST_CASE("builder flags reach the header") {
  BatchBuilderOptions opts;
  opts.transactional = true;
  opts.control = true;
  opts.producer_id = 9;
  RecordBatchBuilder b(opts);
  // A COMMIT marker: key {version 0, type 1}, value {version 0, coordinatorEpoch 3}.
  const uint8_t key[] = {0, 0, 0, 1};
  const uint8_t value[] = {0, 0, 0, 0, 0, 3};
  b.add(kBaseTs, ByteSpan(key), ByteSpan(value));
  Result<Bytes> batch = b.build();
  REQUIRE(batch.is_ok());
  BatchHeader h = parse_batch_header(*batch).value();
  CHECK(h.transactional());
  CHECK(h.control());
  CHECK(h.producer_id == 9);
  AppendValidation v = validate_for_append(*batch);
  REQUIRE(v.ok());
  CHECK(v.batches[0].transactional);
  CHECK(v.batches[0].control);
}

TEST_CASE("an empty builder refuses to build") {
  RecordBatchBuilder b;
  CHECK(b.empty());
  CHECK(b.build().status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("flipping any byte of a batch is caught, except in the fields the CRC skips") {
  for (Codec codec : {Codec::kNone, Codec::kGzip, Codec::kLz4}) {
    BatchBuilderOptions opts;
    opts.codec = codec;
    Bytes good = build_expected(opts);
    for (size_t i = 0; i < good.size(); ++i) {
      INFO(codec_name(codec) << ": byte " << i << " of " << good.size());
      Bytes bad = good;
      bad[i] ^= 0xff;
      bool leader_epoch = i >= bf::kLeaderEpochAt && i < bf::kMagicAt;
      bool base_offset = i < bf::kBatchLengthAt;
      AppendValidation v = validate_for_append(bad);
      Result<std::vector<Record>> d = decode_records(bad);
      if (leader_epoch) {
        CHECK(v.ok());
        CHECK(d.is_ok());
      } else if (base_offset) {
        CHECK(v.fault == BatchFault::kInvalidRecord);  // client batches start at offset 0
        CHECK(d.is_ok());
      } else {
        CHECK_FALSE(v.ok());
        CHECK_FALSE(d.is_ok());
      }
    }
  }
}

TEST_CASE("a batch truncated at every length is refused, never a crash") {
  BatchBuilderOptions opts;
  opts.codec = Codec::kSnappy;
  Bytes good = build_expected(opts);
  for (size_t len = 0; len < good.size(); ++len) {
    INFO("cut to " << len);
    ByteSpan cut = ByteSpan(good).first(len);
    CHECK_FALSE(validate_batch(cut).is_ok());
    CHECK_FALSE(decode_records(cut).is_ok());
    AppendValidation v = validate_for_append(cut);
    CHECK_FALSE(v.ok());
    CHECK(v.error_code() == (len == 0 ? 87 : 2));
    BatchSplitter s(cut);
    CHECK_FALSE(s.next().has_value());
    CHECK(s.tail() == (len == 0 ? BatchSplitter::Tail::kClean : BatchSplitter::Tail::kPartial));
    CHECK(s.valid_prefix_bytes() == 0);
  }
}

TEST_CASE("the splitter finds whole batches and reports the tail") {
  Bytes a = build_expected({});
  BatchBuilderOptions zopts;
  zopts.codec = Codec::kZstd;
  Bytes b = build_expected(zopts);
  Bytes buf = a;
  buf.insert(buf.end(), b.begin(), b.end());

  SECTION("clean end") {
    BatchSplitter s(buf);
    auto first = s.next();
    auto second = s.next();
    REQUIRE(first.has_value());
    REQUIRE(second.has_value());
    CHECK(first->size() == a.size());
    CHECK(second->data() == buf.data() + a.size());
    CHECK_FALSE(s.next().has_value());
    CHECK(s.tail() == BatchSplitter::Tail::kClean);
    CHECK(s.tail_status().is_ok());
    CHECK(s.valid_prefix_bytes() == buf.size());
  }
  SECTION("a partial trailing batch, as a fetch response may carry") {
    buf.insert(buf.end(), a.begin(), a.begin() + 30);
    BatchSplitter s(buf);
    int whole = 0;
    while (s.next()) ++whole;
    CHECK(whole == 2);
    CHECK(s.tail() == BatchSplitter::Tail::kPartial);
    CHECK(s.valid_prefix_bytes() == a.size() + b.size());
    CHECK(s.remainder().size() == 30);
    CHECK(s.tail_status().code() == StatusCode::kCorruption);
  }
  SECTION("an impossible length") {
    Bytes junk(20, 0);
    store_be32(junk.data() + bf::kBatchLengthAt, 10);
    buf.insert(buf.end(), junk.begin(), junk.end());
    BatchSplitter s(buf);
    while (s.next()) {
    }
    CHECK(s.tail() == BatchSplitter::Tail::kMalformed);
    CHECK(s.valid_prefix_bytes() == a.size() + b.size());
    CHECK(s.tail_status().message().find("impossible length 10") != std::string::npos);
  }
  SECTION("a negative length") {
    Bytes junk(20, 0xff);
    buf.insert(buf.end(), junk.begin(), junk.end());
    BatchSplitter s(buf);
    while (s.next()) {
    }
    CHECK(s.tail() == BatchSplitter::Tail::kMalformed);
  }
}

TEST_CASE("stamping offset and leader epoch keeps the CRC valid") {
  BatchBuilderOptions opts;
  opts.codec = Codec::kGzip;
  Bytes batch = build_expected(opts);
  uint32_t crc_before = parse_batch_header(batch)->crc;
  set_base_offset(batch, Offset(123456789012));
  set_leader_epoch(batch, LeaderEpoch(17));
  CHECK(validate_batch(batch).is_ok());
  BatchHeader h = parse_batch_header(batch).value();
  CHECK(h.base_offset == 123456789012);
  CHECK(h.leader_epoch == 17);
  CHECK(h.crc == crc_before);
  CHECK(h.last() == Offset(123456789014));
  CHECK(decode_ok(batch) == expected_records());
}

TEST_CASE("stamping LogAppendTime sets the type bit and maxTimestamp and recomputes the CRC") {
  Bytes batch = from_hex(kLibrdkafkaLz4);
  set_log_append_time(batch, 1800000000000);
  CHECK(validate_batch(batch).is_ok());
  BatchHeader h = parse_batch_header(batch).value();
  CHECK(h.log_append_time());
  CHECK(h.max_timestamp == 1800000000000);
  CHECK(h.base_timestamp == kBaseTs);
  CHECK(h.codec() == Codec::kLz4);
  CHECK(decode_ok(batch) == expected_records());
}

TEST_CASE("validate_for_append maps each failure to its Kafka error code") {
  Bytes good = build_expected({});

  SECTION("several whole batches are accepted, with their positions") {
    Bytes two = good;
    two.insert(two.end(), good.begin(), good.end());
    AppendValidation v = validate_for_append(two);
    REQUIRE(v.ok());
    REQUIRE(v.batches.size() == 2);
    CHECK(v.batches[1].position == good.size());
    AppendValidationOptions single;
    single.require_single_batch = true;
    CHECK(validate_for_append(two, single).error_code() == 87);
  }
  SECTION("no batch at all: INVALID_RECORD") {
    CHECK(validate_for_append({}).error_code() == 87);
  }
  SECTION("trailing bytes: CORRUPT_MESSAGE") {
    good.push_back(0);
    AppendValidation v = validate_for_append(good);
    CHECK(v.error_code() == 2);
    CHECK(v.status.message().find("batch 1") != std::string::npos);
  }
  SECTION("CRC mismatch: CORRUPT_MESSAGE naming both CRCs") {
    good.back() ^= 1;
    AppendValidation v = validate_for_append(good);
    CHECK(v.fault == BatchFault::kCorruptMessage);
    CHECK(v.error_code() == 2);
    CHECK(v.status.code() == StatusCode::kCorruption);
    CHECK(v.status.message().find("CRC mismatch: stored 0x") != std::string::npos);
  }
  SECTION("magic 1: INVALID_RECORD") {
    good[bf::kMagicAt] = 1;
    AppendValidation v = validate_for_append(good);
    CHECK(v.error_code() == 87);
    CHECK(v.status.message().find("magic 1") != std::string::npos);
  }
  SECTION("codec 5-7: UNSUPPORTED_COMPRESSION_TYPE") {
    for (uint8_t id : {5, 6, 7}) {
      Bytes bad = good;
      bad[bf::kAttributesAt + 1] = id;
      restamp_crc(bad);
      CHECK(validate_for_append(bad).error_code() == 76);
      CHECK(decode_records(bad).status().code() == StatusCode::kUnsupported);
    }
  }
  SECTION("recordsCount disagreeing with lastOffsetDelta: INVALID_RECORD") {
    store_be32(good.data() + bf::kRecordsCountAt, 2);
    restamp_crc(good);
    CHECK(validate_for_append(good).error_code() == 87);
  }
  SECTION("recordsCount larger than the records present: INVALID_RECORD") {
    store_be32(good.data() + bf::kRecordsCountAt, 4);
    store_be32(good.data() + bf::kLastOffsetDeltaAt, 3);
    restamp_crc(good);
    AppendValidation v = validate_for_append(good);
    CHECK(v.error_code() == 87);
    CHECK(v.status.message().find("record 3") != std::string::npos);
    CHECK_FALSE(decode_records(good).is_ok());
  }
  SECTION("fewer records than the bytes hold: INVALID_RECORD") {
    store_be32(good.data() + bf::kRecordsCountAt, 2);
    store_be32(good.data() + bf::kLastOffsetDeltaAt, 1);
    restamp_crc(good);
    AppendValidation v = validate_for_append(good);
    CHECK(v.error_code() == 87);
    CHECK(v.status.message().find("follow the last of 2 records") != std::string::npos);
  }
  SECTION("a non-zero base offset from a client: INVALID_RECORD unless allowed") {
    set_base_offset(good, Offset(5));
    CHECK(validate_for_append(good).error_code() == 87);
    AppendValidationOptions lenient;
    lenient.require_zero_base_offset = false;
    CHECK(validate_for_append(good, lenient).ok());
  }
  SECTION("out-of-order offset deltas: INVALID_RECORD") {
    // Record 0's offsetDelta byte follows its length, attributes and timestampDelta.
    size_t at = bf::kHeaderSize + 3;
    REQUIRE(good[at] == 0);
    good[at] = 2;  // zigzag 1
    restamp_crc(good);
    CHECK(validate_for_append(good).error_code() == 87);
    CHECK(decode_records(good).is_ok());  // a consumer can still read it
  }
  SECTION("a compressed payload that does not decompress: CORRUPT_MESSAGE") {
    BatchBuilderOptions opts;
    opts.codec = Codec::kZstd;
    Bytes z = build_expected(opts);
    z[bf::kHeaderSize + 1] ^= 0xff;  // the zstd magic number
    restamp_crc(z);
    CHECK(validate_for_append(z).error_code() == 2);
  }
  SECTION("a compressed batch above the decompression limit: CORRUPT_MESSAGE") {
    BatchBuilderOptions opts;
    opts.codec = Codec::kGzip;
    RecordBatchBuilder b(opts);
    Bytes zeros(1 << 20, 0);
    b.add(kBaseTs, std::nullopt, ByteSpan(zeros));
    Bytes bomb = b.build().value();
    AppendValidationOptions small;
    small.max_decompressed_bytes = 64 * 1024;
    AppendValidation v = validate_for_append(bomb, small);
    CHECK(v.error_code() == 2);
    CHECK(v.status.message().find("limit") != std::string::npos);
    CHECK_FALSE(decode_records(bomb, 64 * 1024).is_ok());
    CHECK(decode_records(bomb, 2 << 20).is_ok());
  }
}

TEST_CASE("hostile record fields inside a CRC-valid batch are refused") {
  Bytes good = build_expected({});
  const size_t first = bf::kHeaderSize;  // record 0's length varint
  SECTION("record length larger than the records") {
    good[first] = 0x7e;  // zigzag 63
    restamp_crc(good);
    CHECK(validate_for_append(good).error_code() == 87);
  }
  SECTION("negative record length") {
    good[first] = 0x01;  // zigzag -1
    restamp_crc(good);
    CHECK(validate_for_append(good).error_code() == 87);
  }
  SECTION("key length -2") {
    good[first + 4] = 0x03;  // zigzag -2
    restamp_crc(good);
    CHECK(validate_for_append(good).error_code() == 87);
    CHECK(decode_records(good).status().code() == StatusCode::kCorruption);
  }
  SECTION("a varint that never ends") {
    for (size_t i = first; i < first + 12; ++i) good[i] = 0xff;
    restamp_crc(good);
    CHECK(validate_for_append(good).error_code() == 87);
  }
}

TEST_CASE("random mutations with a re-stamped CRC never crash the decoders") {
  // Re-stamping the CRC lets mutations reach the decompressors and the record parser.
  const uint32_t seed = 20240501;
  INFO("seed " << seed);
  uint32_t x = seed;
  auto next = [&x] {
    x = x * 1664525u + 1013904223u;
    return x >> 8;
  };
  for (const char* hex : {kLibrdkafkaNone, kLibrdkafkaGzip, kLibrdkafkaSnappy, kLibrdkafkaLz4,
                          kLibrdkafkaZstd}) {
    const Bytes good = from_hex(hex);
    for (int round = 0; round < 3000; ++round) {
      Bytes bad = good;
      int edits = 1 + int(next() % 4);
      for (int e = 0; e < edits; ++e) {
        size_t at = bf::kAttributesAt + 2 + next() % (bad.size() - bf::kAttributesAt - 2);
        bad[at] = uint8_t(next());
      }
      if (next() % 8 == 0) bad.resize(bf::kHeaderSize + next() % (bad.size() - bf::kHeaderSize));
      store_be32(bad.data() + bf::kBatchLengthAt, uint32_t(bad.size() - bf::kLogOverhead));
      restamp_crc(bad);
      AppendValidation v = validate_for_append(bad, {.max_decompressed_bytes = 1 << 16});
      Result<std::vector<Record>> d = decode_records(bad, 1 << 16);
      if (v.ok()) CHECK(d.is_ok());
      if (!v.ok()) CHECK(v.status.message().find("batch 0 at byte 0: ") == 0);
    }
  }
}

namespace {

// A plain reading of the record format, field by field, for checking the decoder's fast
// path against: the records of an uncompressed batch, or nullopt if any is malformed.
std::optional<std::vector<Record>> reference_records(ByteSpan batch) {
  ByteReader r(batch.subspan(bf::kHeaderSize));
  int32_t count = int32_t(load_be32(batch.data() + bf::kRecordsCountAt));
  std::vector<Record> out;
  auto nullable = [](ByteReader& in) -> std::optional<std::optional<Bytes>> {
    int32_t len = in.varint();
    if (!in.ok() || len < -1) return std::nullopt;
    if (len == -1) return std::optional<Bytes>();
    ByteSpan s = in.take(size_t(len));
    if (!in.ok()) return std::nullopt;
    return std::optional<Bytes>(Bytes(s.begin(), s.end()));
  };
  for (int32_t i = 0; i < count; ++i) {
    int32_t len = r.varint();
    if (!r.ok() || len < 0) return std::nullopt;
    ByteReader body(r.take(size_t(len)));
    if (!r.ok()) return std::nullopt;
    Record rec;
    (void)body.i8();
    rec.timestamp_delta = body.varlong();
    rec.offset_delta = body.varint();
    auto key = nullable(body);
    auto value = nullable(body);
    if (!key || !value) return std::nullopt;
    rec.key = *key;
    rec.value = *value;
    int32_t headers = body.varint();
    if (!body.ok() || headers < 0) return std::nullopt;
    for (int32_t h = 0; h < headers; ++h) {
      int32_t key_len = body.varint();
      if (!body.ok() || key_len < 0) return std::nullopt;
      ByteSpan hk = body.take(size_t(key_len));
      auto hv = nullable(body);
      if (!body.ok() || !hv) return std::nullopt;
      rec.headers.push_back({std::string(as_chars(hk)), *hv});
    }
    if (!body.ok() || !body.at_end()) return std::nullopt;
    out.push_back(std::move(rec));
  }
  if (!r.at_end()) return std::nullopt;
  return out;
}

}  // namespace

TEST_CASE("the record decoder agrees with a plain reading on every mutated batch") {
  // Records of every shape the decoder's fast path takes or leaves to the general path:
  // one- and two-byte lengths, a three-byte value length, null and empty keys and values,
  // headers, and timestamp deltas beyond two varint bytes.
  RecordBatchBuilder b(BatchBuilderOptions{});
  Bytes big(9000, 'v');
  std::vector<RecordHeader> one_header = {{"h", str("x")}};
  for (int i = 0; i < 12; ++i) {
    Bytes value(size_t(i * 20), uint8_t('a' + i));
    std::optional<ByteSpan> key;
    if (i % 3 != 0) key = as_bytes(i % 3 == 1 ? "key" : "");
    std::span<const RecordHeader> headers;
    if (i == 5) headers = one_header;
    int64_t ts = kBaseTs + (i == 7 ? 100000 : i);
    b.add(ts, key, i == 4 ? std::optional<ByteSpan>() : std::optional<ByteSpan>(value), headers);
  }
  b.add(kBaseTs, as_bytes("k"), ByteSpan(big), {});
  Bytes built = std::move(b.build()).value();

  uint32_t x = 7;
  auto next = [&x] {
    x = x * 1664525u + 1013904223u;
    return x >> 8;
  };
  int accepted = 0, refused = 0;
  for (const Bytes& good : {built, from_hex(kLibrdkafkaNone), from_hex(kKafkaPythonNone)}) {
    REQUIRE(reference_records(good).has_value());
    CHECK(decode_ok(good) == *reference_records(good));
    for (int round = 0; round < 4000; ++round) {
      Bytes bad = good;
      int edits = 1 + int(next() % 3);
      for (int e = 0; e < edits; ++e) {
        // Small bytes mostly: they keep lengths plausible, so mutations get deep into records.
        size_t at = bf::kHeaderSize + next() % (bad.size() - bf::kHeaderSize);
        bad[at] = uint8_t(next() % 4 == 0 ? next() : next() % 24);
      }
      restamp_crc(bad);
      std::optional<std::vector<Record>> want = reference_records(bad);
      Result<std::vector<Record>> got = decode_records(bad);
      INFO("round " << round);
      REQUIRE(got.is_ok() == want.has_value());
      if (want) {
        CHECK(*got == *want);
        ++accepted;
      } else {
        ++refused;
      }
    }
  }
  // Both outcomes must be well represented for the comparison to mean anything.
  CHECK(accepted > 500);
  CHECK(refused > 500);
}
