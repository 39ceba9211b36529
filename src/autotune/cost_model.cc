// src/autotune/cost_model.cc — the cost models behind te/autotune/cost_model.h: XGBoost through
// its C API (rank or regression objective) and a random model, plus the pairwise ranking
// accuracy that the tuner reports for each batch.
//
// Labels: measured throughput divided by the best throughput seen (so in [0, 1], failed
// candidates 0), as AutoTVM does; only the order of the predictions is used by the search.
//
// File format of save()/load(): one header line
//   te-cost-model <name> <objective> <feature count> <feature version>
// followed, for XGBoost, by the booster as XGBoost's own JSON. load() refuses a file whose
// name, feature count or feature version differs from what this build produces, so a stale
// model can never silently score candidates with shifted features.
#include "te/autotune/cost_model.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "te/autotune/features.h"
#include "te/base.h"

#if TE_WITH_XGBOOST
#include <xgboost/c_api.h>
#endif

namespace te::autotune {
namespace {

struct ModelHeader {
  std::string name, objective;
  size_t feature_count = 0;
  int feature_version = 0;
};

void write_header(std::ostream& os, const ModelHeader& h) {
  os << "te-cost-model " << h.name << ' ' << h.objective << ' ' << h.feature_count << ' '
     << h.feature_version << '\n';
}

// Reads and checks the header; the stream is left at the first byte after it.
ModelHeader read_header(std::istream& is, const std::string& path, const std::string& expected_name) {
  std::string line;
  if (!std::getline(is, line)) fail("cost model file '", path, "' is empty or unreadable");
  std::istringstream fields(line);
  std::string magic;
  ModelHeader h;
  if (!(fields >> magic >> h.name >> h.objective >> h.feature_count >> h.feature_version) ||
      magic != "te-cost-model")
    fail("'", path, "' is not a te cost model file (its first line should start with 'te-cost-model')");
  if (h.name != expected_name)
    fail("cost model file '", path, "' holds a '", h.name, "' model; expected '", expected_name, "'");
  if (h.feature_version != kFeatureVersion)
    fail("cost model file '", path, "' was trained on features of version ", h.feature_version,
         "; this te extracts version ", kFeatureVersion, ": retrain it from the tuning logs");
  return h;
}

std::vector<float> normalized_labels(const std::vector<double>& y) {
  double best = 0;
  for (double v : y)
    if (std::isfinite(v)) best = std::max(best, v);
  std::vector<float> labels(y.size(), 0.0f);
  if (best <= 0) return labels;
  for (size_t i = 0; i < y.size(); ++i)
    labels[i] = std::isfinite(y[i]) && y[i] > 0 ? float(y[i] / best) : 0.0f;
  return labels;
}

// Row-major copy with a width check; missing values are NaN (XGBoost's "missing").
std::vector<float> flatten(const FeatureMatrix& x, size_t width, const char* what) {
  std::vector<float> flat;
  flat.reserve(x.size() * width);
  for (size_t r = 0; r < x.size(); ++r) {
    if (x[r].size() != width)
      fail("cost model ", what, ": row ", r, " has ", x[r].size(), " features; expected ", width);
    flat.insert(flat.end(), x[r].begin(), x[r].end());
  }
  return flat;
}

// ------------------------------------------------------------------------ random model

class RandomModel final : public CostModel {
 public:
  explicit RandomModel(uint64_t seed) : seed_(seed), rng_(seed) {}

  void fit(const FeatureMatrix& x, const std::vector<double>& y) override {
    if (x.size() != y.size()) fail("cost model fit: ", x.size(), " feature rows but ", y.size(), " labels");
    trained_ = true;
  }
  std::vector<double> predict(const FeatureMatrix& x) const override {
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<double> scores(x.size());
    for (double& s : scores) s = uniform(rng_);
    return scores;
  }
  bool trained() const override { return trained_; }
  void save(const std::string& path) const override {
    std::ofstream os(path, std::ios::trunc);
    write_header(os, {"random", "none", feature_names().size(), kFeatureVersion});
    os << seed_ << '\n';
    if (!os.flush()) fail("cannot write the cost model to '", path, "'");
  }
  void load(const std::string& path) override {
    std::ifstream is(path);
    if (!is) fail("cannot open the cost model file '", path, "'");
    read_header(is, path, "random");
    if (!(is >> seed_)) fail("cost model file '", path, "' has no seed after its header");
    rng_.seed(seed_);
    trained_ = true;
  }
  std::string name() const override { return "random"; }

