#include <catch2/catch.hpp>

#include <lz4frame.h>
#include <zstd.h>

#include <cstring>
#include <string>

#include "engine/base/bytes.h"
#include "engine/protocol/compression.h"

using namespace strata;

namespace {

const Codec kAllCodecs[] = {Codec::kNone, Codec::kGzip, Codec::kSnappy, Codec::kLz4,
                            Codec::kZstd};
const Codec kCompressingCodecs[] = {Codec::kGzip, Codec::kSnappy, Codec::kLz4, Codec::kZstd};

// Deterministic data that is partly compressible (runs of text) and partly not (LCG noise).
Bytes sample(size_t n, uint32_t seed = 1) {
  Bytes out;
  out.reserve(n);
  uint32_t x = seed;
  while (out.size() < n) {
    x = x * 1664525u + 1013904223u;
    if ((x >> 28) < 8) {
      for (char c : std::string("record-value-")) out.push_back(uint8_t(c));
    } else {
      out.push_back(uint8_t(x >> 16));
    }
  }
  out.resize(n);
  return out;
}

Bytes compress_ok(Codec codec, ByteSpan in) {
  Result<Bytes> r = compress(codec, in);
  REQUIRE(r.is_ok());
  return std::move(r).value();
}

// A snappy-java (Xerial) stream: magic, version 1, compatible version 1, then blocks.
Bytes xerial(std::initializer_list<Bytes> raw_blocks) {
  Bytes out = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
  ByteWriter w(out);
  for (const Bytes& b : raw_blocks) {
    w.i32(int32_t(b.size()));
    w.raw(b);
  }
  return out;
}

}  // namespace

TEST_CASE("every codec round-trips empty, small and large inputs") {
  for (Codec codec : kAllCodecs) {
    for (size_t n : {size_t(0), size_t(1), size_t(100), size_t(70000), size_t(1 << 20)}) {
      INFO(codec_name(codec) << " with " << n << " bytes");
      Bytes in = sample(n, uint32_t(n));
      Bytes packed = compress_ok(codec, in);
      Result<Bytes> back = decompress(codec, packed, n);
      REQUIRE(back.is_ok());
      CHECK(*back == in);
    }
  }
}

TEST_CASE("codec ids map to codecs and names") {
  CHECK(codec_from_id(0) == Codec::kNone);
  CHECK(codec_from_id(4) == Codec::kZstd);
  CHECK_FALSE(codec_from_id(5).has_value());
  CHECK_FALSE(codec_from_id(7).has_value());
  CHECK_FALSE(codec_from_id(-1).has_value());
  CHECK(codec_name(Codec::kLz4) == "lz4");
}

TEST_CASE("output above max_out_bytes is corruption, exactly at it is fine") {
  Bytes in = sample(200000);
  for (Codec codec : kAllCodecs) {
    INFO(codec_name(codec));
    Bytes packed = compress_ok(codec, in);
    CHECK(decompress(codec, packed, in.size()).is_ok());
    Result<Bytes> over = decompress(codec, packed, in.size() - 1);
    REQUIRE_FALSE(over.is_ok());
    CHECK(over.status().code() == StatusCode::kCorruption);
    CHECK(over.status().message().find("limit") != std::string::npos);
  }
}

TEST_CASE("a zip bomb is refused without inflating it") {
  Bytes zeros(32 << 20, 0);
  for (Codec codec : kCompressingCodecs) {
    INFO(codec_name(codec));
    Bytes bomb = compress_ok(codec, zeros);
    CHECK(bomb.size() < zeros.size() / 10);
    Result<Bytes> r = decompress(codec, bomb, 1 << 20);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == StatusCode::kCorruption);
  }
}

TEST_CASE("truncated compressed data is corruption at every length") {
  Bytes in = sample(3000);
  for (Codec codec : kCompressingCodecs) {
    Bytes packed = compress_ok(codec, in);
    for (size_t len = 0; len < packed.size(); ++len) {
      INFO(codec_name(codec) << " cut to " << len << " of " << packed.size());
      Result<Bytes> r = decompress(codec, ByteSpan(packed).first(len), 1 << 20);
      CHECK_FALSE(r.is_ok());
    }
  }
}

TEST_CASE("flipped bytes in compressed data never crash or exceed the limit") {
  Bytes in = sample(3000);
  for (Codec codec : kCompressingCodecs) {
    Bytes packed = compress_ok(codec, in);
    for (size_t i = 0; i < packed.size(); ++i) {
      for (uint8_t mask : {uint8_t(0x01), uint8_t(0x80), uint8_t(0xff)}) {
        Bytes bad = packed;
        bad[i] ^= mask;
        Result<Bytes> r = decompress(codec, bad, 4096);
        if (r.is_ok()) CHECK(r->size() <= 4096);
      }
    }
  }
}

TEST_CASE("garbage input is corruption for every compressing codec") {
  Bytes junk = sample(500, 99);
  for (Codec codec : kCompressingCodecs) {
    INFO(codec_name(codec));
    Result<Bytes> r = decompress(codec, junk, 1 << 20);
    CHECK_FALSE(r.is_ok());
  }
}

