// vkg::jinja: the template subset chat templates use, checked against literal outputs (what
// Python Jinja2 renders with trim_blocks=True, lstrip_blocks=True, as transformers does).
#include <gtest/gtest.h>

#include <string>

#include "host/text/jinja/template.h"

namespace vkg::jinja {
namespace {

Value Ctx() {
  Value ctx = Value::MakeDict();
  Value msgs(List{});
  for (auto [role, content] : {std::pair{"system", " Be kind. "}, {"user", "Hi"}, {"assistant", "Hello!"}}) {
    Value m = Value::MakeDict();
    m.dict()->Set("role", Value(role));
    m.dict()->Set("content", Value(content));
    msgs.list()->push_back(m);
  }
  ctx.dict()->Set("messages", msgs);
  ctx.dict()->Set("flag", Value(true));
  ctx.dict()->Set("n", Value(7));
  return ctx;
}

std::string R(const std::string& src) { return Template(src).Render(Ctx()); }

std::string ErrorOf(const std::string& src) {
  try {
    R(src);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Jinja, TextExpressionsAndComments) {
  EXPECT_EQ(R("a{# note #}b{{ 'c' }}{{ \"d\\n\" }}"), "abcd\n");
  EXPECT_EQ(R("{{ 1 + 2 * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ 1 / 2 }} {{ 2 ** 3 }} {{ 1.5 + 1 }}"),
            "7 3 -4 1 0.5 8 2.5");
  EXPECT_EQ(R("{{ 'a' ~ 1 ~ none ~ true }} {{ 'x' + 'y' }} {{ [1] + [2] }} {{ 'ab' * 2 }}"),
            "a1NoneTrue xy [1, 2] abab");
  EXPECT_EQ(R("{{ {'k': 'v', 'n': [1, 2.0, None, False]} }}"), "{'k': 'v', 'n': [1, 2.0, None, False]}");
  EXPECT_EQ(R("{{ 1 < 2 and not 2 < 1 }} {{ 3 in [1, 3] }} {{ 'b' not in 'abc' }} {{ 0 or 'z' }} {{ 1 == 1.0 }}"),
            "True True False z True");
  EXPECT_EQ(R("{{ 'yes' if flag else 'no' }}|{{ 'yes' if not flag }}|{{ missing }}|"), "yes|||");
  EXPECT_EQ(
      R("{{ messages[1]['content'] }} {{ messages[1].role }} {{ messages[-1].content }} {{ messages[5] is defined }}"),
      "Hi user Hello! False");
  EXPECT_EQ(R("{{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ [1, 2, 3, 4][1:] }} {{ [1, 2, 3][:-1] }} {{ 'héllo'[1] }}"),
            "el olleh [2, 3, 4] [1, 2] é");
  EXPECT_EQ(R("{{ '\\u00e9\\x41\\'' }}"),
            "\xc3\xa9"
            "A'");
}

TEST(Jinja, WhitespaceControlTrimBlocksLstripBlocks) {
  // trim_blocks drops the newline after a tag; lstrip_blocks drops the indentation before it.
  EXPECT_EQ(R("<ul>\n  {% for m in messages %}\n  <li>{{ m.role }}</li>\n  {% endfor %}\n</ul>"),
            "<ul>\n  <li>system</li>\n  <li>user</li>\n  <li>assistant</li>\n</ul>");
  EXPECT_EQ(R("a  {%- if flag -%}  b  {%- endif -%}  c"), "abc");
  EXPECT_EQ(R("a {{- ' b ' -}} c"), "a b c");
  EXPECT_EQ(R("x {% if flag %}y{% endif %} z"), "x y z");      // mid-line tags keep their spaces
  EXPECT_EQ(R("  {%+ if flag %}y{% endif +%}\nz"), "  y\nz");  // '+' opts out
  EXPECT_EQ(R("{# c #}\nq"), "q");
}

TEST(Jinja, IfForSetNamespaceMacro) {
  EXPECT_EQ(R("{% if n > 9 %}a{% elif n > 5 %}b{% else %}c{% endif %}"), "b");
  EXPECT_EQ(R("{% for m in messages %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length "
              "}};{% endfor %}"),
            "10TrueFalse3;21FalseFalse3;32FalseTrue3;");
  EXPECT_EQ(R("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(R("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }},{% endfor %}"), "a=1,b=2,");
  EXPECT_EQ(R("{% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.role }} {% endfor %}"),
            "1:user 2:assistant ");
  EXPECT_EQ(R("{% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ "
              "i }}{% endfor %}"),
            "02");
  // set inside a loop does not leak; namespace attributes do.
  EXPECT_EQ(R("{% set x = 1 %}{% set ns = namespace(c=0) %}{% for m in messages %}{% set x = 2 %}"
              "{% set ns.c = ns.c + 1 %}{% endfor %}{{ x }} {{ ns.c }}"),
            "1 3");
  EXPECT_EQ(R("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set blk %}[{{ n }}]{% endset %}{{ blk }}"), "12[7]");
  EXPECT_EQ(R("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}"
              "{{ greet('A') }} {{ greet('B', punct='?') }} {{ greet(name='C') }}"),
            "Hi A! Hi B? Hi C!");
  EXPECT_EQ(R("{% macro f(x) %}{% if x > 0 %}{{ x }}{{ f(x - 1) }}{% endif %}{% endmacro %}{{ f(3) }}"), "321");
  EXPECT_EQ(R("{% set l = [] %}{% do l.append(1) %}{{ l.append(2) or '' }}{{ l }}"), "[1, 2]");
}

TEST(Jinja, FiltersTestsAndMethods) {
  EXPECT_EQ(
      R("{{ '  x y  ' | trim }}|{{ 'abc' | upper }}|{{ 'ABC' | lower }}|{{ messages | length }}|{{ 'héllo' | count }}"),
      "x y|ABC|abc|3|5");
  EXPECT_EQ(
      R("{{ 'a-b-c' | replace('-', '+') }} {{ [1, 2, 3] | join(', ') }} {{ messages | map(attribute='role') | join }}"),
      "a+b+c 1, 2, 3 systemuserassistant");
  EXPECT_EQ(R("{{ [4, 5] | first }}{{ [4, 5] | last }} {{ missing | default('d') }} {{ '' | default('e', true) }}"),
            "45 d e");
  EXPECT_EQ(R("{{ {'a': [1, 'x\"y'], 'b': none, 'c': 1.5} | tojson }}"),
            "{\"a\": [1, \"x\\\"y\"], \"b\": null, \"c\": 1.5}");
  EXPECT_EQ(R("{{ {'a': [1]} | tojson(indent=2) }}"), "{\n  \"a\": [\n    1\n  ]\n}");
  EXPECT_EQ(R("{{ 5 | string ~ '1' }} {{ '42' | int + 1 }} {{ 'ab' | list }} {{ {'a': 1} | items | list }}"),
            "51 43 ['a', 'b'] [['a', 1]]");
  EXPECT_EQ(R("{{ {'b': 1, 'a': 2} | dictsort }} {{ [3, 1, 2] | sort }} {{ messages | selectattr('role', 'equalto', "
              "'user') | list | length }}"),
            "[['a', 2], ['b', 1]] [1, 2, 3] 1");
  EXPECT_EQ(R("{{ ' a b '.strip() }}|{{ 'xxa'.lstrip('x') }}|{{ 'a,b'.split(',') }}|{{ 'a b'.split() }}|"
              "{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith('bc') }}|{{ 'hi there'.title() }}|{{ 'aXa'.replace('a', "
              "'b') }}"),
            "a b|a|['a', 'b']|['a', 'b']|TrueTrue|Hi There|bXb");
  EXPECT_EQ(
      R("{{ {'a': 1}.get('a') }}{{ {'a': 1}.get('b', 2) }}{{ {'a': 1}.keys() | list }}{{ {'a': 1}.values() | list }}"),
      "12['a'][1]");
  EXPECT_EQ(R("{{ n is defined }}{{ nope is undefined }}{{ none is none }}{{ 'a' is string }}{{ {} is mapping }}"
              "{{ [] is iterable }}{{ [] is sequence }}{{ 1.5 is number }}{{ true is true }}{{ 0 is false }}{{ n is "
              "not none }}"),
            "TrueTrueTrueTrueTrueTrueTrueTrueTrueFalseTrue");
}

// One template exercising most of the subset together, with its literal output.
TEST(Jinja, CombinedTemplate) {
  const std::string src = R"({#- a chat-template-like program -#}
{%- set ns = namespace(system='', turns=0) -%}
{%- if messages[0].role == 'system' -%}
    {%- set ns.system = messages[0].content | trim -%}
    {%- set rest = messages[1:] -%}
{%- else -%}
    {%- set rest = messages -%}
{%- endif -%}
{%- macro turn(role, text) -%}
[{{ role | upper }}]{{ text }}
{%- endmacro -%}
SYS={{ ns.system | tojson }}
{% for m in rest %}
    {%- set ns.turns = ns.turns + 1 -%}
    {{ turn('model' if m.role == 'assistant' else m.role, m.content) }}{{ ',' if not loop.last }}
{% endfor %}
turns={{ ns.turns }} last={{ (rest | last).content[::-1] }}
{%- if add_generation_prompt is defined and add_generation_prompt %}!{% endif %})";
  EXPECT_EQ(R(src), "SYS=\"Be kind.\"\n[USER]Hi,\n[MODEL]Hello!\nturns=2 last=!olleH");
}

TEST(Jinja, ErrorsNameTheLine) {
  EXPECT_EQ(ErrorOf("ab {{ x "), "jinja: line 1: unterminated '{{' tag");
  EXPECT_EQ(ErrorOf("a\n{% if x "), "jinja: line 2: unterminated '{%' tag");
  EXPECT_EQ(ErrorOf("a\n{% if x %}b"), "jinja: line 2: 'if' block is never closed (expected 'endif')");
  EXPECT_EQ(ErrorOf("{# x"), "jinja: line 1: unterminated comment");
  EXPECT_EQ(ErrorOf("\n\n{{ x | nope }}"), "jinja: line 3: unknown filter 'nope'");
  EXPECT_EQ(ErrorOf("{{ x is nope }}"), "jinja: line 1: unknown test 'nope'");
  EXPECT_EQ(ErrorOf("{% endfor %}"), "jinja: line 1: unexpected 'endfor'");
  EXPECT_EQ(ErrorOf("{% include 'x' %}"), "jinja: line 1: unknown tag 'include'");
  EXPECT_EQ(ErrorOf("{{ 1 + }}"), "jinja: line 1: expected an expression, got '}}'");
  EXPECT_EQ(ErrorOf("a\n\n{% if n > 1 %}\n{{ raise_exception('Roles must alternate') }}{% endif %}"),
            "jinja: line 4: raise_exception: Roles must alternate");
  EXPECT_EQ(ErrorOf("{{ nope.attr }}"), "jinja: line 1: 'nope' is undefined");
  EXPECT_EQ(ErrorOf("{{ 1 + 'a' }}"), "jinja: line 1: unsupported operand types for +: integer and string");
  EXPECT_EQ(ErrorOf("{% set n.x = 1 %}"), "jinja: line 1: cannot set attribute 'x' of 'n' (not a namespace)");
}

// What the fuzzer (tests/fuzz/jinja_fuzz.cpp) found or could: hostile templates fail with one
// error instead of overflowing the stack, exhausting memory or hitting undefined behaviour.
TEST(Jinja, HostileTemplatesAreBounded) {
  EXPECT_EQ(ErrorOf("{{ " + std::string(300, '(') + "1" + std::string(300, ')') + " }}"),
            "jinja: line 1: expressions or blocks nested deeper than 128");
  std::string chain = "{{ 1";
  for (int i = 0; i < 300; ++i) chain += " + 1";
  EXPECT_EQ(ErrorOf(chain + " }}"), "jinja: line 1: expressions or blocks nested deeper than 128");
  EXPECT_EQ(ErrorOf("{{ " + std::string(300, '-') + "1 }}"),
            "jinja: line 1: expressions or blocks nested deeper than 128");
  std::string blocks;
  for (int i = 0; i < 200; ++i) blocks += "{% if true %}";
  EXPECT_EQ(ErrorOf(blocks), "jinja: line 1: expressions or blocks nested deeper than 128");
  EXPECT_EQ(ErrorOf("{% macro f(x) %}{{ f(x) }}{% endmacro %}{{ f(1) }}"),
            "jinja: line 1: macro 'f' calls nest deeper than 64");
  EXPECT_EQ(ErrorOf("{{ range(1000000000) | length }}"), "jinja: line 1: range() of more than 100000 items");
  EXPECT_EQ(ErrorOf("{{ 'abc' * 100000000 }}"),
            "jinja: line 1: repetition too large (the rendered text is limited to 16 MiB)");
  EXPECT_EQ(ErrorOf("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}"),
            "jinja: line 1: the rendered text exceeds 16 MiB");
  EXPECT_EQ(ErrorOf("{{ 9223372036854775807 + 1 }}"), "jinja: line 1: integer overflow");
  EXPECT_EQ(ErrorOf("{{ -9223372036854775807 - 2 }}"), "jinja: line 1: integer overflow");
  EXPECT_EQ(ErrorOf("{{ 4294967296 * 4294967296 }}"), "jinja: line 1: integer overflow");
  EXPECT_EQ(ErrorOf("{{ 10 ** 30 }}"), "jinja: line 1: integer overflow");
  EXPECT_EQ(R("{{ range(0, 9223372036854775807, 4611686018427387904) | list }}"), "[0, 4611686018427387904]");
  EXPECT_EQ(ErrorOf("{% set ns = namespace(a=1) %}{% set ns.a = [ns] %}"),
            "jinja: line 1: cannot put a namespace inside itself");
  EXPECT_EQ(ErrorOf("{% set l = [] %}{{ l.append([1, l]) }}"), "jinja: line 1: cannot put a list inside itself");
  EXPECT_EQ(ErrorOf("{% set ns = namespace(x=0) %}{% for i in range(100) %}{% set ns.x = [ns.x] %}{% endfor %}"),
            "jinja: line 1: values nested deeper than 64");
  EXPECT_EQ(ErrorOf("{% set ns = namespace(x=0) %}{% for i in range(100) %}{% set ns.x = {'a': [ns.x]} %}{% endfor %}"),
            "jinja: line 1: values nested deeper than 64");
  // Nesting that real templates use still works.
  EXPECT_EQ(R("{{ ((((1 + 2) * 3))) }} {{ 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 }}"), "9 8");
}

TEST(Jinja, TaintFollowsStringOperations) {
  Value ctx = Value::MakeDict();
  ctx.dict()->Set("c", Value("  ab<x>cd  ", std::string(11, '\1')));
  const Rendered r =
      Template("[{{ c | trim }}|{{ c.split('<x>')[1] | trim }}|{{ (c ~ 'T')[-3:] }}]").RenderTracked(ctx);
  EXPECT_EQ(r.text, "[ab<x>cd|cd|  T]");
  EXPECT_EQ(r.taint, std::string("\0\1\1\1\1\1\1\1\0\1\1\0\1\1\0\0", 16));
}

}  // namespace
}  // namespace vkg::jinja
