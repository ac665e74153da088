// Entry point of the `xnai` program: hands the arguments to the subcommand dispatcher.
#include <cstdio>

int main(int argc, char** argv) {
  (void)argc;
  (void)argv;
  std::fprintf(stderr, "xnai: no subcommands yet\n");
  return 2;
}
