// JPEG through libjpeg-turbo (Debian's libjpeg62-turbo-dev) with the settings PIL uses (islow DCT,
// fancy upsampling), so the RGB values are PIL's; CMYK/YCCK files converted with PIL's CMYK->RGB
// formula; the APP1 EXIF block kept for the orientation (layer: host/image).
// A truncated file is an error (PIL raises "image file is truncated"; libjpeg alone would pad it
// with gray), and progressive files are capped at 1000 scans (a few bytes can otherwise make
// libjpeg work for minutes). libjpeg reports errors by longjmp: ReadPixels, the setjmp frame,
// holds no C++ object with a destructor.
#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE and size_t first
#include <cstring>

// clang-format off: jpeglib.h before jerror.h, both after <cstdio>
#include <jerror.h>
#include <jpeglib.h>
// clang-format on

#include "host/error.h"
#include "host/image/decoders.h"

namespace vkg::image::detail {
namespace {

constexpr int kMaxScans = 1000;

struct JpegErrors {
  jpeg_error_mgr mgr;  // first: libjpeg passes &mgr, we cast back
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX] = {};
};

void OnError(j_common_ptr cinfo) {
  auto* e = reinterpret_cast<JpegErrors*>(cinfo->err);
  e->mgr.format_message(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

// Warnings: a premature end of data is an error (as in PIL); corrupt-data warnings are ignored, as
// PIL ignores them.
void OnMessage(j_common_ptr cinfo, int level) {
  if (level == -1 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
    std::snprintf(reinterpret_cast<JpegErrors*>(cinfo->err)->message, JMSG_LENGTH_MAX, "the file is truncated");
    std::longjmp(reinterpret_cast<JpegErrors*>(cinfo->err)->jump, 1);
  }
}

void OnProgress(j_common_ptr cinfo) {
  if (cinfo->is_decompressor && reinterpret_cast<j_decompress_ptr>(cinfo)->input_scan_number > kMaxScans) {
    std::snprintf(reinterpret_cast<JpegErrors*>(cinfo->err)->message, JMSG_LENGTH_MAX, "more than %d progressive scans",
                  kMaxScans);
    std::longjmp(reinterpret_cast<JpegErrors*>(cinfo->err)->jump, 1);
  }
}

struct JpegJob {
  std::span<const uint8_t> bytes;
  uint64_t max_pixels = 0;
  bool too_large = false;
  JDIMENSION width = 0, height = 0;
  bool cmyk = false, adobe_inverted = false;
  // Filled between the header and the pixels (may throw bad_alloc: a C++ frame, not libjpeg's).
  void (*allocate)(JpegJob*) = nullptr;
  void* owner = nullptr;
  jpeg_progress_mgr* progress = nullptr;
  uint8_t* pixels = nullptr;  // [height][width][3 or 4]
  std::vector<uint8_t>* exif = nullptr;
};

bool ReadPixels(jpeg_decompress_struct* cinfo, JpegErrors* errors, JpegJob* job) {
  if (setjmp(errors->jump)) return false;
  jpeg_create_decompress(cinfo);  // clears everything but cinfo->err
  cinfo->progress = job->progress;
  cinfo->mem->max_memory_to_use = 1024L << 20;
  jpeg_mem_src(cinfo, job->bytes.data(), static_cast<unsigned long>(job->bytes.size()));
  jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xffff);
  jpeg_read_header(cinfo, TRUE);
  job->width = cinfo->image_width;
  job->height = cinfo->image_height;
  if (uint64_t(job->width) * job->height > job->max_pixels || job->width == 0 || job->height == 0) {
    job->too_large = true;
    return false;
  }
  for (jpeg_saved_marker_ptr m = cinfo->marker_list; m; m = m->next) {
    if (m->marker == JPEG_APP0 + 1 && m->data_length > 6 && std::memcmp(m->data, "Exif\0\0", 6) == 0) {
      job->exif->assign(m->data + 6, m->data + m->data_length);
      break;
    }
  }
  job->cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
  job->adobe_inverted = job->cmyk && cinfo->saw_Adobe_marker;
  cinfo->out_color_space = job->cmyk ? JCS_CMYK : JCS_RGB;
  cinfo->dct_method = JDCT_ISLOW;
  cinfo->do_fancy_upsampling = TRUE;
  job->allocate(job);
  jpeg_start_decompress(cinfo);
  const size_t stride = size_t(job->width) * size_t(cinfo->output_components);
  if (cinfo->output_components != (job->cmyk ? 4 : 3)) {
    std::snprintf(errors->message, JMSG_LENGTH_MAX, "unexpected %d output components", cinfo->output_components);
    return false;
  }
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = job->pixels + size_t(cinfo->output_scanline) * stride;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

}  // namespace

Decoded DecodeJpeg(std::span<const uint8_t> bytes, const std::string& name, uint64_t max_pixels) {
  Decoded d;
  std::vector<uint8_t> samples;
  JpegJob job;
  job.bytes = bytes;
  job.max_pixels = max_pixels;
  job.exif = &d.exif;
  job.owner = &samples;
  job.allocate = [](JpegJob* j) {
    auto* s = static_cast<std::vector<uint8_t>*>(j->owner);
    s->assign(size_t(j->width) * j->height * (j->cmyk ? 4 : 3), 0);
    j->pixels = s->data();
  };
  jpeg_decompress_struct cinfo{};
  JpegErrors errors;
  cinfo.err = jpeg_std_error(&errors.mgr);
  errors.mgr.error_exit = OnError;
  errors.mgr.emit_message = OnMessage;
  jpeg_progress_mgr progress{};
  progress.progress_monitor = OnProgress;
  job.progress = &progress;
  struct Guard {
    jpeg_decompress_struct* c;
    ~Guard() { jpeg_destroy_decompress(c); }  // safe on a partly created struct (mem == NULL)
  } guard{&cinfo};
  if (!ReadPixels(&cinfo, &errors, &job)) {
    if (job.too_large) CheckPixelLimit(job.width, job.height, max_pixels, name);
    throw Error(name + ": broken JPEG file (" + errors.message + ")");
  }
  d.image.width = job.width;
  d.image.height = job.height;
  if (!job.cmyk) {
    d.image.rgb = std::move(samples);
    return d;
  }
  // PIL: Adobe CMYK files store inverted values ("CMYK;I"); then cmyk2rgb: channel = 255 - min(255, c + k)
  // per channel written as nk - c * nk / 255 with nk = 255 - k (rounded as PIL's MULDIV255).
  d.image.rgb.resize(size_t(job.width) * job.height * 3);
  for (size_t i = 0, n = size_t(job.width) * job.height; i < n; ++i) {
    uint8_t c[4];
    for (int ch = 0; ch < 4; ++ch)
      c[ch] = job.adobe_inverted ? uint8_t(255 - samples[i * 4 + ch]) : samples[i * 4 + ch];
    const int nk = 255 - c[3];
    for (int ch = 0; ch < 3; ++ch) {
      const int t = c[ch] * nk + 128;
      const int v = nk - ((t + (t >> 8)) >> 8);
      d.image.rgb[i * 3 + ch] = uint8_t(v < 0 ? 0 : v > 255 ? 255 : v);
    }
  }
  return d;
}

}  // namespace vkg::image::detail
