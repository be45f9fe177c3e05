// Weight conversion and upload (layer: host/device).
#include "host/device/weight_matrix.h"

#include <algorithm>
#include <cstring>

#include "host/formats/format_traits.h"
#include "vk/check.h"
#include "vk/device.h"
#include "vk/transfer.h"

namespace vkg {
namespace {

// Encodes one row of blocks as stored (a GGUF file's bytes) into the device layout, moving bits only.
void EncodeRawRow(DType dtype, const uint8_t* stored, uint32_t cols_padded, std::vector<uint8_t>& data,
                  std::vector<uint8_t>& scales) {
  const FormatTraits& f = Format(dtype);
  data.assign(WeightRowBytes(dtype, cols_padded), 0);
  scales.assign(WeightScaleRowBytes(dtype, cols_padded), 0);
  for (uint32_t b = 0; b < cols_padded / f.block_values; ++b) {
    f.EncodeDevice(stored + size_t(b) * f.file_block_bytes, &data[size_t(b) * f.device_block_bytes],
                   scales.data() + size_t(b) * f.scale_block_bytes);
  }
}

// Encodes one source row into its data bytes and (quantized) scale bytes: each block through the
// format's quantizer, then into the device layout.
void EncodeRow(DType dtype, const float* row, uint32_t cols, uint32_t cols_padded, std::vector<uint8_t>& data,
               std::vector<uint8_t>& scales) {
  const FormatTraits& f = Format(dtype);
  std::vector<float> padded(cols_padded, 0.f);
  std::copy(row, row + cols, padded.begin());
  data.assign(WeightRowBytes(dtype, cols_padded), 0);
  scales.assign(WeightScaleRowBytes(dtype, cols_padded), 0);
  uint8_t block[512];
  static_assert(
      [] {
        for (const FormatTraits& g : kFormats) {
          if (g.file_block_bytes > 512) return false;
        }
        return true;
      }(),
      "EncodeRow: a block as stored must fit its buffer");
  for (uint32_t b = 0; b < cols_padded / f.block_values; ++b) {
    f.Quantize(&padded[size_t(b) * f.block_values], block);
    f.EncodeDevice(block, &data[size_t(b) * f.device_block_bytes], scales.data() + size_t(b) * f.scale_block_bytes);
  }
}

// Streams bytes [offset, offset + out.size()) of a row-major byte image whose rows are
// `row_bytes` long (each produced by `encode(row)`), zero past `rows` rows.
class RowByteStream {
 public:
  RowByteStream(uint32_t row_begin, uint32_t rows, uint64_t row_bytes,
                std::function<const std::vector<uint8_t>&(uint32_t)> encode)
      : row_begin_(row_begin), rows_(rows), row_bytes_(row_bytes), encode_(std::move(encode)) {}

  void Fill(size_t offset, std::span<std::byte> out) {
    size_t done = 0;
    while (done < out.size()) {
      const uint64_t pos = offset + done;
      const uint64_t r = pos / row_bytes_, in_row = pos % row_bytes_;
      const size_t n = size_t(std::min<uint64_t>(row_bytes_ - in_row, out.size() - done));
      if (r < rows_) {
        const std::vector<uint8_t>& bytes = encode_(row_begin_ + uint32_t(r));
        std::memcpy(out.data() + done, bytes.data() + in_row, n);
      } else {
        std::memset(out.data() + done, 0, n);  // tail padding up to a whole texel
      }
      done += n;
    }
  }

