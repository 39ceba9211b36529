// Stage::prefetch: what it lowers to (one prefetch per cache line of the region the loop's body
// reads `offset` iterations ahead, indices clamped inside the tensor), that it never changes the
// numbers (the equivalence harness, outputs NaN-filled), that the LLVM backend emits prefetch
// instructions and other targets drop it, that it replays from its step, and the errors.
#include <map>
#include <set>
#include <sstream>

#include "equivalence.h"
#include "test_lower_util.h"

namespace te::testing {
namespace {

// The te::Error f throws, or "no error".
std::string message(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return std::string(e.what());
  }
  return std::string("no error");
}

int count_prefetches(const Stmt& s) {
  return count_exprs(s, [](const Expr& e) {
    const auto* call = e.as<CallNode>();
    return call && call->op == Intrinsic::kPrefetch;
  });
}

// B[i, j] = A[i-1, j] + A[i, j] + A[i+1, j] over an N x M image with zero padding (the padded
// reads sit behind if_then_else, and their rows run one past each edge), M = 100 floats: rows of
// whole and partial 64-byte lines.
struct Stencil {
  static constexpr int N = 37, M = 100;
  Tensor A = placeholder({N, M}, DataType::float32(), "A");
  Tensor P = compute(
      {N + 2, M},
      [&](const std::vector<Var>& i) {
        Expr inside = i[0] >= 1 && i[0] <= N;
        return if_then_else(inside, A(i[0] - 1, i[1]), Expr(0.0f));
      },
      "P");
  IterVar r = reduce_axis(Range(0, 3), "r");
  Tensor B = compute(
      {N, M}, [&](const std::vector<Var>& i) { return sum(P(i[0] + r, i[1]), {r}); }, "B");

