// CPU reference of the integer-dot products (layer: host/reference).
#include "host/reference/ref_int8.h"

#include <algorithm>
#include <cmath>

namespace vkg::ref {

Int8Activations QuantizeActivations(const float* x, int rows, int cols) {
  Int8Activations a;
  a.rows = rows;
  a.cols = cols;
  a.blocks = (cols + 31) / 32;
  a.q.assign(size_t(rows) * a.blocks * 32, 0);
  a.d.assign(size_t(rows) * a.blocks, 0.f);
  a.s.assign(size_t(rows) * a.blocks, 0.f);
  for (int m = 0; m < rows; ++m) {
    for (int b = 0; b < a.blocks; ++b) {
      float v[32];
      float amax = 0.f;
      for (int i = 0; i < 32; ++i) {
        const int k = 32 * b + i;
        v[i] = k < cols ? x[size_t(m) * cols + k] : 0.f;
        amax = std::max(amax, std::fabs(v[i]));
      }
      const float d = amax * (1.f / 127.f);
      const float inv = amax > 0.f ? 127.f / amax : 0.f;
      int sum = 0;
      int8_t* q = &a.q[(size_t(m) * a.blocks + b) * 32];
      for (int i = 0; i < 32; ++i) {
        const int n = std::clamp(int(std::nearbyint(v[i] * inv)), -127, 127);  // ties to even
        q[i] = int8_t(n);
        sum += n;
      }
      a.d[size_t(m) * a.blocks + b] = d;
      a.s[size_t(m) * a.blocks + b] = d * float(sum);
    }
  }
  return a;
}

void MatMulInt8(const Int8Weights& w, const Int8Activations& x, float* Y) {
  for (int m = 0; m < x.rows; ++m) {
    for (int n = 0; n < w.rows; ++n) {
      double acc = 0;
      for (int b = 0; b < x.blocks; ++b) {
        const int8_t* qw = &w.q[(size_t(n) * w.blocks + b) * 32];
        const int8_t* qx = &x.q[(size_t(m) * x.blocks + b) * 32];
        int64_t isum = 0;
        for (int i = 0; i < 32; ++i) isum += int64_t(qw[i]) * qx[i];
        acc += double(w.d[size_t(n) * w.blocks + b]) * double(x.d[size_t(m) * x.blocks + b]) * double(isum);
      }
      Y[size_t(m) * w.rows + n] = float(acc);
    }
  }
}

}  // namespace vkg::ref
