#include <stdio.h>
int main(void) { long n, c = 0; scanf("%ld", &n); for (long i = 1; i <= n; i++) if (i % 3 == 0 || i % 5 == 0) c++; printf("%ld\n", c); return 0; }