  // Rows in tiles of `rows`, the tiles parallel, the row in pieces of 16 (vectorized unless
  // told not to), the padding inlined; the row-tile loop prefetches A `offset` tiles ahead.
  Schedule schedule(int64_t rows, int64_t offset, bool vectorize = true) const {
    Schedule s = create_schedule({B.op()});
    s[P].compute_inline();
    const ComputeOpNode* op = B.op().as<ComputeOpNode>();
    auto [yo, yi] = s[B].split(op->axis[0], rows);
    auto [xo, xi] = s[B].split(op->axis[1], 16);
    s[B].reorder({yo, yi, xo, op->reduce_axis[0], xi});
    s[B].parallel(yo);
    if (vectorize) s[B].vectorize(xi);
    s[B].prefetch(A, yo, offset);
    return s;
  }
  EquivalenceCase equivalence_case() const { return {"prefetch stencil", {A}, {B}}; }
};

TEST(SchedulePrefetch, LowersToOnePrefetchPerLineOfTheRowsAheadAndKeepsTheNumbers) {
  Stencil st;
  Schedule s = st.schedule(2, 2);
  LoweredFunc f = lower(s, {st.A, st.B}, "stencil");
  EXPECT_EQ(count_prefetches(f.body), 1) << to_string(f);
  // The prefetch nest is the first thing in the parallel loop's body: rows (2 + 2 of halo = 4)
  // x lines of the columns the x tiles run over (0..111: the split by 16 runs past the 100
  // columns before its tail guard; 112 floats straddle at most 8 lines).
  const auto* parallel = f.body.as<ForNode>();
  ASSERT_TRUE(parallel && parallel->for_kind == ForKind::kParallel) << to_string(f);
  const auto* seq = parallel->body.as<SeqNode>();
  ASSERT_TRUE(seq) << to_string(f);
  const auto* rows = seq->seq[0].as<ForNode>();
  ASSERT_TRUE(rows && as_const_int(rows->extent)) << to_string(f);
  EXPECT_EQ(*as_const_int(rows->extent), 4);
  const auto* lines = rows->body.as<ForNode>();
  ASSERT_TRUE(lines && as_const_int(lines->extent)) << to_string(f);
  EXPECT_EQ(*as_const_int(lines->extent), 8);
  EXPECT_TRUE(contains(to_string(f), "prefetch(A[")) << to_string(f);

  Module m = build(s, {st.A, st.B}, "llvm", "stencil");
  EXPECT_TRUE(contains(m.get_source("ll"), "@llvm.prefetch")) << m.get_source("ll");
  EXPECT_TRUE(contains(m.get_source("asm"), "prefetcht0"));
  EquivalenceStats stats = check_schedule_equivalence(
      st.equivalence_case(),
      [&](Schedule& sch, ScheduleRng& rng) {
        int64_t rows_per_tile = rng.uniform(1, 5), offset = rng.uniform(1, 12);
        sch = st.schedule(rows_per_tile, offset);
      },
      1, 12);
  EXPECT_EQ(stats.matched, 12);
}

// Every prefetched element exists: the interpreter reads each prefetch's element with a bounds
// check. Tiles past the last row, offsets past the end, the padded rows above and below. (Not
// vectorized: the interpreter evaluates both sides of a vector if_then_else, which the LLVM
// backend masks, so the padded vector reads would trip the same check.)
TEST(SchedulePrefetch, EveryPrefetchedElementIsInsideTheTensor) {
  Stencil st;
  for (int64_t rows : {1, 3, 8, 37, 40})
    for (int64_t offset : {1, 2, 5, 50}) {
      SCOPED_TRACE(::testing::Message() << "rows " << rows << " offset " << offset);
      LoweredFunc f = lower(st.schedule(rows, offset, false), {st.A, st.B}, "stencil");
      ASSERT_EQ(count_prefetches(f.body), 1);
      FlatMemory memory;
      memory.add(f.args[0].data, Stencil::N * Stencil::M, 1);
      memory.add(f.args[1].data, Stencil::N * Stencil::M, 2);
      EXPECT_NO_THROW(memory.run(f.body)) << to_string(f);
    }
}

// Indices the analysis cannot bound by the outer loops (a fused axis of symbolic extent reads
// A[f / n, f % n]): the whole dimension is prefetched, and the numbers stay right (te_fuzz's
// seed 41 found this as an error).
TEST(SchedulePrefetch, AnUnboundableDimensionIsPrefetchedWhole) {
  Var n = var("n");
  Tensor A = placeholder({4, n}, DataType::float32(), "A");
  Tensor B = compute(
      {4, n}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) * 2.0f; }, "B");
  auto scheduler = [&](Schedule& s, ScheduleRng& rng) {
    const ComputeOpNode* op = B.op().as<ComputeOpNode>();
    IterVar fused = s[B].fuse(op->axis[0], op->axis[1]);
    auto [fo, fi] = s[B].split(fused, rng.uniform(1, 9));
    s[B].prefetch(A, fo, rng.uniform(1, 3));
  };
  Schedule s = create_schedule({B.op()});
  ScheduleRng rng(7);
  scheduler(s, rng);
  LoweredFunc f = lower(s, {A, B}, "fused");
  EXPECT_EQ(count_prefetches(f.body), 1) << to_string(f);
  EquivalenceCase c{"prefetch of a fused symbolic axis", {A}, {B}};
  c.input_shapes = {{{4, 37}}, {{4, 5}}};
  EquivalenceStats stats = check_schedule_equivalence(c, scheduler, 1, 8);
  EXPECT_EQ(stats.matched, 8);
}

// A stage whose reads of the tensor are dead in this loop (a branch the simplifier proves never
// taken): nothing to prefetch, and no error — the stage does read it elsewhere in general (te_fuzz
// seed 101001: a padding stage computed at a consumer row its padded rows never reach).
TEST(SchedulePrefetch, ReadsProvedDeadInTheLoopPrefetchNothing) {
  Tensor A = placeholder({8, 16}, DataType::float32(), "A");
  Tensor B = compute(
      {8, 16}, [&](const std::vector<Var>& i) { return if_then_else(i[0] < 0, A(i[0], i[1]), Expr(1.0f)); }, "B");
  Schedule s = create_schedule({B.op()});
  s[B].prefetch(A, B.op().as<ComputeOpNode>()->axis[0], 1);
  LoweredFunc f = lower(s, {A, B}, "dead");
  EXPECT_EQ(count_prefetches(f.body), 0) << to_string(f);
}

