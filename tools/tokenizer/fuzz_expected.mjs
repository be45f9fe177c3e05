// Writes a larger random parity set (same format as tests/data/tokenizer/expected.json) for a
// one-off check; not committed output. Usage:
//   node tools/tokenizer/fuzz_expected.mjs /tmp/fuzz.json 5000 [seed]
//   VKG_TOKENIZER_EXPECTED=/tmp/fuzz.json build-tok/tests/vkg_tokenizer_tests --gtest_filter='GemmaParity.*'
import { writeFileSync } from "node:fs";
import { checkEmulation, decode, encodeAsText, encodeMatch } from "./reference.mjs";

const [out, countArg, seedArg] = process.argv.slice(2);

let state = Number(seedArg ?? 12345) >>> 0 || 1;
const rand = () => {
  state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0;
  return state / 4294967296;
};
const pick = (a) => a[Math.floor(rand() * a.length)];
const pools = [
  "abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "0123456789", "      \n\n\t\r",
  ".,;:!?'\"()[]{}<>/\\|-_=+*&^%$#@~`", "▁▁▁", "你好世界数据模型中文字", "日本語テストカタカナ", "한국어텍스트",
  "привет мир данные", "αβγδελόγος", "éèêëàâäôöûüçñøåæœß", "\u0301\u0308\u200b\u200d\ufeff\ufffd",
];
const words = ["<bos>", "<eos>", "<b>", "</b>", "<table>", "<unused7>", "<start_of_turn>", "<end_of_turn>",
  "<|turn>", "<mask>", "[multimodal]", "<0x41>", "😀", "👨‍👩‍👧", "🇺🇸", "the", " the", "ing", "tion", "\n\n\n"];
const randomScalar = () => {
  for (;;) {
    const cp = Math.floor(rand() * 0x30000);
    if (cp < 0xd800 || cp > 0xdfff) return String.fromCodePoint(cp);
  }
};
const n = Number(countArg ?? 2000);
const cases = [];
for (let i = 0; i < n; ++i) {
  const len = 1 + Math.floor(rand() * (rand() < 0.1 ? 400 : 60));
  let s = "";
  for (let k = 0; k < len; ++k) {
    const r = rand();
    if (r < 0.08) s += pick(words);
    else if (r < 0.1) s += randomScalar();
    else s += pick(Array.from(pick(pools)));
  }
  checkEmulation(s);
  const ids = encodeMatch(s), plain = encodeAsText(s);
  cases.push({ text: s, ids, plain_ids: plain, decoded: decode(ids), plain_decoded: decode(plain) });
}
writeFileSync(out, JSON.stringify({ cases, decode_special: [] }));
console.log(`wrote ${cases.length} random cases to ${out}`);
