// KV-cache append (layer: host/ops).
#include "host/ops/kv_write.h"

#include "host/device/kv_cache.h"
#include "shaders/params/kv_write_params.h"
#include "vk/check.h"

namespace vkg {

void KvWrite(OpContext& ctx, const Tensor& k_new, const Tensor& v_new, const Tensor& k_cache, const Tensor& v_cache,
             uint32_t start_pos, uint32_t head_dim) {
  VKG_CHECK(k_new.dtype == DType::F32 && v_new.dtype == DType::F32, "KvWrite: new K/V must be f32");
  VKG_CHECK(k_new.rows == v_new.rows && k_new.cols == v_new.cols, "KvWrite: K/V shapes differ");
  VKG_CHECK(k_cache.dtype == v_cache.dtype && k_cache.rows == v_cache.rows && k_cache.cols == v_cache.cols,
            "KvWrite: K/V caches differ");
  VKG_CHECK(IsKvCacheDType(k_cache.dtype), "KvWrite: cache must be f32, f16, q8_0 or q4_0");
  const bool quantized = IsQuantized(k_cache.dtype);
  VKG_CHECK(!quantized || (head_dim % 16 == 0 && k_new.cols % head_dim == 0), "KvWrite: a ", DTypeName(k_cache.dtype),
            " cache needs head_dim a multiple of 16 dividing the row; got ", head_dim);
  VKG_CHECK(k_cache.cols == k_new.cols, "KvWrite: row size ", k_new.cols, " vs cache ", k_cache.cols);
  VKG_CHECK(k_new.cols % 2 == 0, "KvWrite: row size must be even");
  VKG_CHECK(k_new.rows <= k_cache.rows, "KvWrite: ", k_new.rows, " tokens would overwrite each other in a ",
            k_cache.rows, "-slot cache");
  constexpr uint32_t kWg = 64;
  const auto id = k_cache.dtype == DType::F16    ? shaders::ShaderId::KvWriteF16
                  : k_cache.dtype == DType::Q8_0 ? shaders::ShaderId::KvWriteQ8
                  : k_cache.dtype == DType::Q4_0 ? shaders::ShaderId::KvWriteQ4
                                                 : shaders::ShaderId::KvWriteF32;
  const auto S = vk::BindingKind::kStorage;
  const auto& p = ctx.Pipeline(id, {S, S, S, S}, sizeof(shaders::KvWriteParams), vk::SpecConstants().Set(0, kWg));
  const shaders::KvWriteParams params{k_new.rows, k_new.cols / 2, start_pos, k_cache.rows, head_dim};
  const vk::Binding b[] = {vk::Binding::Storage(k_new.slice), vk::Binding::Storage(v_new.slice),
                           vk::Binding::Storage(k_cache.slice), vk::Binding::Storage(v_cache.slice)};
  // One invocation per value pair, or (quantized) per block of K and the same block of V.
  const uint64_t items = quantized ? uint64_t(params.n_tokens) * k_new.cols / KvQuantBlock(head_dim)
                                   : uint64_t(params.n_tokens) * params.row_pairs;
  const Grid g = Grid1D(DivUp(items, kWg));
  ctx.rec.SetDispatchBytes(2 * uint64_t(k_new.rows) * k_new.cols * 4);  // the new K and V rows
  ctx.rec.Dispatch(p, b, params, g.x, g.y);
}

}  // namespace vkg
