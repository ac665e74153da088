// Runs a shell command line (the xnai binary under test, usually) and captures its stdout
// and exit status, for the CLI tests.
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace xnai::test {

struct CliRun {
  int code = -1;  // exit status; -1 when it could not run or did not exit normally
  std::string out;
};

inline CliRun run_command(const std::string& cmd) {
  CliRun r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) r.out.append(buf, n);
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace xnai::test
