#include <stdio.h>

#include "calc.h"

static int failed = 0, passed = 0;

static void check(const char* name, int got, int want) {
  if (got == want) {
    ++passed;
    printf("ok   %s\n", name);
  } else {
    ++failed;
    printf("FAIL %s: got %d, want %d\n", name, got, want);
  }
}

int main(void) {
  check("add(2, 3)", add(2, 3), 5);
  check("mul(3, 4)", mul(3, 4), 12);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
