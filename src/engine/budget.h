// BudgetAccount: reserve-before-spend accounting. A call starts only after its worst case
// (pessimistic prompt tokens + max output tokens at the model's price) is reserved, so with
// policy `stop` spend can never pass the budget. Sub-runs chain to their parent's account.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "workflow/workflow.h"

namespace sw::engine {

struct Reservation {
  double usd = 0;
  int64_t tokens = 0;
  bool usd_known = true;
};

class BudgetAccount {
 public:
  BudgetAccount(std::string name, workflow::Budget limits, std::shared_ptr<BudgetAccount> parent)
      : name_(std::move(name)), limits_(limits), parent_(std::move(parent)) {}

  /// Reserve holds r (and one call) here and in every parent. Returns "" when allowed,
  /// otherwise the reason; with policy warn it reserves anyway and sets *warning.
  /// *wait (optional) is set when the refusal is only due to other calls in flight: once they
  /// settle the call may fit, so the caller should wait rather than fail.
  std::string Reserve(const Reservation& r, std::string* warning, bool* wait = nullptr);
  /// Settle replaces a reservation with what was actually spent. A reservation keeps the
  /// worst case it was admitted with; the account's own scale applies to new ones.
  void Settle(const Reservation& r, double usd, int64_t tokens, bool usd_known);
  /// AddSpent records spend that had no reservation (restored on resume).
  void AddSpent(double usd, int64_t tokens, int64_t calls);

  double spent_usd() const;
  int64_t spent_tokens() const;
  int64_t calls() const;
  /// refused says whether this account (not a parent) ever refused a call under policy stop
  /// for good (not only because of calls in flight).
  bool refused() const;
  /// RefusalIn says whether error (a run's) is one of this account's refusals for good, as
  /// the failing node or the stopped run reports it: the run failed because of the budget.
  /// An unknown price under max_usd is not a refusal of the budget (nor counted by refused()).
  bool RefusalIn(const std::string& error) const;

 private:
  std::string Check(const Reservation& r, bool ignore_in_flight = false, bool* price_unknown = nullptr) const;
  mutable std::mutex mu_;
  std::string name_;
  workflow::Budget limits_;
  std::shared_ptr<BudgetAccount> parent_;
  double spent_usd_ = 0, reserved_usd_ = 0;
  /// Once a call cost more than its reservation (a provider that counts more tokens than the
  /// bytes it was sent), every later worst case is scaled by the worst ratio seen (at most 10).
  double overrun_ = 1;
  int64_t spent_tokens_ = 0, reserved_tokens_ = 0;
  int64_t calls_ = 0;
  std::vector<std::string> refusals_;  // the first 16 refusals for good (their messages)
};

}  // namespace sw::engine
