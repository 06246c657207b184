#include <iostream>
#include <vector>
#include <algorithm>
int main() {
    std::ios::sync_with_stdio(false);
    int n; std::cin >> n;
    long long best = -1e18, cur = 0;
    for (int i = 0; i < n; i++) { long long x; std::cin >> x; cur = std::max(x, cur + x); best = std::max(best, cur); }
    std::cout << best << "\n";
}
