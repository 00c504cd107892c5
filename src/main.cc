#include <malloc.h>

#include "cli/cli.h"

int main(int argc, char** argv) {
  // Reports over large runs grow vectors of megabytes. By default glibc gives every block
  // over 128 KiB its own mmap and returns it on free, so each doubling faults in fresh zeroed
  // pages — a fifth of `export`'s time on a 10,000-node run. Keep big blocks on the heap and
  // keep freed memory for reuse instead.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  mallopt(M_TOP_PAD, 16 << 20);
  return sw::cli::Main(argc, argv);
}
