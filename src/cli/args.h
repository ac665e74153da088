// Command-line arguments of one subcommand: options (`-m X`, `--model X`, `--model=X`,
// boolean flags) and positionals. Options are declared by the command before parsing so
// a typo is an error naming the option instead of being silently ignored.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace xnai::cli {

struct OptionSpec {
  std::string long_name;   // "--model"
  std::string short_name;  // "-m" or ""
  bool takes_value = true;
  std::string help;
  std::string env;         // environment variable used when the option is absent, or ""
};

class Args {
 public:
  Args(std::string command, std::vector<OptionSpec> specs);

  // Throws Error(InvalidArgument) naming the offending option.
  void parse(const std::vector<std::string>& argv);

  bool has(const std::string& long_name) const;
  std::optional<std::string> get(const std::string& long_name) const;  // option, else its env
  std::string get_or(const std::string& long_name, const std::string& def) const;
  int get_int(const std::string& long_name, int def) const;
  double get_double(const std::string& long_name, double def) const;
  // Every value given for a repeatable option (e.g. several --stop), in order.
  std::vector<std::string> get_all(const std::string& long_name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

  std::string usage() const;
  const std::string& command() const { return command_; }

 private:
  const OptionSpec* find_spec(const std::string& name) const;

  std::string command_;
  std::vector<OptionSpec> specs_;
  std::map<std::string, std::string> values_;  // keyed by long name; the last one given
  std::vector<std::pair<std::string, std::string>> all_values_;  // every (long name, value)
  std::vector<std::string> positionals_;
};

}  // namespace xnai::cli
