// Writes tests/data/tokenizer/corpus.json: the strings the tokenizer parity test encodes.
// Hand-written cases plus seeded random mixtures (deterministic: same output on every run).
// Usage: node tools/tokenizer/make_corpus.mjs
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "tests", "data", "tokenizer", "corpus.json");

const hand = [
  // empty and whitespace
  "", " ", "  ", "   ", "\n", "\n\n", "\n\n\n", "\n".repeat(31), "\n".repeat(40), "\t", "\t\t\t",
  "\t".repeat(35), " \n ", "\n \n", " \t\n\r ", "\r\n", "\r\n\r\n", "\u00a0", "a\u00a0b", "\u3000",
  " ".repeat(31), " ".repeat(45), "x" + " ".repeat(33) + "y",
  // plain English
  "Hello world", "Hello, world!", "hello world", " leading space", "trailing space ",
  "double  space", "multiple     spaces    here", "tabs\tand\tspaces", "line1\nline2\r\nline3\r",
  "The quick brown fox jumps over the lazy dog.", "I'm sure it's fine, isn't it? We'll see.",
  "ALL CAPS SENTENCE WITH NUMBERS 123", "MiXeD cAsE wOrDs", "end.", "Mr. Smith went to Washington.",
  "Question? Answer! Ellipsis... Dash - and -- and — and –.",
  "\"Quoted\" and 'single' and «guillemets» and “curly” and ‘curly’",
  // digits and numbers
  "0", "7", "12345", "3.14159", "1,000,000", "2024-01-01T12:34:56Z", "+1 (555) 123-4567",
  "0x1F 0b1010 1e-9 -42 +7", "9999999999999999999999", "1/2 3/4 ½ ¾ ² ³", "١٢٣ ٤٥٦", "一二三 123",
  // code
  "int main() { return 0; }", "def f(x):\n    return x * 2\n", "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}",
  "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}", "SELECT * FROM users WHERE id = 42;",
  "#include <vector>\n#include <string>\n", "x += 1  # comment", "a->b, c::d, e.f, g?.h, i!!",
  "fn main() {\n    println!(\"hi\");\n}", "<?php echo $x; ?>", "$ ls -la | grep foo > out.txt 2>&1",
  "    indented four\n        indented eight", "if (a && b || !c) { x = y ? 1 : 2; }",
  "// TODO(me): fix\n/* block */", "```python\nprint('hi')\n```", "camelCaseIdentifier snake_case_name kebab-case-name",
  // markup, including Gemma's HTML added tokens (non-special) and lookalikes
  "<b>bold</b>", "<table><tr><td>1</td></tr></table>", "<div class=\"x\">text</div>", "<p>para</p>",
  "<h1>Title</h1>\n<ul><li>a</li></ul>", "< b >", "<<b>>", "</", "<", ">", "a<b>c", "<br/>",
  "**bold** _it_ `code` [link](http://x.y)", "# Heading\n\n- item\n- item2",
  // special-token text that must stay ordinary text
  "<bos>", "<eos>", "<pad>", "<unk>", "<mask>", "<bos>Hello", "Hello<eos>", "<bos><bos>",
  "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n", "<start_of_image>", "<end_of_image>",
  "<image_soft_token>", "<|turn>user\nHello<turn|>\n<|turn>model\n", "<|channel>thought\n<channel|>",
  "<|think|>", "<|tool_call>call:f{a:<|\"|>x<|\"|>}<tool_call|>", "<|image|>", "<|audio|>",
  "<unused0>", "<unused99>", "[multimodal]", "x<bos>y", "< bos >", "<BOS>", "<bos", "bos>",
  // literal metaspace and byte-piece text
  "▁", "▁▁", "a▁b", "▁hello", "<0x41>", "<0x0A>", "<0xE4><0xBD><0xA0>", "\u2581 \u2581",
  // CJK and other scripts
  "你好，世界", "我爱自然语言处理。", "日本語のテキストです。", "カタカナとひらがな", "한국어 텍스트입니다",
  "Привет, мир!", "Съешь же ещё этих мягких французских булок", "Γειά σου Κόσμε", "שלום עולם",
  "مرحبا بالعالم", "नमस्ते दुनिया", "สวัสดีชาวโลก", "Xin chào thế giới", "Merhaba dünya", "Cześć świecie",
  "ᚠᛇᚻ᛫ᛒᛦᚦ", "𐌰𐌱𐌲", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𝐀𝐁𝐂 𝟏𝟐𝟑", "ﾊﾝｶｸ", "ＦＵＬＬＷＩＤＴＨ", "Ⅻ ⅻ", "囧 龘 𠀋 𪚥 𰻞",
  // emoji
  "😀", "😀😃😄", "👍🏽", "👨‍👩‍👧‍👦", "🇺🇸🇯🇵", "🏳️‍🌈", "❤️", "I ❤️ NY 🗽", "emoji at end 🎉", "🤖:\n🦙",
  // accents and combining marks
  "café", "naïve résumé", "Ångström", "e\u0301", "cafe\u0301", "\u0301abc", "Zürich, Ærø, Øresund",
  "ﬁ ﬂ ﬀ", "ǅ ǈ ǋ", "İstanbul ıi", "ß ẞ", "Å Å", "a\u0308\u0304", "Z\u0351\u0361\u0322a\u0308l\u0337go",
  // rare code points (valid UTF-8)
  "\u0000", "a\u0000b", "\u0001\u001f\u007f", "\u0085", "\u2028\u2029", "\u200b", "\u200d", "\ufeffBOM",
  "\ufffd", "\uffff", "\ufdd0", "\ue000\uf8ff", "\u{10ffff}", "\u{f0000}", "\u{1f9ff}", "\u00ad",
  "\u202e reversed", "\u0007bell", "\u001b[31mred\u001b[0m",
  // long words and repetition
  "supercalifragilisticexpialidocious", "pneumonoultramicroscopicsilicovolcanoconiosis",
  "Donaudampfschifffahrtsgesellschaftskapitän", "a".repeat(500), "ab".repeat(300),
  "abc ".repeat(100), "!".repeat(64), "=".repeat(80), "-".repeat(120), "_".repeat(50), ".".repeat(33),
  "ha".repeat(40) + "!", "1234567890".repeat(20),
  // URLs and identifiers
  "https://example.com/path?query=1&x=y#frag", "user.name+tag@example.co.uk", "#hashtag @mention",
  "C:\\Users\\name\\file.txt", "/usr/local/bin/../lib", "sha256:9f86d081884c7d659a2feaa0c55ad015",
  "550e8400-e29b-41d4-a716-446655440000",
  // mixed scripts
  "Hello世界Привет", "abc한글def", "Tokyo東京Токио", "x=ΣΔ∫√∞≠≤≥", "∑_{i=1}^{n} i² = n(n+1)(2n+1)/6",
  "price: 100€ / $120 / ¥15000 / £80 / ₹9000", "°C ± µm Ω ‰ ™ © ®", "→ ← ↑ ↓ ⇒ ⇔ ∀ ∃ ∈ ∉",
  // special and added tokens at the start, in the middle, adjacent and inside words (matched by
  // default, text in the as_text mode; added_tokens_expected.mjs covers every added token)
  "<bos> and <eos> typed by a user", "<start_of_turn>user", "<unused0> <pad> <mask>",
  "<bos><eos><pad><unk>", "a<start_of_turn>b", "word<end_of_turn>word", " <bos> ", "\n<eos>\n",
  "<bos>\n\n<b>", "<start_of_image><image_soft_token><end_of_image>", "<image_soft_token>x<image_soft_token>",
  "<start_of_turn><end_of_turn>", "<bo<bos>s>", "<mask><mask>", "[multimodal][multimodal]", "un<unk>known",
  "<start_of_turn>model\n<b>Hi</b><end_of_turn>\n<eos>", "\t<pad>\t", "<eos>.", "x<end_of_image>",
];

