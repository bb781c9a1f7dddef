// ir/dtype: the block geometry must match the layouts in gguf-qwen2.md §4, which give each
// block's fields; the expected sizes below are those fields added up.
#include "ir/dtype.h"

#include <gtest/gtest.h>

using brickc::DType;

TEST(DType, BlockBytesAreTheSumOfTheBlockFields) {
  // fp16 d + 16 nibble bytes; + fp16 m; + u32 qh; + both; fp16 d + 32 int8.
  EXPECT_EQ(brickc::info(DType::Q4_0).block_bytes, 2u + 16u);
  EXPECT_EQ(brickc::info(DType::Q4_1).block_bytes, 2u + 2u + 16u);
  EXPECT_EQ(brickc::info(DType::Q5_0).block_bytes, 2u + 4u + 16u);
  EXPECT_EQ(brickc::info(DType::Q5_1).block_bytes, 2u + 2u + 4u + 16u);
  EXPECT_EQ(brickc::info(DType::Q8_0).block_bytes, 2u + 32u);
  // K-quants, 256 elements: d, dmin, 12 scale bytes, 128 nibble bytes (+32 qh for Q5_K).
  EXPECT_EQ(brickc::info(DType::Q4_K).block_bytes, 2u + 2u + 12u + 128u);
  EXPECT_EQ(brickc::info(DType::Q5_K).block_bytes, 2u + 2u + 12u + 32u + 128u);
  // ql[128] + qh[64] + int8 scales[16] + fp16 d; Q8_K: f32 d + 256 int8 + 16 int16 sums.
  EXPECT_EQ(brickc::info(DType::Q6_K).block_bytes, 128u + 64u + 16u + 2u);
  EXPECT_EQ(brickc::info(DType::Q8_K).block_bytes, 4u + 256u + 2u * 16u);
  for (DType t : {DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q8_K})
    EXPECT_EQ(brickc::info(t).block_elems, 256u) << brickc::name(t);
}

TEST(DType, RowBytesRejectsPartialBlocks) {
  EXPECT_EQ(brickc::row_bytes(DType::Q4_K, 1536), 1536u / 256 * 144);
  EXPECT_EQ(brickc::row_bytes(DType::F16, 896), 896u * 2);
  EXPECT_FALSE(brickc::row_bytes(DType::Q4_K, 896).has_value());
  EXPECT_FALSE(brickc::row_bytes(DType::Q8_0, 33).has_value());
}

TEST(DType, GgmlIdsAndNames) {
  EXPECT_EQ(brickc::dtype_from_ggml(12), DType::Q4_K);
  EXPECT_EQ(brickc::dtype_from_ggml(30), DType::BF16);
  EXPECT_FALSE(brickc::dtype_from_ggml(4).has_value());  // Q4_2, removed from ggml
  EXPECT_FALSE(brickc::dtype_from_ggml(1000).has_value());
  EXPECT_EQ(brickc::dtype_from_name("Q6_K"), DType::Q6_K);
  EXPECT_EQ(brickc::dtype_from_name("q6_k"), DType::Q6_K);
  EXPECT_FALSE(brickc::dtype_from_name("q7_k").has_value());
}
