#include "cli/args.h"

#include <cstdlib>

#include "core/error.h"

namespace xnai::cli {

Args::Args(std::string command, std::vector<OptionSpec> specs)
    : command_(std::move(command)), specs_(std::move(specs)) {
  specs_.push_back({"--help", "-h", false, "show this help", ""});
}

const OptionSpec* Args::find_spec(const std::string& name) const {
  for (const auto& s : specs_)
    if (s.long_name == name || (!s.short_name.empty() && s.short_name == name)) return &s;
  return nullptr;
}

void Args::parse(const std::vector<std::string>& argv) {
  bool only_positionals = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (only_positionals || a.size() < 2 || a[0] != '-' || (a[1] >= '0' && a[1] <= '9')) {
      positionals_.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positionals = true;
      continue;
    }
    std::string name = a, value;
    bool inline_value = false;
    if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      inline_value = true;
    }
    const OptionSpec* spec = find_spec(name);
    if (!spec) throw Error(ErrorKind::InvalidArgument, command_ + ": unknown option '" + name + "'");
    if (spec->takes_value) {
      if (!inline_value) {
        if (i + 1 >= argv.size())
          throw Error(ErrorKind::InvalidArgument, command_ + ": option '" + name + "' needs a value");
        value = argv[++i];
      }
    } else if (inline_value) {
      throw Error(ErrorKind::InvalidArgument, command_ + ": option '" + name + "' takes no value");
    } else {
      value.assign(1, '1');  // not = "1": gcc 12 reports a false -Wrestrict for that form
    }
    values_[spec->long_name] = value;
    all_values_.emplace_back(spec->long_name, value);
  }
}

std::vector<std::string> Args::get_all(const std::string& long_name) const {
  std::vector<std::string> r;
  for (const auto& [k, v] : all_values_)
    if (k == long_name) r.push_back(v);
  return r;
}

bool Args::has(const std::string& long_name) const { return get(long_name).has_value(); }

std::optional<std::string> Args::get(const std::string& long_name) const {
  if (auto it = values_.find(long_name); it != values_.end()) return it->second;
  if (const OptionSpec* s = find_spec(long_name); s && !s->env.empty())
    if (const char* v = std::getenv(s->env.c_str()); v && *v) return std::string(v);
  return std::nullopt;
}

std::string Args::get_or(const std::string& long_name, const std::string& def) const {
  return get(long_name).value_or(def);
}

int Args::get_int(const std::string& long_name, int def) const {
  auto v = get(long_name);
  if (!v) return def;
  char* end = nullptr;
  const long r = std::strtol(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0')
    throw Error(ErrorKind::InvalidArgument, command_ + ": " + long_name + " expects an integer, got '" + *v + "'");
  return static_cast<int>(r);
}

double Args::get_double(const std::string& long_name, double def) const {
  auto v = get(long_name);
  if (!v) return def;
  char* end = nullptr;
  const double r = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0')
    throw Error(ErrorKind::InvalidArgument, command_ + ": " + long_name + " expects a number, got '" + *v + "'");
  return r;
}

std::string Args::usage() const {
  std::string u = "options of 'xnai " + command_ + "':\n";
  for (const auto& s : specs_) {
    std::string left = "  " + (s.short_name.empty() ? std::string("    ") : s.short_name + ", ") + s.long_name;
    if (s.takes_value) left += " VALUE";
    if (left.size() < 30) left.resize(30, ' ');
    u += left + " " + s.help;
    if (!s.env.empty()) u += " (env " + s.env + ")";
    u += "\n";
  }
  return u;
}

}  // namespace xnai::cli
