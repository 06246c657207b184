#include <stdio.h>
/* 32-bit arithmetic: right on "small", wrong (wraps around) on "large". */
int main(void) { unsigned n; scanf("%u", &n); unsigned s = n * (n + 1u) / 2u; printf("%u\n", s); return 0; }
