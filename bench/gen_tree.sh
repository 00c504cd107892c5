#!/usr/bin/env bash
# The generated project of the whole-tree benchmarks (spec_bench.sh, codeindex_bench.sh), in
# DIR: 1,000,000 lines of code in 10,000 files under DIR/src (100 folders of 100 files of 100
# lines) and DIR/specs with 1,000 requirements, each with one story. Every file cites two IDs:
# a requirement in a comment and a story in a test name (underscores).
#   bash bench/gen_tree.sh DIR
set -euo pipefail
DIR=$1
mkdir -p "$DIR/specs" "$DIR/src"
awk -v dir="$DIR" 'BEGIN {
  req = dir "/specs/requirements.md"; us = dir "/specs/stories.md";
  print "# Requirements\n" > req; print "# Stories\n" > us;
  for (i = 0; i < 1000; i++) {
    r = sprintf("REQ-%02d-%03d", int(i / 100) + 1, i % 100 + 1);
    s = sprintf("US-%02d-%03d", int(i / 100) + 1, i % 100 + 1);
    printf("## %s Requirement %d\nThe system does thing %d.\n\n", r, i, i) > req;
    printf("## %s Story %d\nTraces: %s\n\n", s, i, r) > us;
  }
  for (f = 0; f < 10000; f++) {
    d = sprintf("%s/src/m%02d", dir, f % 100);
    if (f < 100) system("mkdir -p " d);
    file = sprintf("%s/f%05d.cc", d, f);
    k = f % 1000;
    r = sprintf("REQ-%02d-%03d", int(k / 100) + 1, k % 100 + 1);
    s = sprintf("US_%02d_%03d", int(k / 100) + 1, k % 100 + 1);
    for (l = 0; l < 100; l++) {
      if (l == 10) printf("// Implements: %s\n", r) > file;
      else if (l == 50) printf("TEST(Module%d, %s_case_%d) { EXPECT_EQ(run(%d), %d); }\n", f, s, l, l, l) > file;
      else printf("  int value_%d = compute(input_%d, %d) + offset;  // step %d\n", l, l, f, l) > file;
    }
    close(file);
  }
}'
