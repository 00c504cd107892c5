#include "engine/budget.h"

#include <cstdio>

#include "base/strings.h"

namespace sw::engine {

std::string BudgetAccount::Check(const Reservation& r, bool ignore_in_flight, bool* price_unknown) const {
  char buf[256];
  int64_t reserved_tokens = ignore_in_flight ? 0 : reserved_tokens_;
  double reserved_usd = ignore_in_flight ? 0 : reserved_usd_;
  if (limits_.max_calls && calls_ + 1 > *limits_.max_calls) {
    std::snprintf(buf, sizeof(buf), "%s: model call cap reached (%lld calls, max_calls %lld)", name_.c_str(),
                  static_cast<long long>(calls_), static_cast<long long>(*limits_.max_calls));
    return buf;
  }
  if (limits_.max_tokens && spent_tokens_ + reserved_tokens + r.tokens > *limits_.max_tokens) {
    std::snprintf(buf, sizeof(buf),
                  "%s: token budget would be exceeded (spent %lld, in flight %lld, this call up to %lld, max_tokens %lld)",
                  name_.c_str(), static_cast<long long>(spent_tokens_), static_cast<long long>(reserved_tokens),
                  static_cast<long long>(r.tokens), static_cast<long long>(*limits_.max_tokens));
    return buf;
  }
  if (limits_.max_usd) {
    if (!r.usd_known) {
      if (price_unknown) *price_unknown = true;
      return name_ + ": cannot enforce max_usd: the model's price is unknown (add it to the price table)";
    }
    // In flight and new worst cases alike grow by what the provider has been seen to overrun.
    double usd = r.usd * overrun_, in_flight = reserved_usd * overrun_;
    if (spent_usd_ + in_flight + usd > *limits_.max_usd + 1e-12) {
      return name_ + ": budget would be exceeded (spent " + FormatUsd(spent_usd_) + ", in flight " +
             FormatUsd(in_flight) + ", this call up to " + FormatUsd(usd) + ", max_usd " +
             FormatUsd(*limits_.max_usd) + ")";
    }
  }
  return "";
}

std::string BudgetAccount::Reserve(const Reservation& r, std::string* warning, bool* wait) {
  {
    std::lock_guard<std::mutex> l(mu_);
    bool price_unknown = false;
    std::string why = Check(r, false, &price_unknown);
    if (!why.empty()) {
      if (limits_.policy == workflow::BudgetPolicy::kStop) {
        bool only_in_flight = Check(r, true).empty();
        if (wait) *wait = only_in_flight;
        // A price nobody knows is a configuration problem, not the budget running out.
        if (!only_in_flight && !price_unknown && refusals_.size() < 16) refusals_.push_back(why);
        return why;
      }
      if (warning) *warning = why;
    }
  }
  if (parent_) {
    std::string why = parent_->Reserve(r, warning, wait);
    if (!why.empty()) return why;
  }
  std::lock_guard<std::mutex> l(mu_);
  reserved_usd_ += r.usd;
  reserved_tokens_ += r.tokens;
  calls_ += 1;
  return "";
}

void BudgetAccount::Settle(const Reservation& r, double usd, int64_t tokens, bool usd_known) {
  {
    std::lock_guard<std::mutex> l(mu_);
    reserved_usd_ -= r.usd;
    reserved_tokens_ -= r.tokens;
    if (usd_known) spent_usd_ += usd;
    if (usd_known && r.usd > 0 && usd > r.usd) overrun_ = std::min(10.0, std::max(overrun_, usd / r.usd));
    spent_tokens_ += tokens;
  }
  if (parent_) parent_->Settle(r, usd, tokens, usd_known);
}

void BudgetAccount::AddSpent(double usd, int64_t tokens, int64_t calls) {
  {
    std::lock_guard<std::mutex> l(mu_);
    spent_usd_ += usd;
    spent_tokens_ += tokens;
    calls_ += calls;
  }
}

double BudgetAccount::spent_usd() const {
  std::lock_guard<std::mutex> l(mu_);
  return spent_usd_;
}
int64_t BudgetAccount::spent_tokens() const {
  std::lock_guard<std::mutex> l(mu_);
  return spent_tokens_;
}
bool BudgetAccount::refused() const {
  std::lock_guard<std::mutex> l(mu_);
  return !refusals_.empty();
}
bool BudgetAccount::RefusalIn(const std::string& error) const {
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& why : refusals_)
    if (error.find(why) != std::string::npos) return true;
  return false;
}
int64_t BudgetAccount::calls() const {
  std::lock_guard<std::mutex> l(mu_);
  return calls_;
}

}  // namespace sw::engine
