#include "base/clock.h"

#include <cmath>

namespace sw {

double SystemClock::Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double SystemClock::WallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void SystemClock::WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, double deadline) {
  if (std::isinf(deadline)) {
    cv.wait(lock);
    return;
  }
  double d = deadline - Now();
  if (d <= 0) return;
  cv.wait_for(lock, std::chrono::duration<double>(d));
}

SystemClock* SystemClock::Default() {
  static SystemClock clock;
  return &clock;
}

double ManualClock::Now() {
  std::lock_guard<std::mutex> l(mu_);
  return now_;
}

double ManualClock::WallNow() { return Now() + 1.7e9; }

void ManualClock::WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, double deadline) {
  if (std::isinf(deadline)) {
    cv.wait(lock);
    return;
  }
  std::lock_guard<std::mutex> l(mu_);
  if (deadline > now_) {
    sleeps_.push_back(deadline - now_);
    now_ = deadline;
  }
}

void ManualClock::Advance(double seconds) {
  std::lock_guard<std::mutex> l(mu_);
  now_ += seconds;
}

std::vector<double> ManualClock::Sleeps() {
  std::lock_guard<std::mutex> l(mu_);
  return sleeps_;
}

}  // namespace sw
