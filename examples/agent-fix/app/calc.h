#ifndef CALC_H
#define CALC_H

/* add returns a + b. */
int add(int a, int b);
/* mul returns a * b. */
int mul(int a, int b);

#endif
