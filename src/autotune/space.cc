// src/autotune/space.cc — Config: the knobs of a tuning space and one point in it.
// Space mode records knobs (define_* returns choice 0); apply mode (with_choices, from_index,
// from_json) returns the chosen entry and checks that the template defines the same knob with
// the same choice list. Choice enumeration per knob kind:
//   split    : kFactors   — every ordered tuple of sizes whose product is the extent;
//              kPowerOfTwo — inner sizes powers of two (product <= extent), outermost the rest;
//              kCandidates — the user's tuples, checked.
//              Sizes are stored outermost first; sizes[0] is extent / prod(rest) when that
//              divides and -1 ("the rest", a ceil-div with a guarded tail) when it does not.
//              Choice 0 is the tuple with every inner size 1.
//   reorder  : permutations of the axes in lexicographic order (choice 0 = identity).
//   annotate : one Annotation code per axis; the first axis varies fastest (choice 0 = none).
//   other    : one value per choice (define_knob).
// The flat index of a config is mixed radix over knobs() with the FIRST knob least significant.
#include "te/autotune/space.h"

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>

#include "schedule/untrusted_json.h"

namespace te::autotune {

namespace {

// More choices than this in one knob is a template mistake (and would take seconds to build).
constexpr size_t kMaxChoicesPerKnob = 1'000'000;
// Factors are enumerated by trial division up to sqrt(extent): 2^20 steps at most.
constexpr int64_t kMaxFactorExtent = int64_t(1) << 40;

std::string join(const std::vector<int64_t>& values) {
  std::string text = "[";
  for (size_t i = 0; i < values.size(); ++i) text += (i ? ", " : "") + std::to_string(values[i]);
  return text + "]";
}

const char* annotation_name(int64_t code) {
  switch (Annotation(code)) {
    case Annotation::kNone:
      return "none";
    case Annotation::kUnroll:
      return "unroll";
    case Annotation::kVectorize:
      return "vec";
    case Annotation::kParallel:
      return "parallel";
  }
  return "?";
}

const char* kind_name(Knob::Kind kind) {
  switch (kind) {
    case Knob::kSplit:
      return "split";
    case Knob::kReorder:
      return "reorder";
    case Knob::kAnnotate:
      return "annotate";
    case Knob::kOther:
      return "knob";
  }
  return "?";
}

int64_t product(const std::vector<int64_t>& values, size_t begin) {
  int64_t p = 1;
  for (size_t i = begin; i < values.size(); ++i) p *= values[i];
  return p;
}

// sizes[0] from the inner sizes: the exact quotient, or -1 when there is a tail.
int64_t outer_size(int64_t extent, int64_t inner_product) {
  return extent % inner_product == 0 ? extent / inner_product : -1;
}

void check_choice_count(const std::string& name, size_t count) {
  if (count > kMaxChoicesPerKnob)
    fail("define_split '", name, "': more than ", kMaxChoicesPerKnob,
         " choices; use fewer outputs, max_factor, or SplitPolicy::kCandidates");
}

// Every tuple of n-1 inner sizes drawn from `options` (ascending) with product dividing the
// extent (exact) or at most the extent, the last inner size varying fastest.
void enumerate_inner(const std::string& name, int64_t extent, bool exact, const std::vector<int64_t>& options,
                     size_t inner_count, std::vector<int64_t>& current,
                     std::vector<std::vector<int64_t>>& out) {
  if (current.size() == inner_count + 1) {
    int64_t inner = product(current, 1);
    current[0] = outer_size(extent, inner);
    out.push_back(current);
    check_choice_count(name, out.size());
    return;
  }
  int64_t used = product(current, 1);
  for (int64_t size : options) {
    if (used > extent / size) break;  // product would exceed the extent (options ascend)
    if (exact && (extent / used) % size != 0) continue;
    current.push_back(size);
    enumerate_inner(name, extent, exact, options, inner_count, current, out);
    current.pop_back();
  }
}

std::vector<std::vector<int64_t>> split_choices(const std::string& name, int64_t extent, int num_outputs,
                                                const SplitOptions& options) {
  if (extent < 1) fail("define_split '", name, "': the extent must be >= 1, got ", extent);
  if (num_outputs < 1) fail("define_split '", name, "': num_outputs must be >= 1, got ", num_outputs);
  if (options.max_factor < 0)
    fail("define_split '", name, "': max_factor must be >= 0 (0: no limit), got ", options.max_factor);
  int64_t limit = options.max_factor > 0 ? std::min(options.max_factor, extent) : extent;
  std::vector<std::vector<int64_t>> choices;
  switch (options.policy) {
    case SplitPolicy::kFactors:
    case SplitPolicy::kPowerOfTwo: {
      bool exact = options.policy == SplitPolicy::kFactors;
      std::vector<int64_t> sizes;
      if (exact) {
        // Divisors in O(sqrt(extent)): the extent may come from a workload key in a tuning
        // log (warm start), and a loop up to 10^12 hung (issue 8, untrusted files).
        if (extent > kMaxFactorExtent)
          fail("define_split '", name, "': extent ", extent, " is above ", kMaxFactorExtent,
               ", too large to enumerate its factors; use the power-of-two policy or candidates");
        std::vector<int64_t> large;
        for (int64_t d = 1; d * d <= extent; ++d) {
          if (extent % d != 0) continue;
          if (d <= limit) sizes.push_back(d);
          if (d * d != extent && extent / d <= limit) large.push_back(extent / d);
        }
        sizes.insert(sizes.end(), large.rbegin(), large.rend());
      } else {
        // p *= 2 past 2^62 would overflow: stop once the next power exceeds limit.
        for (int64_t p = 1;; p *= 2) {
          sizes.push_back(p);
          if (p > limit / 2) break;
        }
      }
      std::vector<int64_t> current = {0};  // slot for the outermost size
      enumerate_inner(name, extent, exact, sizes, size_t(num_outputs - 1), current, choices);
      break;
    }
    case SplitPolicy::kCandidates: {
      if (options.candidates.empty())
        fail("define_split '", name, "': SplitPolicy::kCandidates needs a non-empty candidates list");
      for (const std::vector<int64_t>& candidate : options.candidates) {
        if (candidate.size() != size_t(num_outputs))
          fail("define_split '", name, "': candidate ", join(candidate), " has ", candidate.size(),
               " sizes; num_outputs is ", num_outputs);
        for (size_t i = 1; i < candidate.size(); ++i)
          if (candidate[i] < 1 || candidate[i] > extent)
            fail("define_split '", name, "': candidate ", join(candidate), " has inner size ", candidate[i],
                 "; inner sizes must be in [1, ", extent, "]");
        int64_t inner = product(candidate, 1);
        if (inner > extent)
          fail("define_split '", name, "': candidate ", join(candidate),
               " has inner sizes whose product exceeds the extent ", extent);
        int64_t ceil_outer = (extent + inner - 1) / inner;
        if (candidate[0] != -1 && candidate[0] != ceil_outer)
          fail("define_split '", name, "': candidate ", join(candidate), " has outer size ", candidate[0],
               "; for extent ", extent, " it must be -1 or ", ceil_outer);
        std::vector<int64_t> normalized = candidate;
        normalized[0] = outer_size(extent, inner);
        if (std::find(choices.begin(), choices.end(), normalized) == choices.end())
          choices.push_back(std::move(normalized));
      }
      break;
    }
  }
  TE_ICHECK(!choices.empty(), "split knob ", name, " has no choices");
  return choices;
}

int64_t constant_extent(const std::string& name, const IterVar& axis) {
  if (!axis.defined()) fail("define_split '", name, "': the axis is undefined");
  const Range& dom = axis.dom();
  const int64_t* extent = dom.extent.defined() ? as_const_int(dom.extent) : nullptr;
  if (!extent)
    fail("define_split '", name, "': axis '", axis.var().name(),
         "' has no constant extent (symbolic, or made by split/fuse); pass the extent instead");
  return *extent;
}

}  // namespace

std::string Knob::describe(int64_t choice) const {
  if (choice < 0 || size_t(choice) >= choices.size())
    fail("knob '", name, "': choice ", choice, " is out of range [0, ", choices.size(), ")");
  const std::vector<int64_t>& entry = choices[size_t(choice)];
  if (kind == kOther) return std::to_string(entry.at(0));
  if (kind != kAnnotate) return join(entry);
  std::string text = "[";
  for (size_t i = 0; i < entry.size(); ++i) text += std::string(i ? ", " : "") + annotation_name(entry[i]);
  return text + "]";
}

// ---------------------------------------------------------------- defining knobs

const Knob& Config::add_or_check(Knob knob) {
  auto found = knob_index_.find(knob.name);
  if (found == knob_index_.end()) {
    if (!space_mode_)
      fail("Config: knob '", knob.name, "' is not in this config's space (", knobs_.size(),
           " knobs); the template must define the same knobs for every config — does it define "
           "knobs that depend on earlier choices?");
    knob_index_[knob.name] = int(knobs_.size());
    knobs_.push_back(std::move(knob));
    choices_.push_back(0);
    return knobs_.back();
  }
  const Knob& existing = knobs_[size_t(found->second)];
  if (existing.kind != knob.kind || existing.choices != knob.choices)
    fail("Config: knob '", knob.name, "' is defined again as a ", kind_name(knob.kind), " with ",
         knob.choices.size(), " choices, but the space has it as a ", kind_name(existing.kind), " with ",
         existing.choices.size(),
         " choices; knob names must be unique and their choices must not depend on other choices");
  return existing;
}

const std::vector<int64_t>& Config::chosen(const std::string& name) const {
  auto found = knob_index_.find(name);
  if (found == knob_index_.end()) {
    std::string known;
    for (const Knob& k : knobs_) known += (known.empty() ? "" : ", ") + k.name;
    fail("Config: no knob named '", name, "' (known: ", known.empty() ? "none" : known,
         "); define it before applying it");
  }
  size_t i = size_t(found->second);
  return knobs_[i].choices[size_t(choices_[i])];
}

const std::vector<int64_t>& Config::define_split(const std::string& name, int64_t extent, int num_outputs,
                                                 const SplitOptions& options) {
  Knob knob{name, Knob::kSplit, split_choices(name, extent, num_outputs, options)};
  add_or_check(std::move(knob));
  return chosen(name);
}

const std::vector<int64_t>& Config::define_split(const std::string& name, const IterVar& axis,
                                                 int num_outputs, const SplitOptions& options) {
  return define_split(name, constant_extent(name, axis), num_outputs, options);
}

const std::vector<int64_t>& Config::define_reorder(const std::string& name, const std::vector<IterVar>& axes,
                                                   const std::string& policy) {
  if (axes.empty()) fail("define_reorder '", name, "': no axes given");
  std::vector<int64_t> identity(axes.size());
  std::iota(identity.begin(), identity.end(), 0);
  Knob knob{name, Knob::kReorder, {}};
  if (policy == "all") {
    if (axes.size() > 6)
      fail("define_reorder '", name, "': policy \"all\" over ", axes.size(),
           " axes gives too many permutations; use at most 6 axes or \"identity_and_reverse\"");
    std::vector<int64_t> perm = identity;
    do knob.choices.push_back(perm);
    while (std::next_permutation(perm.begin(), perm.end()));
  } else if (policy == "identity_and_reverse") {
    knob.choices.push_back(identity);
    if (axes.size() > 1) knob.choices.emplace_back(identity.rbegin(), identity.rend());
  } else {
    fail("define_reorder '", name, "': unknown policy \"", policy,
         "\"; expected \"all\" or \"identity_and_reverse\"");
  }
  add_or_check(std::move(knob));
  return chosen(name);
}

const std::vector<int64_t>& Config::define_annotate(const std::string& name, const std::vector<IterVar>& axes,
                                                    const std::string& policy) {
  if (axes.empty()) fail("define_annotate '", name, "': no axes given");
  std::vector<int64_t> options;
  if (policy == "try_unroll")
    options = {int64_t(Annotation::kNone), int64_t(Annotation::kUnroll)};
  else if (policy == "try_vec")
    options = {int64_t(Annotation::kNone), int64_t(Annotation::kVectorize)};
  else if (policy == "try_unroll_vec")
    options = {int64_t(Annotation::kNone), int64_t(Annotation::kUnroll), int64_t(Annotation::kVectorize)};
  else if (policy == "try_parallel")
    options = {int64_t(Annotation::kNone), int64_t(Annotation::kParallel)};
  else
    fail("define_annotate '", name, "': unknown policy \"", policy,
         "\"; expected \"try_unroll\", \"try_vec\", \"try_unroll_vec\" or \"try_parallel\"");
  size_t total = 1;
  for (size_t i = 0; i < axes.size(); ++i) {
    total *= options.size();
    if (total > kMaxChoicesPerKnob)
      fail("define_annotate '", name, "': ", axes.size(), " axes give too many choices; annotate fewer axes");
  }
  Knob knob{name, Knob::kAnnotate, {}};
  for (size_t flat = 0; flat < total; ++flat) {
    std::vector<int64_t> entry(axes.size());
    size_t rest = flat;
    for (size_t a = 0; a < axes.size(); ++a, rest /= options.size())
      entry[a] = options[rest % options.size()];
    knob.choices.push_back(std::move(entry));
  }
  add_or_check(std::move(knob));
  return chosen(name);
}

int64_t Config::define_knob(const std::string& name, const std::vector<int64_t>& values) {
  if (values.empty()) fail("define_knob '", name, "': no values given");
  Knob knob{name, Knob::kOther, {}};
  for (int64_t v : values) knob.choices.push_back({v});
  add_or_check(std::move(knob));
  return chosen(name).at(0);
}

// ---------------------------------------------------------------- applying choices

std::vector<IterVar> Config::apply_split(const std::string& name, Stage stage, const IterVar& axis) const {
  const std::vector<int64_t>& sizes = chosen(name);
  const Knob& knob = knobs_[size_t(knob_index_.at(name))];
  if (knob.kind != Knob::kSplit)
    fail("apply_split: knob '", name, "' is a ", kind_name(knob.kind), " knob, not a split");
  // Outermost first: split off sizes[0] by the product of the inner sizes, then the next...
  // The first split may leave a tail (sizes[0] == -1); the rest divide exactly.
  std::vector<IterVar> axes;
  IterVar rest = axis;
  for (size_t i = 0; i + 1 < sizes.size(); ++i) {
    auto [outer, inner] = stage.split(rest, product(sizes, i + 1));
    axes.push_back(outer);
    rest = inner;
  }
  axes.push_back(rest);
  return axes;
}

std::vector<IterVar> Config::apply_reorder(const std::string& name, Stage stage,
                                           const std::vector<IterVar>& axes) const {
  const std::vector<int64_t>& perm = chosen(name);
  const Knob& knob = knobs_[size_t(knob_index_.at(name))];
  if (knob.kind != Knob::kReorder)
    fail("apply_reorder: knob '", name, "' is a ", kind_name(knob.kind), " knob, not a reorder");
  if (perm.size() != axes.size())
    fail("apply_reorder '", name, "': the knob was defined over ", perm.size(), " axes, got ", axes.size());
  std::vector<IterVar> order;
  for (int64_t p : perm) order.push_back(axes[size_t(p)]);
  stage.reorder(order);
  return order;
}

void Config::apply_annotate(const std::string& name, Stage stage, const std::vector<IterVar>& axes) const {
  const std::vector<int64_t>& codes = chosen(name);
  const Knob& knob = knobs_[size_t(knob_index_.at(name))];
  if (knob.kind != Knob::kAnnotate)
    fail("apply_annotate: knob '", name, "' is a ", kind_name(knob.kind), " knob, not an annotate");
  if (codes.size() != axes.size())
    fail("apply_annotate '", name, "': the knob was defined over ", codes.size(), " axes, got ", axes.size());
  for (size_t i = 0; i < axes.size(); ++i) {
    switch (Annotation(codes[i])) {
      case Annotation::kNone:
        break;
      case Annotation::kUnroll:
        stage.unroll(axes[i]);
        break;
      case Annotation::kVectorize:
        stage.vectorize(axes[i]);
        break;
      case Annotation::kParallel:
        stage.parallel(axes[i]);
        break;
    }
  }
}

const std::vector<int64_t>& Config::get(const std::string& name) const { return chosen(name); }

int64_t Config::value(const std::string& name) const {
  const std::vector<int64_t>& entry = chosen(name);
  if (knobs_[size_t(knob_index_.at(name))].kind != Knob::kOther)
    fail("Config::value: knob '", name, "' is not a define_knob knob; use get()");
  return entry.at(0);
}

// ---------------------------------------------------------------- the space

int64_t Config::space_size() const {
  int64_t size = 1;
  for (const Knob& knob : knobs_) {
    auto count = int64_t(knob.choices.size());
    if (size > std::numeric_limits<int64_t>::max() / count) return std::numeric_limits<int64_t>::max();
    size *= count;
  }
  return size;
}

Config Config::with_choices(std::vector<int64_t> choices) const {
  if (choices.size() != knobs_.size())
    fail("Config::with_choices: got ", choices.size(), " choices for a space of ", knobs_.size(), " knobs");
  for (size_t i = 0; i < choices.size(); ++i)
    if (choices[i] < 0 || size_t(choices[i]) >= knobs_[i].choices.size())
      fail("Config::with_choices: choice ", choices[i], " for knob '", knobs_[i].name,
           "' is out of range [0, ", knobs_[i].choices.size(), ")");
  Config config = *this;
  config.space_mode_ = false;
  config.choices_ = std::move(choices);
  return config;
}

Config Config::from_index(int64_t index) const {
  int64_t size = space_size();
  if (index < 0 || (size != std::numeric_limits<int64_t>::max() && index >= size))
    fail("Config::from_index: index ", index, " is out of range [0, ", size, ")");
  std::vector<int64_t> choices(knobs_.size());
  for (size_t i = 0; i < knobs_.size(); ++i) {  // first knob least significant
    auto count = int64_t(knobs_[i].choices.size());
    choices[i] = index % count;
    index /= count;
  }
  return with_choices(std::move(choices));
}

int64_t Config::index() const {
  int64_t index = 0;
  for (size_t i = knobs_.size(); i-- > 0;) {
    auto count = int64_t(knobs_[i].choices.size());
    if (index > (std::numeric_limits<int64_t>::max() - choices_[i]) / count)
      fail("Config::index: the space is too large for a 64-bit flat index; use choices()");
    index = index * count + choices_[i];
  }
  return index;
}

std::string Config::to_string() const {
  std::string text;
  for (size_t i = 0; i < knobs_.size(); ++i)
    text += (i ? " " : "") + knobs_[i].name + "=" + knobs_[i].describe(choices_[i]);
  return text;
}

std::string Config::to_json() const {
  nlohmann::ordered_json object = nlohmann::ordered_json::object();
  for (size_t i = 0; i < knobs_.size(); ++i) object[knobs_[i].name] = choices_[i];
  return object.dump();
}

Config Config::from_json(const std::string& json) const {
  nlohmann::json doc = parse_untrusted_json(json);  // depth-limited: configs come from logs
  if (doc.is_discarded())
    fail("Config::from_json: the text is not valid JSON (nested at most ", kMaxUntrustedJsonDepth, " levels): '",
         json.substr(0, 80), "'");
  if (!doc.is_object())
    fail("Config::from_json: expected a JSON object {\"knob\": choice_index, ...}, got ", doc.type_name());
  std::vector<int64_t> choices(knobs_.size(), -1);
  for (const auto& [name, choice] : doc.items()) {
    auto found = knob_index_.find(name);
    if (found == knob_index_.end())
      fail("Config::from_json: unknown knob '", name, "'; the config is not from this space");
    if (!choice.is_number_integer())
      fail("Config::from_json: knob '", name, "' has ", choice.dump(), "; expected a choice index");
    choices[size_t(found->second)] = choice.get<int64_t>();
  }
  // Knobs missing at the end of the space were appended to the template after the config was
  // written: they take choice 0, which a template appends only as the old behavior (the flat
  // index, first knob least significant, is then unchanged too). A missing knob before a present
  // one means another space.
  size_t present_end = 0;
  for (size_t i = 0; i < knobs_.size(); ++i)
    if (doc.contains(knobs_[i].name)) present_end = i + 1;
  for (size_t i = 0; i < knobs_.size(); ++i) {
    if (doc.contains(knobs_[i].name)) continue;
    if (i < present_end) fail("Config::from_json: knob '", knobs_[i].name, "' is missing");
    choices[i] = 0;
  }
  return with_choices(std::move(choices));  // range-checks every choice
}

}  // namespace te::autotune
