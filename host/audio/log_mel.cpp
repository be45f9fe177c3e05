// LogMelFeatures: Hugging Face's Gemma4AudioFeatureExtractor for one clip, step for step (layer:
// host/audio). Shapes: samples [L <= 480000] at 16 kHz -> mel [frames][128], frames =
// (P + 160 - 321) / 160 + 1 with P = L rounded up to a multiple of 128 (HF pads the samples, not the
// frames). Precision as HF's numpy: window x samples in float32, FFT, magnitude, mel and log in
// float64, the result rounded to float32. About 3000 frames for 30 s: a 512-point FFT and a sparse
// 257 x 128 product each, a few milliseconds on one core, so it stays on the host.
#include <algorithm>
#include <array>
#include <cmath>
#include <complex>
#include <numbers>

#include "host/audio/audio_input.h"
#include "host/error.h"

namespace vkg::audio {
namespace {

constexpr int kBins = kFftLength / 2 + 1;  // 257 rfft bins
constexpr int kMel = AudioFeatures::kMelBins;

// HF's mel_filter_bank(257, 128, 0, 8000, 16000, norm=None, mel_scale="htk"): triangles between
// 130 points evenly spaced on the HTK mel scale, evaluated at the FFT bin frequencies. Each filter
// is nonzero on a short run of bins, kept as [first, first + weights.size()).
struct MelFilter {
  int first = 0;
  std::vector<double> weights;
};

double HzToMel(double hz) { return 2595.0 * std::log10(1.0 + hz / 700.0); }
double MelToHz(double mel) { return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0); }

// numpy.linspace(start, stop, n): start + i * step, the last point exactly `stop`.
std::vector<double> Linspace(double start, double stop, int n) {
  std::vector<double> v(static_cast<size_t>(n));
  const double step = (stop - start) / double(n - 1);
  for (int i = 0; i < n; ++i) v[size_t(i)] = start + double(i) * step;
  v.back() = stop;
  return v;
}

const std::vector<MelFilter>& MelFilters() {
  static const std::vector<MelFilter> filters = [] {
    const std::vector<double> fft_freqs = Linspace(0.0, kSampleRate / 2, kBins);
    const std::vector<double> mel_points = Linspace(HzToMel(0.0), HzToMel(8000.0), kMel + 2);
    std::vector<double> f(mel_points.size());
    for (size_t i = 0; i < f.size(); ++i) f[i] = MelToHz(mel_points[i]);
    std::vector<MelFilter> out(kMel);
    for (int m = 0; m < kMel; ++m) {
      std::vector<double> column(kBins);
      for (int b = 0; b < kBins; ++b) {
        const double down = (fft_freqs[size_t(b)] - f[size_t(m)]) / (f[size_t(m) + 1] - f[size_t(m)]);
        const double up = (f[size_t(m) + 2] - fft_freqs[size_t(b)]) / (f[size_t(m) + 2] - f[size_t(m) + 1]);
        column[size_t(b)] = std::max(0.0, std::min(down, up));
      }
      int lo = 0, hi = kBins;
      while (lo < kBins && column[size_t(lo)] == 0.0) ++lo;
      while (hi > lo && column[size_t(hi) - 1] == 0.0) --hi;
      out[size_t(m)].first = lo;
      out[size_t(m)].weights.assign(column.begin() + lo, column.begin() + hi);
    }
    return out;
  }();
  return filters;
}

// The periodic Hann window HF builds: numpy.hanning(321)[:-1] in float64, stored as float32.
const std::array<float, kFrameLength>& Window() {
  static const std::array<float, kFrameLength> w = [] {
    std::array<float, kFrameLength> out{};
    for (int n = 0; n < kFrameLength; ++n) {
      out[size_t(n)] = float(0.5 - 0.5 * std::cos(2.0 * std::numbers::pi * n / double(kFrameLength)));
    }
    return out;
  }();
  return w;
}

// In-place iterative radix-2 FFT of 512 complex values (the frame, zero-padded, imaginary 0).
void Fft512(std::array<std::complex<double>, kFftLength>& a) {
  static const std::array<std::complex<double>, kFftLength / 2> twiddle = [] {
    std::array<std::complex<double>, kFftLength / 2> t{};
    for (int k = 0; k < kFftLength / 2; ++k) t[size_t(k)] = std::polar(1.0, -2.0 * std::numbers::pi * k / kFftLength);
    return t;
  }();
  for (int i = 1, j = 0; i < kFftLength; ++i) {  // bit reversal
    int bit = kFftLength >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(a[size_t(i)], a[size_t(j)]);
  }
  for (int len = 2; len <= kFftLength; len <<= 1) {
    const int stride = kFftLength / len;
    for (int i = 0; i < kFftLength; i += len) {
      for (int k = 0; k < len / 2; ++k) {
        const std::complex<double> t = twiddle[size_t(k * stride)] * a[size_t(i + k + len / 2)];
        a[size_t(i + k + len / 2)] = a[size_t(i + k)] - t;
        a[size_t(i + k)] += t;
      }
    }
  }
}

int64_t PaddedLength(int64_t samples) {
  const int64_t n = std::min<int64_t>(samples, kMaxSamples);
  return (n + kPadToMultiple - 1) / kPadToMultiple * kPadToMultiple;
}

int64_t FrameCount(int64_t padded) {
  const int64_t span = padded + kFrameLength / 2 - (kFrameLength + 1);
  return span < 0 ? 0 : span / kHopLength + 1;
}

// A frame is valid when the last sample of its 321-sample window is real audio: with the 160 zeros
// on the left, frame i's last sample is sample i * 160 + 160 of the clip.
int64_t ValidFrames(int64_t samples) {
  const int64_t n = std::min<int64_t>(samples, kMaxSamples);
  const int64_t past = n - kFrameLength / 2;  // frames i with i * 160 < past
  return past <= 0 ? 0 : (past + kHopLength - 1) / kHopLength;
}

}  // namespace

