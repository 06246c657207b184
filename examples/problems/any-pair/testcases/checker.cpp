// Checker for "any valid pair", in the testlib convention: checker <input> <output> <answer>.
// Exit 0 = accepted, 1 = wrong answer, 3 = checker failure; the comment goes to stderr.
// (A real problem would usually #include "testlib.h" placed beside this file; this one needs nothing.)
#include <cstdio>
#include <cstdlib>
#include <cstring>

static int verdict(int code, const char *message, long long a = 0, long long b = 0) {
  std::fprintf(stderr, message, a, b);
  std::fprintf(stderr, "\n");
  return code;
}

// Reads one token of at most 20 characters as a positive integer; false on anything else.
static bool readPositive(FILE *in, long long *value) {
  char token[32];
  if (std::fscanf(in, "%21s", token) != 1 || std::strlen(token) > 19) return false;
  char *end = nullptr;
  long long v = std::strtoll(token, &end, 10);
  if (*end != '\0' || v <= 0) return false;
  *value = v;
  return true;
}

int main(int argc, char **argv) {
  if (argc < 4) return verdict(3, "usage: checker <input> <output> <answer>");
  FILE *input = std::fopen(argv[1], "r");
  FILE *output = std::fopen(argv[2], "r");
  long long n = 0;
  if (!input || std::fscanf(input, "%lld", &n) != 1) return verdict(3, "cannot read n from the input");
  if (!output) return verdict(3, "cannot open the output");
  long long a = 0, b = 0;
  if (!readPositive(output, &a) || !readPositive(output, &b)) return verdict(1, "expected two positive integers");
  char extra[2];
  if (std::fscanf(output, "%1s", extra) == 1) return verdict(1, "extra output after the pair");
  if (a + b != n) return verdict(1, "%lld + %lld is not n", a, b);
  return verdict(0, "ok %lld + %lld", a, b);
}