 private:
  uint64_t seed_;
  mutable std::mt19937_64 rng_;
  bool trained_ = false;
};

// ------------------------------------------------------------------------ XGBoost

#if TE_WITH_XGBOOST

void xgb_check(int status, const char* call) {
  if (status != 0) fail("XGBoost ", call, " failed: ", XGBGetLastError());
}

// Owns a DMatrixHandle.
class DMatrix {
 public:
  DMatrix(const std::vector<float>& flat, size_t rows, size_t cols) {
    xgb_check(XGDMatrixCreateFromMat(flat.data(), rows, cols, NAN, &handle_), "XGDMatrixCreateFromMat");
  }
  ~DMatrix() { XGDMatrixFree(handle_); }
  DMatrix(const DMatrix&) = delete;
  DMatrix& operator=(const DMatrix&) = delete;
  DMatrixHandle get() const { return handle_; }

 private:
  DMatrixHandle handle_ = nullptr;
};

class XgbModel final : public CostModel {
 public:
  XgbModel(std::string objective, uint64_t seed) : objective_(std::move(objective)), seed_(seed) {}
  ~XgbModel() override { reset(); }

  void fit(const FeatureMatrix& x, const std::vector<double>& y) override {
    if (x.size() != y.size()) fail("cost model fit: ", x.size(), " feature rows but ", y.size(), " labels");
    if (x.empty()) fail("cost model fit: no samples");
    const size_t width = x[0].size();
    std::vector<float> flat = flatten(x, width, "fit");
    DMatrix train(flat, x.size(), width);
    std::vector<float> labels = normalized_labels(y);
    xgb_check(XGDMatrixSetFloatInfo(train.get(), "label", labels.data(), labels.size()), "XGDMatrixSetFloatInfo");
    if (objective_ == "rank") {  // one query group: every candidate of the task is comparable
      unsigned group = unsigned(x.size());
      xgb_check(XGDMatrixSetUIntInfo(train.get(), "group", &group, 1), "XGDMatrixSetUIntInfo");
    }
    reset();
    DMatrixHandle dmats[] = {train.get()};
    xgb_check(XGBoosterCreate(dmats, 1, &booster_), "XGBoosterCreate");
    set_params();
    // Fewer rounds for few samples: a deep ensemble on 16 points only memorizes them.
    const int rounds = int(std::clamp<size_t>(x.size() / 2, 20, kMaxRounds));
    for (int round = 0; round < rounds; ++round)
      xgb_check(XGBoosterUpdateOneIter(booster_, round, train.get()), "XGBoosterUpdateOneIter");
    feature_count_ = width;
  }

  std::vector<double> predict(const FeatureMatrix& x) const override {
    if (!booster_) fail("cost model '", name(), "' predicts before it was trained or loaded");
    if (x.empty()) return {};
    std::vector<float> flat = flatten(x, feature_count_, "predict");
    DMatrix rows(flat, x.size(), feature_count_);
    bst_ulong length = 0;
    const float* out = nullptr;
    xgb_check(XGBoosterPredict(booster_, rows.get(), 0, 0, 0, &length, &out), "XGBoosterPredict");
    TE_ICHECK(length == x.size(), "XGBoost returned ", length, " predictions for ", x.size(), " rows");
    return std::vector<double>(out, out + length);
  }

  bool trained() const override { return booster_ != nullptr; }

  void save(const std::string& path) const override {
    if (!booster_) fail("cost model '", name(), "' has nothing to save: it was never trained");
    bst_ulong length = 0;
    const char* bytes = nullptr;
    xgb_check(XGBoosterSaveModelToBuffer(booster_, R"({"format": "json"})", &length, &bytes),
              "XGBoosterSaveModelToBuffer");
    std::ofstream os(path, std::ios::binary | std::ios::trunc);
    write_header(os, {"xgb", objective_, feature_count_, kFeatureVersion});
    os.write(bytes, std::streamsize(length));
    if (!os.flush()) fail("cannot write the cost model to '", path, "'");
  }