int SoftTokensForSamples(int64_t samples) {
  // The processor's mask after two stride-2 subsamplings keeps frames 0, 4, 8 ...: ceil(valid / 4).
  return int((ValidFrames(samples) + 3) / 4);
}

AudioFeatures LogMelFeatures(std::span<const float> samples_16k, const std::string& what) {
  const int64_t n = std::min<int64_t>(int64_t(samples_16k.size()), kMaxSamples);
  const int64_t valid = ValidFrames(n);
  if (valid == 0) {
    throw Error(what + ": too short (" + std::to_string(n) + " samples at 16 kHz; the model needs at least " +
                std::to_string(kFrameLength / 2 + 1) + ", about 10 ms)");
  }
  AudioFeatures out;
  out.frames = int(FrameCount(PaddedLength(n)));
  out.valid_frames = int(valid);
  out.soft_tokens = SoftTokensForSamples(n);
  out.mel.assign(size_t(out.frames) * kMel, 0.0f);  // invalid frames stay 0 (HF multiplies by the mask)
  const std::array<float, kFrameLength>& window = Window();
  const std::vector<MelFilter>& filters = MelFilters();
  std::array<std::complex<double>, kFftLength> spectrum;
  std::array<double, kBins> magnitude;
  for (int64_t i = 0; i < valid; ++i) {
    // Window sample k is padded-waveform sample i * 160 + k, i.e. clip sample i * 160 + k - 160.
    for (int k = 0; k < kFftLength; ++k) {
      float x = 0.0f;
      const int64_t s = i * kHopLength + k - kFrameLength / 2;
      if (k < kFrameLength && s >= 0 && s < n) x = samples_16k[size_t(s)] * window[size_t(k)];
      spectrum[size_t(k)] = {double(x), 0.0};
    }
    Fft512(spectrum);
    for (int b = 0; b < kBins; ++b) magnitude[size_t(b)] = std::abs(spectrum[size_t(b)]);
    float* row = &out.mel[size_t(i) * kMel];
    for (int m = 0; m < kMel; ++m) {
      const MelFilter& f = filters[size_t(m)];
      double sum = 0.0;
      for (size_t j = 0; j < f.weights.size(); ++j) sum += magnitude[size_t(f.first) + j] * f.weights[j];
      row[m] = float(std::log(sum + kMelFloor));
    }
  }
  return out;
}

}  // namespace vkg::audio
