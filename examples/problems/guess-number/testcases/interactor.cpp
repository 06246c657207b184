// Interactor for "guess the number", in the testlib convention: interactor <input> <output>.
// It reads the secret from the input file, answers the program's questions on stdout, reads them on
// stdin, and exits 0 (accepted), 1 (wrong answer) or 3 (interactor failure); the comment goes to stderr.
#include <cstdio>

static int verdict(int code, const char *message, long long value = 0) {
  std::fprintf(stderr, message, value);
  std::fprintf(stderr, "\n");
  return code;
}

int main(int argc, char **argv) {
  if (argc < 2) return verdict(3, "usage: interactor <input> <output>");
  FILE *input = std::fopen(argv[1], "r");
  long long secret = 0;
  if (!input || std::fscanf(input, "%lld", &secret) != 1) return verdict(3, "cannot read the secret from the input");
  for (int asked = 0;; asked++) {
    char kind[2];
    long long guess = 0;
    if (std::scanf("%1s %lld", kind, &guess) != 2) return verdict(1, "expected \"? y\" or \"! x\" after %lld questions", asked);
    if (kind[0] == '!') return guess == secret ? verdict(0, "found in %lld questions", asked) : verdict(1, "wrong answer %lld", guess);
    if (kind[0] != '?') return verdict(1, "expected \"?\" or \"!\"");
    if (asked >= 30) return verdict(1, "more than 30 questions");
    std::printf("%c\n", secret < guess ? '<' : secret > guess ? '>' : '=');
    std::fflush(stdout);
  }
}