TEST_CASE("snappy decodes the Xerial framing that the Java client writes") {
  Bytes a = sample(5000, 1);
  Bytes b = sample(7000, 2);
  Bytes block_a = compress_ok(Codec::kSnappy, a);
  Bytes framed = xerial({block_a, compress_ok(Codec::kSnappy, b)});
  Result<Bytes> r = decompress(Codec::kSnappy, framed, 1 << 20);
  REQUIRE(r.is_ok());
  Bytes want = a;
  want.insert(want.end(), b.begin(), b.end());
  CHECK(*r == want);

  SECTION("the limit applies to the sum of the blocks") {
    CHECK_FALSE(decompress(Codec::kSnappy, framed, want.size() - 1).is_ok());
  }
  SECTION("a header with no blocks is an empty stream") {
    Result<Bytes> empty = decompress(Codec::kSnappy, xerial({}), 100);
    REQUIRE(empty.is_ok());
    CHECK(empty->empty());
  }
  SECTION("truncation anywhere is corruption") {
    for (size_t len = 8; len < framed.size(); ++len) {
      // Cuts at a block boundary leave a shorter but valid stream.
      if (len == 16 || len == 16 + 4 + block_a.size()) continue;
      INFO("cut to " << len);
      CHECK_FALSE(decompress(Codec::kSnappy, ByteSpan(framed).first(len), 1 << 20).is_ok());
    }
  }
  SECTION("a block length past the end is corruption") {
    Bytes bad = framed;
    store_be32(bad.data() + 16, 0x7fffffff);
    CHECK_FALSE(decompress(Codec::kSnappy, bad, 1 << 20).is_ok());
  }
}

TEST_CASE("lz4 decodes any valid frame: checksums, linked blocks, content size") {
  Bytes in = sample(300000);
  LZ4F_preferences_t prefs;
  std::memset(&prefs, 0, sizeof(prefs));
  prefs.frameInfo.blockSizeID = LZ4F_max256KB;
  prefs.frameInfo.blockMode = LZ4F_blockLinked;
  prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  prefs.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled;
  prefs.frameInfo.contentSize = in.size();
  Bytes frame(LZ4F_compressFrameBound(in.size(), &prefs));
  size_t n = LZ4F_compressFrame(frame.data(), frame.size(), in.data(), in.size(), &prefs);
  REQUIRE_FALSE(LZ4F_isError(n));
  frame.resize(n);
  Result<Bytes> r = decompress(Codec::kLz4, frame, in.size());
  REQUIRE(r.is_ok());
  CHECK(*r == in);
  // With a content checksum, a flipped payload byte must be caught.
  frame[frame.size() / 2] ^= 0x55;
  CHECK_FALSE(decompress(Codec::kLz4, frame, in.size()).is_ok());
}

TEST_CASE("zstd decodes a streamed frame that carries no content size") {
  Bytes in = sample(500000);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  REQUIRE(cctx != nullptr);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  Bytes frame(ZSTD_compressBound(in.size()));
  ZSTD_inBuffer ib{in.data(), in.size(), 0};
  ZSTD_outBuffer ob{frame.data(), frame.size(), 0};
  size_t left = ZSTD_compressStream2(cctx, &ob, &ib, ZSTD_e_end);
  ZSTD_freeCCtx(cctx);
  REQUIRE(left == 0);
  frame.resize(ob.pos);
  CHECK(ZSTD_getFrameContentSize(frame.data(), frame.size()) == ZSTD_CONTENTSIZE_UNKNOWN);
  Result<Bytes> r = decompress(Codec::kZstd, frame, in.size());
  REQUIRE(r.is_ok());
  CHECK(*r == in);
  CHECK_FALSE(decompress(Codec::kZstd, frame, in.size() - 1).is_ok());
}

TEST_CASE("gzip accepts concatenated members and refuses trailing junk") {
  Bytes a = sample(1000, 5);
  Bytes b = sample(2000, 6);
  Bytes two = compress_ok(Codec::kGzip, a);
  Bytes second = compress_ok(Codec::kGzip, b);
  two.insert(two.end(), second.begin(), second.end());
  Result<Bytes> r = decompress(Codec::kGzip, two, 1 << 20);
  REQUIRE(r.is_ok());
  Bytes want = a;
  want.insert(want.end(), b.begin(), b.end());
  CHECK(*r == want);

  Bytes junk = compress_ok(Codec::kGzip, a);
  junk.push_back(0x00);
  CHECK_FALSE(decompress(Codec::kGzip, junk, 1 << 20).is_ok());
}

TEST_CASE("our lz4 frame header is the one librdkafka 2.0.2 writes") {
  // Magic 184D2204 (LE), FLG 0x60 (version 1, independent blocks, no checksums or size),
  // BD 0x40 (64 KiB blocks): the Java client's decoder accepts exactly this.
  Bytes packed = compress_ok(Codec::kLz4, as_bytes("hello, lz4"));
  REQUIRE(packed.size() > 6);
  CHECK(Bytes(packed.begin(), packed.begin() + 6) == Bytes{0x04, 0x22, 0x4d, 0x18, 0x60, 0x40});
}

TEST_CASE("gzip output carries the gzip header that clients expect") {
  Bytes packed = compress_ok(Codec::kGzip, as_bytes("hello"));
  REQUIRE(packed.size() > 10);
  CHECK(packed[0] == 0x1f);
  CHECK(packed[1] == 0x8b);
}