// A scalar (0-d tensor): nothing worth a hint, with or without a spread loop.
TEST(SchedulePrefetch, AScalarIsNotPrefetched) {
  Tensor S = placeholder({}, DataType::float32(), "S"), X = placeholder({8, 4}, DataType::float32(), "X");
  Tensor C = compute(
      {8, 4}, [&](const std::vector<Var>& i) { return X(i[0], i[1]) * S(); }, "C");
  const ComputeOpNode* op = C.op().as<ComputeOpNode>();
  Schedule s = create_schedule({C.op()});
  s[C].prefetch(S, op->axis[0], 1);
  s[C].prefetch(S, op->axis[0], 1, op->axis[1]);
  LoweredFunc f = lower(s, {S, X, C}, "scalar");
  EXPECT_EQ(count_prefetches(f.body), 0) << to_string(f);
}

// A prefetch in a GEMM tile's k loop must not keep the tile's accumulators in memory: LLVM
// promotes them to registers across the k loop only if nothing in the loop may read them, and
// llvm.prefetch is declared to read its pointer, which alias analysis could not tell from C's
// once the kernel was inlined into its parallel closure (C stored every k step, three times
// slower). The k loop's body in the assembly (from its label to the jump back) holds no store.
TEST(SchedulePrefetch, APrefetchInAGemmKLoopKeepsTheAccumulatorsInRegisters) {
  // The matmul template's no-cache order: column panels (parallel), k blocks, row tiles, k.
  constexpr int64_t M = 16, N = 128, K = 256;
  Tensor A = placeholder({M, K}, DataType::float32(), "A"), B = placeholder({K, N}, DataType::float32(), "B");
  IterVar k = reduce_axis(Range(0, K), "k");
  Tensor C = compute({M, N}, [&](const std::vector<Var>& i) { return sum(A(i[0], k) * B(k, i[1]), {k}); }, "C");
  Schedule s = create_schedule({C.op()});
  const ComputeOpNode* op = C.op().as<ComputeOpNode>();
  auto [io, ii] = s[C].split(op->axis[0], 4);
  auto [jo, ji] = s[C].split(op->axis[1], 64);
  auto [ko, ki] = s[C].split(op->reduce_axis[0], 64);
  s[C].reorder({jo, ko, io, ki, ii, ji});
  auto [whole, lanes] = s[C].split(ji, 16);
  s[C].unroll(ii);
  s[C].unroll(whole);
  s[C].vectorize(lanes);
  s[C].parallel(jo);
  s[C].prefetch(B, ki, 8);
  Module m = build(s, {A, B, C}, "llvm", "gemm_prefetch");
  std::vector<std::string> lines;
  std::istringstream asm_text(m.get_source("asm"));
  for (std::string line; std::getline(asm_text, line);) lines.push_back(line);
  size_t first = 0;
  while (first < lines.size() && !contains(lines[first], "prefetcht0")) ++first;
  ASSERT_LT(first, lines.size()) << m.get_source("asm");
  size_t header = first;
  while (header > 0 && !(lines[header].rfind(".LBB", 0) == 0 && contains(lines[header], ":"))) --header;
  std::string label = lines[header].substr(0, lines[header].find(':'));
  size_t back = first;
  while (back < lines.size() && !(lines[back].find("\tj") != std::string::npos && contains(lines[back], label))) ++back;
  ASSERT_LT(back, lines.size()) << "no jump back to " << label << " in\n" << m.get_source("asm");
  for (size_t i = header; i < back; ++i) {
    const std::string& l = lines[i];
    // AT&T syntax: the destination comes last, so a store ends with its memory operand.
    std::string code = l.substr(0, l.find('#'));
    while (!code.empty() && std::isspace(static_cast<unsigned char>(code.back()))) code.pop_back();
    bool vector_store = contains(code, "vmov") && !code.empty() && code.back() == ')';
    EXPECT_FALSE(vector_store) << "a store in the prefetching k loop: " << l << "\n" << m.get_source("asm");
  }
  // And the numbers.
  EquivalenceStats stats = check_schedule_equivalence(
      {"gemm prefetch", {A, B}, {C}}, [&](Schedule& sch, ScheduleRng&) { sch = s; }, 1, 1);
  EXPECT_EQ(stats.matched, 1);
}

