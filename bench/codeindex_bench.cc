// The code index (src/codeindex) on a tree given as its argument, usually the generated
// 1,000,000-line project of bench/gen_tree.sh (bash bench/codeindex_bench.sh builds it and runs
// this): a full build, an update with nothing changed, an update after one file changed, and
// the three kinds of query. Medians of 5. Plain output; no Google Benchmark.
//   codeindex_bench TREE [--db PATH] [--reuse]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "codeindex/code_index.h"

namespace {

namespace fs = std::filesystem;
using sw::codeindex::Index;
using sw::codeindex::QueryMode;

double Ms(const std::function<void()>& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "codeindex_bench: %s\n", what.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  std::string tree, db;
  bool reuse = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--db" && i + 1 < argc) db = argv[++i];
    else if (a == "--reuse") reuse = true;  // keep an index built before: the "full build" is then an update
    else if (a.rfind("--benchmark", 0) == 0) continue;  // bench/run.sh's flag for Google Benchmark binaries
    else tree = a;
  }
  if (tree.empty()) {
    std::fprintf(stderr, "usage: codeindex_bench TREE [--db PATH]   (bash bench/codeindex_bench.sh makes the tree)\n");
    return 2;
  }
  if (db.empty()) db = tree + "/.specwright/code-index.db";
  if (!reuse)
    for (const char* s : {"", "-wal", "-shm"}) fs::remove(db + s);

  std::unique_ptr<Index> ix;
  auto open = Index::Open(tree, db);
  if (!open.ok()) Die(open.status().message());
  ix = std::move(open).value();
  sw::codeindex::UpdateStats full;
  double build = Ms([&] {
    auto st = ix->Update();
    if (!st.ok()) Die(st.status().message());
    full = *st;
  });
  std::printf("full build: %.0f ms  (%lld files seen, %lld indexed, %lld skipped, %zu warnings); index file %.0f MiB\n",
              build, static_cast<long long>(full.files_seen), static_cast<long long>(full.files_indexed),
              static_cast<long long>(full.files_skipped), full.warnings.size(),
              static_cast<double>(fs::file_size(db) + (fs::exists(db + "-wal") ? fs::file_size(db + "-wal") : 0)) /
                  (1 << 20));
  for (size_t i = 0; i < full.warnings.size() && i < 3; ++i) std::printf("  warning: %s\n", full.warnings[i].c_str());
  (void)ix->Update();  // files written in the last seconds before the build are read again once (racy rule)

  std::vector<double> t;
  for (int i = 0; i < 5; ++i) t.push_back(Ms([&] {
    auto st = ix->Update();
    if (!st.ok() || st->files_indexed != 0) Die("an update with nothing changed re-indexed files");
  }));
  std::printf("update, nothing changed: %.1f ms (median of 5)\n", Median(t));

  // One file edited between updates: its size changes each time.
  std::string victim;
  for (auto it = fs::recursive_directory_iterator(tree); it != fs::recursive_directory_iterator(); ++it)
    if (it->is_regular_file() && it->path().extension() == ".cc") {
      victim = it->path().string();
      break;
    }
  if (victim.empty()) Die("no .cc file in " + tree);
  t.clear();
  for (int i = 0; i < 5; ++i) {
    std::ofstream(victim, std::ios::app) << "int bench_edit_" << i << " = compute(" << i << ");\n";
    t.push_back(Ms([&] {
      auto st = ix->Update();
      if (!st.ok()) Die(st.status().message());
      if (st->files_indexed != 1) Die("one file changed, " + std::to_string(st->files_indexed) + " re-indexed");
    }));
  }
  std::printf("update, one file changed: %.1f ms (median of 5; target < 50 ms)\n", Median(t));
  auto found = ix->Definitions("bench_edit_4");
  if (!found.ok() || found->empty()) Die("the edited file's new symbol is not found");

  auto query = [&](const std::string& label, const std::function<size_t()>& q) {
    std::vector<double> times;
    size_t n = 0;
    for (int i = 0; i < 5; ++i) times.push_back(Ms([&] { n = q(); }));
    std::printf("%-52s %7.2f ms  %4zu results\n", label.c_str(), Median(times), n);
  };
  auto count = [](const auto& r) -> size_t {
    if (!r.ok()) Die(r.status().message());
    return r->size();
  };
  std::printf("queries (median of 5; target < 50 ms each):\n");
  query("Definitions(\"value_42\") limit 50", [&] { return count(ix->Definitions("value_42")); });
  query("Definitions(\"bench_edit_4\") limit 50", [&] { return count(ix->Definitions("bench_edit_4")); });
  query("Definitions(\"val\", prefix) limit 50", [&] { return count(ix->Definitions("val", 50, true)); });
  query("References(\"compute\") limit 100", [&] { return count(ix->References("compute")); });
  query("References(\"bench_edit_4\") limit 100", [&] { return count(ix->References("bench_edit_4")); });
  query("Search(\"Implements: REQ-05-042\", literal) limit 50",
        [&] { return count(ix->Search("Implements: REQ-05-042", 50, QueryMode::kLiteral)); });
  query("Search(\"US_05_04*\") limit 50", [&] { return count(ix->Search("US_05_04*")); });
  query("Search(\"EXPECT_EQ run\") limit 50 (10,000 lines match)", [&] { return count(ix->Search("EXPECT_EQ run")); });
  query("Search(\"compute\") limit 50 (980,000 lines match)", [&] { return count(ix->Search("compute")); });
  return 0;
}
