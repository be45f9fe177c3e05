// Launch plan of the embedding gather (layer: host/ops): which kernel Embed dispatches and the grid
// of each table chunk's dispatch. A pure function of the shapes, so tests pin it for real model
// shapes without a device (tests/ops/launch_geometry_test.cpp); host/ops/embed.cpp dispatches it.
#pragma once
#include <cstdint>

#include "host/formats/dtype.h"
#include "host/ops/op_context.h"

namespace vkg {

struct EmbedPlan {
  // embed_rows.comp: a workgroup per (token, kElementwiseWorkgroup texels of its row), each
  // invocation one 16-byte texel; else embed.comp: one invocation per output value.
  bool rows = false;
  uint32_t row_texels = 0;  // texels of a table row (16 bytes as stored; K-quants: 32-value units)
  Grid grid;                // of each chunk's dispatch (x: texel groups, y: tokens for embed_rows)
  uint64_t workgroups() const { return uint64_t(grid.x) * grid.y; }
};

// A table of type t with rows of `dim` values (cols_padded as stored), n_tokens ids.
// gpu_family: embed_rows.comp where its vec4 stores apply (dim % 4 == 0, every real shape) and the
// tokens fit the grid's y (<= 65535); else, and on CPU devices, embed.comp.
EmbedPlan PlanEmbed(bool gpu_family, DType t, uint32_t dim, uint32_t cols_padded, uint32_t n_tokens);

}  // namespace vkg