// C = A x B with B's columns in panels of 64 and k in blocks of 64; the k-block loop prefetches
// the next block of B spread over the row tiles inside it (the GEMM templates' prefetch_b).
struct SpreadGemm {
  int64_t m;
  static constexpr int64_t N = 128, K = 256, kRowTile = 4, kBlock = 64;
  Tensor A, B, C;
  explicit SpreadGemm(int64_t rows) : m(rows) {
    A = placeholder({m, K}, DataType::float32(), "A");
    B = placeholder({K, N}, DataType::float32(), "B");
    IterVar k = reduce_axis(Range(0, K), "k");
    C = compute({m, N}, [&](const std::vector<Var>& i) { return sum(A(i[0], k) * B(k, i[1]), {k}); }, "C");
  }
  // Leaves: jo, ko, io, ki, ii, ji; the prefetch at ko spread over io.
  Schedule schedule() const {
    Schedule s = create_schedule({C.op()});
    const ComputeOpNode* op = C.op().as<ComputeOpNode>();
    auto [io, ii] = s[C].split(op->axis[0], kRowTile);
    auto [jo, ji] = s[C].split(op->axis[1], 64);
    auto [ko, ki] = s[C].split(op->reduce_axis[0], kBlock);
    s[C].reorder({jo, ko, io, ki, ii, ji});
    s[C].prefetch(B, ko, 1, io);
    return s;
  }
};

// Every line of B's blocks after the first is prefetched (the last block's "next" is clamped
// inside B), a few rows at the start of each row tile: 64 rows over ceil(m / 4) tiles.
TEST(SchedulePrefetch, SpreadFetchesTheNextBlockAFewRowsPerInnerIteration) {
  for (int64_t m : {20, 22, 3}) {
    SCOPED_TRACE(::testing::Message() << "m " << m);
    SpreadGemm g(m);
    Schedule s = g.schedule();
    LoweredFunc f = lower(s, {g.A, g.B, g.C}, "spread");
    EXPECT_EQ(count_prefetches(f.body), m == 22 ? 2 : 1) << to_string(f);  // 22: the row-tile tail's copy
    const int64_t tiles = (m + SpreadGemm::kRowTile - 1) / SpreadGemm::kRowTile;

    // Which lines were prefetched, and how many prefetches each row-tile iteration issued.
    Interpreter interp;
    std::vector<float> a(size_t(m * SpreadGemm::K), 1.0f), b(size_t(SpreadGemm::K * SpreadGemm::N), 1.0f),
        c(size_t(m * SpreadGemm::N), 0.0f);
    interp.bind_buffer(f.args[0].data, InterpBuffer{a.data(), DataType::float32(), int64_t(a.size())});
    interp.bind_buffer(f.args[1].data, InterpBuffer{b.data(), DataType::float32(), int64_t(b.size())});
    interp.bind_buffer(f.args[2].data, InterpBuffer{c.data(), DataType::float32(), int64_t(c.size())});
    std::set<int64_t> lines;
    // The rows of the first panel's second block (fetched during its first block), by the row
    // tile that fetched them: the prefetches come before the tile's first read of A.
    std::map<int64_t, std::set<int64_t>> rows_by_tile;
    int64_t tile = -1;
    interp.on_load = [&](const VarNode* buffer, int64_t index) {
      if (buffer == f.args[0].data.get()) tile = index / SpreadGemm::K / SpreadGemm::kRowTile;
    };
    interp.on_prefetch = [&](const VarNode* buffer, int64_t index) {
      ASSERT_EQ(buffer, f.args[1].data.get());
      lines.insert(index / 16);  // 16 floats per 64-byte line (B's rows are 512 bytes: aligned)
      int64_t row = index / SpreadGemm::N, column = index % SpreadGemm::N;
      if (row >= SpreadGemm::kBlock && row < 2 * SpreadGemm::kBlock && column < 64)
        rows_by_tile[(tile + 1) % tiles].insert(row);
    };
    interp.run(f.body);
    // Spread evenly: each row tile fetched floor or ceil of 64 / tiles rows, all 64 in all.
    int64_t total = 0;
    for (int64_t t = 0; t < tiles; ++t) {
      int64_t n = int64_t(rows_by_tile[t].size());
      total += n;
      EXPECT_GE(n, SpreadGemm::kBlock / tiles) << "tile " << t;
      EXPECT_LE(n, (SpreadGemm::kBlock + tiles - 1) / tiles) << "tile " << t;
    }
    EXPECT_EQ(total, SpreadGemm::kBlock);
    std::set<int64_t> expected;
    for (int64_t row = SpreadGemm::kBlock; row < SpreadGemm::K; ++row)
      for (int64_t line = 0; line < SpreadGemm::N / 16; ++line) expected.insert(row * (SpreadGemm::N / 16) + line);
    EXPECT_EQ(lines, expected);
    EquivalenceStats stats = check_schedule_equivalence(
        {"spread prefetch", {g.A, g.B}, {g.C}}, [&](Schedule& sch, ScheduleRng&) { sch = g.schedule(); }, 1, 1);
    EXPECT_EQ(stats.matched, 1);
  }
  SpreadGemm g(20);
  Module m = build(g.schedule(), {g.A, g.B, g.C}, "llvm");
  EXPECT_TRUE(contains(m.get_source("asm"), "prefetcht0"));
}

