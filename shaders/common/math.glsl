// Vendor-independent transcendental helpers (GLSL include). Vulkan only promises 2^-11 absolute
// accuracy for sin/cos inside [-pi, pi] and nothing outside, and tanh(x) can overflow through
// exp on some drivers, so the ops that must match the CPU reference use these.
#ifndef VKG_MATH_GLSL
#define VKG_MATH_GLSL

// sin and cos of a float angle of any size up to 2^18 (RoPE angles reach 262144 rad at 256K
// context). Cody-Waite reduction by pi/2 with pi/2 split into pieces of at most 6 significant
// bits, so every q * piece is exact in float for |q| < 2^18 and each subtraction is exact; no fma
// needed (some drivers do not fuse). Checked against exact rational arithmetic: |error| < 6e-8.
// Then Taylor polynomials on [-pi/4, pi/4] (truncation error < 1e-11).
vec2 sinCos(float a) {
  const float kTwoOverPi = 0.636619772367581343;
  precise float q = round(a * kTwoOverPi);
  precise float r = a - q * 1.5625;
  r = r - q * 0.00830078125;
  r = r - q * -4.410743713378906e-06;
  r = r - q * -4.377216100692749e-08;
  r = r - q * 6.07710062827671e-11;
  const float r2 = r * r;
  const float s = r * (1.0 + r2 * (-1.0 / 6.0 + r2 * (1.0 / 120.0 + r2 * (-1.0 / 5040.0 +
                  r2 * (1.0 / 362880.0 + r2 * (-1.0 / 39916800.0))))));
  const float c = 1.0 + r2 * (-0.5 + r2 * (1.0 / 24.0 + r2 * (-1.0 / 720.0 + r2 * (1.0 / 40320.0 +
                  r2 * (-1.0 / 3628800.0 + r2 * (1.0 / 479001600.0))))));
  const int quadrant = int(q - 4.0 * floor(q * 0.25));  // q mod 4, also for negative q
  if (quadrant == 0) return vec2(s, c);
  if (quadrant == 1) return vec2(c, -s);
  if (quadrant == 2) return vec2(-s, -c);
  return vec2(-c, s);
}

// tanh without overflow (|x| >= 10 is +-1 to float precision) and without the cancellation of
// (e - 1) near 0, where an odd Taylor polynomial is used (error < 2e-10 for |x| < 0.125).
float safeTanh(float x) {
  if (abs(x) < 0.125) {
    const float x2 = x * x;
    return x * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0))));
  }
  const float t = clamp(x, -10.0, 10.0);
  const float e = exp(2.0 * t);
  return (e - 1.0) / (e + 1.0);
}

float geluTanh(float u) {
  const float kSqrt2OverPi = 0.797884560802865355;
  return 0.5 * u * (1.0 + safeTanh(kSqrt2OverPi * (u + 0.044715 * u * u * u)));
}

#endif
