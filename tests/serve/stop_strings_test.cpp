// StopStrings: the reply ends before the first stop string, and no part of one is ever sent.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "host/serve/stop_strings.h"

namespace vkg::serve {
namespace {

// Feeds pieces one by one; returns everything sent (and whether it stopped).
std::string Feed(StopStrings& s, const std::vector<std::string>& pieces) {
  std::string out;
  for (const auto& p : pieces) out += s.Push(p);
  if (!s.stopped()) out += s.Flush();
  return out;
}

TEST(StopStrings, NoStopsPassEverythingAtOnce) {
  StopStrings s({});
  EXPECT_EQ(s.Push("abc"), "abc");
  EXPECT_EQ(s.Push(""), "");
  EXPECT_EQ(s.Flush(), "");
  EXPECT_FALSE(s.stopped());
}

TEST(StopStrings, EndsBeforeAStopSplitOverPieces) {
  StopStrings s({"END"});
  EXPECT_EQ(s.Push("hello E"), "hello ");  // "E" could start "END": held back
  EXPECT_EQ(s.Push("N"), "");
  EXPECT_EQ(s.Push("D and more"), "");
  EXPECT_TRUE(s.stopped());
  EXPECT_EQ(s.Push("later"), "");
}

TEST(StopStrings, HeldTextIsSentWhenItTurnsOutNotToBeAStop) {
  StopStrings s({"END"});
  EXPECT_EQ(s.Push("xE"), "x");
  EXPECT_EQ(s.Push("Nx"), "ENx");
  EXPECT_EQ(s.Push("EN"), "");
  EXPECT_EQ(s.Flush(), "EN");  // the reply ended (length) with the start of a stop string
  EXPECT_FALSE(s.stopped());
}

TEST(StopStrings, EarliestOfSeveralStopsWinsAndEmptyStopsAreIgnored) {
  StopStrings s({"", "world", "lo w"});
  EXPECT_EQ(Feed(s, {"hel", "lo world"}), "hel");
  EXPECT_TRUE(s.stopped());
  StopStrings t({"\n\n", "."});
  EXPECT_EQ(Feed(t, {"one\n", "two. three"}), "one\ntwo");
}

TEST(StopStrings, MultiByteTextStaysWhole) {
  StopStrings s({"ß!"});
  EXPECT_EQ(s.Push("straße"), "straße");  // no tail of it starts the stop
  EXPECT_EQ(s.Push("aß"), "a");           // the whole two-byte "ß" is held, never half of it
  EXPECT_EQ(s.Push("!x"), "");
  EXPECT_TRUE(s.stopped());
}

}  // namespace
}  // namespace vkg::serve
