// Entry point of the `xnai` program: hands the arguments to the subcommand dispatcher.
#include <string>
#include <vector>

#include "cli/commands.h"

int main(int argc, char** argv) {
  return xnai::cli::dispatch(std::vector<std::string>(argv + 1, argv + argc));
}
