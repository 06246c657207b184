#include <cstdio>
#include <cmath>
int main() { double r; std::scanf("%lf", &r); std::printf("%.8f\n", M_PI * r * r); }
