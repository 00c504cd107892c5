// Clock seam: the engine asks the clock for time and waits through it, so retry and
// backoff tests run instantly and deterministically on a ManualClock.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

namespace sw {

class Clock {
 public:
  virtual ~Clock() = default;
  /// Seconds on a monotonic axis (for deadlines and durations).
  virtual double Now() = 0;
  /// Seconds since the Unix epoch (for timestamps shown to people).
  virtual double WallNow() = 0;
  /// Waits on cv (lock held) until notified or Now() >= deadline; may wake spuriously.
  virtual void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, double deadline) = 0;
};

/// SystemClock is steady_clock for Now() and system_clock for WallNow().
class SystemClock : public Clock {
 public:
  double Now() override;
  double WallNow() override;
  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, double deadline) override;
  static SystemClock* Default();
};

/// ManualClock never sleeps: a wait with a deadline jumps time forward to it and records the
/// jump, so a test can check the exact sequence of backoff delays the engine asked for.
class ManualClock : public Clock {
 public:
  explicit ManualClock(double start = 1000.0) : now_(start) {}
  double Now() override;
  double WallNow() override;
  void WaitUntil(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, double deadline) override;
  void Advance(double seconds);
  std::vector<double> Sleeps();

 private:
  std::mutex mu_;
  double now_;
  std::vector<double> sleeps_;
};

}  // namespace sw
