#include "speech/resampler.h"

#include <cmath>
#include <numeric>

#include "core/error.h"

namespace xnai::speech {
namespace {

double bessel_i0(double x) {
  double sum = 1, term = 1;
  for (int k = 1; k < 40; ++k) {
    term *= (x / (2 * k)) * (x / (2 * k));
    sum += term;
  }
  return sum;
}

constexpr double kPi = 3.14159265358979323846;

}  // namespace

Resampler::Resampler(int from_rate, int to_rate) : from_(from_rate), to_(to_rate) {
  if (from_rate <= 0 || to_rate <= 0)
    throw Error(ErrorKind::InvalidArgument, "invalid sample rates " + std::to_string(from_rate) + " → " + std::to_string(to_rate));
  const int g = std::gcd(from_rate, to_rate);
  up_ = to_rate / g;
  down_ = from_rate / g;
  // Cut-off relative to the input rate's Nyquist: below the lower of the two rates.
  const double cutoff = 0.9 * std::min(1.0, static_cast<double>(to_rate) / from_rate);
  half_taps_ = static_cast<int>(std::ceil(24 / cutoff));
  const double beta = 8.0;  // Kaiser β ≈ 80 dB stop band
  const int taps = 2 * half_taps_;
  table_.assign(static_cast<size_t>(up_) * taps, 0.0f);
  for (int phase = 0; phase < up_; ++phase) {
    // Output sample at input position t = n + phase/up_; tap k reads input n - half_taps_ + 1 + k.
    const double frac = static_cast<double>(phase) / up_;
    for (int k = 0; k < taps; ++k) {
      const double x = (k - half_taps_ + 1) - frac;  // distance in input samples
      const double sinc = x == 0 ? 1.0 : std::sin(kPi * cutoff * x) / (kPi * cutoff * x);
      const double r = x / half_taps_;
      const double w = std::abs(r) >= 1 ? 0.0 : bessel_i0(beta * std::sqrt(1 - r * r)) / bessel_i0(beta);
      table_[static_cast<size_t>(phase) * taps + k] = static_cast<float>(cutoff * sinc * w);
    }
  }
  hist_.assign(static_cast<size_t>(half_taps_ - 1), 0.0f);  // zeros before the signal
  consumed_ = -(half_taps_ - 1);
}

void Resampler::emit(std::vector<float>& out, bool final) {
  const int taps = 2 * half_taps_;
  const long long last_out = final ? (total_in_ * up_ + down_ - 1) / down_ : -1;
  while (true) {
    if (final && next_out_ >= last_out) break;
    const long long num = next_out_ * down_;
    const long long n = num / up_;
    const int phase = static_cast<int>(num % up_);
    const long long first = n - half_taps_ + 1;  // first input index used
    if (first + taps > consumed_ + static_cast<long long>(hist_.size())) {
      if (!final) break;
      hist_.resize(static_cast<size_t>(first + taps - consumed_), 0.0f);  // zeros after the end
    }
    const float* h = &table_[static_cast<size_t>(phase) * taps];
    const float* x = &hist_[static_cast<size_t>(first - consumed_)];
    double acc = 0;
    for (int k = 0; k < taps; ++k) acc += static_cast<double>(h[k]) * x[k];
    out.push_back(static_cast<float>(acc));
    ++next_out_;
  }
  // Drop input no future output needs.
  const long long need_from = (next_out_ * down_) / up_ - half_taps_ + 1;
  if (need_from > consumed_) {
    const size_t drop = static_cast<size_t>(std::min<long long>(need_from - consumed_, static_cast<long long>(hist_.size())));
    hist_.erase(hist_.begin(), hist_.begin() + static_cast<long>(drop));
    consumed_ += static_cast<long long>(drop);
  }
}

void Resampler::process(std::span<const float> in, std::vector<float>& out) {
  if (up_ == down_) {
    out.insert(out.end(), in.begin(), in.end());
    return;
  }
  hist_.insert(hist_.end(), in.begin(), in.end());
  total_in_ += static_cast<long long>(in.size());
  emit(out, false);
}

void Resampler::flush(std::vector<float>& out) {
  if (up_ == down_) return;
  emit(out, true);
}

std::vector<float> resample(std::span<const float> in, int from_rate, int to_rate) {
  Resampler r(from_rate, to_rate);
  std::vector<float> out;
  out.reserve(static_cast<size_t>(static_cast<double>(in.size()) * to_rate / from_rate) + 8);
  r.process(in, out);
  r.flush(out);
  return out;
}

}  // namespace xnai::speech
