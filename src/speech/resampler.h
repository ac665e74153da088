// Band-limited sample-rate conversion of mono float audio (windowed-sinc, Kaiser window),
// used to bring espeak-ng's 22050 Hz to the 24000 Hz the rest of speech/ uses. The output
// keeps frequencies up to 0.9 × the lower Nyquist rate; stop band attenuation ≈ 80 dB.
// A Resampler keeps state between calls, so a signal fed in pieces equals the signal fed
// whole (except for `flush`, which ends it). Not thread-safe; one per stream.
#pragma once
#include <span>
#include <vector>

namespace xnai::speech {

class Resampler {
 public:
  Resampler(int from_rate, int to_rate);
  // Appends to `out` the output samples that `in` makes computable.
  void process(std::span<const float> in, std::vector<float>& out);
  // Ends the signal (zeros after it) and appends the remaining output.
  void flush(std::vector<float>& out);

  int from_rate() const { return from_; }
  int to_rate() const { return to_; }

 private:
  void emit(std::vector<float>& out, bool final);

  int from_, to_;
  int up_, down_;            // to/from reduced by their gcd
  int half_taps_;            // filter half length in input samples
  std::vector<float> table_; // filter taps per output phase: up_ × (2·half_taps_)
  std::vector<float> hist_;  // input samples not yet fully used
  long long consumed_ = 0;   // input index of hist_[0]
  long long next_out_ = 0;   // index of the next output sample
  long long total_in_ = 0;
};

// One-shot convenience: the whole of `in` converted.
std::vector<float> resample(std::span<const float> in, int from_rate, int to_rate);

}  // namespace xnai::speech