TEST(SchedulePrefetch, SpreadReplaysAndRefusesLoopsItCannotUse) {
  SpreadGemm g(20);
  Schedule s = g.schedule();
  EXPECT_TRUE(contains(s.steps_python(), ", spread=")) << s.steps_python();
  Schedule again = Schedule::replay({g.C.op()}, Schedule::steps_from_json(s.steps_json()));
  EXPECT_EQ(to_string(lower(s, {g.A, g.B, g.C}, "f")), to_string(lower(again, {g.A, g.B, g.C}, "f")));
  EXPECT_THROW(Schedule::steps_from_json(R"([{"p":"prefetch","stage":2,"iters":[0,1,2],"ints":[1,0],"target_stage":1}])"),
               Error);

  const ComputeOpNode* op = g.C.op().as<ComputeOpNode>();
  {
    Schedule bad = create_schedule({g.C.op()});
    EXPECT_TRUE(contains(message([&] { bad[g.C].prefetch(g.B, op->axis[1], 1, op->axis[0]); }), "is not inside"));
  }
  {
    // The spread loop split after the request: refused when lowering, naming it.
    Schedule bad = create_schedule({g.C.op()});
    bad[g.C].prefetch(g.B, op->axis[0], 1, op->axis[1]);
    bad[g.C].split(op->axis[1], 8);
    EXPECT_TRUE(contains(message([&] { lower(bad, {g.A, g.B, g.C}, "f"); }), "no longer a leaf"));
  }
  {
    // A vectorized loop among those spread over.
    Schedule bad = create_schedule({g.C.op()});
    auto [jo, ji] = bad[g.C].split(op->axis[1], 16);
    bad[g.C].prefetch(g.B, op->axis[0], 1, ji);
    bad[g.C].reorder({op->axis[0], op->reduce_axis[0], jo, ji});
    bad[g.C].vectorize(ji);
    EXPECT_TRUE(contains(message([&] { lower(bad, {g.A, g.B, g.C}, "f"); }), "include the vectorized"));
  }
}

