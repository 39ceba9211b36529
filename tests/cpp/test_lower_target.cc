// Target::parse and Target::str.
#include "test_util.h"

namespace te {
namespace {

TEST(LowerTarget, ParsesKindAndOptions) {
  Target plain = Target::parse("llvm");
  EXPECT_EQ(plain.kind, "llvm");
  EXPECT_TRUE(plain.mcpu.empty());
  EXPECT_TRUE(plain.mattr.empty());
  EXPECT_EQ(plain.num_threads, 0);

  Target full = Target::parse("llvm -mcpu=znver4 -mattr=+avx512f,+fma -num-threads=2");
  EXPECT_EQ(full.kind, "llvm");
  EXPECT_EQ(full.mcpu, "znver4");
  EXPECT_EQ(full.mattr, "+avx512f,+fma");
  EXPECT_EQ(full.num_threads, 2);

  EXPECT_EQ(Target::parse("cuda").kind, "cuda");
  EXPECT_EQ(Target::parse("  llvm   -mcpu=x  ").mcpu, "x");
}

TEST(LowerTarget, StrRoundTrips) {
  for (const char* s : {"llvm", "cuda", "llvm -mcpu=znver4", "llvm -mattr=+avx512f,-fma",
                        "llvm -mcpu=x -mattr=+y -num-threads=2", "llvm -num-threads=1"}) {
    Target t = Target::parse(s);
    EXPECT_EQ(t.str(), s);
    Target again = Target::parse(t.str());
    EXPECT_EQ(again.kind, t.kind);
    EXPECT_EQ(again.mcpu, t.mcpu);
    EXPECT_EQ(again.mattr, t.mattr);
    EXPECT_EQ(again.num_threads, t.num_threads);
  }
  // Option order does not matter; str() writes a canonical order.
  EXPECT_EQ(Target::parse("llvm -num-threads=4 -mcpu=a").str(), "llvm -mcpu=a -num-threads=4");
}

TEST(LowerTarget, RejectsBadTokensByName) {
  EXPECT_TE_ERROR(Target::parse(""), "empty");
  EXPECT_TE_ERROR(Target::parse("metal"), "unknown target kind 'metal'");
  EXPECT_TE_ERROR(Target::parse("llvm -mcpux=1"), "unknown option '-mcpux=1'");
  EXPECT_TE_ERROR(Target::parse("llvm -opt"), "unknown option '-opt'");
  EXPECT_TE_ERROR(Target::parse("llvm -mcpu"), "'-mcpu'", "needs a value");
  EXPECT_TE_ERROR(Target::parse("llvm -mcpu="), "-mcpu");
  EXPECT_TE_ERROR(Target::parse("llvm -mattr=avx512f"), "'avx512f'");
  EXPECT_TE_ERROR(Target::parse("llvm -mattr=+avx,,+fma"), "bad -mattr feature");
  EXPECT_TE_ERROR(Target::parse("llvm -num-threads=two"), "'two'");
  EXPECT_TE_ERROR(Target::parse("llvm -num-threads=-1"), "'-1'");
  EXPECT_TE_ERROR(Target::parse("llvm -mcpu=a -mcpu=b"), "-mcpu", "twice");
  EXPECT_TE_ERROR(Target::parse("cuda -mcpu=sm_80"), "'-mcpu=sm_80'", "cuda");
}

}  // namespace
}  // namespace te
