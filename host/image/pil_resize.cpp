// PIL's bicubic resize, bit for bit: the coefficient computation of Pillow's precompute_coeffs and
// normalize_coeffs_8bpc and its 8-bit passes, written here from their description (layer: host/image).
#include "host/image/pil_resize.h"

#include <cmath>

#include "host/error.h"

namespace vkg::image {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's fixed point: 22 fractional bits

double Bicubic(double x) {
  constexpr double a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

// The taps of one output pixel: source index of the first, and ksize fixed-point weights.
struct Taps {
  int ksize = 0;
  std::vector<int> first;  // [out]
  std::vector<int> count;  // [out] taps used (<= ksize)
  std::vector<int32_t> k;  // [out][ksize]
};

Taps Coefficients(int in_size, int out_size) {
  const double scale = double(in_size) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = 2.0 * filterscale;  // bicubic support 2, stretched when shrinking
  Taps t;
  t.ksize = int(std::ceil(support)) * 2 + 1;
  t.first.resize(size_t(out_size));
  t.count.resize(size_t(out_size));
  t.k.assign(size_t(out_size) * size_t(t.ksize), 0);
  std::vector<double> w(size_t(t.ksize));
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = int(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = int(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      w[size_t(x)] = Bicubic((x + xmin - center + 0.5) * ss);
      ww += w[size_t(x)];
    }
    for (int x = 0; x < xmax; ++x) {
      const double v = ww != 0.0 ? w[size_t(x)] / ww : w[size_t(x)];
      // Pillow rounds half away from zero when converting to fixed point.
      t.k[size_t(xx) * size_t(t.ksize) + size_t(x)] =
          int32_t(v < 0 ? v * (1 << kPrecisionBits) - 0.5 : v * (1 << kPrecisionBits) + 0.5);
    }
    t.first[size_t(xx)] = xmin;
    t.count[size_t(xx)] = xmax;
  }
  return t;
}

uint8_t Clip8(int64_t sum) {
  const int64_t v = sum >> kPrecisionBits;  // arithmetic shift, as Pillow's clip8
  return uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
}

// out[y][x] = sum over taps of in[row(y)][first(x) + i], for rows y in [0, rows).
void Horizontal(const uint8_t* in, uint32_t in_width, uint32_t rows, const Taps& t, uint32_t out_width, uint8_t* out) {
  for (uint32_t y = 0; y < rows; ++y) {
    const uint8_t* src = in + size_t(y) * in_width * 3;
    for (uint32_t x = 0; x < out_width; ++x) {
      const int32_t* k = &t.k[size_t(x) * size_t(t.ksize)];
      const int first = t.first[x], n = t.count[x];
      for (int c = 0; c < 3; ++c) {
        int64_t sum = int64_t(1) << (kPrecisionBits - 1);
        for (int i = 0; i < n; ++i) sum += int64_t(src[size_t(first + i) * 3 + size_t(c)]) * k[i];
        out[(size_t(y) * out_width + x) * 3 + size_t(c)] = Clip8(sum);
      }
    }
  }
}

// out[y][x] = sum over taps of in[first(y) - row0 + i][x].
void Vertical(const uint8_t* in, uint32_t width, int row0, const Taps& t, uint32_t out_height, uint8_t* out) {
  for (uint32_t y = 0; y < out_height; ++y) {
    const int32_t* k = &t.k[size_t(y) * size_t(t.ksize)];
    const int first = t.first[y] - row0, n = t.count[y];
    for (uint32_t x = 0; x < width * 3; ++x) {
      int64_t sum = int64_t(1) << (kPrecisionBits - 1);
      for (int i = 0; i < n; ++i) sum += int64_t(in[size_t(first + i) * width * 3 + x]) * k[i];
      out[size_t(y) * width * 3 + x] = Clip8(sum);
    }
  }
}

}  // namespace

RgbImage ResizeBicubicLikePil(const RgbImage& image, uint32_t width, uint32_t height) {
  if (width == 0 || height == 0 || image.width == 0 || image.height == 0)
    throw Error("resize to or from an empty image");
  const bool horizontal = width != image.width;
  const bool vertical = height != image.height;
  const Taps th = Coefficients(int(image.width), int(width));
  const Taps tv = Coefficients(int(image.height), int(height));
  // Pillow's horizontal pass covers only the source rows the vertical pass reads.
  const int row0 = vertical ? tv.first[0] : 0;
  const int row_end = vertical ? tv.first[height - 1] + tv.count[height - 1] : int(image.height);
  RgbImage temp;
  const RgbImage* rows = &image;
  int rows_start = 0;
  if (horizontal) {
    temp.width = width;
    temp.height = uint32_t(row_end - row0);
    temp.rgb.resize(size_t(temp.width) * temp.height * 3);
    Horizontal(image.rgb.data() + size_t(row0) * image.width * 3, image.width, temp.height, th, width, temp.rgb.data());
    rows = &temp;
    rows_start = row0;
  }
  if (!vertical) return horizontal ? temp : image;
  RgbImage out;
  out.width = width;
  out.height = height;
  out.rgb.resize(size_t(width) * height * 3);
  Vertical(rows->rgb.data(), width, rows_start, tv, height, out.rgb.data());
  return out;
}

}  // namespace vkg::image
