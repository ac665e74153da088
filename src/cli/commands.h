// The subcommands of `xnai`. Each lives in its own cmd_*.cpp and is listed in commands.cpp;
// a command is a name of one or two words ("generate", "model info") and a run function
// that returns the process exit code. Errors are thrown as xnai::Error and turned into
// messages and exit codes by main().
#pragma once
#include <string>
#include <vector>

namespace xnai::cli {

struct Command {
  const char* name;     // "generate", "model info", …
  const char* summary;  // one line for `xnai --help`
  int (*run)(const std::vector<std::string>& args);
};

const std::vector<Command>& all_commands();

// Runs `xnai ARGS…`; returns the exit code.
int dispatch(const std::vector<std::string>& argv);

}  // namespace xnai::cli