// Seeded mixtures of fragments.
let state = 0x9e3779b9;
const rand = () => {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state / 4294967296;
};
const pick = (a) => a[Math.floor(rand() * a.length)];
const fragments = [
  "the", "The", " of", "and", "tokenizer", "Gemma", "model", "数据", "模型", "テスト", "данные", "λόγος",
  "😀", "🚀", "é", "ñ", "ü", "ø", "42", "3.5", "1e6", "0x00", "{", "}", "(", ")", "[", "]", ";", ":", ",",
  ".", "!", "?", "'", "\"", "<", ">", "/", "\\", "<b>", "</b>", "<bos>", "<eos>", "<|turn>", "<turn|>",
  "<start_of_turn>", "<unused3>", "\n", "\n\n", "\t", " ", "  ", "    ", "\r\n", "▁", "·", "—", "…",
  "\u200b", "\u0301", "\ufffd", "𝔘", "𠀋", "ह", "ก", "ا", "ש", "한", "ㅋ", "ー", "〜", "™", "€", "∞",
];
const generated = [];
for (let i = 0; i < 140; ++i) {
  const n = 1 + Math.floor(rand() * 24);
  let s = "";
  for (let k = 0; k < n; ++k) s += pick(fragments);
  generated.push(s);
}

const seen = new Set();
const corpus = [];
for (const s of [...hand, ...generated]) {
  if (!seen.has(s)) {
    seen.add(s);
    corpus.push(s);
  }
}
for (const s of corpus) {
  if (/[\ud800-\udfff]/u.test(s.replace(/[\u{10000}-\u{10ffff}]/gu, ""))) throw new Error("lone surrogate in corpus");
}
writeFileSync(out, JSON.stringify(corpus, null, 1) + "\n");
console.log(`wrote ${corpus.length} strings to ${out}`);