 private:
  uint32_t row_begin_, rows_;
  uint64_t row_bytes_;
  std::function<const std::vector<uint8_t>&(uint32_t)> encode_;
};

uint64_t RoundUp16(uint64_t n) { return (n + 15) / 16 * 16; }

}  // namespace

uint64_t WeightRowBytes(DType dtype, uint32_t cols_padded) {
  return uint64_t(cols_padded / Format(dtype).block_values) * Format(dtype).device_block_bytes;
}

uint64_t WeightScaleRowBytes(DType dtype, uint32_t cols_padded) {
  return uint64_t(cols_padded / Format(dtype).block_values) * Format(dtype).scale_block_bytes;
}

uint32_t WeightRowScales(DType dtype, uint32_t cols_padded) {
  return cols_padded / std::max<uint32_t>(Format(dtype).block_values, kQuantBlock);
}

WeightMatrix StackMatrices(std::vector<WeightMatrix> matrices) {
  VKG_CHECK(!matrices.empty(), "StackMatrices: nothing to stack");
  if (matrices.size() == 1) return std::move(matrices[0]);
  WeightMatrix stack;
  uint32_t offset = 0;
  for (WeightMatrix& m : matrices) {
    VKG_CHECK(m.parts.empty() && m.cols == matrices[0].cols, "StackMatrices: '", m.name, "' has ", m.cols,
              " columns, '", matrices[0].name, "' ", matrices[0].cols);
    for (WeightChunk& c : m.chunks) c.row_begin += offset;
    offset += m.rows;
    stack.name += (stack.name.empty() ? "" : "+") + m.name;
    stack.device_bytes += m.device_bytes;
  }
  for (WeightMatrix& m : matrices) m.rows = offset;  // each writes its rows of the whole output
  stack.dtype = matrices[0].dtype;
  stack.rows = offset;
  stack.cols = matrices[0].cols;
  stack.cols_padded = matrices[0].cols_padded;
  stack.parts = std::move(matrices);
  return stack;
}

std::vector<float> DeviceRowValues(DType dtype, const float* row, uint32_t cols) {
  return RoundTripThrough(dtype, std::span<const float>(row, cols));
}

WeightMatrix UploadWeightMatrix(const vk::Device& device, vk::BlockAllocator& alloc, vk::Transfer& transfer,
                                DType dtype, uint32_t rows, uint32_t cols, const RowSource& source,
                                const std::string& name, uint64_t max_chunk_bytes, const RawRowSource& raw) {
  VKG_CHECK(rows > 0 && cols > 0, "weight '", name, "' has an empty shape");
  WeightMatrix m;
  m.name = name;
  m.dtype = dtype;
  m.rows = rows;
  m.cols = cols;
  m.cols_padded = PaddedCols(dtype, cols);
  VKG_CHECK(!raw || (IsQuantized(dtype) && cols % BlockValues(dtype) == 0), "weight '", name,
            "': ggml blocks are uploaded as stored only for rows of whole blocks");
  const uint64_t row_bytes = WeightRowBytes(dtype, m.cols_padded);
  const auto& caps = device.caps();
  uint64_t limit = uint64_t(caps.max_texel_buffer_elements) * 16;
  if (caps.max_memory_allocation) limit = std::min(limit, caps.max_memory_allocation);
  if (max_chunk_bytes) limit = std::min(limit, max_chunk_bytes);
  const uint64_t rows_per_chunk = std::max<uint64_t>(1, limit / row_bytes);
  VKG_CHECK(row_bytes <= limit, "weight '", name, "': one row of ", row_bytes,
            " bytes exceeds the device's texel-view limit");

  // Each row is encoded once: its data bytes stream to the device while its scales (1/9 of a
  // quantized chunk) collect in host memory and follow in one upload. Consecutive staging chunks
  // often split a row, hence the one-row cache.
  const uint64_t scale_row = WeightScaleRowBytes(dtype, m.cols_padded);
  std::vector<uint8_t> data_bytes, scale_bytes, chunk_scales, raw_bytes;
  std::vector<float> src(raw ? 0 : cols);
  if (raw) raw_bytes.resize(DTypeBytes(dtype, cols));
  int64_t cached = -1;
  uint32_t chunk_begin = 0;
  auto encode = [&](uint32_t r) {
    if (cached != int64_t(r)) {
      if (raw) {
        raw(r, raw_bytes.data());
        EncodeRawRow(dtype, raw_bytes.data(), m.cols_padded, data_bytes, scale_bytes);
      } else {
        source(r, src.data());
        EncodeRow(dtype, src.data(), cols, m.cols_padded, data_bytes, scale_bytes);
      }
      std::copy(scale_bytes.begin(), scale_bytes.end(),
                chunk_scales.begin() + std::ptrdiff_t((r - chunk_begin) * scale_row));
      cached = r;
    }
  };

  for (uint64_t begin = 0; begin < rows; begin += rows_per_chunk) {
    WeightChunk c;
    c.row_begin = uint32_t(begin);
    c.rows = uint32_t(std::min<uint64_t>(rows_per_chunk, rows - begin));
    const std::string chunk_name = vk::Concat(name, "[", c.row_begin, "+", c.rows, "]");
    chunk_begin = c.row_begin;
    chunk_scales.assign(RoundUp16(scale_row * c.rows), 0);
    const uint64_t data_size = RoundUp16(row_bytes * c.rows);
    const vk::BufferSlice data = alloc.Allocate(data_size);
    RowByteStream data_stream(c.row_begin, c.rows, row_bytes, [&](uint32_t r) -> const std::vector<uint8_t>& {
      encode(r);
      return data_bytes;
    });
    transfer.UploadWith(data, data_size, [&](size_t off, std::span<std::byte> out) { data_stream.Fill(off, out); });
    c.data = std::make_unique<vk::TexelView>(device, data, chunk_name);
    m.device_bytes += data_size;
    if (IsQuantized(dtype)) {
      const vk::BufferSlice scales = alloc.Allocate(chunk_scales.size());
      transfer.Upload(scales, chunk_scales.data(), chunk_scales.size());
      c.scales = std::make_unique<vk::TexelView>(device, scales, chunk_name + ".scales");
      m.device_bytes += chunk_scales.size();
    }
    m.chunks.push_back(std::move(c));
  }
  return m;
}

}  // namespace vkg
