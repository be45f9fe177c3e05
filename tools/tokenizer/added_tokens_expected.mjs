// Writes tests/data/tokenizer/added_tokens.json: every added token of the Gemma tokenizer.json
// (6415: the 9 special ones, <mask>, [multimodal], <unused0..6241>, whitespace runs, HTML tags) in
// several positions, with the reference ids in both modes (see reference.mjs). Run
// `bash tools/tokenizer/fetch.sh` first, then
//   node tools/tokenizer/added_tokens_expected.mjs
//
// One string per added token T, built by caseText(): T at the start, between spaces, glued to the
// end of a word and to the next added token, inside a word, before punctuation and at the end.
// Then pairs: each special token S glued to each special token and to a few non-special ones X,
// both ways round, between words. "plain_ids" is written only where it differs from "ids"
// (strings with a special token), to keep the file small; the C++ test reads a missing one as
// equal.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { addedTokens, checkEmulation, encodeAsText, encodeMatch, modes, pkgJson } from "./reference.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "tests", "data", "tokenizer", "added_tokens.json");

const specials = addedTokens.filter((t) => t.special).map((t) => t.content);
const caseText = (i) => {
  const t = addedTokens[i].content;
  const next = addedTokens[(i + 1) % addedTokens.length].content;
  return `${t}a ${t} b${t}${next}c${t}d ${t}.${t}`;
};
const texts = addedTokens.map((_, i) => caseText(i));
for (const s of specials) {
  for (const x of [...specials, "<mask>", "[multimodal]", "<unused0>", "\n", "\n\n", "<b>", "</table>"]) {
    texts.push(`x${s}${x}y ${x}${s}`);
  }
}

const cases = [];
let differ = 0;
for (const text of texts) {
  checkEmulation(text);
  const ids = encodeMatch(text), plain = encodeAsText(text);
  const c = { text, ids };
  if (JSON.stringify(plain) !== JSON.stringify(ids)) {
    c.plain_ids = plain;
    ++differ;
  }
  cases.push(c);
}
const doc = {
  reference: `${pkgJson.name}@${pkgJson.version}`,
  templates: [
    "`${T}a ${T} b${T}${next}c${T}d ${T}.${T}` for every added token T in order (next: the following one)",
    "`x${S}${X}y ${X}${S}` for every special token S and X a special token or one of 7 others",
  ],
  encode_options: { ids: modes.match, plain_ids: modes.as_text + "; absent = equal to ids" },
  cases,
};
// One case per line: readable diffs when the reference changes.
const lines = JSON.stringify(doc, null, 0).replace(/\},\{"text"/g, '},\n{"text"');
writeFileSync(out, lines + "\n");
console.log(`wrote ${cases.length} cases (${differ} with different as_text ids) to ${out}`);