TEST(SchedulePrefetch, CudaDropsIt) {
  Stencil st;
  Schedule s = create_schedule({st.B.op()});
  s[st.P].compute_inline();
  const ComputeOpNode* op = st.B.op().as<ComputeOpNode>();
  auto [bx, tx] = s[st.B].split(op->axis[1], 32);
  s[st.B].bind(op->axis[0], thread_axis("blockIdx.x"));
  s[st.B].bind(tx, thread_axis("threadIdx.x"));
  s[st.B].prefetch(st.A, bx, 1);
  LowerOptions options;
  options.target = Target::parse("cuda");
  LoweredFunc f = lower(s, {st.A, st.B}, "stencil", options);
  EXPECT_EQ(count_prefetches(f.body), 0) << to_string(f);
  Module m = build(s, {st.A, st.B}, "cuda", "stencil");
  EXPECT_FALSE(contains(m.get_source("cuda"), "prefetch")) << m.get_source("cuda");
}

TEST(SchedulePrefetch, ReplaysFromItsStep) {
  Stencil st;
  Schedule s = st.schedule(4, 3);
  EXPECT_TRUE(contains(s.steps_json(), "\"p\":\"prefetch\"")) << s.steps_json();
  EXPECT_TRUE(contains(s.steps_python(), ".prefetch(A, ")) << s.steps_python();
  Schedule again = Schedule::replay({st.B.op()}, Schedule::steps_from_json(s.steps_json()));
  LoweredFunc a = lower(s, {st.A, st.B}, "stencil"), b = lower(again, {st.A, st.B}, "stencil");
  EXPECT_EQ(to_string(a), to_string(b));
  // A step naming no tensor stage is refused.
  EXPECT_THROW(Schedule::steps_from_json(R"([{"p":"prefetch","stage":2,"iters":[0],"ints":[1,0]}])"), Error);
}

TEST(SchedulePrefetch, Errors) {
  Stencil st;
  const ComputeOpNode* op = st.B.op().as<ComputeOpNode>();
  Tensor other = placeholder({4}, DataType::float32(), "Other");
  {
    Schedule s = create_schedule({st.B.op()});
    EXPECT_TRUE(contains(message([&] { s[st.B].prefetch(other, op->axis[0], 1); }), "does not read tensor Other"));
    EXPECT_TRUE(contains(message([&] { s[st.B].prefetch(st.A, op->axis[0], 0); }), "must be >= 1"));
    EXPECT_TRUE(contains(message([&] { s[st.B].prefetch(Tensor(), op->axis[0], 1); }), "undefined"));
    auto [xo, xi] = s[st.B].split(op->axis[1], 4);
    EXPECT_TRUE(contains(message([&] { s[st.B].prefetch(st.A, op->axis[1], 1); }), "prefetch"));  // not a leaf
    // A vectorized axis: refused when lowering (vectorize may come after prefetch).
    s[st.B].prefetch(st.A, xi, 1);
    s[st.B].vectorize(xi);
    EXPECT_TRUE(contains(message([&] { lower(s, {st.A, st.B}, "f"); }), "is vectorized"));
  }
  {
    // The padding is a stage of its own: the loops of B read P, not A.
    Schedule s = create_schedule({st.B.op()});
    s[st.B].prefetch(st.A, op->axis[0], 1);
    EXPECT_TRUE(contains(message([&] { lower(s, {st.A, st.B}, "f"); }), "reads no element of A"));
    Schedule fine = create_schedule({st.B.op()});
    fine[st.B].prefetch(st.P, op->axis[0], 1);
    EXPECT_NO_THROW(lower(fine, {st.A, st.B}, "f"));
    // P computed inside the loop that would prefetch it.
    Schedule inside = create_schedule({st.B.op()});
    inside[st.P].compute_at(inside[st.B], op->axis[1]);
    inside[st.B].prefetch(st.P, op->axis[0], 1);
    EXPECT_TRUE(contains(message([&] { lower(inside, {st.A, st.B}, "f"); }), "is computed inside this loop"));
    // A prefetch is a schedule of the stage: cache_write must come first, as for annotations.
    Schedule cached = create_schedule({st.B.op()});
    cached[st.B].prefetch(st.P, op->axis[0], 1);
    EXPECT_TRUE(contains(message([&] { cached.cache_write(st.B, "local"); }), "already has a schedule"));
  }
}

}  // namespace
}  // namespace te::testing