  void load(const std::string& path) override {
    std::ifstream is(path, std::ios::binary);
    if (!is) fail("cannot open the cost model file '", path, "'");
    ModelHeader h = read_header(is, path, "xgb");
    if (h.feature_count != feature_names().size())
      fail("cost model file '", path, "' expects ", h.feature_count, " features; this te extracts ",
           feature_names().size());
    std::string body((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
    reset();
    xgb_check(XGBoosterCreate(nullptr, 0, &booster_), "XGBoosterCreate");
    if (XGBoosterLoadModelFromBuffer(booster_, body.data(), body.size()) != 0) {
      std::string why = XGBGetLastError();
      reset();
      fail("cost model file '", path, "' holds no readable XGBoost model: ", why);
    }
    objective_ = h.objective;
    feature_count_ = h.feature_count;
  }

  std::string name() const override { return "xgb"; }

 private:
  // AutoTVM's settings for its XGBoost model, which work for schedule features: shallow-ish
  // trees, a tiny gamma so that splits on small gains still happen.
  void set_params() {
    const std::string seed = std::to_string(seed_ % 2147483647);
    const std::pair<const char*, std::string> params[] = {
        {"objective", objective_ == "rank" ? "rank:pairwise" : "reg:squarederror"},
        {"max_depth", "6"},
        {"gamma", "0.0001"},
        {"min_child_weight", "1"},
        {"subsample", "1.0"},
        {"eta", "0.3"},
        {"lambda", "1.0"},
        {"alpha", "0"},
        {"seed", seed},
        {"verbosity", "0"},
        {"nthread", "1"},  // samples are few; threads cost more to start than they save
    };
    for (const auto& [key, value] : params)
      xgb_check(XGBoosterSetParam(booster_, key, value.c_str()), "XGBoosterSetParam");
  }

  void reset() {
    if (booster_) XGBoosterFree(booster_);
    booster_ = nullptr;
  }

  static constexpr size_t kMaxRounds = 100;
  std::string objective_;
  uint64_t seed_;
  BoosterHandle booster_ = nullptr;
  size_t feature_count_ = 0;
};

#endif  // TE_WITH_XGBOOST

}  // namespace

bool have_xgboost() {
#if TE_WITH_XGBOOST
  return true;
#else
  return false;
#endif
}

std::unique_ptr<CostModel> make_xgb_model(const std::string& objective, uint64_t seed) {
  if (objective != "rank" && objective != "regression")
    fail("unknown cost model objective '", objective, "'; expected 'rank' or 'regression'");
#if TE_WITH_XGBOOST
  return std::make_unique<XgbModel>(objective, seed);
#else
  (void)seed;
  fail("te was built without XGBoost (TE_WITH_XGBOOST=OFF): install libxgboost-dev (scripts/setup.sh) "
       "and reconfigure, or use the 'random' or 'sa' tuner");
#endif
}

std::unique_ptr<CostModel> make_random_model(uint64_t seed) { return std::make_unique<RandomModel>(seed); }

double pairwise_accuracy(const std::vector<double>& predicted, const std::vector<double>& actual) {
  if (predicted.size() != actual.size())
    fail("pairwise_accuracy: ", predicted.size(), " predictions for ", actual.size(), " measurements");
  double correct = 0;
  long pairs = 0;
  for (size_t i = 0; i < actual.size(); ++i)
    for (size_t j = i + 1; j < actual.size(); ++j) {
      if (actual[i] == actual[j]) continue;
      ++pairs;
      const bool i_better = actual[i] > actual[j];
      if (predicted[i] == predicted[j])
        correct += 0.5;  // a tie is a coin flip, not a right answer
      else if ((predicted[i] > predicted[j]) == i_better)
        correct += 1;
    }
  return pairs == 0 ? 0.5 : correct / double(pairs);
}

}  // namespace te::autotune
