#!/usr/bin/env bash
# Makes the audio fuzz seeds (checked in; run once): a few hundred milliseconds of espeak-ng speech
# as WAV in each sample format and container the decoders read, at odd rates and channel counts.
# Needs espeak-ng, python3 (rewrites the WAV) and libsndfile1-dev (a few lines of C write the FLAC,
# and MP3 versions). Each seed stays under fuzz.sh's -max_len of 16384 bytes.
set -euo pipefail
cd "$(dirname "$0")"
espeak-ng -w speech.wav "Hi." 2>/dev/null
python3 - <<'PY'
import struct, wave
w = wave.open("speech.wav"); rate = w.getframerate(); pcm = w.readframes(w.getnframes())[: 2 * 1800]; w.close()
s = struct.unpack("<%dh" % (len(pcm) // 2), pcm)
def riff(fmt_tag, ch, rate, bits, data):
    ba = ch * bits // 8
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " +
            struct.pack("<IHHIIHH", 16, fmt_tag, ch, rate, rate * ba, ba, bits) + b"data" + struct.pack("<I", len(data)) + data)
open("s16_mono.wav", "wb").write(riff(1, 1, rate, 16, pcm))
open("u8_stereo_11k.wav", "wb").write(riff(1, 2, 11025, 8, bytes(((x >> 8) + 128) & 255 for x in s for _ in (0, 1))))
open("s24_48k.wav", "wb").write(riff(1, 1, 48000, 24, b"".join(struct.pack("<i", x * 256)[:3] for x in s)))
open("f32_stereo.wav", "wb").write(riff(3, 2, 16000, 32, b"".join(struct.pack("<ff", x / 32768, -x / 32768) for x in s)))
PY
cat >/tmp/vkg_audio_seed_convert.c <<'C'
#include <sndfile.h>
int main(int argc, char** argv) {
  SF_INFO in_info = {0}, out_info = {0};
  SNDFILE* in = sf_open(argv[1], SFM_READ, &in_info);
  short buf[4096];
  const int formats[] = {SF_FORMAT_FLAC | SF_FORMAT_PCM_16, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III};
  const char* names[] = {"speech.flac", "speech.mp3"};
  for (int k = 0; k < 2; ++k) {
    out_info = in_info;
    out_info.format = formats[k];
    SNDFILE* out = sf_open(names[k], SFM_WRITE, &out_info);
    if (!out) return 1;
    sf_seek(in, 0, SEEK_SET);
    sf_count_t n;
    while ((n = sf_readf_short(in, buf, 4096)) > 0) sf_writef_short(out, buf, n);
    sf_close(out);
  }
  return 0;
}
C
cc -o /tmp/vkg_audio_seed_convert /tmp/vkg_audio_seed_convert.c -lsndfile
/tmp/vkg_audio_seed_convert s16_mono.wav
rm speech.wav /tmp/vkg_audio_seed_convert /tmp/vkg_audio_seed_convert.c
